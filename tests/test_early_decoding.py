"""Recognition started during the endpoint silence (assistant/speculation.py), with real Whisper
decoding of synthesized speech fed through the real segmenter."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from audio_samples import silence
from speech_voices import speak

from assistant.audio.segmenter import Segmenter
from assistant.loop.early_decoding import SpeculativeRecognizer
from assistant.recognition.whisper_engine import WhisperRecognizer


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    return WhisperRecognizer()


@pytest.fixture
def speculative(whisper) -> Iterator[SpeculativeRecognizer]:
    recognizer = SpeculativeRecognizer(whisper)
    yield recognizer
    recognizer.close()


def trimmed(clip: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(clip.astype(np.int32)) > 300)
    return clip[loud[0]:loud[-1] + 1]


def live(signal: np.ndarray, speculative: SpeculativeRecognizer, block: int = 640) -> list[str]:
    """What the hands-free loop does: segment the stream, offer settled audio, transcribe utterances."""
    segmenter = Segmenter()
    heard: list[str] = []
    for start in range(0, len(signal), block):
        for utterance in segmenter.feed(signal[start:start + block]):
            heard.append(speculative.transcribe(utterance.audio).text)
        if (settled := segmenter.take_settled()) is not None:
            speculative.speculate(settled)
    return heard


def test_a_question_is_decoded_during_the_endpoint_silence_with_the_same_words(whisper, speculative) -> None:
    question = speak("what are the goals of occupational therapy", "flite:slt")
    signal = np.concatenate([silence(0.5), question, silence(1.5)])
    heard = live(signal, speculative)
    assert speculative.hits == 1, "the utterance's transcript came from the early decode"
    segmenter = Segmenter()
    (utterance,) = segmenter.feed(signal)
    assert heard == [whisper.transcribe(utterance.audio).text]
    assert "occupational therapy" in heard[0]


def test_speech_that_goes_on_after_a_pause_is_decoded_whole(speculative) -> None:
    # A halting speaker: the pause settles the first half; the decode of that half is not used.
    first, second = (trimmed(speak(words, "espeak:en-us")) for words in ("what does a physical", "therapist do"))
    signal = np.concatenate([silence(0.5), first, silence(0.6), second, silence(1.5)])
    heard = live(signal, speculative)
    assert speculative.hits == 1, "the whole sentence's decode, not the first half's"
    assert len(heard) == 1
    assert "physical therapist" in heard[0]


def test_an_unrelated_guess_is_never_used(whisper, speculative) -> None:
    asked, other = speak("i have chest pain", "flite:rms"), speak("what is physical therapy", "flite:rms")
    speculative.speculate(other)
    transcript = speculative.transcribe(asked)
    assert speculative.hits == 0
    assert transcript == whisper.transcribe(asked)


def test_the_decode_leaves_the_interpreter_free_for_audio_threads(speculative) -> None:
    """The microphone and speaker callbacks are Python: a decode in the background must not hold the GIL
    for long stretches (CTranslate2 releases it while it encodes and decodes)."""
    clip = speak("what is the difference between physical therapy and occupational therapy", "flite:slt")
    gaps: list[float] = []
    done = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        speculative.speculate(clip)
        speculative.transcribe(clip)
    finally:
        done.set()
        ticker.join()
    # Not a timing target: a one-call decode of this clip would leave the ticker no turn at all.
    assert len(gaps) > 20
