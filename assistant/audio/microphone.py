"""The microphone: a sounddevice InputStream whose callback only queues blocks; reading happens here.

    from assistant.audio.microphone import Microphone, MicrophoneError
    from assistant.audio.segmenter import Segmenter

    with Microphone(settings.input_device) as mic:       # index, name (part of it) or None = default
        for utt in mic.utterances(Segmenter(end_silence=settings.endpoint_silence, max_pause=settings.max_pause,
                                            max_utterance=settings.max_utterance)):
            text = recognize(utt.audio)                   # int16 mono at 16000 Hz, automatic gain applied
            with mic.muted():                             # the assistant must not hear itself
                speak(answer)

    block = mic.read_block(timeout=0.5)                  # or raw blocks: int16 mono at mic.rate, or None
    utt = mic.record_utterance(Segmenter(), max_wait=8)  # one utterance, or None after 8 s of no speech

- Audio is int16 mono at ``rate`` (the engine's rate, 16000 by default). The stream opens at that rate
  when the device supports it, else at the device's default rate, and blocks are resampled with soxr.
  ``device_rate=`` forces the device side rate (tests use it to exercise resampling).
- ``pause()``/``resume()``, the ``paused`` property or ``with mic.muted():`` gate the microphone: while
  paused the callback drops every block, and resuming discards anything queued, so nothing said while
  the assistant spoke reaches the recognizer (``utterances`` also resets its segmenter).
- Every failure is a ``MicrophoneError`` with a message a caregiver can act on: no sound system, no
  microphone, no device matching the name (the message lists the microphones), a device that cannot be
  opened, or a stream that stopped or went silent (unplugged) while reading. After one, call
  ``reopen()`` (``reopen(refresh=True)`` re-reads the hardware first, e.g. after a USB microphone was
  plugged in; that re-initialises PortAudio and so closes every other open stream too).
- ``overflows`` counts blocks PortAudio reported as overflowed; ``dropped`` counts blocks thrown away
  because the reader fell more than ``max_queue_seconds`` behind.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from assistant.audio import devices
from assistant.audio.devices import DeviceInfo, DeviceNotFoundError, SoundSystemError
from assistant.audio.segmenter import Segmenter, Utterance

log = logging.getLogger(__name__)

ENGINE_RATE = 16000
BLOCK_SECONDS = 0.04


class MicrophoneError(RuntimeError):
    """The microphone cannot be used; the message says what is wrong and how to fix it."""


class Microphone:
    def __init__(self, device: str | int | None = None, rate: int = ENGINE_RATE,
                 device_rate: int | None = None, max_queue_seconds: float = 30.0,
                 stall_timeout: float = 5.0) -> None:
        self.spec = device
        self.rate = rate
        self.forced_device_rate = device_rate
        self.stall_timeout = stall_timeout
        self.max_queue_blocks = max(1, int(max_queue_seconds / BLOCK_SECONDS))
        self.device: DeviceInfo | None = None
        self.device_rate: int | None = None
        self.channels = 1
        self.overflows = 0
        self.dropped = 0
        self._stream: Any = None
        self._queue: queue.Queue[np.ndarray] = queue.Queue(self.max_queue_blocks)
        self._resampler: Any = None
        self._paused = False
        self._gate_epoch = 0
        self._stopped_unexpectedly = False
        self._closing = False
        self._last_callback = 0.0
        self._lock = threading.Lock()

    # ----- opening and closing ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def open(self) -> Microphone:
        """Open and start the stream; MicrophoneError (with the fix) if that is impossible."""
        if self._stream is not None:
            return self
        try:
            sd = devices.sounddevice()
            device = devices.resolve_device(self.spec, "input")
        except (SoundSystemError, DeviceNotFoundError) as exc:
            raise MicrophoneError(str(exc)) from exc
        rate, channels = self._choose_format(sd, device)
        self._queue = queue.Queue(self.max_queue_blocks)
        self._stopped_unexpectedly = False
        self._closing = False
        self._last_callback = time.monotonic()
        try:
            stream = sd.InputStream(device=device.index, samplerate=rate, channels=channels, dtype="int16",
                                    blocksize=max(1, int(rate * BLOCK_SECONDS)), latency="high",
                                    callback=self._callback, finished_callback=self._finished)
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise MicrophoneError(
                f"cannot open the microphone {device.label()} ({_first_line(exc)}). Check that it is "
                "plugged in and not in use by another program; `assistant devices` lists the "
                "microphones.") from exc
        self._stream, self.device, self.device_rate, self.channels = stream, device, rate, channels
        self._resampler = self._new_resampler()
        log.info("microphone %s open at %d Hz, %d channel(s)", device.label(), rate, channels)
        return self

    def _choose_format(self, sd: Any, device: DeviceInfo) -> tuple[int, int]:
        """Prefer the engine rate (no resampling), else the device's own; mono, else stereo mixed down."""
        rates = ([self.forced_device_rate] if self.forced_device_rate
                 else [self.rate, int(device.default_samplerate)])
        channel_options = [1] + ([2] if device.max_input_channels >= 2 else [])
        problems = []
        for rate in dict.fromkeys(rates):
            for channels in channel_options:
                try:
                    with devices.quiet_stderr():
                        sd.check_input_settings(device=device.index, channels=channels, dtype="int16",
                                                samplerate=rate)
                    return rate, channels
                except (sd.PortAudioError, ValueError) as exc:
                    problems.append(f"{rate} Hz x{channels}: {_first_line(exc)}")
        raise MicrophoneError(f"the microphone {device.label()} accepts none of the formats tried "
                              f"({'; '.join(problems)}). Choose another with --input-device.")

    def _new_resampler(self) -> Any:
        if self.device_rate is None or self.device_rate == self.rate:
            return None
        import soxr

        return soxr.ResampleStream(self.device_rate, self.rate, 1, dtype="int16")

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            self._closing = True
            with contextlib.suppress(Exception):  # PortAudio may already be gone (unplugged, re-initialised)
                stream.abort()
            with contextlib.suppress(Exception):
                stream.close()
        self._queue = queue.Queue(self.max_queue_blocks)

    def reopen(self, refresh: bool = False) -> Microphone:
        """Close and open again (after a MicrophoneError). refresh=True re-reads the device list first."""
        self.close()
        if refresh:
            try:
                devices.refresh()
            except SoundSystemError as exc:
                raise MicrophoneError(str(exc)) from exc
        return self.open()

    def __enter__(self) -> Microphone:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- the PortAudio thread: no blocking, no allocation beyond one copy ------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self._last_callback = time.monotonic()
        if status.input_overflow:
            self.overflows += 1
        if self._paused:
            return
        block = indata[:, 0].copy() if indata.shape[1] == 1 else indata.mean(axis=1).astype(np.int16)
        try:
            self._queue.put_nowait(block)
        except queue.Full:
            self.dropped += 1

    def _finished(self) -> None:
        if not self._closing:
            self._stopped_unexpectedly = True

    # ----- gating ----------------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        if value:
            self.pause()
        else:
            self.resume()

    def pause(self) -> None:
        """Drop all audio from now on (e.g. while the assistant speaks)."""
        self._paused = True
        self._drain()

    def resume(self) -> None:
        """Take audio again; anything captured before this moment is discarded."""
        with self._lock:
            self._drain()
            self._gate_epoch += 1
            self._paused = False

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """Pause inside the block (restoring the previous state after it)."""
        was_paused = self._paused
        self.pause()
        try:
            yield
        finally:
            if not was_paused:
                self.resume()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    # ----- reading ---------------------------------------------------------------------------------------
    def read_block(self, timeout: float | None = None) -> np.ndarray | None:
        """The next block, int16 mono at `rate`; None if nothing came within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        epoch = self._gate_epoch
        while True:
            self._check_health()
            wait = 0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic()))
            try:
                block = self._queue.get(timeout=wait)
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            if epoch != self._gate_epoch:  # resumed meanwhile: start the resampler afresh
                epoch = self._gate_epoch
                self._resampler = self._new_resampler()
            if self._resampler is not None:
                block = self._resampler.resample_chunk(block)
            if len(block):
                return block
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _check_health(self) -> None:
        if self._stream is None:
            raise MicrophoneError("the microphone is not open (call open() or reopen())")
        label = self.device.label() if self.device else "microphone"
        if self._stopped_unexpectedly and self._queue.empty():
            raise MicrophoneError(f"the microphone {label} stopped (unplugged, or the sound system "
                                  "restarted). Check the cable, then `assistant devices`; the assistant "
                                  "will try to open it again.")
        silent_for = time.monotonic() - self._last_callback
        if self._queue.empty() and silent_for > self.stall_timeout:
            raise MicrophoneError(f"the microphone {label} has delivered no audio for {silent_for:.0f} s "
                                  "(unplugged or stuck). Check it, then `assistant devices`.")

    def blocks(self, stop: threading.Event | None = None) -> Iterator[np.ndarray]:
        """Blocks until `stop` is set (or for ever)."""
        while stop is None or not stop.is_set():
            block = self.read_block(timeout=0.1)
            if block is not None:
                yield block

    def utterances(self, segmenter: Segmenter, max_wait: float | None = None,
                   stop: threading.Event | None = None,
                   on_settled: Callable[[np.ndarray], None] | None = None) -> Iterator[Utterance]:
        """Utterances as the segmenter finds them in the live audio.

        Ends when `stop` is set, or after `max_wait` seconds with no speech in progress (time spent
        paused does not count). The segmenter is reset whenever the microphone is resumed.
        `on_settled` gets the audio of an utterance that may be about to end (Segmenter.take_settled),
        so recognition can start before the endpoint silence has run out."""
        if segmenter.config.rate != self.rate:
            raise ValueError(f"the segmenter works at {segmenter.config.rate} Hz, the microphone at {self.rate}")
        epoch = self._gate_epoch
        idle_since = time.monotonic()
        while stop is None or not stop.is_set():
            block = self.read_block(timeout=0.1)
            now = time.monotonic()
            if epoch != self._gate_epoch or self._paused:
                epoch = self._gate_epoch
                segmenter.reset()
                idle_since = now
                continue
            if block is not None:
                for utterance in segmenter.feed(block):
                    yield utterance
                    idle_since = now = time.monotonic()
                if on_settled is not None and (settled := segmenter.take_settled()) is not None:
                    on_settled(settled)
            if segmenter.in_speech:
                idle_since = now
            elif max_wait is not None and now - idle_since >= max_wait:
                return

    def record_utterance(self, segmenter: Segmenter | None = None,
                         max_wait: float | None = None) -> Utterance | None:
        """The next utterance, or None if nobody started speaking within `max_wait` seconds."""
        return next(self.utterances(segmenter or Segmenter(rate=self.rate), max_wait=max_wait), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
