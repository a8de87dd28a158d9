"""Typed questions instead of speech (`listen --text`, and the fallback when there is no microphone)."""

from __future__ import annotations

import sys

from assistant.loop.turn_taking import TurnTaking


def converse_typed(turns: TurnTaking) -> int:
    """One question a line from standard input. Typing is already deliberate: no wake phrase."""
    turns.wake.tokens = ()
    turns.dialog.wake_phrase = None
    turns.awake_until = float("inf")
    turns.greet()
    interactive = sys.stdin.isatty()
    while not turns.finished.is_set():
        if interactive:
            print("> ", end="", file=sys.stderr, flush=True)
        # Bytes that are not UTF-8 become U+FFFD: a strict locale would otherwise crash the conversation.
        line = sys.stdin.buffer.readline().decode("utf-8", "replace")
        if not line:
            break
        turns.hear(line, typed=True)
        if not interactive:
            turns.speaker.wait(120)  # scripted input: let each answer finish, like a person would
    turns.speaker.wait(120)
    return 0
