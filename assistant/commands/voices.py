"""`assistant voices [FILTER]`: the voices espeak-ng offers, with the configured one marked."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from assistant.config import Settings

if TYPE_CHECKING:
    from assistant.speech.synth import Voice


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "voices",
        parents=parents,
        help="list the voices the assistant can speak with",
        description="List the text-to-speech voices (id, name, languages). The one in use is marked "
                    "with '*'. Pick one with --voice ID, or `voice: ID` in the config file.",
    )
    parser.add_argument("filter", nargs="?",
                        help="only these voices: a language prefix (en, en-gb) or part of a name (America)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.speech import synth  # the engine loads only for this command

    try:
        voices = synth.list_voices()
    except synth.SpeechError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 1
    configured: str | None = None
    if settings.voice:
        try:
            configured = synth.resolve_voice(settings.voice, voices)
        except synth.UnknownVoiceError as exc:
            print(f"assistant: note: {exc}", file=sys.stderr)
    in_use = configured or synth.default_voice_id()
    wanted = (args.filter or "").lower()
    shown = [v for v in voices if not wanted or _matches(v, wanted)]
    if not shown:
        print(f"assistant: no voice matches '{args.filter}'", file=sys.stderr)
        return 1
    width_id = max(len(v.id) for v in shown)
    width_name = max(len(v.name) for v in shown)
    print(f"  {'ID':<{width_id}}  {'NAME':<{width_name}}  LANGUAGES")
    for voice in shown:
        mark = "*" if voice.id == in_use else " "
        print(f"{mark} {voice.id:<{width_id}}  {voice.name:<{width_name}}  {', '.join(voice.languages)}")
    if not configured:
        print("(* espeak-ng's default voice; choose another with --voice ID)", file=sys.stderr)
    return 0


def _matches(voice: Voice, wanted: str) -> bool:
    """Language codes match by prefix ("en" is not "Bengali"); names by substring from 3 letters."""
    voice_id = voice.id.lower()
    return (any(lang.lower().startswith(wanted) for lang in voice.languages)
            or voice_id == wanted or voice_id.rsplit("/", 1)[-1].startswith(wanted)
            or (len(wanted) >= 3 and wanted in voice.name.lower()))
