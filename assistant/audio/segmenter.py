"""End-of-speech segmentation: int16 audio in, whole utterances out (pure: numpy only, no device).

Usage::

    seg = Segmenter(SegmenterConfig(rate=16000, end_silence=1.0, max_utterance=15.0))
    for block in blocks:                 # any block length, int16 mono
        for utt in seg.feed(block):      # Utterance(audio, rate, start, end, truncated)
            recognize(utt.audio)
    last = seg.flush()                   # at end of input: the utterance in progress, if it is speech

How it decides (20 ms frames, energy in dBFS after removing DC):
- The noise floor is a low percentile (5 %) of the frame energies over the last `noise_window`
  seconds: it drops at once when the room gets quieter and rises within a few seconds when it gets
  louder (a fan is switched on); the short gaps between words keep it at the background level.
- A frame is voiced when it is `start_db` above the floor (and above `min_level_db`); speech continues
  while frames stay `continue_db` above it. An utterance ends after `end_silence` seconds without voice
  (generous by default: people with dysarthria or fatigue speak slowly, with long pauses), or is cut at
  `max_utterance` seconds (``truncated=True``; speech that goes on starts the next utterance).
- Clicks and knocks are dropped: an utterance needs `min_speech` seconds of voiced frames, counted
  against the noise floor as it stands at the end (so the onset of a steady noise is not speech).
- `pre_roll` seconds before the first voiced frame and up to `post_roll` seconds after the last one are
  kept, so the first consonant is not lost and recognizers get a little silence at the edges.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

_FLOOR_DB = -100.0  # energy of digital silence (keeps log10 finite)
MIN_SETTLE_SECONDS = 0.2  # take_settled() waits at least this long: not every gap between words is an end


@dataclass
class SegmenterConfig:
    rate: int = 16000
    end_silence: float = 1.0  # seconds without voice that end an utterance
    max_utterance: float = 15.0  # seconds; longer speech is cut (truncated=True)
    min_speech: float = 0.15  # seconds of voiced frames an utterance needs (shorter: a click, dropped)
    pre_roll: float = 0.3  # seconds kept before the first voiced frame
    post_roll: float = 0.3  # at most this much trailing silence kept after the last voiced frame
    start_db: float = 10.0  # a frame this far above the noise floor is voiced
    continue_db: float = 6.0  # ... and inside an utterance, this far keeps it going
    min_level_db: float = -60.0  # dBFS: quieter frames are never speech, however quiet the room
    noise_window: float = 2.0  # seconds of history for the noise floor
    frame_ms: int = 20

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.frame_ms <= 0:
            raise ValueError("rate and frame_ms must be positive")
        if self.end_silence <= 0 or self.max_utterance <= 0:
            raise ValueError("end_silence and max_utterance must be positive")
        if self.continue_db > self.start_db:
            raise ValueError("continue_db must not exceed start_db")


@dataclass
class Utterance:
    audio: np.ndarray  # int16 mono: pre-roll + speech + up to post_roll of trailing silence
    rate: int
    start: float  # seconds from the start of the stream to the first voiced frame
    end: float  # ... to the end of the last voiced frame
    truncated: bool = False  # cut at max_utterance rather than ended by silence

    @property
    def duration(self) -> float:
        """Length of the audio in seconds (including pre-roll and post-roll)."""
        return len(self.audio) / self.rate


@dataclass
class _Candidate:
    start_frame: int  # index of the first voiced frame
    start_floor: float  # noise floor (dBFS) when it began
    head: list[np.ndarray]  # pre-roll frames
    frames: list[np.ndarray] = field(default_factory=list)  # from the first voiced frame on
    energies: list[float] = field(default_factory=list)  # dBFS of each of `frames`
    last_voiced: int = 0  # frame index of the last voiced frame
    settled_at: int = -1  # last_voiced when take_settled() last gave this candidate's audio


class Segmenter:
    """Feed int16 mono blocks with `feed`; get finished `Utterance`s back. Not thread-safe."""

    def __init__(self, config: SegmenterConfig | None = None, **overrides: float) -> None:
        base = config or SegmenterConfig()
        self.config = SegmenterConfig(**{**base.__dict__, **overrides}) if overrides else base
        c = self.config
        self.frame_len = max(1, c.rate * c.frame_ms // 1000)
        self._frame_s = self.frame_len / c.rate
        self._end_frames = max(1, round(c.end_silence / self._frame_s))
        self._max_frames = max(1, round(c.max_utterance / self._frame_s))
        self._min_voiced = max(1, round(c.min_speech / self._frame_s))
        self._post_frames = round(c.post_roll / self._frame_s)
        self._settle_frames = round(MIN_SETTLE_SECONDS / self._frame_s)
        self._window_frames = max(5, round(c.noise_window / self._frame_s))
        self._pre_roll = deque(maxlen=max(0, round(c.pre_roll / self._frame_s)))
        self.reset()

    # ----- public ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything but the configuration (e.g. after the microphone was gated)."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._frame_index = 0
        self._history_db: deque[float] = deque(maxlen=self._window_frames)
        self._pre_roll.clear()
        self._current: _Candidate | None = None

    @property
    def in_speech(self) -> bool:
        """True while an utterance (or a candidate that may turn out to be one) is in progress."""
        return self._current is not None

    @property
    def noise_floor_db(self) -> float:
        """The current noise floor estimate in dBFS."""
        if not self._history_db:
            return _FLOOR_DB
        # A low percentile rather than the minimum: one dropped (all-zero) frame must not drag it down.
        history = np.fromiter(self._history_db, dtype=np.float64, count=len(self._history_db))
        k = len(history) // 20
        return float(np.partition(history, k)[k])

    def take_settled(self) -> np.ndarray | None:
        """The audio the utterance in progress will have if no more speech comes, once, as soon as it is
        settled: `post_roll` seconds of silence have followed the last voiced frame, so further silence
        adds nothing to it. None otherwise (and on later calls, until speech resumes and settles again).

        This lets a recognizer start on the utterance while the rest of the endpoint silence runs out;
        whether it then ends (and is kept, see _finish) is for `feed` to say."""
        current = self._current
        if current is None or current.last_voiced == current.settled_at:
            return None
        if self._frame_index - 1 - current.last_voiced < max(self._post_frames, self._settle_frames):
            return None
        current.settled_at = current.last_voiced
        keep_frames = current.last_voiced - current.start_frame + 1 + self._post_frames
        return np.concatenate(current.head + current.frames[:keep_frames])

    @property
    def position(self) -> float:
        """Seconds of audio consumed so far (whole frames)."""
        return self._frame_index * self._frame_s

    def feed(self, samples: np.ndarray) -> list[Utterance]:
        """Consume a block of int16 mono samples (any length); return the utterances it completed."""
        data = np.asarray(samples)
        if data.ndim == 2:
            data = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
        if data.dtype != np.int16:
            data = np.clip(np.round(data), -32768, 32767).astype(np.int16)
        buffer = np.concatenate([self._pending, data]) if len(self._pending) else data
        n = len(buffer) // self.frame_len
        self._pending = buffer[n * self.frame_len:].copy()
        done: list[Utterance] = []
        for i in range(n):
            utterance = self._frame(buffer[i * self.frame_len:(i + 1) * self.frame_len])
            if utterance is not None:
                done.append(utterance)
        return done

    def flush(self) -> Utterance | None:
        """End of input: return the utterance in progress if it qualifies as speech; then reset."""
        utterance = self._finish(truncated=False) if self._current is not None else None
        self.reset()
        return utterance

    # ----- per frame -------------------------------------------------------------------------------------
    def _frame(self, frame: np.ndarray) -> Utterance | None:
        c = self.config
        x = frame.astype(np.float64)
        power = float(np.mean((x - x.mean()) ** 2)) / (32768.0**2)
        energy = 10 * np.log10(power) if power > 1e-10 else _FLOOR_DB
        self._history_db.append(energy)
        floor = self.noise_floor_db
        index = self._frame_index
        self._frame_index += 1

        voiced = energy >= max(floor + c.start_db, c.min_level_db)
        result: Utterance | None = None
        current = self._current
        if current is None:
            if voiced:
                current = self._current = _Candidate(start_frame=index, start_floor=floor, head=list(self._pre_roll),
                                                     last_voiced=index)
                self._pre_roll.clear()
                current.frames.append(frame)
                current.energies.append(energy)
            else:
                self._pre_roll.append(frame)
            return None

        current.frames.append(frame)
        current.energies.append(energy)
        if energy >= max(floor + c.continue_db, c.min_level_db):
            current.last_voiced = index
        length = index + 1 - current.start_frame
        if index - current.last_voiced >= self._end_frames:
            result = self._finish(truncated=False)
        elif length >= self._max_frames:
            result = self._finish(truncated=True)
        return result

    def _finish(self, truncated: bool) -> Utterance | None:
        c = self.config
        current = self._current
        assert current is not None
        self._current = None
        # Validate against the floor as it stands now: a steady noise that began the candidate has been
        # absorbed into the floor by now, and a click has too few loud frames. A cut (truncated) utterance
        # is still going on, so its recent frames are speech, which raises the floor: use the floor from
        # before it began if that is lower.
        floor = self.noise_floor_db
        if truncated:
            floor = min(floor, current.start_floor)
        threshold = max(floor + c.start_db, c.min_level_db)
        voiced_frames = sum(1 for e in current.energies if e >= threshold)
        if voiced_frames < self._min_voiced:
            self._refill_pre_roll(current)
            return None
        keep_frames = current.last_voiced - current.start_frame + 1 + self._post_frames
        audio = np.concatenate(current.head + current.frames[:keep_frames])
        if not truncated:
            self._refill_pre_roll(current)
        return Utterance(audio=audio, rate=c.rate, start=current.start_frame * self._frame_s,
                         end=(current.last_voiced + 1) * self._frame_s, truncated=truncated)

    def _refill_pre_roll(self, candidate: _Candidate) -> None:
        # The trailing frames of a finished or dropped candidate are the pre-roll of whatever comes next.
        self._pre_roll.clear()
        self._pre_roll.extend((candidate.head + candidate.frames)[-self._pre_roll.maxlen:]
                              if self._pre_roll.maxlen else [])
