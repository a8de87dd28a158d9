"""Where a question starts and ends: int16 audio in, whole utterances out (pure: numpy and the VAD model).

Usage::

    seg = Segmenter(SegmenterConfig(end_silence=1.0, max_pause=2.5, max_utterance=15.0))
    for block in blocks:                 # any block length, int16 mono at 16 kHz
        for utt in seg.feed(block):      # Utterance(audio, rate, start, end, truncated, above_room_db)
            recognize(utt.audio)
    last = seg.flush()                   # at end of input: the utterance in progress, if it is speech

How it decides (32 ms frames, the frame of the Silero VAD, see vad.py):
- Speech, not sound: a frame is speech when the VAD's probability is at least `threshold`; inside an
  utterance speech goes on while it stays at least `neg_threshold`. Fans, noise, clatter and music do not
  reach it however loud they are (bench/listening.py), so they neither start an utterance nor hold one open.
- Speech in the background (the TV, someone else reading aloud) is speech too. It is told apart by level:
  a speech frame must also be `above_room_db` louder than the room's speech: the `room_percentile` of the
  energies of the speech frames among the last `room_window` seconds outside the person's utterances, once
  they are at least ROOM_SPEECH_FRACTION of them (a TV, not the odd twitch of the VAD on a clatter). A room
  without speech in it (a fan, however loud or changing) sets no level at all. reset() keeps the room.
- An utterance needs `min_speech` seconds of speech frames (shorter: a cough or a word from the TV, dropped;
  its sound then counts as the room's). It ends after `end_silence` seconds without speech, or is cut at
  `max_utterance` seconds (``truncated=True``). Speech that goes on that long counts as the room's too:
  a TV switched on (or on when listening starts) gives one cut utterance, then it is the room.
  The cost: a person who talks past max_utterance must then be louder than themselves, for `room_window`.
  A louder voice taking over does not end an utterance: it split one person's questions (docs/decisions.md).
- Halting speech: people with dysarthria or fatigue pause mid-sentence ("I have trouble with my ...
  buttons"). An optional `end_check(audio)` is asked about the audio as it stands once a pause has settled
  (the very array take_settled gives): True = the question is complete, end it now; False = it is not,
  wait up to `max_pause` seconds of silence for more; None = cannot tell, `end_silence` applies; NOT_YET =
  still working on it (a decode in another thread): it is asked again each frame of the pause, and the
  pause is not ended by `end_silence` while the verdict is outstanding (only by `max_pause`), so a slow
  decode on a busy machine does not cut a halting sentence in two.
- `pre_roll` seconds before the first speech frame and up to `post_roll` seconds after the last one are
  kept, so the first consonant is not lost and recognizers get a little silence at the edges.
- The audio given out (utterances and settled audio alike) is brought to a speaking level (gain.py), so a
  question said 25 dB quieter reaches the recognizer as loud as any other; the gain is measured on the
  speech frames only and is applied after the decision, so it cannot turn noise into a false start.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.gain import speech_gain
from assistant.audio.vad import FRAME, RATE, SileroVad

_FLOOR_DB = -100.0  # energy of digital silence (keeps log10 finite)
ROOM_SPEECH_FRACTION = 0.1
# The VAD's state drifts in steady noise until it misses quiet questions, so it starts afresh this often
# between utterances; the twitch of a fresh state lasts one frame, far below min_speech.
VAD_RESET_SECONDS = 3.0
MIN_SETTLE_SECONDS = 0.2  # the settled audio waits at least this long: not every gap between words is an end


class _NotYet:
    def __repr__(self) -> str:
        return "NOT_YET"


NOT_YET = _NotYet()  # an end check's answer while its verdict is still being worked out
EndCheck = Callable[[np.ndarray], "bool | None | _NotYet"]


@dataclass
class SegmenterConfig:
    rate: int = RATE  # the VAD's rate: the only one accepted
    end_silence: float = 1.0  # seconds without speech that end an utterance (no end_check, or it cannot tell)
    max_pause: float = 2.5  # seconds of pause waited for when end_check says the question is not complete
    max_utterance: float = 15.0  # seconds; longer speech is cut (truncated=True)
    min_speech: float = 0.15  # seconds of speech frames an utterance needs
    pre_roll: float = 0.6  # seconds kept before the first speech frame (the VAD is late on a breathy 'wh' in noise)
    post_roll: float = 0.3  # at most this much trailing silence kept after the last speech frame
    threshold: float = 0.5  # VAD probability that starts speech (Silero's own default)
    neg_threshold: float = 0.35  # ... and that keeps it going inside an utterance
    above_room_db: float = 6.0  # a speech frame is this much louder than the room (not the TV behind)
    room_percentile: float = 90.0  # the room's level: this percentile of its recent frame energies
    room_window: float = 10.0  # seconds of the room's sound remembered

    def __post_init__(self) -> None:
        if self.rate != RATE:
            raise ValueError(f"the voice activity detector works at {RATE} Hz, not {self.rate} Hz")
        if self.end_silence <= 0 or self.max_utterance <= 0 or self.max_pause <= 0:
            raise ValueError("end_silence, max_pause and max_utterance must be positive")
        if not 0 < self.neg_threshold <= self.threshold < 1:
            raise ValueError("need 0 < neg_threshold <= threshold < 1")
        if not 0 <= self.room_percentile <= 100:
            raise ValueError("room_percentile must be between 0 and 100")


@dataclass
class Utterance:
    audio: np.ndarray  # int16 mono: pre-roll + speech + up to post_roll of trailing silence, gain applied
    rate: int
    start: float  # seconds from the start of the stream to the first speech frame
    end: float  # ... to the end of the last speech frame
    truncated: bool = False  # cut at max_utterance rather than ended by silence
    # How loud its voiced frames are (their median) against the room's speech level, in dB: inf where the
    # room has no speech in it, -inf where it was cut at max_utterance (a TV switched on). A person talking
    # over a TV is near it or above it; the TV's own stretches are far below it, the room's level being the
    # TV's loud frames (figures in docs/decisions.md).
    above_room_db: float = math.inf

    @property
    def duration(self) -> float:
        """Length of the audio in seconds (including pre-roll and post-roll)."""
        return len(self.audio) / self.rate


@dataclass
class _Candidate:
    start_frame: int  # index of the first speech frame
    room_db: float  # the room's level when it began: the reference for its frames
    head: list[np.ndarray]  # pre-roll frames
    frames: list[np.ndarray] = field(default_factory=list)  # from the first speech frame on
    energies: list[float] = field(default_factory=list)  # dBFS of each of `frames`
    voice: list[bool] = field(default_factory=list)  # whether the VAD heard speech in each, however quiet
    speech: list[bool] = field(default_factory=list)  # whether each of `frames` was speech (start rule)
    last_voiced: int = 0  # frame index of the last frame that kept the utterance going
    settled_at: int = -1  # last_voiced when the audio was last settled (offered, end_check asked)
    settled_audio: np.ndarray | None = None  # the audio as it was settled (the same array every time)
    verdict_pending: bool = False  # the end check answered NOT_YET for this pause: ask again next frame
    taken_at: int = -1  # last_voiced when take_settled() last gave this candidate's audio
    end_after: int = 0  # frames of pause that end it, for the pause after last_voiced


class Segmenter:
    """Feed int16 mono blocks with `feed`; get finished `Utterance`s back. Not thread-safe."""

    def __init__(self, config: SegmenterConfig | None = None, end_check: EndCheck | None = None,
                 **overrides: float) -> None:
        base = config or SegmenterConfig()
        self.config = SegmenterConfig(**{**base.__dict__, **overrides}) if overrides else base
        self.end_check = end_check
        c = self.config
        self.frame_len = FRAME
        self._frame_s = FRAME / c.rate
        self._end_frames = max(1, round(c.end_silence / self._frame_s))
        # An incomplete question is never ended sooner than one nobody judged.
        self._pause_frames = max(self._end_frames, round(c.max_pause / self._frame_s))
        self._max_frames = max(1, round(c.max_utterance / self._frame_s))
        self._min_speech = max(1, round(c.min_speech / self._frame_s))
        self._post_frames = round(c.post_roll / self._frame_s)
        self._settle_frames = max(self._post_frames, round(MIN_SETTLE_SECONDS / self._frame_s))
        self._pre_roll: deque[np.ndarray] = deque(maxlen=max(0, round(c.pre_roll / self._frame_s)))
        self._vad = SileroVad()
        self._vad_reset_frames = round(VAD_RESET_SECONDS / self._frame_s)
        room_frames = max(5, round(c.room_window / self._frame_s))
        self._room_db: deque[float] = deque(maxlen=room_frames)  # energy of each frame the room made
        self._room_voice: deque[bool] = deque(maxlen=room_frames)  # ... and whether the VAD heard speech in it
        self.reset()

    # ----- public ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the stream (e.g. after the microphone was gated), but not the room's level: the TV is still
        on, and a fresh estimate would take the first seconds of it for the person's speech."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._frame_index = 0
        self._pre_roll.clear()
        self._current: _Candidate | None = None
        self._vad.reset()
        self._vad_frames = 0  # frames the VAD has heard since it was last reset

    @property
    def in_speech(self) -> bool:
        """True while an utterance (or a candidate that may turn out to be one) is in progress."""
        return self._current is not None

    @property
    def room_level_db(self) -> float:
        """The room's level (dBFS) that speech must rise above."""
        voice = np.fromiter(self._room_voice, bool, count=len(self._room_voice))
        if len(voice) == 0 or voice.mean() < ROOM_SPEECH_FRACTION:
            return _FLOOR_DB
        energies = np.fromiter(self._room_db, np.float64, count=len(self._room_db))
        return float(np.percentile(energies[voice], self.config.room_percentile))

    def _hear_room(self, energies: list[float], voice: list[bool]) -> None:
        self._room_db.extend(energies)
        self._room_voice.extend(voice)

    @property
    def position(self) -> float:
        """Seconds of audio consumed so far (whole frames)."""
        return self._frame_index * self._frame_s

    def take_settled(self) -> np.ndarray | None:
        """The audio the utterance in progress will have if no more speech comes, once, as soon as it is
        settled: `post_roll` seconds of silence have followed the last speech frame, so further silence
        adds nothing to it. None otherwise (and on later calls, until speech resumes and settles again).

        This lets a recognizer start on the utterance while the rest of the endpoint silence runs out;
        whether it then ends (and is kept) is for `feed` to say."""
        current = self._current
        if current is None or current.last_voiced == current.taken_at or current.settled_at != current.last_voiced:
            return None
        current.taken_at = current.last_voiced
        return current.settled_audio

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
        if self._current is None and self._vad_frames >= self._vad_reset_frames:
            self._vad.reset()
            self._vad_frames = 0
        self._vad_frames += 1
        probability = self._vad(frame)
        x = frame.astype(np.float64)
        power = float(np.mean((x - x.mean()) ** 2)) / (32768.0**2)
        energy = 10 * np.log10(power) if power > 1e-10 else _FLOOR_DB
        index = self._frame_index
        self._frame_index += 1

        current = self._current
        if current is None:
            room = self.room_level_db
            if probability >= c.threshold and energy >= room + c.above_room_db:
                self._current = _Candidate(start_frame=index, room_db=room, head=list(self._pre_roll),
                                           frames=[frame], energies=[energy], voice=[True], speech=[True],
                                           last_voiced=index,
                                           end_after=self._end_frames)
                self._pre_roll.clear()
            else:
                self._pre_roll.append(frame)
                self._hear_room([energy], [probability >= c.neg_threshold])
            return None

        loud = energy >= current.room_db + c.above_room_db
        current.frames.append(frame)
        current.energies.append(energy)
        current.voice.append(probability >= c.neg_threshold)
        current.speech.append(loud and probability >= c.threshold)
        if loud and probability >= c.neg_threshold:
            current.last_voiced = index
            current.end_after = self._end_frames
            current.verdict_pending = False  # a verdict on the words so far no longer applies
        pause = index - current.last_voiced
        if pause >= self._settle_frames and current.settled_at != current.last_voiced:
            current.settled_at = current.last_voiced
            current.settled_audio = self._audio(current)
            current.verdict_pending = self.end_check is not None and sum(current.speech) >= self._min_speech
        if current.verdict_pending and current.settled_audio is not None:
            complete = self.end_check(current.settled_audio) if self.end_check else None
            current.verdict_pending = complete is NOT_YET
            if complete is True:
                return self._finish(truncated=False)
            if complete is False or complete is NOT_YET:
                current.end_after = self._pause_frames
            else:
                current.end_after = self._end_frames
        if pause >= current.end_after:
            return self._finish(truncated=False)
        if index + 1 - current.start_frame >= self._max_frames:
            return self._finish(truncated=True)
        return None

    def _audio(self, current: _Candidate) -> np.ndarray:
        keep = current.last_voiced - current.start_frame + 1 + self._post_frames
        audio = np.concatenate(current.head + current.frames[:keep])
        speech = np.concatenate([np.zeros(len(current.head) * FRAME, dtype=bool),
                                 np.repeat(np.array(current.speech[:keep], dtype=bool), FRAME)])
        return speech_gain(audio, speech)

    def _finish(self, truncated: bool) -> Utterance | None:
        current = self._current
        assert current is not None
        self._current = None
        if sum(current.speech) < self._min_speech:
            # Not the person's speech after all (a cough, a word from the TV): it was the room's sound.
            self._hear_room(current.energies, current.voice)
            self._refill_pre_roll(current)
            return None
        settled = current.settled_audio is not None and current.settled_at == current.last_voiced
        audio = current.settled_audio if settled else self._audio(current)  # the array speculation decoded
        if truncated:
            # Speech that goes on past max_utterance is taken for the room's (a TV switched on): learned, or
            # every later sound of it would be taken for the person. (A person who talks that long is heard
            # again when louder than that, or once room_window has passed.)
            self._hear_room(current.energies, current.voice)
        if not truncated:
            # The pause after the last word was the room's sound again.
            after = current.last_voiced - current.start_frame + 1 + self._post_frames
            self._hear_room(current.energies[after:], current.voice[after:])
            self._refill_pre_roll(current)
        return Utterance(audio=audio, rate=self.config.rate, start=current.start_frame * self._frame_s,
                         end=(current.last_voiced + 1) * self._frame_s, truncated=truncated,
                         # cut at max_utterance: a TV switched on, not somebody near (see above)
                         above_room_db=-math.inf if truncated else self._above_room(current))

    @staticmethod
    def _above_room(current: _Candidate) -> float:
        if current.room_db <= _FLOOR_DB:
            return math.inf  # no speech in the room: nothing to tell the person from
        spoken = current.last_voiced - current.start_frame + 1
        voiced = [e for e, v in zip(current.energies[:spoken], current.voice[:spoken], strict=True) if v]
        return float(np.median(voiced)) - current.room_db if voiced else -math.inf

    def _refill_pre_roll(self, candidate: _Candidate) -> None:
        # The trailing frames of a finished or dropped candidate are the pre-roll of whatever comes next.
        self._pre_roll.clear()
        self._pre_roll.extend((candidate.head + candidate.frames)[-self._pre_roll.maxlen:]
                              if self._pre_roll.maxlen else [])
