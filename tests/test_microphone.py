"""Microphone capture through the virtual PulseAudio devices (tests/virtual_audio.py), real streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soxr
from audio_samples import RATE, espeak, silence, syllables, write_wav
from virtual_audio import VirtualAudio

from assistant.audio import devices
from assistant.audio.microphone import Microphone, MicrophoneError
from assistant.audio.segmenter import Segmenter

WAV_RATE = 22050  # espeak-ng's own rate: the server resamples it on the way into the microphone


@pytest.fixture(scope="module")
def question() -> tuple[np.ndarray, float]:
    """A halting spoken question at 22050 Hz ("what is ... occupational therapy") and its speech length."""
    first, second = espeak("what is", rate=WAV_RATE), espeak("occupational therapy", rate=WAV_RATE)
    audio = np.concatenate([silence(0.3, WAV_RATE), first, silence(0.6, WAV_RATE), second,
                            silence(0.3, WAV_RATE)])
    return audio, (len(first) + len(second)) / WAV_RATE + 0.6


def best_match(recorded: np.ndarray, original: np.ndarray) -> float:
    """Peak normalised cross-correlation of `original` (16 kHz) inside `recorded`: ~1 when it is intact."""
    rec, ref = recorded.astype(np.float64), original.astype(np.float64)
    if len(rec) < len(ref):
        rec = np.concatenate([rec, np.zeros(len(ref) - len(rec))])
    size = 1 << int(np.ceil(np.log2(len(rec) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size)), size)[: len(rec)]
    energy = np.sqrt(np.convolve(rec**2, np.ones(len(ref)), "full")[len(ref) - 1:][: len(corr)])
    return float(np.max(np.abs(corr) / (np.linalg.norm(ref) * np.maximum(energy, 1e-9))))


def tone_seconds(signal: np.ndarray, freq: float, rate: int = RATE) -> float:
    """Seconds of 10 ms blocks that are loud and peak at `freq` (+-100 Hz)."""
    block = rate // 100
    n = len(signal) // block
    blocks = signal[: n * block].reshape(n, block).astype(np.float64)
    peak = np.fft.rfftfreq(block, 1 / rate)[np.argmax(np.abs(np.fft.rfft(blocks, axis=1)), axis=1)]
    loud = np.sqrt(np.mean(blocks**2, axis=1)) > 1000
    return float(np.sum(loud & (np.abs(peak - freq) <= 100)) / 100)


def tone(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (12000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def capture(mic: Microphone, seconds: float) -> np.ndarray:
    blocks = []
    got = 0
    while got < seconds * mic.rate:
        block = mic.read_block(timeout=5)
        assert block is not None, "the microphone delivered nothing for 5 s"
        blocks.append(block)
        got += len(block)
    return np.concatenate(blocks)


def test_spoken_question_is_captured_as_one_utterance(virtual_audio: VirtualAudio, tmp_path: Path,
                                                      question: tuple[np.ndarray, float]) -> None:
    audio, speech_seconds = question
    wav = write_wav(tmp_path / "question.wav", audio, WAV_RATE)
    with Microphone() as mic:
        assert mic.device is not None and mic.device.default_input
        utterances = mic.utterances(Segmenter(), max_wait=15)
        player = virtual_audio.play_into_mic(wav, wait=False)
        utt = next(utterances, None)
        player.wait(timeout=30)
        assert utt is not None, "no utterance captured"
        assert not utt.truncated
        assert utt.end - utt.start == pytest.approx(speech_seconds, abs=0.2)
        # the captured audio is the question itself (resampled twice), not noise of the right length
        match = best_match(utt.audio, soxr.resample(audio.astype(np.float32), WAV_RATE, RATE))
        assert match > 0.8, f"captured audio does not match the question (correlation {match:.2f})"
        assert mic.record_utterance(Segmenter(), max_wait=1.5) is None, "a second, phantom utterance"


def test_device_rate_is_resampled_to_the_engine_rate(virtual_audio: VirtualAudio) -> None:
    with Microphone("pulse", device_rate=44100) as mic:
        assert (mic.device_rate, mic.rate) == (44100, RATE)
        mic.read_block(timeout=5)  # live
        virtual_audio.play_into_mic(np.concatenate([tone(440, 0.8), silence(0.3)]), RATE)
        heard = capture(mic, 1.0)
    assert tone_seconds(heard, 440) == pytest.approx(0.8, abs=0.08)  # same pitch, same length


def test_device_by_index_and_by_part_of_the_name(virtual_audio: VirtualAudio) -> None:
    pulse = devices.resolve_device("PULS", "input")
    assert pulse.name == "pulse"
    with Microphone(str(pulse.index)) as mic:
        assert mic.device == pulse
    with Microphone(pulse.index) as mic:
        assert mic.device == pulse and mic.read_block(timeout=5) is not None


def test_unknown_device_names_the_microphones(virtual_audio: VirtualAudio) -> None:
    with pytest.raises(MicrophoneError) as caught:
        Microphone("usb headset").open()
    message = str(caught.value)
    assert "no microphone matches 'usb headset'" in message and "--input-device" in message
    assert "[0] pulse" in message and "[1] default  (default)" in message


def test_paused_microphone_hears_nothing(virtual_audio: VirtualAudio) -> None:
    with Microphone() as mic:
        mic.read_block(timeout=5)
        with mic.muted():  # what "the assistant says" meanwhile must not reach the recognizer
            assert mic.paused
            virtual_audio.play_into_mic(np.concatenate([syllables(0.8), silence(0.2)]), RATE)
        assert not mic.paused
        after = capture(mic, 0.5)
        assert np.abs(after).max() < 300
        virtual_audio.play_into_mic(np.concatenate([tone(440, 0.5), silence(0.3)]), RATE)
        assert tone_seconds(capture(mic, 1.2), 440) >= 0.4


def test_stream_failure_raises_then_reopen_recovers(virtual_audio: VirtualAudio) -> None:
    mic = Microphone(stall_timeout=2.0).open()
    try:
        assert mic.read_block(timeout=5) is not None
        virtual_audio.crash()  # the sound system disappears under the open stream
        with pytest.raises(MicrophoneError, match="stopped|no audio") as caught:
            for _ in range(100):
                mic.read_block(timeout=0.1)
        assert "`assistant devices`" in str(caught.value)
        with VirtualAudio() as replacement:  # sound is back (a new server, as after re-plugging)
            replacement.activate()
            mic.reopen()
            mic.read_block(timeout=5)
            replacement.play_into_mic(np.concatenate([tone(440, 0.5), silence(0.3)]), RATE)
            assert tone_seconds(capture(mic, 1.2), 440) >= 0.4
            mic.close()
    finally:
        mic.close()


def test_no_microphone_at_all_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if Path("/proc/asound/cards").exists() and "no soundcards" not in Path("/proc/asound/cards").read_text():
        pytest.skip("this machine has a real sound card, so 'no microphone' cannot be produced")
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-server")  # nothing answers there
    devices.refresh()
    try:
        with pytest.raises(MicrophoneError, match=r"no microphone found: plug one in, then check `assistant devices`"):
            Microphone().open()
    finally:
        monkeypatch.undo()
        devices.refresh()


def test_reading_a_closed_microphone_is_a_clear_error() -> None:
    with pytest.raises(MicrophoneError, match="not open"):
        Microphone().read_block(timeout=0.1)


def test_segmenter_rate_must_match() -> None:
    mic = Microphone(rate=16000)
    with pytest.raises(ValueError, match="8000 Hz"):
        next(mic.utterances(Segmenter(rate=8000)))

