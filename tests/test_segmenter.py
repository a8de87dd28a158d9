"""The pure end-of-speech segmenter, on synthetic speech-like signals and real espeak-ng speech."""

from __future__ import annotations

import numpy as np
import pytest
from audio_samples import RATE, click, espeak, mix, noise, silence, syllables

from assistant.audio.segmenter import Segmenter, SegmenterConfig, Utterance


def run(signal: np.ndarray, block: int = 1600, **overrides: float) -> list[Utterance]:
    seg = Segmenter(**overrides)
    found: list[Utterance] = []
    for i in range(0, len(signal), block):
        found.extend(seg.feed(signal[i:i + block]))
    last = seg.flush()
    return found + ([last] if last else [])


def concat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


def with_noise(signal: np.ndarray, level_db: float, seed: int = 1) -> np.ndarray:
    return mix(signal, noise(len(signal) / RATE, level_db, seed=seed))


def test_halting_speech_with_short_pauses_is_one_utterance() -> None:
    # Three "words" separated by 0.7 s pauses: under the 1 s default, so one utterance.
    signal = with_noise(concat(silence(1), syllables(0.6), silence(0.7), syllables(0.8, seed=2),
                               silence(0.7), syllables(0.5, seed=3), silence(2)), -55)
    (utt,) = run(signal)
    assert utt.start == pytest.approx(1.0, abs=0.05)
    assert utt.end == pytest.approx(1 + 0.6 + 0.7 + 0.8 + 0.7 + 0.5, abs=0.05)
    assert not utt.truncated


def test_trailing_silence_is_configurable() -> None:
    signal = concat(silence(1), syllables(0.6), silence(1.3), syllables(0.6, seed=2), silence(2))
    assert len(run(signal)) == 2  # 1.3 s pause > 1.0 s default
    (joined,) = run(signal, end_silence=1.6)  # a slower speaker's setting keeps it together
    assert joined.end - joined.start == pytest.approx(2.5, abs=0.05)
    assert len(run(concat(silence(1), syllables(0.6), silence(0.7), syllables(0.6), silence(2)),
                   end_silence=0.5)) == 2


def test_long_speech_is_cut_at_max_utterance_and_goes_on() -> None:
    signal = concat(silence(0.5), syllables(7.0), silence(1.5))
    parts = run(signal, max_utterance=3.0)
    assert [p.truncated for p in parts] == [True, True, False]
    assert parts[0].end - parts[0].start == pytest.approx(3.0, abs=0.05)
    assert sum(p.end - p.start for p in parts) == pytest.approx(7.0, abs=0.1)


def test_pre_roll_and_post_roll_are_kept() -> None:
    # A soft onset (the first 60 ms quieter than the threshold) must still be in the audio.
    onset = (syllables(0.06, level_db=-50)).astype(np.int16)
    signal = concat(silence(1), onset, syllables(0.8), silence(2))
    (utt,) = run(signal, pre_roll=0.3, post_roll=0.3)
    first_sound = 1.0
    audio_start = utt.end - (len(utt.audio) / RATE) + 0.3  # audio = speech + 0.3 s post-roll
    assert audio_start <= first_sound - 0.2, "pre-roll missing: the soft onset would be cut"
    assert np.abs(utt.audio[: int(0.2 * RATE)]).max() == 0  # the pre-roll is the silence before it
    assert np.abs(utt.audio[-int(0.25 * RATE):]).max() == 0  # post-roll: trailing silence, trimmed
    assert utt.duration == pytest.approx(0.3 + (utt.end - utt.start) + 0.3, abs=0.05)


def test_clicks_and_knocks_are_not_utterances() -> None:
    parts = [silence(0.5)]
    for _ in range(6):
        parts += [click(), silence(0.4)]
    signal = with_noise(concat(*parts, silence(2)), -60)
    assert run(signal) == []


def test_noise_floor_adapts_to_a_louder_room() -> None:
    # The room gets 25 dB noisier (a fan starts); the noise alone is not speech, and speech that is
    # clearly above the new noise is still found, with its real boundaries.
    quiet, loud = noise(3, -70, seed=1), noise(9, -45, seed=2)
    speech = concat(silence(5), syllables(1.2, level_db=-20), silence(2.8))
    signal = concat(quiet, mix(loud, speech))
    utts = run(signal)
    real = [u for u in utts if u.end - u.start < 2.0]
    assert len(real) == 1 and real[0].start == pytest.approx(3 + 5, abs=0.1)
    assert all(not (u.start < 3.2 and u.end > 5) for u in utts), "the noise onset was taken as speech"
    assert len(utts) == 1


