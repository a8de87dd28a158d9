"""`assistant history [--last N] [--json]`: what was said and answered, for the caregiver.

On a terminal it is a table (time, the room where served rooms are logged, what was heard, what kind of
question, the answer shortened);
piped or redirected it is one plain line per turn; --json gives the stored JSON lines unchanged.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import datetime

from assistant.caregiver.conversation_log import History, Turn, history_path, read_history
from assistant.config import Settings

ANSWER_WIDTH = 90
HEARD_WIDTH = 50


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of turns, 1 or more (got {text!r})")
    return value


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "history", parents=parents,
        help="show the conversation log (what was heard and answered)",
        description=f"Show the conversation log kept in {history_path()} (owner-only; turn it off with "
                    "--no-log or `log_enabled: false` in the config file).",
    )
    parser.add_argument("--last", type=_positive, metavar="N", help="only the last N turns")
    parser.add_argument("--json", action="store_true", help="the stored JSON lines, one turn a line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = history_path()
    try:
        history = read_history(last=args.last, path=path)
    except OSError as exc:
        print(f"assistant history: cannot read {path}: {exc.strerror or exc}. Check that it is yours "
              f"(ls -l {path}).", file=sys.stderr)
        return 1
    if history.corrupt:
        print(f"assistant history: skipped {history.corrupt} unreadable line(s) in {path}.", file=sys.stderr)
    if not history.turns:
        print(_empty_message(history, settings))
        return 0
    if args.json:
        for turn in history:
            print(json.dumps(turn.to_json(), ensure_ascii=False))
    elif sys.stdout.isatty():
        print_table(history)
    else:
        for turn in history:
            print(plain_line(turn))
    return 0


def _empty_message(history: History, settings: Settings) -> str:
    where = "would be kept" if not history.exists else "is kept"
    text = f"No conversation history yet. The log {where} in {history.path}."
    if not settings.log_enabled:
        text += " Logging is turned off (--no-log or `log_enabled: false` in the config file)."
    return text


# -- formatting -----------------------------------------------------------------------------------------

def local_time(stamp: str) -> str:
    """'2024-05-01 14:03:07' from the stored ISO time (as written, in the local time of the turn)."""
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return stamp


def what_kind(turn: Turn) -> str:
    """'topic ot.what', 'triage emergency', 'command repeat', 'unknown', with '?' when it asked to confirm."""
    decision = turn.decision
    detail = next((str(decision[k]) for k in ("topic", "disposition", "command") if decision.get(k)), "")
    text = f"{turn.kind} {detail}".strip()
    if decision.get("confirm"):
        text += " (asked to confirm)"
    if decision.get("error"):
        text += " (error)"
    return text


def shorten(text: str | None, width: int) -> str:
    if not text:
        return "-"
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" ...")


def heard(turn: Turn) -> str:
    return shorten(turn.transcript, HEARD_WIDTH) if turn.transcript else "(nothing heard)"


def plain_line(turn: Turn) -> str:
    room = f"  room: {turn.room}" if turn.room else ""
    return (f"{local_time(turn.time)}{room}  heard: \"{heard(turn)}\"  [{what_kind(turn)}]  "
            f"answered: {shorten(turn.answer, ANSWER_WIDTH)}")


def print_table(history: History, console=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Cells are Text, not markup strings: a transcript like "[unk]" must show as it is.
    table = Table(title=Text(f"Conversation history ({len(history)} turn(s), {history.path})"),
                  title_justify="left")
    rooms = any(turn.room for turn in history)  # only logs with served rooms get the column
    table.add_column("Time", no_wrap=True)
    if rooms:
        table.add_column("Room")
    table.add_column("Heard")
    table.add_column("Kind")
    table.add_column("Answer")
    for turn in history:
        cells = (local_time(turn.time), *([turn.room or "-"] if rooms else []), heard(turn), what_kind(turn),
                 shorten(turn.answer, ANSWER_WIDTH))
        table.add_row(*(Text(cell) for cell in cells), style="bold red" if turn.is_emergency else None)
    (console or Console()).print(table)
