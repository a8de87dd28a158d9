"""The Silero VAD run frame by frame (assistant/audio/vad.py), and the automatic gain (gain.py)."""

from __future__ import annotations

import numpy as np
import pytest
import room_sounds
from audio_samples import espeak, silence

from assistant.audio import gain
from assistant.audio.vad import FRAME, SileroVad


def probabilities(vad: SileroVad, audio: np.ndarray) -> np.ndarray:
    return np.array([vad(audio[i:i + FRAME]) for i in range(0, len(audio) - FRAME + 1, FRAME)])


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return np.concatenate([silence(0.5), espeak("what is occupational therapy"), silence(0.5)])


def test_streaming_gives_what_the_whole_file_gives(speech: np.ndarray) -> None:
    # faster-whisper runs the same model over a whole file at once; frame by frame, with the state carried
    # from call to call, must come to the same probabilities.
    from faster_whisper.vad import get_vad_model

    n = len(speech) // FRAME * FRAME
    whole = np.asarray(get_vad_model()(speech[:n].astype(np.float32) / 32768)).reshape(-1)
    assert np.allclose(probabilities(SileroVad(), speech), whole, atol=1e-5)


def test_speech_is_speech_and_noise_is_not(speech: np.ndarray) -> None:
    vad = SileroVad()
    p = probabilities(vad, speech)
    words = p[int(0.6 * 16000 / FRAME): -int(0.6 * 16000 / FRAME)]
    assert np.mean(words > 0.5) > 0.8
    for name, make in room_sounds.BACKGROUNDS.items():
        vad.reset()
        # (the very first frame of a stream, from a cold state, may twitch: the segmenter needs 0.15 s)
        assert probabilities(vad, make(10, -30, seed=1))[1:].max() < 0.5, name


def test_reset_starts_a_new_stream(speech: np.ndarray) -> None:
    vad = SileroVad()
    first = probabilities(vad, speech)
    vad.reset()
    assert np.array_equal(probabilities(vad, speech), first)


def test_a_frame_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="512"):
        SileroVad()(np.zeros(320, dtype=np.int16))


def test_gain_brings_quiet_speech_to_the_target_without_clipping(speech: np.ndarray) -> None:
    quiet = (speech * 10 ** (-30 / 20)).astype(np.int16)
    mask = np.abs(quiet) > 3
    louder = gain.speech_gain(quiet, mask)
    level = 20 * np.log10(np.sqrt(np.mean(louder[mask].astype(np.float64) ** 2)) / 32768)
    assert level == pytest.approx(gain.TARGET_DB, abs=0.5) or gain.gain_db(quiet, mask) == gain.MAX_GAIN_DB
    assert np.abs(louder).max() <= gain.PEAK + 1


def test_gain_is_capped_and_never_clips() -> None:
    whisper = (room_sounds.pink(1, -80, seed=2)).astype(np.int16)
    assert gain.gain_db(whisper, np.ones(len(whisper), bool)) == gain.MAX_GAIN_DB
    spiky = np.zeros(16000, np.int16)
    spiky[100] = 20000  # a click in the pre-roll: the gain stops short of clipping it
    spiky[8000:9000] = (300 * np.sin(np.arange(1000))).astype(np.int16)
    mask = np.zeros(16000, bool)
    mask[8000:9000] = True
    assert np.abs(gain.speech_gain(spiky, mask)).max() <= gain.PEAK + 1


def test_gain_leaves_loud_speech_and_no_speech_alone(speech: np.ndarray) -> None:
    assert gain.speech_gain(speech, np.abs(speech) > 100) is speech
    assert gain.speech_gain(speech, np.zeros(len(speech), bool)) is speech


