"""The dialog state machine, exhaustively and without audio: text in, what it says and does out."""

from __future__ import annotations

import pytest

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.dialog import Dialog, Mode
from assistant.core.loader import load_content
from assistant.core.speech_settings import RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN
from assistant.core.understanding import Understander


@pytest.fixture(scope="module")
def content():
    return load_content(DEFAULT_CONTENT_DIR)


@pytest.fixture
def dialog(content):
    return Dialog(Understander(content, emergency_number="999"), rate=165, volume=0.75, wake_phrase="hey coach")


def test_greeting_has_disclaimer_number_and_wake_phrase(dialog):
    text = dialog.start().text
    assert "not medical advice" in text
    assert "999" in text
    assert "hey coach" in text


def test_greeting_without_wake_phrase(content):
    text = Dialog(Understander(content), wake_phrase="off").start().text
    assert "911" in text and "Say" not in text.split("911")[-1]


def test_topic_answer_then_more_then_repeat(dialog, content):
    first = dialog.handle("what is occupational therapy")
    assert first.decision.topic == "ot.what"
    assert first.text == content.topics["ot.what"].answer
    more = dialog.handle("tell me more")
    assert more.text == content.topics["ot.what"].more
    again = dialog.handle("say that again")
    assert again.text == more.text
    assert again.stop_speaking  # repeating starts over: the current answer is cut
    nothing_left = dialog.handle("tell me more")
    assert nothing_left.text == content.messages["no_more"]


def test_repeat_with_nothing_said_yet(content):
    fresh = Dialog(Understander(content))
    assert fresh.handle("repeat that").text == content.messages["nothing_to_repeat"]


def test_stop_says_nothing_and_stops(dialog):
    dialog.handle("what do physical therapists do")
    reply = dialog.handle("stop")
    assert reply.text == "" and reply.stop_speaking
    # what was said before "stop" can still be repeated
    assert "Physical therapists" in dialog.handle("repeat").text


def test_help(dialog, content):
    assert dialog.handle("what can i ask you").text == content.messages["help"]


@pytest.mark.parametrize("command, field, direction", [
    ("slower", "rate", -1), ("faster", "rate", 1), ("louder", "volume", 1), ("softer", "volume", -1),
])
def test_speech_steps_are_bounded(dialog, content, command, field, direction):
    values = []
    for _ in range(12):
        reply = dialog.handle(command)
        values.append(getattr(reply, field))
    assert all(v is not None for v in values)
    assert values == sorted(values, reverse=direction < 0)
    low, high = (RATE_MIN, RATE_MAX) if field == "rate" else (VOLUME_MIN, VOLUME_MAX)
    assert values[-1] == (high if direction > 0 else low)
    assert values[-1] == values[-2]  # it stays at the bound and says so
    limit_key = {"slower": "rate_slowest", "faster": "rate_fastest", "louder": "volume_loudest",
                 "softer": "volume_softest"}[command]
    assert reply.text == content.messages[limit_key]


def test_goodbye_ends(dialog, content):
    reply = dialog.handle("goodbye")
    assert reply.end and reply.text == content.messages["goodbye"]


def test_unknown_is_honest(dialog, content):
    reply = dialog.handle("what's the weather like tomorrow")
    assert reply.decision.kind == "unknown"
    assert reply.text == content.messages["unknown"]


def _force_confirm(dialog):
    """Find an utterance the understanding is unsure about (content can change, so search)."""
    for text in ("what are the goals", "what are the aims of therapy", "goals", "what do they do",
                 "tell me about the training", "what exam"):
        reply = dialog.handle(text)
        if reply.decision.confirm:
            return reply
    pytest.fail("no low-confidence utterance found to exercise confirmation")


def test_low_confidence_asks_and_yes_answers_best_guess(dialog, content):
    asked = _force_confirm(dialog)
    assert dialog.state.mode is Mode.CONFIRMING
    assert content.topics[asked.decision.topic].title in asked.text
    reply = dialog.handle("yes")
    assert reply.decision.topic == asked.decision.topic
    assert reply.text == content.topics[asked.decision.topic].answer
    assert dialog.state.mode is Mode.ANSWERING


def test_low_confidence_no_asks_to_rephrase(dialog, content):
    _force_confirm(dialog)
    assert dialog.handle("no").text == content.messages["rephrase"]
    assert dialog.state.mode is Mode.ANSWERING


def test_two_candidates_offered_by_name_and_second_chosen(dialog, content):
    asked = dialog.handle("what are the goals")
    assert asked.decision.confirm and asked.decision.runner_up
    first, second = asked.decision.topic, asked.decision.runner_up
    assert content.topics[first].title in asked.text and content.topics[second].title in asked.text
    reply = dialog.handle("the second one")
    assert reply.decision.topic == second
    assert reply.text == content.topics[second].answer


def test_other_question_while_confirming_is_answered(dialog, content):
    _force_confirm(dialog)
    reply = dialog.handle("where do occupational therapists work")
    assert reply.decision.topic == "settings"
    assert dialog.state.mode is Mode.ANSWERING


@pytest.mark.parametrize("answers, disposition", [
    (("yes", "no"), "pt"), (("no", "yes"), "ot"), (("yes", "yes"), "both"), (("nope", "not really"), None),
    (("yeah", "yes please"), "both"),
])
def test_questionnaire_concludes(dialog, content, answers, disposition):
    start = dialog.handle("which therapy do i need")
    assert start.decision.topic == "which"
    assert content.triage.questions[0].text in start.text
    second = dialog.handle(answers[0])
    assert second.text == content.triage.questions[1].text
    end = dialog.handle(answers[1])
    assert end.decision.disposition == disposition
    assert end.text == content.triage.conclusions[disposition or "none"]
    assert dialog.state.mode is Mode.ANSWERING


