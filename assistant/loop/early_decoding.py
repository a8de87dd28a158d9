"""Early decoding: recognition that starts before the endpoint silence has run out.

An utterance ends only after `endpoint_silence` (about 1 s) without speech, but its audio is settled sooner:
the segmenter keeps just `post_roll` of trailing silence. `SpeculativeRecognizer` decodes the settled audio on
a worker thread while the silence runs out, and `TranscriptEndCheck` lets that transcript answer the
segmenter's question "is the question complete?" (core/question_end.py decides from the words). Either way
the transcript is the one `transcribe` gives for the utterance: this changes when recognition happens, never
what it hears.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from assistant.audio.segmenter import NOT_YET
from assistant.recognition.base import Recognizer, Transcript


class SpeculativeRecognizer:
    """Wraps a recognizer; every decode runs on one worker thread (decoders are not thread-safe)."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speculative-recognition")
        self._lock = threading.Lock()
        self._guess: tuple[np.ndarray, Future[Transcript | None]] | None = None
        self.hits = 0  # utterances whose transcript came from a guess (for tests and the bench)

    def speculate(self, audio: np.ndarray) -> None:
        """Start decoding audio that may turn out to be a whole utterance; replaces any earlier guess.
        The same array again (the end check and the settled hook both offer it) is decoded once."""
        with self._lock:
            if self._guess is None or self._guess[0] is not audio:
                self._guess = (audio, self._worker.submit(self._decode_if_latest, audio))

    def guess(self, audio: np.ndarray) -> tuple[bool, Transcript | None]:
        """(done, transcript) of the guess on this very array, without waiting: (False, None) while it is
        still decoding or when no guess was made on it."""
        with self._lock:
            guess = self._guess
        if guess is None or guess[0] is not audio or not guess[1].done():
            return False, None
        if guess[1].exception() is not None:  # transcribe() raises it for the finished utterance
            return True, None
        return True, guess[1].result()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """The transcript of a finished utterance: the guess's when it was made on this very audio."""
        with self._lock:
            guess, self._guess = self._guess, None
        if guess is not None and guess[0].shape == audio.shape and np.array_equal(guess[0], audio):
            result = guess[1].result()
            if result is not None:
                self.hits += 1
                return result
        elif guess is not None:
            guess[1].cancel()  # not started yet: never decoded
        return self._worker.submit(self.recognizer.transcribe, audio).result()

    def close(self) -> None:
        with self._lock:
            self._guess = None
        self._worker.shutdown(wait=True, cancel_futures=True)

    def _decode_if_latest(self, audio: np.ndarray) -> Transcript | None:
        # A guess superseded while it waited in the queue (the person went on speaking) is not decoded.
        with self._lock:
            if self._guess is not None and self._guess[0] is not audio:
                return None
        return self.recognizer.transcribe(audio)


class TranscriptEndCheck:
    """The segmenter's end check: the early decode of the settled audio, judged from its words; NOT_YET while
    the decode runs (on the recognizer's own thread, so the microphone keeps being read)."""

    def __init__(self, recognizer: SpeculativeRecognizer,
                 judge: Callable[[str, bool, Sequence[str]], bool | None],
                 reading: Callable[[Transcript], str] | None = None) -> None:
        self.recognizer = recognizer
        self.judge = judge  # (words, trails off, other readings) -> complete?  (TurnTaking.question_complete)
        self.reading = reading or (lambda transcript: transcript.text)  # the words acted on (recognition.reading)

    def __call__(self, audio: np.ndarray):
        self.recognizer.speculate(audio)  # once per array: asked again each frame until the verdict is in
        done, transcript = self.recognizer.guess(audio)
        if not done:
            return NOT_YET
        if transcript is None:
            return None
        words = self.reading(transcript)
        others = [text for text in (transcript.text, *transcript.alternatives) if text != words]
        return self.judge(words, transcript.trails_off, others)
