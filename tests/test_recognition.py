"""PocketSphinx with the bundled English model and the domain model built from content/: real decoding.

Speech is synthesized in the test (espeak-ng and flite voices, 16 kHz, see speech_voices.py), recognized,
and the understanding must reach the right decision. The engine is built once per module. Accuracy over
many more sentences and unseen voices is measured by bench/recognition.py, not asserted here.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from speech_voices import TEST_VOICES, speak

from assistant.config import Settings
from assistant.hearing import decide
from assistant.recognition import RecognizerError, choose_engine, open_recognizer
from assistant.recognition.base import Recognizer
from assistant.recognition.pronounce import guess, inflections, ipa_to_arpabet, load_dictionary
from assistant.recognition.sphinx import PocketSphinxRecognizer, domain_model, model_path
from assistant.recognition.vocabulary import content_phrases, fingerprint, spoken_words


@pytest.fixture(scope="module")
def sphinx(content, tmp_path_factory) -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer(content_phrases(content), cache_dir=tmp_path_factory.mktemp("cache"))


# -- what the user says -> the decision -------------------------------------------------------------------

SPOKEN = [
    # questions across the topics
    ("what is physical therapy", "topic", "pt.what"),
    ("what are the goals of physical therapy", "topic", "pt.goals"),
    ("what does a physical therapist do", "topic", "pt.treatments"),
    ("what is occupational therapy", "topic", "ot.what"),
    ("what are the goals of occupational therapy", "topic", "ot.goals"),
    ("what does an occupational therapist do", "topic", "ot.treatments"),
    ("how is occupational therapy different from physical therapy", "topic", "compare"),
    ("when do patients need both kinds of therapy", "topic", "both"),
    ("what training does a physical therapist need", "topic", "pt.education"),
    ("how do you become an occupational therapist", "topic", "ot.education"),
    ("where do physical therapists work", "topic", "settings"),
    ("can occupational therapy help with anxiety", "topic", "ot.mental_health"),
    ("do i need physical therapy or occupational therapy", "topic", "which"),
    # symptoms
    ("i have trouble with my balance", "triage", "pt"),
    ("i have trouble getting dressed", "triage", "ot"),
    # emergencies
    ("i have chest pain", "triage", "emergency"),
    ("i can't breathe", "triage", "emergency"),
    ("my face is drooping", "triage", "emergency"),
    ("i think i'm having a stroke", "triage", "emergency"),
    ("she is having a seizure", "triage", "emergency"),
    ("call an ambulance", "triage", "emergency"),
    ("i want to kill myself", "triage", "emergency"),
    # commands
    ("say that again", "command", "repeat"),
    ("speak slower", "command", "slower"),
    ("faster please", "command", "faster"),
    ("quieter please", "command", "softer"),
    ("goodbye", "command", "goodbye"),
    ("yes", "command", "yes"),
    ("no", "command", "no"),
]


# Measured misrecognitions, kept visible: strict, so a fix shows up as XPASS and the mark must go.
KNOWN_MISSES = {
    ("yes", "flite:rms"): "heard as 'years' (a topic keyword)",
    # Since the cepstral mean is taken from a keyword-spotting pass (sphinx.py _prime): as many clips got
    # better as worse over 336 measured, and this one of the test's got worse.
    ("what are the goals of occupational therapy", "flite:slt"): "heard as 'my that gone dead occupational therapy'",
}
CASES = [
    pytest.param(sentence, kind, what, voice, id=f"{sentence}-{voice}",
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[(sentence, voice)])]
                 if (sentence, voice) in KNOWN_MISSES else [])
    for sentence, kind, what in SPOKEN for voice in TEST_VOICES
]


@pytest.mark.parametrize(("sentence", "kind", "what", "voice"), CASES)
def test_spoken_sentence_gets_the_right_decision(sphinx, understander, sentence, kind, what, voice):
    transcript = sphinx.transcribe(speak(sentence, voice))
    decision = decide(transcript, understander, source="speech")
    got = decision.topic or decision.disposition or decision.command
    assert (decision.kind, got) == (kind, what), f"heard {transcript.text!r}"
    assert decision.transcript == transcript.text
    if what == "emergency":
        assert decision.is_emergency


@pytest.mark.parametrize("voice", TEST_VOICES)
@pytest.mark.parametrize("sentence", ["what's the weather like today", "who won the football game"])
def test_out_of_domain_speech_is_flagged_and_not_answered(sphinx, understander, sentence, voice):
    transcript = sphinx.transcribe(speak(sentence, voice))
    assert transcript.text  # recognized as words, just not ours
    assert not transcript.in_domain
    decision = decide(transcript, understander, source="speech")
    assert decision.kind == "unknown" or decision.confirm


def test_in_domain_speech_is_marked_in_domain(sphinx):
    transcript = sphinx.transcribe(speak("what is occupational therapy", "flite:slt"))
    assert transcript.text == "what is occupational therapy"
    assert transcript.in_domain
    assert 0.5 < transcript.confidence <= 1.0
    assert [w.text for w in transcript.words] == transcript.text.split()
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and transcript.words[-1].end <= 3.0


# -- streaming ---------------------------------------------------------------------------------------------

def test_streaming_gives_partials_then_the_final_transcript(sphinx):
    audio = speak("what does a physical therapist do", "flite:rms")
    sphinx.reset()
    partials = []
    for start in range(0, audio.size, 1600):  # 100 ms blocks, as a microphone delivers them
        assert sphinx.accept(audio[start:start + 1600]) is False  # the segmenter finds the end, not sphinx
        partials.append(sphinx.partial())
    heard = [p for p in partials if p]
    assert heard and heard[0] != heard[-1]  # the guess grows while the person speaks
    final = sphinx.final()
    assert final.text == "what does a physical therapist do"
    assert sphinx.partial() == ""  # ready for the next utterance
    assert sphinx.final().text == ""
    again = sphinx.transcribe(speak("what is occupational therapy", "flite:slt"))
    assert again.text == "what is occupational therapy"


def test_silence_and_noise_give_an_empty_or_out_of_domain_transcript(sphinx):
    assert sphinx.transcribe(np.zeros(16000, dtype=np.int16)).text == ""
    noise = np.random.default_rng(1).normal(0, 300, 16000).astype(np.int16)
    heard = sphinx.transcribe(noise)
    assert heard.text == "" or not heard.in_domain or heard.confidence < 0.5


def test_protocol_and_input_checks(sphinx):
    assert isinstance(sphinx, Recognizer)
    assert sphinx.sample_rate == 16000
    with pytest.raises(TypeError, match="int16"):
        sphinx.transcribe(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="mono"):
        sphinx.transcribe(np.zeros((100, 2), dtype=np.int16))


# -- the domain model: built from the content, trimmed, cached -------------------------------------------

def test_domain_model_is_trimmed_and_covers_the_content(sphinx, content):
    model = sphinx.model
    lines = model.dictionary.read_text(encoding="utf-8").splitlines()
    assert 1000 < len(lines) < 10000  # the bundled dictionary has 135,000 entries
    words = {line.split()[0].split("(")[0] for line in lines}
    needed = {w for p in content_phrases(content) for w in spoken_words(p)}
    assert needed - set(model.missing) <= words
    assert model.missing == ()  # every word of the content got a pronunciation
    assert {"pt", "nbcot", "physiotherapist", "hurts", "numb"} <= words  # spelled, guessed, inflected, combo
    assert "therapy" in model.domain_words and "music" in model.background_words


def test_domain_model_cache_is_reused_and_rebuilt_when_the_content_changes(tmp_path):
    phrases = ["what is physical therapy", "what is occupational therapy", "stop"]
    first = domain_model(phrases, tmp_path)
    assert first.built
    again = domain_model(list(reversed(phrases)), tmp_path)  # same phrases: same model, from the cache
    assert not again.built and again.folder == first.folder
    changed = domain_model([*phrases, "where can i get physio"], tmp_path)
    assert changed.built and changed.folder != first.folder
    assert "physio" in changed.domain_words
    (first.folder / "info.json").write_text("{broken", encoding="utf-8")  # a damaged cache is rebuilt
    repaired = domain_model(phrases, tmp_path)
    assert repaired.built and json.loads((repaired.folder / "info.json").read_text())["phrases"] == 3
    assert not list(tmp_path.glob(".building-*"))  # no half-built model left behind


def test_fingerprint_follows_the_phrases():
    assert fingerprint(["a b", "c"]) == fingerprint(["c", "a b"])
    assert fingerprint(["a b"]) != fingerprint(["a c"])
    assert spoken_words("Call 911, it's O.T.!") == ["call", "nine", "one", "one", "it's", "o", "t"]


def test_pronunciations_for_words_missing_from_the_dictionary():
    dictionary = load_dictionary(model_path("en-us", "cmudict-en-us.dict"),
                                 wanted={"therapy", "ot", *"abcdefghijklmnopqrstuvwxyz"})
    assert guess("pt", dictionary) == ["P IY T IY"]
    assert guess("therapy's", dictionary) == ["TH EH R AH P IY Z"]
    assert guess("ots", dictionary) == ["AO T S", "OW T IY Z"]
    assert ipa_to_arpabet("θˈɛɹəpi") == "TH EH R AH P IY"
    assert ipa_to_arpabet("fˈɪzɪˌoʊ") == "F IH Z IH OW"
    assert ipa_to_arpabet("☃") is None
    forms = inflections(["hurt", "button"], load_dictionary(model_path("en-us", "cmudict-en-us.dict")))
    assert {"hurts", "hurting", "buttons"} <= forms


# -- engine selection -----------------------------------------------------------------------------------------

def test_auto_takes_pocketsphinx_without_a_vosk_model(tmp_path, monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    assert choose_engine(Settings(engine="auto"), models_dir=tmp_path) == ("pocketsphinx", None)
    assert choose_engine(Settings(engine="pocketsphinx"), models_dir=tmp_path) == ("pocketsphinx", None)


def test_vosk_without_a_model_says_how_to_install_one(tmp_path, monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    with pytest.raises(RecognizerError, match="assistant model install"):
        choose_engine(Settings(engine="vosk"), models_dir=tmp_path)
    with pytest.raises(RecognizerError, match="does not exist.*assistant model install"):
        choose_engine(Settings(engine="auto", model=str(tmp_path / "nothing")), models_dir=tmp_path)
    with pytest.raises(RecognizerError, match="unknown speech engine"):
        choose_engine(Settings(engine="whisper"), models_dir=tmp_path)


def test_open_recognizer_says_which_engine_in_one_line(content, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    recognizer = open_recognizer(Settings(engine="auto"), content, extra_phrases=["hey coach"], announce=True,
                                 cache_dir=tmp_path, models_dir=tmp_path)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"assistant: speech recognizer: {recognizer.description}"]
    assert "PocketSphinx" in lines[0]
    assert {"hey", "coach"} <= recognizer.model.domain_words  # the wake phrase is in the vocabulary


@pytest.mark.parametrize("voice", TEST_VOICES)
def test_the_wake_phrase_is_heard_in_front_of_a_question(content, tmp_path_factory, voice):
    recognizer = open_recognizer(Settings(engine="pocketsphinx"), content, wake_phrase="hey coach",
                                 cache_dir=tmp_path_factory.getbasetemp() / "wake-cache")
    for question in ("what is occupational therapy", "i have chest pain"):
        heard = recognizer.transcribe(speak(f"hey coach {question}", voice)).text
        assert heard.startswith("hey coach"), heard


def _start_and_hear(cache_dir: str) -> str:
    """In a separate process: start the recognizer on a shared, possibly empty cache and hear a phrase."""
    recognizer = PocketSphinxRecognizer(["what is physical therapy", "what is occupational therapy", "stop"],
                                        cache_dir=Path(cache_dir))
    return recognizer.transcribe(speak("what is physical therapy", "flite:slt")).text


def test_processes_starting_together_on_an_empty_cache_all_get_a_working_model(tmp_path):
    # Two processes building the same model at once: the second must not delete the model the first just
    # finished (and may be loading); measured before the fix: "Failed to initialize PocketSphinx".
    with multiprocessing.get_context("fork").Pool(2) as pool:
        heard = pool.map(_start_and_hear, [str(tmp_path)] * 4, chunksize=1)
    assert heard == ["what is physical therapy"] * 4
    assert len(list(tmp_path.glob("pocketsphinx-*"))) == 1 and not list(tmp_path.glob(".building-*"))