def test_questionnaire_insists_on_yes_or_no_and_can_be_left(dialog, content):
    dialog.handle("how do i know which one i need")
    unclear = dialog.handle("blue")
    assert content.messages["yes_no_please"] in unclear.text
    assert dialog.state.mode is Mode.QUESTIONNAIRE
    left = dialog.handle("stop")
    assert left.text == content.messages["questionnaire_left"]
    assert dialog.state.mode is Mode.ANSWERING


def test_questionnaire_other_question_leaves_it(dialog, content):
    dialog.handle("which therapy do i need")
    reply = dialog.handle("what is physical therapy")
    assert reply.decision.topic == "pt.what"
    assert dialog.state.mode is Mode.ANSWERING


def test_questionnaire_keeps_going_after_slower(dialog, content):
    dialog.handle("which therapy do i need")
    assert dialog.handle("slower").rate is not None
    assert dialog.state.mode is Mode.QUESTIONNAIRE
    assert dialog.handle("yes").text == content.triage.questions[1].text


@pytest.mark.parametrize("setup", [
    [], ["what are the goals"], ["which therapy do i need"], ["which therapy do i need", "yes"],
])
def test_emergency_preempts_every_state(dialog, content, setup):
    for text in setup:
        dialog.handle(text)
    reply = dialog.handle("my husband's face is drooping and he can't lift his arm")
    assert reply.decision.disposition == "emergency"
    assert reply.alert and reply.stop_speaking
    single = content.red_flags.answer.format(number="999")
    assert reply.text == f"{single} {single}"  # said twice
    assert dialog.state.mode is Mode.ANSWERING


def test_triage_statement_answered(dialog, content):
    reply = dialog.handle("my knees hurt going up the stairs")
    assert reply.decision.disposition == "pt"
    assert reply.text == content.triage.answers["pt"]


@pytest.mark.parametrize(("heard", "woke", "rest"), [
    ("hey coach what is o t", True, "what is ot"),
    ("hey couch what is o t", True, "what is ot"),  # misheard by the recognizer: still the wake phrase
    ("he coach what is o t", True, "what is ot"),
    ("so hey coach where do they work", True, "where do they work"),
    ("what is o t", False, "what is o t"),
    ("how much does it cost", False, "how much does it cost"),
    ("my coach said i need physio", False, "my coach said i need physio"),
])
def test_wake_phrase_found_even_when_slightly_misheard(heard, woke, rest):
    from assistant.core.wake import WakeWord

    assert WakeWord("hey coach").split(heard) == (woke, rest)
    assert WakeWord("off").split(heard) == (True, heard)


# -- a bare "help": asked back at once -----------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "alert", "message"), [
    ("yes", True, None), ("help", True, None), ("help me!", True, None), ("no", False, "help"),
])
def test_a_bare_help_is_asked_back_and_the_answer_decides(understander, answer: str, alert: bool,
                                                           message: str | None):
    dialog = Dialog(understander)
    asked = dialog.handle("Help!")
    assert asked.text == understander.message("emergency_check") and not asked.alert
    assert dialog.state.mode is Mode.EMERGENCY_CHECK and dialog.asked_something
    reply = dialog.handle(answer)
    assert reply.alert is alert
    if alert:
        assert reply.decision.is_emergency and understander.emergency_answer() in reply.text
    else:
        assert reply.text == understander.message(message)
    assert dialog.state.mode is Mode.ANSWERING


def test_something_else_after_the_emergency_check_is_answered(understander, content):
    dialog = Dialog(understander)
    dialog.handle("help me")
    reply = dialog.handle("what is occupational therapy")
    assert reply.text == content.topics["ot.what"].answer and not reply.alert
    dialog.handle("help me")
    assert dialog.handle("my husband collapsed").alert


# -- honest triage ------------------------------------------------------------------------------------------

DISCLAIMER = "This is general information, not a diagnosis."


def test_every_triage_answer_and_conclusion_sends_to_a_doctor_or_therapist(content):
    texts = [*content.triage.answers.values(), *content.triage.conclusions.values()]
    assert len(texts) == 7
    for text in texts:
        assert DISCLAIMER in text and "doctor or therapist" in text, text


def test_the_questionnaires_none_conclusion_says_only_what_the_article_does(understander, content):
    dialog = Dialog(understander)
    dialog.handle("which therapy do i need")
    dialog.handle("no")
    reply = dialog.handle("no")
    assert reply.text == content.triage.conclusions["none"]
    assert "neither seems needed" not in reply.text
    assert "treatment team will typically evaluate" in reply.text  # the article's own words


@pytest.mark.parametrize("text", ["my stomach hurts", "I've got a pain in my tummy", "my belly aches all day"])
def test_pain_that_is_not_muscles_or_joints_goes_to_a_doctor_not_to_pt(understander, text: str):
    reply = Dialog(understander).handle(text)
    assert reply.decision.disposition is None and reply.decision.kind == "unknown"
    assert reply.text == understander.message("see_doctor") and DISCLAIMER in reply.text


@pytest.mark.parametrize("text", ["my heart hurts", "I have pain around my heart"])
def test_heart_pain_is_an_emergency(understander, text: str):
    reply = Dialog(understander).handle(text)
    assert reply.decision.is_emergency and reply.alert


def test_knee_pain_still_goes_to_pt(understander):
    assert Dialog(understander).handle("my knee hurts when i walk").decision.disposition == "pt"
