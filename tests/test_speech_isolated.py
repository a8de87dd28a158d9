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


def test_the_child_speaks_what_synthesis_in_process_gives(isolated):
    here = synth.synthesize(TEXT, rate=165, volume=0.9)
    there = isolated.synthesize(TEXT, 165, 0.9, None)
    assert there.dtype == np.int16 and len(there) > synth.SAMPLE_RATE
    assert abs(len(here) - len(there)) < 0.01 * len(here)
    n = min(len(here), len(there))
    assert np.corrcoef(here[:n].astype(float), there[:n].astype(float))[0, 1] > 0.9


def test_a_crashed_synthesis_process_is_started_again_and_the_answer_still_comes(isolated):
    isolated.synthesize("Hello.", 165, 0.9, None)
    child = isolated._process
    os.kill(child.pid, signal.SIGSEGV)  # as the crash in libespeak-ng did
    child.join(5)
    assert child.exitcode == -signal.SIGSEGV
    audio = isolated.synthesize(TEXT, 165, 0.9, None)
    reference = synth.synthesize(TEXT, rate=165, volume=0.9)  # espeak's state may differ by a few samples
    assert abs(len(audio) - len(reference)) < 0.01 * len(reference), "the whole answer"
    assert isolated.restarts == 1 and isolated._process.pid != child.pid
    assert len(isolated.synthesize("Still here.", 165, 0.9, None)) > 0


def test_synthesis_errors_come_back_as_speech_errors(isolated):
    with pytest.raises(synth.SpeechError, match="no-such-voice"):
        isolated.synthesize("Hello.", 165, 0.9, "no-such-voice-anywhere")
