"""The reading to act on: which of the recognizer's readings of one utterance the understanding decides on
(an emergency in any of them first), and the decision on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from assistant.core.decision import Decision
from assistant.core.understanding import Understander
from assistant.recognition.base import Transcript
from assistant.recognition.vocabulary import spoken_words

# An utterance whose voiced frames are, at their median, no more than this below the room's speech level
# (Utterance.above_room_db) was said by somebody near, not by the TV the room's level comes from (figures in
# docs/decisions.md).
ADDRESSED_ABOVE_ROOM_DB = -3.0


def addressed_reading(transcript: Transcript, above_room_db: float) -> Transcript:
    """The reading that starts with the wake phrase (Transcript.addressed) where the utterance is loud enough
    to be the person's, else the transcript as it is: over a TV, the person's "hey coach" is often written
    as the TV's words, which the TV's own speech, not as loud, must never be taken for."""
    if transcript.addressed is None or above_room_db < ADDRESSED_ABOVE_ROOM_DB:
        return transcript
    return transcript.addressed


def reading_to_act_on(transcript: Transcript, understander: Understander,
                      wake_split: Callable[[str], tuple[bool, str]] | None = None) -> str:
    """The words to act on among the recognizer's readings of the same audio (best reading first):
    1. an emergency in any reading: a missed emergency costs more than a false alarm; then an emergency
       phrase listened for (Transcript.listened_for: the recognizer found it clearly likely on the sound);
    2. "stop" in any reading with the wake phrase heard the same way: being talked over after saying
       stop is worse than a stop nobody asked for, which costs one "again"; a reverberant "stop" is
       heard "step" first;
    3. a voice command listened for (unless a "yes"/"no" the free reading heard the other way: see asked_back);
       then the best reading, when the understanding makes something of it;
    4. else the first other reading it does understand, with the wake phrase heard the same way
       (`wake_split`, as TurnTaking.wake.split): "what is a key a patient or therapy" acts on its other
       reading "what is a occupational therapy" (asked back: see decide);
    5. else the best reading, so "I don't know" stays the honest answer.
    """
    split = wake_split or (lambda text: (False, text))
    readings = (transcript.text, *transcript.alternatives)
    emergency = next((r for r in readings if understander.understand(r).is_emergency), None)
    if emergency is not None:
        return emergency
    listened = transcript.listened_for
    if listened is not None and listened.meaning == "emergency" and not _negated(transcript, understander):
        return _after_wake(transcript.text, listened_words(transcript), split)
    woke = split(transcript.text)[0]
    # Each reading with the wake phrase heard as in the best one, understood once (best reading first)
    understood = []
    for reading in readings:
        reading_woke, rest = split(reading)
        if reading_woke == woke:
            understood.append((reading, understander.understand(rest)))
    stop = next((reading for reading, decision in understood if decision.command == "stop"), None)
    if stop is not None:
        return stop
    if listened is not None and listened.meaning == "command" and not asked_back(transcript, understander):
        return _after_wake(transcript.text, listened_words(transcript), split)
    return next((reading for reading, decision in understood if decision.kind != "unknown"), transcript.text)


def _negated(transcript: Transcript, understander: Understander) -> bool:
    """The free reading holds a negation the listened-for red flag does not ("I don't have chest pain" scores
    well as "I have chest pain"): then the phrase does not decide; the free reading's own check stands."""
    said = set(spoken_words(transcript.listened_for.text)) if transcript.listened_for else set()
    negations = set(understander.content.red_flags.negations)
    heard = set(spoken_words(" ".join((transcript.text, *transcript.alternatives))))
    return any((word in negations or word.endswith("n't")) and word not in said for word in heard)


def listened_words(transcript: Transcript) -> str:
    """The listened-for phrase as a reading: its words."""
    assert transcript.listened_for is not None
    return " ".join(spoken_words(transcript.listened_for.text))


def _after_wake(text: str, words: str, split: Callable[[str], tuple[bool, str]]) -> str:
    """`words` after the wake phrase where the free reading starts with it (the phrase was scored after it)."""
    woke, rest = split(text)
    if not woke:
        return words
    wake = text[:len(text) - len(rest)].strip() if rest and text.endswith(rest) else text
    return f"{wake} {words}".strip()


_OPPOSITE = {"yes": "no", "no": "yes"}


def asked_back(transcript: Transcript, understander: Understander) -> bool:
    """A "yes" or "no" listened for where the free reading heard the other one: asked back ("Please say yes or
    no."), as the person's own recordings are (phrases/policy.py), rather than guessed."""
    listened = transcript.listened_for
    if listened is None or listened.name not in _OPPOSITE:
        return False
    return any(understander.understand(r).command == _OPPOSITE[listened.name]
               for r in (transcript.text, *transcript.alternatives))


def decide(transcript: Transcript, understander: Understander, source: str) -> Decision:
    """The understanding's decision on the reading to act on. Words the recognizer doubts still go to the
    understanding (it decides "unknown" from the words), but an answer found in them is asked back
    ("did you mean ...?"): words it marks as probably outside the domain, and another reading than its first."""
    if asked_back(transcript, understander):
        decision = understander.understand(transcript.text)
        return dataclasses.replace(decision, kind="unknown", command=None, confirm=True, input=source,
                                   transcript=transcript.text, answer=understander.message("yes_no_please"),
                                   listened_for=transcript.listened_for.text)  # type: ignore[union-attr]
    text = reading_to_act_on(transcript, understander)
    decision = understander.understand(text)
    if text and (not transcript.in_domain or text != transcript.text):
        decision = understander.doubted(decision)
    listened = transcript.listened_for
    heard = listened.text if listened is not None and text.endswith(listened_words(transcript)) else None
    return dataclasses.replace(decision, input=source, transcript=text, listened_for=heard)
