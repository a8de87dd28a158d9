"""What is enrolled, for `assistant doctor` and `assistant phrases`: look-alike and inconsistent phrases."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.phrases.features import phrase_features
from assistant.phrases.matcher import PhraseMatcher
from assistant.phrases.store import PhraseStore


@dataclass(frozen=True)
class Review:
    alike: list[tuple[str, str]]  # pairs one of which could be matched for the other
    inconsistent: list[str]  # phrases whose own takes differ a lot: record again


def review(store: PhraseStore) -> Review:
    features = {name: [f for f in map(phrase_features, takes) if f is not None]
                for name, takes in store.load_all().items()}
    matcher = PhraseMatcher(features)
    return Review([(a, b) for a, b, _ in matcher.too_alike()], matcher.inconsistent())


def alike_pairs(store: PhraseStore) -> list[tuple[str, str]]:
    return review(store).alike
