"""The segmenter: where a question starts and ends, decided by speech (the real Silero VAD), not by sound.

Real espeak-ng speech, real room sounds (tests/room_sounds.py); nothing here is mocked."""

from __future__ import annotations

import math

import numpy as np
import pytest
import room_sounds
from audio_samples import RATE, click, espeak, mix, silence

from assistant.audio import gain
from assistant.audio.segmenter import NOT_YET, Segmenter, SegmenterConfig, Utterance
from assistant.recognition.reading import ADDRESSED_ABOVE_ROOM_DB


def run(signal: np.ndarray, block: int = 1600, segmenter: Segmenter | None = None, **overrides: float
        ) -> list[Utterance]:
    seg = segmenter or Segmenter(**overrides)
    found: list[Utterance] = []
    for i in range(0, len(signal), block):
        found.extend(seg.feed(signal[i:i + block]))
    last = seg.flush()
    return found + ([last] if last else [])


def concat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


def at_level(x: np.ndarray, level_db: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    return (x * (32768 * 10 ** (level_db / 20) / rms)).clip(-32768, 32767).astype(np.int16)


def over(signal: np.ndarray, background: np.ndarray) -> np.ndarray:
    return mix(signal, background[: len(signal)])


@pytest.fixture(scope="module")
def words() -> list[np.ndarray]:
    return [at_level(espeak(w), -22) for w in ("what is", "occupational", "therapy")]


@pytest.fixture(scope="module")
def question(words: list[np.ndarray]) -> np.ndarray:
    a, b, c = words
    return concat(a, silence(0.15), b, silence(0.1), c)


@pytest.fixture(scope="module")
def reading() -> np.ndarray:
    return espeak("The weather tomorrow will be cloudy with a chance of rain in the afternoon, and the wind "
                  "will pick up in the evening. The town council met on Tuesday to discuss the new library.",
                  voice="en-gb")


# ----- where it starts and ends -------------------------------------------------------------------------
def test_a_question_with_short_pauses_is_one_utterance(words: list[np.ndarray]) -> None:
    a, b, c = words
    speech = concat(silence(2), a, silence(0.7), b, silence(0.6), c, silence(2.5))
    begin, end = 2.0, 2.0 + (len(a) + len(b) + len(c)) / RATE + 1.3
    (utt,) = run(over(speech, room_sounds.pink(len(speech) / RATE, -60, seed=1)))
    assert begin - 0.05 <= utt.start <= begin + 0.1
    assert end - 0.2 <= utt.end <= end + 0.2  # the VAD's own hangover after the last sound
    assert not utt.truncated


def test_the_end_of_silence_that_ends_an_utterance_is_configurable(words: list[np.ndarray]) -> None:
    a, _, c = words
    signal = concat(silence(2), a, silence(1.3), c, silence(2))
    assert len(run(signal)) == 2  # 1.3 s pause > 1.0 s default
    (joined,) = run(signal, end_silence=1.7)  # a slower speaker's setting keeps it together
    assert joined.end - joined.start == pytest.approx((len(a) + len(c)) / RATE + 1.3, abs=0.2)


@pytest.mark.parametrize("name", ["pink", "wandering", "fan", "kitchen", "music"])
def test_loud_sounds_that_are_not_speech_start_nothing(name: str) -> None:
    # 14 dB louder than the question in the next test: loudness alone must not start an utterance.
    background = room_sounds.BACKGROUNDS[name](30, -30, seed=2)
    assert run(concat(silence(2), background)) == []


@pytest.mark.parametrize("name", ["fan", "kitchen", "music", "wandering"])
def test_noise_that_goes_on_does_not_hold_the_question_open(name: str, question: np.ndarray) -> None:
    # The sound starts during the question (a fan switched on) and goes on after it: the question still
    # ends `end_silence` after its last word.
    speech = concat(silence(2), question, silence(4))
    sound = concat(silence(2.5), room_sounds.BACKGROUNDS[name](len(speech) / RATE - 2.5, -38, seed=3))
    (utt,) = run(over(speech, sound))
    speech_end = 2 + len(question) / RATE
    assert utt.start == pytest.approx(2.0, abs=0.1)
    assert speech_end - 0.25 <= utt.end <= speech_end + 0.25


def test_another_voice_ten_db_below_is_learned_as_the_room(question: np.ndarray, reading: np.ndarray) -> None:
    # The TV comes on in a quiet room: louder than the room was, it is taken for speech until max_utterance
    # (one utterance: the wake phrase and the recognizer's confidence are the guards there), and from then on
    # it is the room's sound.
    behind = concat(silence(3), room_sounds.voice_over(reading, 57, -36, seed=5))
    speech = concat(silence(40), at_level(question, -26), silence(6))
    found = run(over(speech, behind))
    assert found[0].start == pytest.approx(3, abs=0.3) and found[0].truncated
    (utt,) = found[1:]
    assert utt.start == pytest.approx(40, abs=0.15) and utt.end < 40 + len(question) / RATE + 0.3
    # How loud each is against the room's speech: the person near it or above it, the TV's cut stretch not
    # at all (hearing.addressed_reading takes a plausible wake phrase only from the first); a quiet room
    # has no speech to be measured against.
    assert found[0].above_room_db == -math.inf
    assert utt.above_room_db >= ADDRESSED_ABOVE_ROOM_DB, utt.above_room_db
    (alone,) = run(concat(silence(2), at_level(question, -26), silence(2)))
    assert alone.above_room_db == math.inf


def test_speech_right_at_the_start_is_heard(question: np.ndarray) -> None:
    (utt,) = run(concat(silence(0.1), question, silence(2)))
    assert utt.start == pytest.approx(0.1, abs=0.1)
    seg = Segmenter()
    seg.feed(silence(2))
    seg.reset()  # the microphone was gated: the room is the same room
    assert len(run(concat(question, silence(2)), segmenter=seg)) == 1


def test_clicks_and_knocks_are_not_utterances() -> None:
    parts = [silence(2)]
    for _ in range(6):
        parts += [click(), silence(0.4)]
    assert run(concat(*parts, silence(2))) == []


def test_long_speech_is_cut_at_max_utterance(question: np.ndarray) -> None:
    talk = concat(*[concat(question, silence(0.3)) for _ in range(3)])
    louder = at_level(question, -12)
    signal = concat(silence(2), talk, silence(2), louder, silence(2))
    first, *rest = run(signal, max_utterance=3.0)
    assert first.truncated and first.end - first.start == pytest.approx(3.0, abs=0.05)
    # Speech that goes on that long is taken for the room's (a TV); a person louder than it is still heard.
    assert rest and rest[-1].start == pytest.approx(2 + len(talk) / RATE + 2, abs=0.15)


def test_pre_roll_and_post_roll_are_kept(question: np.ndarray) -> None:
    signal = concat(silence(2), question, silence(2))
    (utt,) = run(signal, pre_roll=0.3, post_roll=0.3)
    assert np.abs(utt.audio[: int(0.2 * RATE)]).max() == 0  # the pre-roll is the silence before it
    assert np.abs(utt.audio[-int(0.2 * RATE):]).max() == 0  # post-roll: trailing silence, trimmed
    assert utt.duration == pytest.approx(0.3 + (utt.end - utt.start) + 0.3, abs=0.04)
    assert utt.start - 0.3 <= 2.0 - 0.2, "pre-roll missing: a soft onset would be cut"


def test_block_size_does_not_change_the_result(words: list[np.ndarray]) -> None:
    a, b, c = words
    signal = over(concat(silence(2), a, silence(0.7), b, silence(1.5), c, silence(2)),
                  room_sounds.fan(10, -50, seed=5))
    reference = [(u.start, u.end, len(u.audio)) for u in run(signal, block=16000)]
    assert len(reference) == 2
    for block in (1, 37, 640, 4096):
        assert [(u.start, u.end, len(u.audio)) for u in run(signal, block=block)] == reference


def test_reset_drops_the_utterance_in_progress(question: np.ndarray) -> None:
    seg = Segmenter()
    seg.feed(concat(silence(2), question))
    assert seg.in_speech
    seg.reset()
    assert not seg.in_speech and seg.feed(silence(2)) == [] and seg.flush() is None


def test_flush_returns_speech_cut_off_by_the_end_of_input(question: np.ndarray) -> None:
    seg = Segmenter()
    assert seg.feed(concat(silence(2), question)) == []
    utt = seg.flush()
    assert utt is not None and utt.start == pytest.approx(2.0, abs=0.1)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="16000 Hz, not 8000 Hz"):
        SegmenterConfig(rate=8000)
    with pytest.raises(ValueError):
        SegmenterConfig(end_silence=0)
    with pytest.raises(ValueError):
        SegmenterConfig(threshold=0.3, neg_threshold=0.5)


