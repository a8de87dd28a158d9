"""What the understanding concluded about one utterance (the `assistant ask --json` contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["topic", "triage", "command", "unknown"]


@dataclass(frozen=True)
class Decision:
    input: str
    transcript: str | None
    kind: Kind
    topic: str | None
    disposition: str | None
    command: str | None
    answer: str
    confidence: float
    confirm: bool
    runner_up: str | None = None  # second-best topic/disposition, offered when confirming
    error: str | None = None  # set when the input itself was unusable (bad audio file ...)
    phrase: str | None = None  # the personal phrase (assistant/phrases) that decided it, if one did
    listened_for: str | None = None  # the phrase listened for (core/listened.py) that decided it, if one did

    @classmethod
    def unusable(cls, source: str, answer: str, error: str) -> Decision:
        """The decision on input that could not be used at all (an unreadable file, no microphone)."""
        return cls(input=source, transcript=None, kind="unknown", topic=None, disposition=None, command=None,
                   answer=answer, confidence=0.0, confirm=False, error=error)

    @property
    def is_emergency(self) -> bool:
        return self.disposition == "emergency"

    def to_contract(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "input": self.input,
            "transcript": self.transcript,
            "kind": self.kind,
            "topic": self.topic,
            "disposition": self.disposition,
            "command": self.command,
            "answer": self.answer,
            "confidence": round(self.confidence, 3),
            "confirm": self.confirm,
        }
        if self.error is not None:
            data["error"] = self.error
        if self.phrase is not None:
            data["phrase"] = self.phrase
        if self.listened_for is not None:
            data["listened_for"] = self.listened_for
        return data
