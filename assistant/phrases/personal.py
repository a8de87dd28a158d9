"""The person's enrolled phrases applied to an utterance: match its audio, then let the policy decide.

    phrases = PersonalPhrases.load(understander, wake_phrase=settings.wake_phrase)   # None: none enrolled
    heard = phrases.hear(audio, transcript_text)     # Heard(text, phrase, ask_back) for the conversation
    decision = phrases.decide(audio, decision)       # for `ask --audio`: the decision, maybe "phrase": NAME
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.core.decision import Decision
from assistant.core.understanding import Understander
from assistant.core.wake import active_wake_phrase
from assistant.phrases import COMMAND_NAMES
from assistant.phrases.features import phrase_features
from assistant.phrases.matcher import Match, PhraseMatcher
from assistant.phrases.policy import choose
from assistant.phrases.store import PhraseStore

log = logging.getLogger(__name__)

# Sentences the understanding reads as an emergency; the first one it does is what a match stands for.
EMERGENCY_TEXTS = ("emergency", "call an ambulance", "i fell and i cannot get up")


@dataclass(frozen=True)
class Heard:
    text: str  # what the conversation should hear
    phrase: str | None = None  # the personal phrase that decided it
    ask_back: bool = False  # yes and no disagree: ask the person again


class PersonalPhrases:
    def __init__(self, recordings: dict[str, list[np.ndarray]], understander: Understander,
                 wake_phrase: str | None = None) -> None:
        features = {name: [f for f in (phrase_features(take) for take in takes) if f is not None]
                    for name, takes in recordings.items()}
        self.matcher = PhraseMatcher(features)
        self.understander = understander
        self.wake_phrase = active_wake_phrase(wake_phrase)
        self.emergency_text = next((t for t in EMERGENCY_TEXTS if understander.understand(t).is_emergency),
                                   EMERGENCY_TEXTS[0])

    @classmethod
    def load(cls, understander: Understander, wake_phrase: str | None = None,
             root: Path | None = None) -> PersonalPhrases | None:
        """The enrolled phrases, or None when there are none (or they cannot be read: logged)."""
        try:
            recordings = PhraseStore(root).load_all()
        except (OSError, EOFError, ValueError) as exc:  # a damaged file must not stop the assistant
            log.warning("personal phrases not used: %s", exc)
            return None
        return cls(recordings, understander, wake_phrase) if recordings else None

    @property
    def names(self) -> list[str]:
        return self.matcher.names

    def match(self, audio: np.ndarray) -> Match | None:
        # The sound alone decides: accepting near misses on the transcript's or Whisper's say-so added false
        # matches held out (docs/decisions.md).
        return self.matcher.match(phrase_features(audio))

    def text_for(self, name: str) -> str:
        if name == "emergency":
            return self.emergency_text
        if name == "wake":
            return self.wake_phrase or ""
        assert name in COMMAND_NAMES
        return name

    def hear(self, audio: np.ndarray, transcript: str) -> Heard:
        """What the live conversation should hear for this utterance."""
        match = self.match(audio)
        if match is None:
            return Heard(transcript)
        choice = choose(match.name, self.understander.understand(transcript), self.wake_phrase is not None)
        if choice == "transcript":
            return Heard(transcript)
        if choice == "ask":
            return Heard(transcript, match.name, ask_back=True)
        return Heard(self.text_for(match.name), match.name)

    def decide(self, audio: np.ndarray, decision: Decision) -> Decision:
        """The decision on a recording, decided by a personal phrase where one matched confidently."""
        match = self.match(audio)
        if match is None:
            return decision
        choice = choose(match.name, decision, self.wake_phrase is not None)
        if choice == "transcript":
            return decision
        if choice == "ask":
            return dataclasses.replace(decision, kind="unknown", command=None, confirm=True, phrase=match.name,
                                       answer=self.understander.message("yes_no_please"))
        if match.name == "wake":  # `ask` answers without a wake phrase: it only says who spoke
            return dataclasses.replace(decision, phrase="wake")
        decided = self.understander.understand(self.text_for(match.name))
        return dataclasses.replace(decided, input=decision.input, transcript=decision.transcript,
                                   phrase=match.name)