def test_noise_floor_follows_a_quieter_room_at_once() -> None:
    signal = concat(noise(3, -40, seed=1), noise(0.5, -70, seed=2),
                    mix(noise(1.0, -70, seed=3), syllables(1.0, level_db=-45)), noise(2, -70, seed=4))
    (utt,) = run(signal)
    assert utt.start == pytest.approx(3.5, abs=0.1)  # speech below the old noise level is found


def test_block_size_does_not_change_the_result() -> None:
    signal = with_noise(concat(silence(1), syllables(0.6), silence(0.7), syllables(0.9), silence(1.5),
                               syllables(0.4), silence(2)), -50)
    reference = [(u.start, u.end, len(u.audio)) for u in run(signal, block=16000)]
    assert len(reference) == 2
    for block in (1, 37, 320, 4096):
        assert [(u.start, u.end, len(u.audio)) for u in run(signal, block=block)] == reference


def test_reset_drops_the_utterance_in_progress() -> None:
    seg = Segmenter()
    seg.feed(concat(silence(1), syllables(0.8)))
    assert seg.in_speech
    seg.reset()
    assert not seg.in_speech and seg.feed(silence(2)) == [] and seg.flush() is None


def test_flush_returns_speech_cut_off_by_the_end_of_input() -> None:
    seg = Segmenter()
    assert seg.feed(concat(silence(1), syllables(0.8))) == []
    utt = seg.flush()
    assert utt is not None and utt.start == pytest.approx(1.0, abs=0.05)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        SegmenterConfig(continue_db=12, start_db=10)
    with pytest.raises(ValueError):
        SegmenterConfig(end_silence=0)


# ----- real speech --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def words() -> list[np.ndarray]:
    return [espeak("what is"), espeak("occupational"), espeak("therapy")]


@pytest.mark.parametrize("noise_db", [-60, -45, -38])
def test_espeak_question_with_pauses_in_noise_is_one_utterance(words: list[np.ndarray],
                                                               noise_db: float) -> None:
    a, b, c = words
    speech = concat(silence(1.5), a, silence(0.7), b, silence(0.6), c, silence(2.5))
    begin, end = 1.5, 1.5 + (len(a) + len(b) + len(c)) / RATE + 1.3
    (utt,) = run(with_noise(speech, noise_db))
    # Consonant edges are quiet, so allow ~0.1 s at each end; the speech itself must be inside.
    assert begin - 0.01 <= utt.start <= begin + 0.1
    assert end - 0.15 <= utt.end <= end + 0.05
    assert not utt.truncated


def test_two_espeak_questions_with_a_long_gap_are_two_utterances(words: list[np.ndarray]) -> None:
    a, b, c = words
    question = concat(a, silence(0.5), b, silence(0.4), c)
    first_end = 1.0 + len(question) / RATE
    signal = with_noise(concat(silence(1.0), question, silence(2.0), question, silence(2.0)), -50)
    one, two = run(signal)
    assert one.start == pytest.approx(1.0, abs=0.1) and one.end == pytest.approx(first_end, abs=0.15)
    assert two.start == pytest.approx(first_end + 2.0, abs=0.1)
    # the audio carries the speech: most of its energy lies within the detected boundaries
    assert np.abs(one.audio).max() > 5000


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


def test_settled_audio_is_the_utterance_well_before_it_ends() -> None:
    signal = with_noise(concat(silence(1), syllables(1.2), silence(2)), -55)
    (utt,), settled = feed_collecting_settled(signal)
    assert len(settled) == 1, "offered once, not on every silent block"
    offered_at, audio = settled[0]
    assert np.array_equal(audio, utt.audio), "exactly the audio the finished utterance has"
    # Offered after the kept trailing silence (0.3 s), long before the 1 s endpoint.
    assert utt.end + 0.3 <= offered_at + 0.04 < utt.end + 0.5


def test_speech_after_a_pause_is_settled_again_with_the_longer_audio() -> None:
    # A halting speaker: a 0.6 s pause settles the first part, then the sentence goes on.
    signal = with_noise(concat(silence(1), syllables(0.8), silence(0.6), syllables(0.7, seed=2), silence(2)), -55)
    (utt,), settled = feed_collecting_settled(signal)
    assert len(settled) == 2
    assert len(settled[0][1]) < len(utt.audio)
    assert np.array_equal(settled[1][1], utt.audio)


def test_nothing_settles_during_speech_or_in_silence() -> None:
    _, settled = feed_collecting_settled(with_noise(silence(3), -55))
    assert settled == []
    _, settled = feed_collecting_settled(concat(silence(0.5), syllables(3.0)))  # still talking at the end
    assert settled == []