# ----- quiet speech: heard, and given to the recognizer at a speaking level -----------------------------
@pytest.mark.parametrize("background", [None, "pink", "fan"])
def test_a_question_25_db_quieter_is_heard_and_brought_up(question: np.ndarray, background: str | None) -> None:
    quiet = at_level(question, -22 - 25)
    signal = concat(silence(2), quiet, silence(2.5))
    if background:
        signal = over(signal, room_sounds.BACKGROUNDS[background](10, -62, seed=6))
    (utt,) = run(signal)
    assert utt.start == pytest.approx(2.0, abs=0.15)
    speech = utt.audio[int(0.3 * RATE): -int(0.3 * RATE)].astype(np.float64)
    level = 20 * np.log10(np.sqrt(np.mean(speech**2)) / 32768)
    assert level > -22 - 25 + 15, "the recognizer gets the question at a speaking level"
    assert np.abs(utt.audio).max() < 32767, "without clipping"


def test_a_quiet_question_is_heard_after_a_long_stretch_of_noise(question: np.ndarray) -> None:
    # The VAD's state drifts in steady noise (VAD_RESET_SECONDS): half a minute of it must not deafen it.
    signal = concat(silence(30), at_level(question, -22 - 25), silence(2.5))
    (utt,) = run(over(signal, room_sounds.pink(40, -62, seed=8)))
    assert utt.start == pytest.approx(30, abs=0.15)
    assert utt.end == pytest.approx(30 + len(question) / RATE, abs=0.3)


