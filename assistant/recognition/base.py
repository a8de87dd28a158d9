"""What every speech recognizer offers: streaming input, partial text, a final transcript.

    recognizer.reset()
    for block in blocks:                  # int16 mono at recognizer.sample_rate
        recognizer.accept(block)
        show(recognizer.partial())
    transcript = recognizer.final()       # Transcript(text, confidence, in_domain, words); ready for more

    transcript = recognizer.transcribe(samples)   # the same for one whole utterance
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class RecognizerError(RuntimeError):
    """A recognizer cannot be started; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the utterance
    end: float
    confidence: float  # 0..1: the engine's posterior for this word


@dataclass(frozen=True)
class Listened:
    """A phrase of the closed set (core/listened.py) the engine found clearly likely on this utterance's sound,
    more likely than its own free reading: for recognition.reading to decide with."""

    text: str  # the phrase as listed ("I can't catch my breath")
    meaning: str  # "emergency" | "command" | "wake"
    name: str  # the red flag, the command or "wake"
    logprob: float  # mean log-probability per token, teacher-forced as the start of the reading
    margin: float  # logprob minus the free reading's over as many tokens (how much it beats it)


@dataclass(frozen=True)
class Transcript:
    text: str  # lower case words separated by single spaces; "" when nothing was recognized
    confidence: float  # 0..1: how sure the engine is of the words
    in_domain: bool  # False: probably not something the content covers ("play some music")
    words: tuple[Word, ...] = ()
    trails_off: bool = False  # the engine heard the speaker break off mid-sentence (Whisper writes "...")
    # Other readings the engine found plausible (Whisper's other beam hypotheses and its greedy reading),
    # in the same form as `text`: the red-flag check reads them too (recognition.reading).
    alternatives: tuple[str, ...] = ()
    # The reading that starts with the wake phrase, where the engine finds that plausible but did not write
    # it: for the listening loop to take when the sound says the person spoke (recognition.reading.addressed_reading).
    addressed: Transcript | None = None
    listened_for: Listened | None = None  # a phrase of the closed set that scored clearly on this utterance

    @classmethod
    def empty(cls) -> Transcript:
        return cls(text="", confidence=0.0, in_domain=False, words=())


@runtime_checkable
class Recognizer(Protocol):
    name: str  # "whisper" | "vosk"
    description: str  # one line for people: engine, model, vocabulary
    sample_rate: int  # the rate `accept` expects

    def accept(self, samples: np.ndarray) -> bool:
        """Feed int16 mono samples. True when the engine itself heard the utterance end (Vosk's endpointer);
        engines without an endpointer always return False and leave that to the segmenter."""
        ...

    def partial(self) -> str:
        """The best guess so far for the current utterance."""
        ...

    def final(self) -> Transcript:
        """Finish the current utterance and return it; the recognizer is then ready for the next one."""
        ...

    def reset(self) -> None:
        """Drop whatever was fed since the last final()."""
        ...

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Recognize one whole utterance."""
        ...


class StreamingRecognizer:
    """`transcribe` for engines that implement the streaming calls."""

    sample_rate: int

    def accept(self, samples: np.ndarray) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def final(self) -> Transcript:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def transcribe(self, samples: np.ndarray) -> Transcript:
        self.reset()
        self.accept(as_int16(samples))
        return self.final()


def as_int16(samples: np.ndarray) -> np.ndarray:
    """Check and flatten what callers pass: int16 mono only, so no engine sees misread bytes."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        raise TypeError(f"recognizers take int16 samples, got {samples.dtype} (see assistant.audio.wav_files)")
    if samples.ndim != 1:
        if samples.ndim == 2 and 1 in samples.shape:
            return samples.reshape(-1)
        raise ValueError(f"recognizers take mono audio, got an array of shape {samples.shape}")
    return samples
