"""`assistant ask`: typed questions, lines from stdin, or WAV files -> decisions (the scripting surface)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from assistant.commands.startup import open_application
from assistant.config import Settings
from assistant.core.decision import Decision


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ask",
        parents=parents,
        help="answer typed questions or WAV recordings",
        description="Answer a question. QUESTION '-' reads one question a line from standard input.",
    )
    parser.add_argument("question", nargs="*", help="the question (several words), or - for stdin")
    parser.add_argument("--audio", nargs="+", metavar="WAV", help="recognize each WAV file as a question")
    parser.add_argument("--json", action="store_true", help="one JSON object per input on stdout")
    parser.add_argument("--no-speak", action="store_true", help="print only, do not speak")
    parser.add_argument("--save-audio", metavar="WAV", help="write the spoken answer to this WAV file")
    parser.set_defaults(func=run)


def _typed_inputs(args: argparse.Namespace) -> Iterator[str]:
    # Bytes that are not UTF-8 become U+FFFD whatever the locale: a strict locale would crash on them,
    # a C locale would echo them into the JSON, which is then no longer valid UTF-8.
    if args.question == ["-"]:
        for line in sys.stdin.buffer:
            yield line.rstrip(b"\n").decode("utf-8", "replace")
    elif args.question:
        yield " ".join(args.question).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _emit(decision: Decision, as_json: bool) -> None:
    if as_json:
        print(json.dumps(decision.to_contract(), ensure_ascii=False), flush=True)
    else:
        print(decision.answer, flush=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.question and not args.audio:
        print("assistant ask: give a question, '-' to read questions from stdin, or --audio FILE...",
              file=sys.stderr)
        return 2
    app = open_application(settings)
    decisions: list[Decision] = []
    for text in _typed_inputs(args):
        decision = app.decide_text(text)
        _emit(decision, args.json)
        decisions.append(decision)
    if args.audio:
        for decision in app.decide_audio_files(Path(p) for p in args.audio):  # engines load only now
            _emit(decision, args.json)
            decisions.append(decision)
    if args.save_audio or not args.no_speak:
        from assistant.speech.answers import speak_answers  # engines load only when speaking

        speak_answers([d.answer for d in decisions], settings, save_to=args.save_audio)
    return 0