def test_speech_at_a_normal_level_is_given_as_it_was(question: np.ndarray) -> None:
    signal = concat(silence(2), at_level(question, -18), silence(2))
    (utt,) = run(signal, pre_roll=0.32)  # ten whole frames
    start = round((utt.start - 0.32) * RATE)
    assert np.array_equal(utt.audio, signal[start:start + len(utt.audio)])
    assert gain.TARGET_DB < -18


# ----- settled audio, and the end decided with the transcript --------------------------------------------
def feed_collecting_settled(signal: np.ndarray, block: int = 640, **overrides: float
                            ) -> tuple[list[Utterance], list[tuple[float, np.ndarray]]]:
    """Utterances, and each settled audio with the stream position at which it was offered."""
    seg = Segmenter(**overrides)
    found: list[Utterance] = []
    settled: list[tuple[float, np.ndarray]] = []
    for i in range(0, len(signal), block):
        found.extend(seg.feed(signal[i:i + block]))
        if (audio := seg.take_settled()) is not None:
            settled.append((seg.position, audio))
    return found, settled


def test_settled_audio_is_the_utterance_well_before_it_ends(question: np.ndarray) -> None:
    signal = concat(silence(2), at_level(question, -40), silence(2))  # quiet: the gain is the same too
    (utt,), settled = feed_collecting_settled(signal)
    assert len(settled) == 1, "offered once, not on every silent block"
    offered_at, audio = settled[0]
    assert np.array_equal(audio, utt.audio), "exactly the audio the finished utterance has"
    assert utt.end + 0.3 <= offered_at + 0.04 < utt.end + 0.5  # long before the 1 s endpoint


def test_speech_after_a_pause_is_settled_again_with_the_longer_audio(words: list[np.ndarray]) -> None:
    a, _, c = words
    signal = concat(silence(2), a, silence(0.7), c, silence(2))
    (utt,), settled = feed_collecting_settled(signal)
    assert len(settled) == 2
    assert len(settled[0][1]) < len(utt.audio)
    assert np.array_equal(settled[1][1], utt.audio)


def test_nothing_settles_during_speech_or_in_noise(question: np.ndarray) -> None:
    _, settled = feed_collecting_settled(room_sounds.fan(6, -40, seed=7))
    assert settled == []
    talk = concat(silence(2), *[concat(question, silence(0.1)) for _ in range(2)])
    _, settled = feed_collecting_settled(talk)  # still talking at the end
    assert settled == []


class Judge:
    """The end check: what the listening loop asks of the transcript. Here: complete once `enough` seconds
    of audio are there (the test knows where the words are), and it records what it was asked."""

    def __init__(self, enough: float | None) -> None:
        self.enough = enough
        self.asked: list[float] = []

    def __call__(self, audio: np.ndarray) -> bool | None:
        self.asked.append(len(audio) / RATE)
        return None if self.enough is None else len(audio) / RATE >= self.enough


