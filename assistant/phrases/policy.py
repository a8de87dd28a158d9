"""Which reading decides an utterance: the personal phrase that matched, or the transcript (pure).

The safer reading wins when they disagree: an emergency, heard either way, is answered as one; a "yes"
heard as "no" (or the other way round) is asked back rather than guessed; otherwise a confident match of
the person's own recording decides, since it is made for exactly this voice.
"""

from __future__ import annotations

from typing import Literal

from assistant.core.decision import Decision

Choice = Literal["transcript", "phrase", "ask"]
_OPPOSITE = {"yes": "no", "no": "yes"}


def choose(phrase: str | None, transcript: Decision, wake_enabled: bool = True) -> Choice:
    if phrase is None or transcript.is_emergency:
        return "transcript"
    if phrase == "emergency":
        return "phrase"
    if phrase == "wake" and not wake_enabled:
        return "transcript"
    if phrase in _OPPOSITE and transcript.kind == "command" and transcript.command == _OPPOSITE[phrase]:
        return "ask"
    return "phrase"
