"""Synthesis in a child process: a crash inside espeak-ng (seen once: a segmentation fault in Synth) costs a
retry, not the assistant. The crash is real: the child is killed with SIGSEGV mid-answer."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from assistant.speech import synth
from assistant.speech.isolated import IsolatedSynth

TEXT = "Occupational therapy helps people do the things they need and want to do in everyday life."


@pytest.fixture
def isolated():
    engine = IsolatedSynth()
    engine.start()
    yield engine
    engine.close()


def test_the_child_speaks_the_answer(isolated):
    audio = isolated.synthesize(TEXT, 165, 0.9, None)
    assert audio.dtype == np.int16
    assert 3 < len(audio) / synth.SAMPLE_RATE < 12, "17 words at 165 words a minute"
    assert np.sqrt(np.mean(audio.astype(float) ** 2)) > 300, "speech, not silence"
    slower = isolated.synthesize(TEXT, 110, 0.9, None)
    assert len(slower) > 1.2 * len(audio), "the settings reach the child"


def test_a_crashed_synthesis_process_is_started_again_and_the_answer_still_comes(isolated):
    reference = isolated.synthesize(TEXT, 165, 0.9, None)
    child = isolated.child
    os.kill(child.pid, signal.SIGSEGV)  # as the crash in libespeak-ng did
    child.join(5)
    assert child.exitcode == -signal.SIGSEGV
    audio = isolated.synthesize(TEXT, 165, 0.9, None)
    assert abs(len(audio) - len(reference)) < 0.02 * len(reference), "the whole answer"
    assert isolated.restarts == 1 and isolated.child.pid != child.pid
    assert len(isolated.synthesize("Still here.", 165, 0.9, None)) > 0


def test_synthesis_errors_come_back_as_speech_errors(isolated):
    with pytest.raises(synth.SpeechError, match="no-such-voice"):
        isolated.synthesize("Hello.", 165, 0.9, "no-such-voice-anywhere")