@pytest.fixture(scope="module")
def halting() -> tuple[np.ndarray, float]:
    """ "I have trouble with my ... buttons", with a 1.5 s pause; and where the first part ends."""
    first, second = at_level(espeak("i have trouble with my"), -22), at_level(espeak("buttons"), -22)
    return concat(silence(2), first, silence(1.5), second, silence(3)), 2 + len(first) / RATE


def test_a_halting_sentence_is_cut_in_two_without_an_end_check(halting: tuple[np.ndarray, float]) -> None:
    signal, _ = halting
    assert len(run(signal)) == 2


def test_an_incomplete_question_waits_up_to_max_pause(halting: tuple[np.ndarray, float]) -> None:
    signal, first_end = halting
    judge = Judge(enough=first_end - 2 + 1.5 + 0.5)  # complete only with the word after the pause
    (utt,) = run(signal, segmenter=Segmenter(end_check=judge))
    assert utt.start == pytest.approx(2.0, abs=0.1) and utt.end > first_end + 1.5
    assert len(judge.asked) == 2, "asked once per pause"
    assert judge.asked[0] < judge.asked[1]
    # ... but not for longer than max_pause (the caregiver's limit)
    assert len(run(signal, segmenter=Segmenter(SegmenterConfig(max_pause=1.2), end_check=judge))) == 2


def test_a_complete_question_ends_at_once(question: np.ndarray) -> None:
    signal = concat(silence(2), question, silence(3))
    (plain,) = run(signal, block=640)
    seg = Segmenter(end_check=Judge(enough=0))
    ended_at = None
    for i in range(0, len(signal), 640):
        if seg.feed(signal[i:i + 640]):
            ended_at = seg.position
            break
    assert ended_at is not None
    assert ended_at - plain.end < 0.5, "ends once settled, without waiting out end_silence"


def test_an_end_check_that_cannot_tell_leaves_the_default(halting: tuple[np.ndarray, float]) -> None:
    signal, _ = halting
    undecided = run(signal, segmenter=Segmenter(end_check=Judge(enough=None)))
    assert [(u.start, u.end) for u in undecided] == [(u.start, u.end) for u in run(signal)]


class SlowJudge:
    """An end check whose verdict takes `frames` frames to come (a decode on another thread)."""

    def __init__(self, frames: int, verdict: bool | None) -> None:
        self.frames, self.verdict = frames, verdict
        self.audio: list[np.ndarray] = []

    def __call__(self, audio: np.ndarray):
        self.audio.append(audio)
        return NOT_YET if len(self.audio) <= self.frames else self.verdict


def test_a_late_verdict_is_waited_for_and_then_applies(halting: tuple[np.ndarray, float]) -> None:
    signal, _ = halting
    # Still working after end_silence has passed (40 frames = 1.3 s): the pause is not cut meanwhile.
    slow = SlowJudge(frames=40, verdict=False)
    (whole,) = run(signal, segmenter=Segmenter(end_check=slow))
    assert whole.end > 3.5, "one utterance: the words after the pause are in it"
    asked = [sum(a is b for b in slow.audio) for a in {id(a): a for a in slow.audio}.values()]
    assert max(asked) > 31, "the same settled array asked about each frame, past end_silence (31 frames)"
    # A late "complete" ends the question as soon as it comes.
    signal_one = concat(silence(2), at_level(espeak("what is occupational therapy"), -22), silence(3))
    seg = Segmenter(end_check=SlowJudge(frames=5, verdict=True))
    ended = [seg.position for i in range(0, len(signal_one), 640) if seg.feed(signal_one[i:i + 640])]
    (plain,) = run(signal_one)
    assert ended and ended[0] - plain.end < 0.6


def test_the_utterance_given_out_is_the_settled_array(question: np.ndarray) -> None:
    """Speculation decodes the settled array; the finished utterance is that array, not an equal copy."""
    seg = Segmenter()
    settled, done = None, []
    signal = concat(silence(2), question, silence(3))
    for i in range(0, len(signal), 640):
        done += seg.feed(signal[i:i + 640])
        if (taken := seg.take_settled()) is not None:
            settled = taken
    assert len(done) == 1 and done[0].audio is settled
