"""The wake phrase: whether one is set, and finding it at the start of what was heard."""

from __future__ import annotations

from rapidfuzz import fuzz

from assistant.core.normalize import basic_tokens, find_phrase

WAKE_SIMILARITY = 85  # rapidfuzz ratio of the opening words to the wake phrase


def active_wake_phrase(phrase: str | None) -> str | None:
    """The wake phrase in use, or None where the setting is empty or "off" (then any speech is answered)."""
    return phrase if phrase and phrase.strip() and phrase.strip().lower() != "off" else None


class WakeWord:
    """Finds the wake phrase in a transcript and returns what was said after it."""

    def __init__(self, phrase: str | None):
        active = active_wake_phrase(phrase)
        self.tokens = tuple(basic_tokens(active)) if active else ()

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def split(self, transcript: str) -> tuple[bool, str]:
        """(heard the wake phrase, the words after it); without a wake phrase, (True, everything)."""
        tokens = basic_tokens(transcript)
        if not self.tokens:
            return True, transcript
        pos = find_phrase(tokens, self.tokens)
        if pos >= 0:
            return True, " ".join(tokens[pos + len(self.tokens):])
        # Recognizers often mishear a short phrase at the start ("hey couch", "he coach"): accept a close
        # match of the opening words, never one later in the sentence.
        size = len(self.tokens)
        opening = " ".join(tokens[:size])
        if len(tokens) >= size and fuzz.ratio(opening, " ".join(self.tokens)) >= WAKE_SIMILARITY:
            return True, " ".join(tokens[size:])
        return False, transcript
