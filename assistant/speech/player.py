"""Play audio on the chosen output device with sounddevice, stoppable at once from another thread.

A `Playback` is one open OutputStream fed with chunks (the speaker queues sentences as they are
synthesized); its callback plays them in order, plays silence while the next chunk is not ready, and
stops when told to. `Player` is the simple front: `play(samples)` blocks, `stop()` silences it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from types import ModuleType
from typing import Any

import numpy as np

from assistant.audio import devices
from assistant.speech.synth import SAMPLE_RATE

log = logging.getLogger(__name__)

# The stream's buffer has to outlast the longest wait of the callback thread while the recognizer decodes
# on the same cores (shorter buffers gave audible gaps: docs/decisions.md). It adds no delay: the stream is
# primed with the first sentence, and stop() aborts it. Short periods keep most of the buffer in reserve; the
# short lead-in silence keeps the speech clear of whatever a device does at stream start.
LEAD_IN_SECONDS = 0.05
LATENCY_SECONDS = 1.0
PERIOD_SECONDS = 0.05
TAIL_MARGIN_SECONDS = 0.05  # silence after the buffer's worth, for the sound server's own small buffer
STOP_GRACE_SECONDS = 0.1  # after stop() before the stream was opened: how long wait() still waits


class OutputDeviceError(RuntimeError):
    """The output device is missing or unusable; the message says how to fix it."""


def _sounddevice() -> ModuleType:
    try:
        return devices.sounddevice()
    except devices.SoundSystemError as exc:  # PortAudio shared library missing
        raise OutputDeviceError(f"Audio output is unavailable: {exc}.") from exc


def resolve_output_device(spec: str | int | None) -> int | None:
    """An output device index from an index or (part of) a name; None means the system default.

    The matching rules are assistant.audio.devices.resolve_device's; only the errors are worded here."""
    try:
        every = devices.list_devices()
    except devices.SoundSystemError as exc:
        raise OutputDeviceError(f"Cannot list audio devices: {exc}") from exc
    if devices.is_default_spec(spec):
        if not any(d.max_output_channels > 0 for d in every):
            raise OutputDeviceError("No audio output device found. Connect a speaker (or start PulseAudio), "
                                    "then pick it with --output-device (see `python -m sounddevice`).")
        return None  # let PortAudio use the system default
    try:
        return devices.resolve_device(spec, "output", every).index
    except devices.DeviceNotFoundError:
        pass
    listing = "; ".join(f"{d.index}: {d.name}" for d in every if d.max_output_channels > 0) or "none"
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        raise OutputDeviceError(f"Output device {int(text)} does not exist or cannot play sound. "
                                f"Output devices: {listing}. Pick one with --output-device INDEX|NAME.")
    raise OutputDeviceError(f"No output device matches '{text}'. Output devices: {listing}. "
                            "Pick one with --output-device INDEX|NAME.")


