"""The transcript's verdict on whether a question is whole (pure): real content, real understanding."""

from __future__ import annotations

import pytest

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content
from assistant.core.question_end import question_complete
from assistant.core.understanding import Understander

UNDERSTANDER = Understander(load_content(DEFAULT_CONTENT_DIR))


def verdict(text: str) -> bool | None:
    return question_complete(text, UNDERSTANDER.understand(text), subjects=UNDERSTANDER.subjects)


@pytest.mark.parametrize("text", [
    "What is occupational therapy?", "how does a physical therapist help with walking",
    "I can't do up my buttons any more", "stop", "say that again please", "slower",
    "tell me more", "I have crushing chest pain",
    "I fell and I can't get up and",  # an emergency never waits, however it ends
])
def test_whole_questions_commands_and_emergencies_end_at_once(text: str) -> None:
    assert verdict(text) is True


@pytest.mark.parametrize("text", [
    "I have trouble with my...", "what is", "can you tell me about the", "my hands are", "how do I",
    "what's the difference between", "I find it hard to, um", "tell me about physical therapy and",
    "so the weather is nice today",  # nothing in it understood: wait, more may come
])
def test_words_that_trail_off_wait_for_more(text: str) -> None:
    assert verdict(text) is False


@pytest.mark.parametrize("text", [
    "can physical therapy", "does occupational therapy", "what does an occupational therapist",
    "how long does physical therapy", "is physical therapy", "will the physio", "what can my OT",
    "the occupational therapy",  # a subject alone
    "is it normal that my arm", "I get dizzy when the",  # a clause that stops on its subject
])
def test_a_question_that_stops_after_its_subject_waits_for_its_verb(text: str) -> None:
    assert verdict(text) is False


@pytest.mark.parametrize("text", [
    "is physical therapy painful", "what is occupational therapy", "where do physical therapists work",
    "does it hurt", "what do occupational therapists do", "what does a physical therapist do",
    "what is the difference between PT and OT", "are OTs licensed",
])
def test_the_same_questions_finished_end_at_once(text: str) -> None:
    assert verdict(text) is True


def test_another_reading_of_the_audio_that_stops_mid_sentence_makes_it_wait() -> None:
    text = "what is occupational therapy"
    decision = UNDERSTANDER.understand(text)
    assert question_complete(text, decision, subjects=UNDERSTANDER.subjects,
                             alternatives=["what is occupational therapy exactly"]) is True
    for unfinished in ("what is occupational therapy and", "what is occupational therapy for my",
                       "what does occupational therapy"):
        assert question_complete(text, decision, subjects=UNDERSTANDER.subjects, alternatives=[unfinished]) is False
    emergency = "i have chest pain"  # an emergency never waits, whatever the other readings say
    assert question_complete(emergency, UNDERSTANDER.understand(emergency), alternatives=["i have chest pain and"])


def test_the_wake_phrase_alone_waits_for_the_question() -> None:
    assert question_complete("Hey coach.", None) is False


def test_a_doubtful_understanding_waits_for_more() -> None:
    decision = UNDERSTANDER.understand("what is occupational therapy")
    doubtful = type(decision)(**{**decision.__dict__, "confirm": True})
    assert question_complete("what is occupational therapy", doubtful) is False


def test_the_recognizer_hearing_the_voice_break_off_waits() -> None:
    text = "I have trouble with my hands"  # understood, but Whisper wrote "hands..."
    assert question_complete(text, UNDERSTANDER.understand(text), trails_off=True) is False


@pytest.mark.parametrize("text", ["", "  ", "...", "?"])
def test_nothing_heard_leaves_it_to_the_silence(text: str) -> None:
    assert question_complete(text, UNDERSTANDER.understand(text) if text.strip() else None) is None
