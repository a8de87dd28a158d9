"""Who the assistant answers in the hands-free loop, with the wake phrase on (real content, real dialog).

The speaker is the loop's own silent stand-in (loop/turn_taking.py `SilentSpeaker`, used by `listen --no-speak`):
what is tested here is the decision to answer, not audio; the same paths run on the virtual devices in
tests/test_home_listening.py."""

from __future__ import annotations

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.dialog import Dialog
from assistant.core.loader import load_content
from assistant.core.understanding import Understander
from assistant.loop.turn_taking import SilentSpeaker, TurnRecord, TurnTaking

CONTENT = load_content(DEFAULT_CONTENT_DIR)


def conversation(wake: str | None = "hey coach") -> tuple[TurnTaking, list[TurnRecord], list[str]]:
    turns: list[TurnRecord] = []
    status: list[str] = []
    dialog = Dialog(Understander(CONTENT), wake_phrase=wake)
    talk = TurnTaking(dialog, SilentSpeaker(), status.append, turns.append, on_alert=lambda text: None,
                        on_speech_change=lambda rate, volume: None, wake_phrase=wake)
    return talk, turns, status


def answered(turns: list[TurnRecord]) -> list[str]:
    return [turn.transcript for turn in turns]


def test_background_talk_in_the_follow_up_window_is_not_answered() -> None:
    talk, turns, status = conversation()
    talk.hear("hey coach what is occupational therapy")
    talk.hear("and in other news the council met on tuesday")  # the TV, within the follow-up window
    talk.hear("the weather will be cloudy tomorrow")
    assert answered(turns) == ["hey coach what is occupational therapy"]
    assert any("not answering" in line for line in status)


def test_the_person_can_follow_up_without_the_wake_phrase() -> None:
    talk, turns, _ = conversation()
    talk.hear("hey coach what is occupational therapy")
    talk.hear("tell me more")
    talk.hear("and what does a physical therapist do")
    talk.hear("I have crushing chest pain")
    assert answered(turns)[1:] == ["tell me more", "and what does a physical therapist do",
                                   "I have crushing chest pain"]
    assert turns[-1].reply.alert


def test_after_the_wake_phrase_alone_anything_is_answered() -> None:
    talk, turns, _ = conversation()
    talk.hear("hey coach")
    talk.hear("what's the capital of france")  # said to it: told honestly it does not know
    assert answered(turns) == ["what's the capital of france"]
    assert turns[0].reply.decision.kind == "unknown"


def test_a_pending_yes_no_question_takes_its_answer() -> None:
    talk, turns, _ = conversation()
    talk.hear("hey coach which therapy do i need")
    talk.hear("yes")
    talk.hear("mm maybe i am not sure")  # unknown, but a question is waiting: asked again, not ignored
    assert answered(turns)[1:] == ["yes", "mm maybe i am not sure"]


def test_without_the_wake_phrase_everything_is_answered() -> None:
    talk, turns, _ = conversation(wake="off")
    talk.hear("what is occupational therapy")
    talk.hear("the weather will be cloudy tomorrow")
    assert len(turns) == 2


def test_the_end_check_waits_after_the_wake_phrase_alone_and_on_trailing_words() -> None:
    talk, _, _ = conversation()
    assert talk.question_complete("Hey coach.") is False
    assert talk.question_complete("Hey coach, I have trouble with my...") is False
    assert talk.question_complete("Hey coach, what is occupational therapy?") is True
    assert talk.question_complete("I can't breathe") is True
    assert talk.question_complete("Hey coach, what is occupational therapy?",  # another reading of it trails off
                                  alternatives=["Hey coach, what is occupational therapy for my"]) is False


def test_words_without_the_wake_phrase_do_not_end_the_question_while_asleep() -> None:
    # Over a TV the wake phrase alone is often misheard ("hey coach," as "health", a topic word): ending the
    # utterance there cut it off from the question said right after it. Asleep, such words are never
    # answered, so the endpoint silence decides (None); awake, and for an emergency, the words decide.
    talk, _, _ = conversation()
    for misheard_wake in ("health", "both", "what is occupational therapy"):
        assert talk.question_complete(misheard_wake) is None, misheard_wake
    assert talk.question_complete("I can't breathe") is True
    assert talk.question_complete("my husband fell and he can't get up") is True
    talk.hear("hey coach what is occupational therapy")  # answered: the follow-up window is open
    assert talk.question_complete("what is physical therapy") is True
    assert talk.question_complete("and what does a physical therapist do for my") is False


def test_words_from_another_reading_are_asked_back_before_they_are_answered() -> None:
    # The hands-free loop passes doubtful=True when it acts on one of Whisper's other readings.
    talk, turns, _ = conversation()
    talk.hear("hey coach what is a occupational therapy", doubtful=True)
    assert turns[-1].reply.decision.confirm and "Did you mean" in turns[-1].reply.text
    talk.hear("yes")
    assert turns[-1].reply.decision.topic == "ot.what" and not turns[-1].reply.decision.confirm
    talk.hear("hey coach i can't breathe", doubtful=True)  # an emergency is never asked back
    assert turns[-1].reply.alert
