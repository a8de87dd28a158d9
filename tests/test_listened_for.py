"""The words that matter are listened for, not only transcribed (core/listened.py, recognition/reading.py,
whisper_engine.WhisperRecognizer._listen): the closed set comes from the content and is checked; a phrase the
recognizer found clearly likely decides as the free reading would; negations and conflicting yes/no do not.
How many more emergencies and commands this catches over a TV, at what cost, is bench/listened_for.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from speech_voices import speak

from assistant.commands.content import check_content
from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.listened import closed_set, closed_set_problems
from assistant.core.loader import load_content
from assistant.core.understanding import Understander
from assistant.recognition.base import Listened, Transcript
from assistant.recognition.reading import asked_back, decide, reading_to_act_on

CONTENT = load_content(DEFAULT_CONTENT_DIR)
UNDERSTANDER = Understander(CONTENT)


def heard(text: str, phrase: str | None, meaning: str = "emergency", name: str = "breathing",
          alternatives: tuple[str, ...] = ()) -> Transcript:
    listened = Listened(phrase, meaning, name, -0.8, 0.2) if phrase else None
    return Transcript(text, 0.4, True, alternatives=alternatives, listened_for=listened)


def test_the_closed_set_comes_from_the_content_and_means_what_it_is_listed_for():
    phrases = closed_set(CONTENT, "hey coach")
    emergencies = {p.name for p in phrases if p.meaning == "emergency"}
    assert emergencies == {rule.id for rule in CONTENT.red_flags.rules}  # every red flag, several ways each
    assert all(len(rule.listen_for) >= 3 for rule in CONTENT.red_flags.rules)
    commands = {p.name for p in phrases if p.meaning == "command"}
    assert commands == set(CONTENT.commands)  # stop, yes, no, repeat, more, slower ... goodbye
    assert [p.text for p in phrases if p.meaning == "wake"] == ["hey coach"]
    assert "hello" not in {p.text for p in phrases}  # a greeting a TV says all day is not listened for
    assert closed_set_problems(UNDERSTANDER) == []


def test_a_listened_for_red_flag_that_is_no_emergency_is_reported_by_content_check(tmp_path, capsys):
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    path = folder / "red_flags.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('      - "I have chest pain"\n', '      - "I have a nice chest of drawers"\n', 1),
                    encoding="utf-8")
    assert check_content(folder) == 1
    out = capsys.readouterr().out
    assert "listen_for 'I have a nice chest of drawers' is not caught as an emergency" in out
    assert "Fix:" in out


def test_an_emergency_listened_for_decides_where_the_free_reading_missed_it():
    transcript = heard("i can't read this which tip", "I can't catch my breath")
    assert reading_to_act_on(transcript, UNDERSTANDER) == "i can't catch my breath"
    decision = decide(transcript, UNDERSTANDER, source="clip.wav")
    assert decision.is_emergency
    assert decision.to_contract()["listened_for"] == "I can't catch my breath"
    plain = decide(heard("what is occupational therapy", None), UNDERSTANDER, source="q.wav")
    assert "listened_for" not in plain.to_contract()


def test_a_negation_in_the_free_reading_keeps_a_listened_for_red_flag_from_deciding():
    for said, phrase in (("i don't have chest pain", "I have chest pain"), ("no i didn't fall", "I've had a fall"),
                         ("i'm not bleeding any more", "I'm bleeding badly")):
        decision = decide(heard(said, phrase, name="chest"), UNDERSTANDER, source="clip.wav")
        assert not decision.is_emergency, said


def test_a_command_listened_for_acts_and_a_conflicting_yes_or_no_is_asked_back():
    stop = decide(heard("do library and stick on the main road", "stop", "command", "stop"), UNDERSTANDER, "c.wav")
    assert (stop.kind, stop.command, stop.to_contract()["listened_for"]) == ("command", "stop", "stop")
    conflict = heard("no", "yes", "command", "yes")
    assert asked_back(conflict, UNDERSTANDER)
    decision = decide(conflict, UNDERSTANDER, "c.wav")
    assert (decision.kind, decision.command, decision.confirm) == ("unknown", None, True)
    assert decision.answer == UNDERSTANDER.message("yes_no_please")
    agreeing = decide(heard("the main road will be closed", "yes", "command", "yes"), UNDERSTANDER, "c.wav")
    assert agreeing.command == "yes"


def test_a_bare_help_is_still_asked_whether_it_is_an_emergency():
    decision = decide(heard("the weather tomorrow", "help", "command", "help"), UNDERSTANDER, "c.wav")
    assert decision.answer == UNDERSTANDER.message("emergency_check")


@pytest.fixture(scope="module")
def whisper():
    from assistant.recognition.whisper_engine import WhisperRecognizer

    return WhisperRecognizer(listen_for=closed_set(CONTENT))


def _clip(text: str, voice: str) -> np.ndarray:
    return np.concatenate([np.zeros(8000, np.int16), speak(text, voice), np.zeros(8000, np.int16)])


def test_whisper_listens_for_the_set_on_every_utterance_cheaply(whisper):
    """Real audio, real engine: a spoken command is found among the phrases scored; an ordinary question is
    heard as itself, with no emergency listened for; each utterance's listening is measured."""
    said = whisper.transcribe(_clip("stop", "flite:slt"))
    assert said.listened_for is not None and said.listened_for.name == "stop", whisper.last_listen
    costs = [whisper.last_listen_seconds]
    for question in ("what is occupational therapy", "how do i get stronger after a stroke"):
        transcript = whisper.transcribe(_clip(question, "flite:rms"))
        costs.append(whisper.last_listen_seconds)
        assert transcript.listened_for is None or transcript.listened_for.meaning != "emergency", whisper.last_listen
        assert not decide(transcript, UNDERSTANDER, "q").is_emergency
    assert len(whisper.last_listen) >= 1
    assert 0 < max(costs) < 1.0  # the median on this machine is in bench/listened_for.py


def test_the_application_exposes_the_words_to_act_on_for_other_front_ends():
    from assistant.app import Application
    from assistant.config import Settings

    app = Application.open(Settings())
    text, transcript = app.words_to_act_on(_clip("stop", "flite:slt"))
    assert text == "stop"
    assert transcript.text == "stop"


def test_doctor_lists_the_phrases_listened_for(tmp_path: Path):
    from assistant.caregiver.checks import check_listened_for
    from assistant.config import Settings

    result = check_listened_for(Settings())
    assert result.ok, result.line()
    assert '"I can\'t catch my breath"' in result.message and '"stop"' in result.message
    assert result.message.startswith(f"{len(closed_set(CONTENT, Settings().wake_phrase))} phrases")
