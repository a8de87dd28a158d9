"""`assistant phrases`: teach the assistant how this person says the few words that matter.

    assistant phrases record stop            # spoken prompts, 3 takes through the microphone
    assistant phrases add yes a.wav b.wav c.wav
    assistant phrases list [--json]
    assistant phrases remove stop
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.config import Settings
from assistant.phrases import NAMES, TAKES


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "phrases", parents=parents, help="record how this person says stop, yes, no, help ...",
        description="Personal phrases: recordings of the person saying the few words that matter, so "
                    "they are understood even when the speech recognizer gets them wrong. NAME is a voice "
                    f"command ({', '.join(NAMES[:-2])}), 'wake' (the wake phrase) or 'emergency' (the "
                    "person's own words for an emergency, e.g. 'help me, I fell').")
    actions = parser.add_subparsers(dest="phrases_action", metavar="ACTION", required=True)
    record = actions.add_parser("record", parents=parents, help=f"record NAME {TAKES} times by voice")
    record.add_argument("name", choices=NAMES, metavar="NAME")
    record.set_defaults(func=run_record)
    add = actions.add_parser("add", parents=parents, help="enroll NAME from WAV recordings")
    add.add_argument("name", choices=NAMES, metavar="NAME")
    add.add_argument("files", nargs="+", metavar="FILE.wav")
    add.set_defaults(func=run_add)
    listing = actions.add_parser("list", parents=parents, help="what is enrolled")
    listing.add_argument("--json", action="store_true", help="one JSON object on stdout")
    listing.set_defaults(func=run_list)
    remove = actions.add_parser("remove", parents=parents, help="forget the recordings of NAME")
    remove.add_argument("name", choices=NAMES, metavar="NAME")
    remove.set_defaults(func=run_remove)


def _say_to_terminal(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.audio.wav_files import AudioFileError, load_wav
    from assistant.phrases.enroll import check_take

    takes = []
    for name in args.files:
        try:
            audio = load_wav(Path(name), rate=16000)
        except AudioFileError as exc:
            print(f"assistant: {exc}", file=sys.stderr)
            return 1
        problem = check_take(audio)
        if problem:
            print(f"assistant: {name}: not usable: {problem}", file=sys.stderr)
            return 1
        takes.append(audio)
    if len(takes) < 2:
        print(f"assistant: give at least 2 recordings of '{args.name}' ({TAKES} is better)", file=sys.stderr)
        return 2
    return _enroll(args.name, takes, settings)


def run_record(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.audio.microphone import Microphone, MicrophoneError
    from assistant.audio.segmenter import Segmenter
    from assistant.phrases.enroll import record_takes, tone
    from assistant.speech.player import Player
    from assistant.speech.speaker import Speaker

    speaker = Speaker(settings)
    player = Player(settings.output_device)

    def say(text: str) -> None:
        _say_to_terminal(text)
        with mic.muted():  # it must not record its own prompt
            speaker.speak(text, block=True)

    def beep() -> None:
        with mic.muted():
            player.play(tone(), 22050)

    def listen(max_wait: float):
        segmenter = Segmenter(rate=mic.rate, end_silence=settings.endpoint_silence, max_utterance=8.0)
        utterance = mic.record_utterance(segmenter, max_wait=max_wait)
        return None if utterance is None else utterance.audio

    try:
        with Microphone(settings.input_device, rate=16000) as mic:
            takes = record_takes(args.name, say, beep, listen, status=_say_to_terminal)
    except MicrophoneError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 1
    finally:
        speaker.stop()
    if takes is None:
        print(f"assistant: '{args.name}' not enrolled: too many takes could not be used", file=sys.stderr)
        return 1
    return _enroll(args.name, takes, settings)


def _enroll(name: str, takes: list, settings: Settings) -> int:
    from assistant.phrases.store import PhraseStore

    store = PhraseStore()
    store.save(name, takes)
    print(f"'{name}' enrolled from {len(takes)} recordings.")  # at least 2: always plural
    _warn_alike(store, settings)
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.phrases.store import PhraseStore

    store = PhraseStore()
    enrolled = {name: len(store.load(name)) for name in store.names()}
    if args.json:
        print(json.dumps({"folder": str(store.root), "phrases": enrolled}), flush=True)
        return 0
    if not enrolled:
        print("No personal phrases yet. Record one with `assistant phrases record stop`.")
        return 0
    for name, count in enrolled.items():
        print(f"{name:<10} {count} recording(s)")
    print(f"(stored in {store.root})", file=sys.stderr)
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.phrases.store import PhraseStore

    if PhraseStore().remove(args.name):
        print(f"'{args.name}' removed.")
        return 0
    print(f"assistant: '{args.name}' is not enrolled", file=sys.stderr)
    return 1


def _warn_alike(store, settings: Settings) -> None:
    from assistant.phrases.report import alike_pairs

    for a, b in alike_pairs(store):
        print(f"warning: '{a}' and '{b}' sound too alike in these recordings: either may be taken for the "
              f"other. Record one of them again, or remove one.", file=sys.stderr)
