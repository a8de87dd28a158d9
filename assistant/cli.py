"""The `assistant` command line: a thin dispatcher; each subcommand lives in assistant/commands/."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from assistant import __version__
from assistant.config import ConfigError, Settings, apply_overrides, load_settings

# Each module defines register(subparsers, parents) and sets `func(args, settings) -> int` on its parser.
COMMAND_MODULES = [
    "assistant.commands.ask",
    "assistant.commands.content",
    "assistant.commands.devices",
    "assistant.commands.doctor",
    "assistant.commands.history",
    "assistant.commands.listen",
    "assistant.commands.model",
    "assistant.commands.phrases",
    "assistant.commands.serve",
    "assistant.commands.service",
    "assistant.commands.voices",
]

# Plain `assistant` with no subcommand is the hands-free conversation.
DEFAULT_COMMAND = "listen"


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts; they override the config file for this run only."""
    # SUPPRESS: an option given before the subcommand must survive the subcommand's own (unset) copy of it.
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("settings (override the config file)")
    group.add_argument("--content", dest="content_dir", metavar="DIR", help="content folder (YAML)")
    group.add_argument("--emergency-number", metavar="NUMBER", help="number to tell people to call (911)")
    group.add_argument("--engine", choices=["auto", "whisper", "vosk"], help="speech recognizer")
    group.add_argument("--model", metavar="PATH", help="a Vosk or faster-whisper model folder")
    group.add_argument("--input-device", metavar="DEV", help="microphone: index or name")
    group.add_argument("--output-device", metavar="DEV", help="speaker: index or name")
    group.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute")
    group.add_argument("--volume", type=float, metavar="0.1-1.0", help="speaking volume")
    group.add_argument("--voice", metavar="ID", help="voice id or name (see `assistant voices`)")
    group.add_argument("--wake-phrase", metavar="TEXT|off", help="phrase that wakes the assistant")
    group.add_argument("--no-log", dest="no_log", action="store_true", help="do not keep a conversation log")
    group.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    return parent


SETTING_ARGS = (
    "content_dir", "emergency_number", "engine", "model", "input_device", "output_device",
    "rate", "volume", "voice", "wake_phrase",
)


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    overrides = {name: getattr(args, name, None) for name in SETTING_ARGS}
    apply_overrides(settings, overrides)
    if getattr(args, "no_log", False):
        settings.log_enabled = False
    return settings


def build_parser() -> argparse.ArgumentParser:
    parents = [common_options()]
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Offline voice assistant for occupational- and physical-therapy questions.",
        parents=parents,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    if not any(arg in known for arg in argv) and not {"-h", "--help", "--version"} & set(argv):
        if DEFAULT_COMMAND in known:
            argv = [DEFAULT_COMMAND, *argv]
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        settings = settings_from_args(args)
        return int(args.func(args, settings) or 0)
    except ConfigError as exc:
        if getattr(args, "on_config_error", None):  # `assistant doctor` reports a broken config and goes on
            return int(args.on_config_error(args, exc) or 0)
        print(f"assistant: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        # A missing or broken speech model: its message says how to fix it, a traceback would bury that.
        # Imported here: the recognition package pulls in numpy, which most commands never need.
        from assistant.recognition.base import RecognizerError

        if not isinstance(exc, RecognizerError):
            raise
        print(f"assistant: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nassistant: stopped.", file=sys.stderr)
        return 130
