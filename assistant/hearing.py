"""Recorded questions -> decisions: WAV files through the recognizer into the understanding.

Used by `assistant ask --audio FILE...`. A file that cannot be used gives a decision of kind "unknown"
whose `error` names the file and the problem, and the batch goes on with the next file.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.audio_files import AudioFileError, load_wav
from assistant.config import Settings
from assistant.core.decision import Decision
from assistant.core.understanding import Understander
from assistant.recognition import Recognizer, RecognizerError, Transcript, open_recognizer

# A transcript the recognizer marks as probably outside the domain still goes to the understanding (it
# decides "unknown" from the words), but an answer it finds is asked back ("did you mean ...?") and its
# confidence lowered. Emergencies and commands are never weakened.
OUT_OF_DOMAIN_FACTOR = 0.7


def decide_audio_files(paths: Iterable[Path], understander: Understander, settings: Settings,
                       recognizer: Recognizer | None = None) -> Iterator[Decision]:
    """One decision per file, in order; `input` is the file path and `transcript` what was recognized."""
    if recognizer is None:
        try:
            recognizer = open_recognizer(settings, understander.content, announce=True)
        except RecognizerError as exc:
            print(f"assistant: {exc}", file=sys.stderr)
            raise SystemExit(2) from exc
    phrases = _personal_phrases(understander, settings)
    for path in paths:
        try:
            samples = load_wav(path, rate=recognizer.sample_rate)
        except AudioFileError as exc:
            yield file_error(str(path), exc.problem)
            continue
        transcript = recognizer.transcribe(samples)
        decision = decide(transcript, understander, source=str(path))
        if phrases is not None:  # the person's own recordings of the words that matter (assistant/phrases)
            audio = samples if recognizer.sample_rate == 16000 else load_wav(path, rate=16000)
            decision = phrases.decide(audio, decision)
        yield decision


def _personal_phrases(understander: Understander, settings: Settings):
    from assistant.phrases.personal import PersonalPhrases

    return PersonalPhrases.load(understander, wake_phrase=settings.wake_phrase)


def safer_reading(transcript: Transcript, understander: Understander) -> str:
    """The words to act on: the recognizer's best reading, unless only another plausible reading of the same
    audio is an emergency. Then that one: a missed emergency costs more than a false alarm."""
    if not transcript.alternatives or understander.understand(transcript.text).is_emergency:
        return transcript.text
    return next((alternative for alternative in transcript.alternatives
                 if understander.understand(alternative).is_emergency), transcript.text)


def decide(transcript: Transcript, understander: Understander, source: str) -> Decision:
    """The understanding's decision on a transcript (on an alternative reading where only that one is an
    emergency), tempered by the recognizer's in-domain signal."""
    text = safer_reading(transcript, understander)
    decision = understander.understand(text)
    if not transcript.in_domain and text and not decision.is_emergency:
        decision = _doubtful(decision, understander)
    return dataclasses.replace(decision, input=source, transcript=text)


def _doubtful(decision: Decision, understander: Understander) -> Decision:
    if decision.kind == "topic" and decision.topic:
        title = understander.content.topics[decision.topic].title
        return dataclasses.replace(decision, confirm=True, confidence=decision.confidence * OUT_OF_DOMAIN_FACTOR,
                                   answer=understander.message("did_you_mean", title=title))
    if decision.kind == "triage":
        return dataclasses.replace(decision, confidence=decision.confidence * OUT_OF_DOMAIN_FACTOR)
    return decision


def file_error(source: str, problem: str) -> Decision:
    message = f"I could not use the recording {Path(source).name}: {problem}."
    return Decision(input=source, transcript=None, kind="unknown", topic=None, disposition=None, command=None,
                    answer=message, confidence=0.0, confirm=False, error=f"{source}: {problem}")