class Playback:
    """One output stream playing fed chunks in order; `stop()` from any thread silences it."""

    def __init__(self, device: str | int | None = None, samplerate: int = SAMPLE_RATE,
                 lead_in: float = LEAD_IN_SECONDS, latency: float = LATENCY_SECONDS) -> None:
        self._sd = _sounddevice()
        self._device = resolve_output_device(device)
        self._in_rate = samplerate
        self._rate = self._pick_rate(samplerate)
        self._latency = latency
        self._chunks: deque[tuple[np.ndarray, bool]] = deque()
        self._current: np.ndarray | None = None
        self._current_is_speech = False
        self._pos = 0
        self._fed_frames = 0
        self._feeding_done = False
        self._tail_left: int | None = None  # frames of silence still to write after the last sample
        self._stop = threading.Event()
        self._done = threading.Event()
        self._stream: Any = None
        self._stream_latency = latency  # what PortAudio granted, once the stream is open
        self._close_lock = threading.Lock()
        self.started_at: float | None = None
        self.first_sample_at: float | None = None  # perf_counter when the first fed sample went out
        self.first_sample_dac_at: float | None = None  # ... and when PortAudio expects it at the speaker
        self.stopped_at: float | None = None
        self.silenced_at: float | None = None  # when the stream stopped producing sound after stop()
        self.underruns = 0  # callbacks PortAudio flagged as late: the buffer ran dry (an audible gap)
        self.drained = False  # the callback played everything that was fed
        self.failure: str | None = None  # why playback ended early without stop(): stalled or lost device
        if lead_in > 0:
            self._queue(np.zeros(int(lead_in * self._rate), dtype=np.int16), speech=False)

    def _pick_rate(self, samplerate: int) -> int:
        """Use the synthesis rate when the device takes it, else the device's own (and resample)."""
        sd = self._sd
        try:
            sd.check_output_settings(self._device, samplerate=samplerate, channels=1, dtype="int16")
            return samplerate
        except (sd.PortAudioError, ValueError):
            info = sd.query_devices(self._device if self._device is not None else sd.default.device[1])
            return int(info["default_samplerate"])

    @property
    def latency(self) -> float:
        """The output latency PortAudio reports for the open stream (seconds)."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    @property
    def active(self) -> bool:
        return self._stream is not None and not self._done.is_set()

    def start(self) -> Playback:
        if self._stop.is_set():  # stopped before it started: nothing to open
            return self
        sd = self._sd
        try:
            self._stream = sd.OutputStream(
                device=self._device, samplerate=self._rate, channels=1, dtype="int16",
                latency=self._latency, blocksize=int(PERIOD_SECONDS * self._rate),
                callback=self._callback, finished_callback=self._done.set,
                prime_output_buffers_using_stream_callback=True,  # else the buffer starts as silence
            )
            self._stream_latency = float(self._stream.latency)
            self.started_at = time.perf_counter()
            self._stream.start()
        except (sd.PortAudioError, ValueError, OSError) as exc:
            self.close()
            name = f"output device {self._device}" if self._device is not None else "the default output device"
            raise OutputDeviceError(f"Cannot play sound on {name}: {exc}. Check the speaker is connected, "
                                    "or pick another with --output-device.") from exc
        return self

    def feed(self, samples: np.ndarray, samplerate: int | None = None) -> None:
        """Queue int16 (or float -1..1) mono samples to play after what is already queued."""
        samples = np.asarray(samples)
        if samples.dtype.kind == "f":
            samples = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        samples = samples.astype(np.int16, copy=False).reshape(-1)
        rate = samplerate or self._in_rate
        if rate != self._rate and len(samples):
            import soxr

            samples = soxr.resample(samples, rate, self._rate).astype(np.int16)
        if len(samples):
            self._queue(samples, speech=True)

    def _queue(self, samples: np.ndarray, speech: bool) -> None:
        self._fed_frames += len(samples)
        self._chunks.append((samples, speech))

    def finish(self) -> None:
        """No more chunks: the stream ends once everything queued has played."""
        self._feeding_done = True

    def stop(self) -> None:
        """Silence now (callable from any thread); wait() then returns False."""
        if not self._stop.is_set():
            self.stopped_at = time.perf_counter()
            self._stop.set()
        # Not left to the callback: it runs once a period, and what is buffered would play on anyway.
        # Aborting drops the stream's buffer (and the sound server's) at once.
        self.close()

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.underruns += 1
        if self._stop.is_set():
            outdata.fill(0)
            if self.silenced_at is None:
                self.silenced_at = time.perf_counter()
            raise self._sd.CallbackAbort
        out = outdata[:, 0]
        filled = 0
        while filled < frames:
            if self._current is None:
                if not self._chunks:
                    break
                self._current, self._current_is_speech = self._chunks.popleft()
                self._pos = 0
            take = min(frames - filled, len(self._current) - self._pos)
            out[filled:filled + take] = self._current[self._pos:self._pos + take]
            if self._current_is_speech and self.first_sample_at is None and take > 0:
                now = time.perf_counter()
                ahead = time_info.outputBufferDacTime - time_info.currentTime
                ahead = ahead if 0.0 <= ahead < 2.0 else 0.0  # some backends report no clock
                self.first_sample_at = now
                self.first_sample_dac_at = now + ahead + filled / self._rate
            filled += take
            self._pos += take
            if self._pos >= len(self._current):
                self._current = None
        if filled < frames:
            out[filled:] = 0  # next sentence not synthesized yet (or the end): silence, never stall
            if self._feeding_done and self._current is None and not self._chunks:
                # On ALSA/PulseAudio the stream "finishes" as soon as the callback stops, and closing it
                # then drops what is still buffered: the last `latency` of the answer was never heard
                # (and the microphone was open again while it played). So push the buffer's worth of
                # silence after it first.
                if self._tail_left is None:
                    self._tail_left = int((self._stream_latency + TAIL_MARGIN_SECONDS) * self._rate)
                self._tail_left -= frames - filled
                if self._tail_left <= 0:
                    self.drained = True
                    raise self._sd.CallbackStop

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything played (True) or stop()/timeout/device trouble ended it (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(0.02):
            now = time.monotonic()
            if self._stop.is_set() and self.stopped_at is not None and \
                    time.perf_counter() - self.stopped_at > STOP_GRACE_SECONDS:
                break  # the callback did not run in time (stalled device): abort below
            if self._feeding_done and self.started_at is not None:
                # A stalled device never finishes: give up well after the audio should have ended
                # (generously: a loaded machine's sound server can run late by a second or two).
                expected = 1.5 * self._fed_frames / self._rate + self.latency + 3.0
                if time.perf_counter() - self.started_at > expected:
                    self.failure = "the output device stopped playing (stalled)"
                    self.stop()
                    break
            if deadline is not None and now > deadline:
                break
        stopped = self._stop.is_set()
        completed = self._done.is_set() and self.drained and not stopped
        if self._done.is_set() and not self.drained and not stopped and self.failure is None:
            self.failure = "the output device failed during playback"
        self.close()
        return completed

    def close(self) -> None:
        with self._close_lock:  # stop() and wait() may close at the same time from two threads
            stream, self._stream = self._stream, None
            if stream is None:
                return
            try:
                if not self._done.is_set():
                    stream.abort()
                stream.close()
            except Exception as exc:  # noqa: BLE001 - a dying device must not crash the caller
                log.debug("closing the output stream failed: %s", exc)
            finally:
                if self._stop.is_set() and self.silenced_at is None:
                    self.silenced_at = time.perf_counter()
                self._done.set()


class Player:
    """Plays whole buffers on one output device; `stop()` from another thread ends playback quickly."""

    def __init__(self, device: str | int | None = None, lead_in: float = LEAD_IN_SECONDS,
                 latency: float = LATENCY_SECONDS) -> None:
        self.device = device
        self.lead_in = lead_in
        self.latency = latency
        self._current: Playback | None = None
        self._lock = threading.Lock()

    def open(self, samplerate: int = SAMPLE_RATE) -> Playback:
        """Start a stream to feed chunk by chunk; Player.stop() stops it too."""
        playback = Playback(self.device, samplerate, lead_in=self.lead_in, latency=self.latency)
        with self._lock:
            self._current = playback
        return playback.start()

    def play(self, samples: np.ndarray, samplerate: int = SAMPLE_RATE) -> bool:
        """Play and block; True when it played to the end, False when stopped."""
        playback = self.open(samplerate)
        try:
            playback.feed(samples, samplerate)
            playback.finish()
            return playback.wait()
        finally:
            playback.close()
            with self._lock:
                if self._current is playback:
                    self._current = None

    def stop(self) -> None:
        with self._lock:
            current = self._current
        if current is not None:
            current.stop()

    @property
    def is_playing(self) -> bool:
        with self._lock:
            return self._current is not None and self._current.active
