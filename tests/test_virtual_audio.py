"""The virtual PulseAudio devices really carry audio both ways, and the server leaves nothing behind."""

from __future__ import annotations

import os
import queue
import time

import numpy as np
import sounddevice as sd
from virtual_audio import VirtualAudio

RATE = 16000


def tone(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def band_seconds(signal: np.ndarray, freq: float, block: int = 160) -> float:
    """Seconds of `signal` (int16, 16 kHz) whose 10 ms blocks are loud and dominated by `freq` (+-100 Hz)."""
    n = len(signal) // block
    if n == 0:
        return 0.0
    blocks = signal[: n * block].reshape(n, block).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(blocks * np.hanning(block), axis=1))
    freqs = np.fft.rfftfreq(block, 1 / RATE)
    peak = freqs[np.argmax(spectrum, axis=1)]
    loud = np.sqrt(np.mean(blocks**2, axis=1)) > 1000
    return float(np.sum(loud & (np.abs(peak - freq) <= 100)) * block / RATE)


def test_tone_into_mic_is_captured_by_default_input_stream(virtual_audio: VirtualAudio) -> None:
    blocks: queue.Queue[np.ndarray] = queue.Queue()

    def callback(indata, frames, time_info, status) -> None:  # noqa: ANN001
        blocks.put(indata[:, 0].copy())

    clip = np.concatenate([np.zeros(RATE // 5, np.float32), tone(440, 0.8), np.zeros(RATE // 5, np.float32)])
    with sd.InputStream(samplerate=RATE, channels=1, dtype="int16", callback=callback):
        while blocks.empty():  # the stream is live once the first block arrives
            time.sleep(0.01)
        virtual_audio.play_into_mic(clip, RATE)
        time.sleep(0.3)
    captured = np.concatenate([blocks.get() for _ in range(blocks.qsize())])
    heard = band_seconds(captured, 440)
    assert 0.7 <= heard <= 0.9, f"expected ~0.8 s of 440 Hz in the microphone, got {heard:.2f} s"


def test_sounddevice_playback_reaches_speaker_unclipped(virtual_audio: VirtualAudio) -> None:
    # A 1 kHz lead-in marks the start: if playback were clipped, the lead-in is what would go missing.
    # Measured here: sounddevice on the ALSA pulse device loses only ~20-40 ms at each edge (paplay about
    # as much), so the bounds allow 0.1 s per edge; a clipped start (hundreds of ms) fails.
    lead, body = tone(1000, 0.3), tone(440, 0.6)
    recorder = virtual_audio.record_speaker()
    sd.play(np.concatenate([lead, body]), RATE)
    sd.wait()
    played = recorder.stop()
    lead_heard, body_heard = band_seconds(played, 1000), band_seconds(played, 440)
    assert 0.2 <= lead_heard <= 0.32, f"start of the playback clipped: {lead_heard:.2f} s of 0.3 s lead-in"
    assert 0.5 <= body_heard <= 0.62, f"{body_heard:.2f} s of the 0.6 s body reached the speaker"


def source_names(audio: VirtualAudio) -> list[str]:
    return [line.split("\t")[1] for line in audio.pactl("list", "short", "sources").splitlines()]


def test_mic_can_be_unloaded_and_reloaded(virtual_audio: VirtualAudio) -> None:
    virtual_audio.unload_mic()
    assert VirtualAudio.MIC_SOURCE not in source_names(virtual_audio)
    virtual_audio.load_mic()
    assert VirtualAudio.MIC_SOURCE in source_names(virtual_audio)
    assert f"Default Source: {VirtualAudio.MIC_SOURCE}" in virtual_audio.pactl("info")


def test_stop_kills_daemon_removes_dir_and_restores_env() -> None:
    before = {key: os.environ.get(key) for key in ("PULSE_SERVER", "HOME", "XDG_RUNTIME_DIR")}
    audio = VirtualAudio().start()
    audio.activate()
    assert os.environ["PULSE_SERVER"] == audio.env["PULSE_SERVER"]
    assert any(dev["max_input_channels"] > 0 for dev in sd.query_devices())
    daemon, folder = audio._daemon, audio.dir
    assert daemon is not None and folder is not None
    audio.record_speaker()  # a helper still running at stop() must be stopped too
    audio.stop()
    assert daemon.poll() is not None, "pulseaudio still running after stop()"
    assert not os.path.exists(f"/proc/{daemon.pid}"), "pulseaudio left as a zombie"
    assert not folder.exists()
    assert {key: os.environ.get(key) for key in before} == before
