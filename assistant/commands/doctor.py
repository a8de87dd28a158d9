"""`assistant doctor`: check microphone, speaker, recognizer, text-to-speech, content, config and log, and
measure the room's noise (it asks, aloud and on screen, for 3 seconds of quiet).

One line per check, OK or PROBLEM with what to fix; exit status 0 when every essential check passes.
It also runs with a broken config file (reported as the first problem; defaults are used for the rest).
"""

from __future__ import annotations

import argparse
import sys

from assistant.caregiver.checks import CheckResult, run_checks
from assistant.config import ConfigError, Settings, apply_overrides, config_path


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor", parents=parents,
        help="check the microphone, speaker, recognizer, speech, content and config; say what to fix",
        description="Check everything the assistant needs, one line each (OK or PROBLEM and the fix). "
                    "The device options (--input-device, --output-device) check those devices instead of "
                    "the configured ones. It also asks for 3 seconds of quiet and measures the room's noise "
                    "(too loud a room is reported, not counted as essential). "
                    "Exit status 0 when every essential check passes, else 1.",
    )
    parser.add_argument("--server", metavar="URI", help="on a room satellite: also check that its server "
                                                         "(tcp://HOST:10700) answers")
    parser.set_defaults(func=run, on_config_error=run_with_config_error)


def run(args: argparse.Namespace, settings: Settings, config_error: str | None = None) -> int:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"assistant doctor: checking this machine (config file: {escape(str(config_path()))})")

    def show(result: CheckResult) -> None:
        colour = "green" if result.ok else ("red" if result.essential else "yellow")
        status, _, rest = result.line().partition(" ")
        console.print(f"[bold {colour}]{status}[/] {escape(rest)}")

    def announce(text: str) -> None:
        console.print(f"[bold]{escape(text)}[/]")

    more = []
    if getattr(args, "server", None):
        from assistant.network.check import check_server

        more.append(("server", lambda: check_server(args.server)))
    results = run_checks(settings, config_error=config_error, on_result=show, announce=announce, more=more)
    essential = [r for r in results if not r.ok and r.essential]
    other = [r for r in results if not r.ok and not r.essential]
    if essential:
        console.print(f"{len(essential)} essential problem(s): fix the PROBLEM lines above, then run "
                      "`assistant doctor` again.")
        return 1
    if other:
        console.print("The assistant can run; the PROBLEM lines above are worth fixing.")
        return 0
    console.print("Everything the assistant needs is working.")
    return 0


def run_with_config_error(args: argparse.Namespace, error: ConfigError) -> int:
    """Called by the CLI instead of failing when the config file cannot be read: report it, check the rest."""
    from assistant.cli import SETTING_ARGS

    settings = Settings()
    try:
        apply_overrides(settings, {name: getattr(args, name, None) for name in SETTING_ARGS})
    except ConfigError as exc:  # a bad command-line value: nothing sensible to check with
        print(f"assistant: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "no_log", False):
        settings.log_enabled = False
    return run(args, settings, config_error=str(error))
