"""Plain data for the knowledge in content/ (built by assistant.core.loader, validated there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TOPIC_IDS = (
    "pt.what", "pt.goals", "pt.treatments", "ot.what", "ot.goals", "ot.treatments", "compare", "both",
    "pt.education", "ot.education", "settings", "ot.mental_health", "which",
)
DISPOSITIONS = ("pt", "ot", "both", "emergency")
COMMAND_IDS = (
    "repeat", "slower", "faster", "louder", "softer", "stop", "help", "goodbye", "yes", "no", "more",
)


@dataclass(frozen=True)
class Topic:
    id: str
    title: str  # short name used in "Did you mean <title>?"
    answer: str  # spoken first, about 45 words at most
    more: str  # "tell me more"
    phrasings: tuple[str, ...]  # how people ask it
    keywords: tuple[str, ...] = ()  # words that point at this topic even in unseen phrasings


@dataclass(frozen=True)
class Question:
    """One spoken yes/no question of the 'which therapy do I need' questionnaire."""

    id: str
    text: str
    signals: str  # the disposition a "yes" counts towards: pt or ot


@dataclass(frozen=True)
class Triage:
    pt_strong: tuple[str, ...]  # words/phrases of movement, balance, walking ...: clearly physical therapy
    pt_weak: tuple[str, ...]  # pain, strength ...: count only when nothing stronger is said
    ot_strong: tuple[str, ...]  # daily tasks, fine motor, memory ...: clearly occupational therapy
    ot_weak: tuple[str, ...]
    difficulty_cues: tuple[str, ...]  # "can't", "trouble", "hurts" ...: marks a statement of difficulty
    answers: dict[str, str]  # disposition (pt, ot, both) -> spoken advice
    questions: tuple[Question, ...]
    conclusions: dict[str, str]  # pt, ot, both, none -> questionnaire conclusion
    not_therapy: tuple[str, ...] = ()  # where pain is for a doctor, not a therapist ("stomach"): see_doctor


@dataclass(frozen=True)
class RedFlag:
    id: str
    phrases: tuple[str, ...]  # any one of these (normalized words, word-boundary match) is an emergency
    combos: tuple[tuple[tuple[str, ...], ...], ...] = ()  # every group must have a word present
    listen_for: tuple[str, ...] = ()  # how people say it aloud: listened for on every utterance (core/listened.py)


@dataclass(frozen=True)
class RedFlags:
    rules: tuple[RedFlag, ...]
    not_emergency: tuple[str, ...]  # look-alikes removed before matching ("chest of drawers")
    answer: str  # contains {number}
    # what a recognizer writes for a red-flag word ("dripping" for "drooping"): read as that word, for the
    # red-flag check only
    heard_as: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # a negation word cancels a match when it comes just before it, with only `negation_between` words between
    negations: tuple[str, ...] = ("no", "not", "never", "nor", "without")
    negation_between: tuple[str, ...] = ()
    someone: tuple[str, ...] = ()  # who "{someone}" in a phrase may be: i, he, she, mum, my husband ...


@dataclass(frozen=True)
class Command:
    id: str
    phrasings: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    topics: dict[str, Topic]
    triage: Triage
    red_flags: RedFlags
    commands: dict[str, Command]
    messages: dict[str, str]  # greeting, help, unknown, did_you_mean, ... (see content/messages.yaml)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> variants
    source_dir: Path | None = None

    def domain_phrases(self) -> list[str]:
        """Every phrase a user might say, for biasing the recognizers towards this domain."""
        phrases: list[str] = []
        for topic in self.topics.values():
            phrases.extend(topic.phrasings)
        for command in self.commands.values():
            phrases.extend(command.phrasings)
        for rule in self.red_flags.rules:
            phrases.extend(rule.phrases)
        for signals in (self.triage.pt_strong, self.triage.pt_weak, self.triage.ot_strong, self.triage.ot_weak):
            phrases.extend(signals)
        for variants in self.synonyms.values():
            phrases.extend(variants)
        return phrases
