"""The conversation as a pure state machine: text in, what to say (and do) out. No audio, no devices.

It remembers the last answer (repeat, "tell me more"), a pending "did you mean" question, the spoken
"which therapy do I need" questionnaire, and the speaking rate and volume. Emergencies always win: they
are answered at once, twice, with a caregiver alert, whatever state the conversation is in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from assistant.core.decision import Decision
from assistant.core.speech_settings import adjust
from assistant.core.understanding import Understander
from assistant.core.wake import active_wake_phrase

ORDINALS = {"first": 0, "one": 0, "1": 0, "former": 0, "second": 1, "two": 1, "2": 1, "latter": 1, "last": 1}


class Mode(Enum):
    ANSWERING = "answering"  # ordinary questions
    CONFIRMING = "confirming"  # waiting for yes / no / one of two named topics
    QUESTIONNAIRE = "questionnaire"  # asking the "which therapy" questions one at a time
    EMERGENCY_CHECK = "emergency_check"  # a bare "help me" was asked back: "Is this an emergency?"


@dataclass(frozen=True)
class Reply:
    text: str  # what to say; empty means say nothing (after "stop")
    decision: Decision
    alert: bool = False  # run the caregiver alert (emergency)
    stop_speaking: bool = False  # cut the current answer at once
    end: bool = False  # goodbye: end the session (or go back to waiting for the wake phrase)
    rate: int | None = None  # new speaking rate to use from this reply on
    volume: float | None = None  # new volume to use from this reply on


@dataclass
class _State:
    mode: Mode = Mode.ANSWERING
    last_text: str = ""  # what was last said, for "repeat"
    last_more: str = ""  # the longer answer of the last topic, for "tell me more"
    candidates: tuple[str, ...] = ()  # topic ids offered in "did you mean"
    question_index: int = 0
    yes_to: set[str] = field(default_factory=set)  # dispositions the questionnaire answers pointed to


class Dialog:
    def __init__(self, understander: Understander, rate: int = 165, volume: float = 0.9,
                 wake_phrase: str | None = None):
        self.understander = understander
        self.content = understander.content
        self.rate = rate
        self.volume = volume
        self.wake_phrase = active_wake_phrase(wake_phrase)
        self.state = _State()

    def use_understander(self, understander: Understander) -> None:
        """New content (edited while running): keep the conversation, drop questions that may be stale."""
        self.understander = understander
        self.content = understander.content
        self.state.mode = Mode.ANSWERING
        self.state.candidates = ()

    @property
    def asked_something(self) -> bool:
        """A "did you mean" or questionnaire question is waiting for its answer."""
        return self.state.mode is not Mode.ANSWERING

    # -- helpers -------------------------------------------------------------------------------------

    def _say(self, text: str, decision: Decision, **flags) -> Reply:
        if text:
            self.state.last_text = text
        return Reply(text=text, decision=decision, **flags)

    def message(self, key: str, **values: str) -> str:
        return self.understander.message(key, wake=self.wake_phrase or "", **values)

    def _answer_topic(self, topic_id: str, decision: Decision) -> Reply:
        topic = self.content.topics[topic_id]
        self.state.mode = Mode.ANSWERING
        self.state.candidates = ()
        if topic_id == "which":
            return self._start_questionnaire(decision)
        self.state.last_more = topic.more
        decision = replace(decision, kind="topic", topic=topic_id, confirm=False, answer=topic.answer)
        return self._say(topic.answer, decision)

    # -- the conversation ----------------------------------------------------------------------------

    def start(self) -> Reply:
        """The greeting, with the disclaimer and the emergency number."""
        text = self.message("greeting")
        if self.wake_phrase:
            text = f"{text} {self.message('greeting_wake')}"
        decision = Decision(input="", transcript=None, kind="unknown", topic=None, disposition=None,
                            command=None, answer=text, confidence=1.0, confirm=False)
        return self._say(text, decision)

    def handle(self, text: str, doubtful: bool = False) -> Reply:
        """The reply to `text`; `doubtful` words (not the recognizer's first reading) are asked back."""
        decision = self.understander.understand(text)
        if doubtful:
            decision = self.understander.doubted(decision)
        if decision.is_emergency:  # never delayed by a pending question
            return self._emergency(decision)
        if self.state.mode is Mode.EMERGENCY_CHECK:
            reply = self._emergency_check(decision)
            if reply is not None:
                return reply
        if self.state.mode is Mode.CONFIRMING:
            reply = self._confirming(decision)
            if reply is not None:
                return reply
        if self.state.mode is Mode.QUESTIONNAIRE:
            reply = self._questionnaire(decision)
            if reply is not None:
                return reply
        return self._answering(decision)

    def _emergency(self, decision: Decision) -> Reply:
        self.state = _State(last_text=self.state.last_text)
        answer = decision.answer
        return self._say(f"{answer} {answer}", decision, alert=True, stop_speaking=True)

    def _emergency_check(self, decision: Decision) -> Reply | None:
        """The answer to "Is this an emergency?": yes, or help again, is one; no gets the help message."""
        self.state.mode = Mode.ANSWERING
        if decision.kind == "command" and decision.command in ("yes", "help") and (
                decision.command == "yes" or decision.confirm):
            return self._emergency(self.understander.emergency(decision.input))
        if decision.kind == "command" and decision.command == "no":
            text = self.message("help")
            return self._say(text, replace(decision, command="help", answer=text))
        return None  # something else was said: answer that instead

    def _answering(self, decision: Decision) -> Reply:
        self.state.mode = Mode.ANSWERING
        if decision.kind == "command" and decision.command == "help" and decision.confirm:
            self.state.mode = Mode.EMERGENCY_CHECK
            return self._say(decision.answer, decision, stop_speaking=True)
        if decision.kind == "command":
            return self._command(decision)
        if decision.kind == "topic":
            if decision.confirm:
                self.state.mode = Mode.CONFIRMING
                runner = decision.runner_up
                offered_two = runner is not None and self.content.topics[runner].title in decision.answer
                self.state.candidates = (decision.topic, runner) if offered_two else (decision.topic,)
                return self._say(decision.answer, decision)
            return self._answer_topic(decision.topic, decision)
        if decision.kind == "triage":
            self.state.last_more = ""
            return self._say(decision.answer, decision)
        return self._say(decision.answer, decision)

    def _command(self, decision: Decision) -> Reply:
        command = decision.command
        if command == "stop":
            return Reply(text="", decision=replace(decision, answer=""), stop_speaking=True)
        if command == "repeat":
            text = self.state.last_text or self.message("nothing_to_repeat")
            return Reply(text=text, decision=replace(decision, answer=text), stop_speaking=True)
        if command == "more":
            text = self.state.last_more or self.message("no_more")
            self.state.last_more = ""
            return self._say(text, replace(decision, answer=text), stop_speaking=True)
        if command in ("slower", "faster", "louder", "softer"):
            change = adjust(command, self.rate, self.volume)
            self.rate, self.volume = change.rate, change.volume
            key = {"slower": ("rate_slower", "rate_slowest"), "faster": ("rate_faster", "rate_fastest"),
                   "louder": ("volume_louder", "volume_loudest"),
                   "softer": ("volume_softer", "volume_softest")}[command][0 if change.changed else 1]
            text = self.message(key)
            return Reply(text=text, decision=replace(decision, answer=text), stop_speaking=True,
                         rate=change.rate, volume=change.volume)
        if command == "help":
            return self._say(self.message("help"), replace(decision, answer=self.message("help")),
                             stop_speaking=True)
        if command == "goodbye":
            text = self.message("goodbye")
            self.state = _State()
            return Reply(text=text, decision=replace(decision, answer=text), stop_speaking=True, end=True)
        # yes / no with nothing pending
        text = self.message("ready")
        return self._say(text, replace(decision, answer=text))

    def _confirming(self, decision: Decision) -> Reply | None:
        candidates = self.state.candidates
        self.state.mode = Mode.ANSWERING
        self.state.candidates = ()
        if decision.kind == "command" and decision.command == "yes":
            return self._answer_topic(candidates[0], decision)
        if decision.kind == "command" and decision.command == "no":
            text = self.message("rephrase")
            return self._say(text, replace(decision, answer=text))
        words = decision.input.lower().split()
        chosen = [ORDINALS[w] for w in words if w in ORDINALS and ORDINALS[w] < len(candidates)]
        if chosen and len(words) <= 5:
            return self._answer_topic(candidates[chosen[0]], decision)
        if decision.kind == "topic" and decision.topic in candidates:
            return self._answer_topic(decision.topic, decision)
        return None  # something else was asked: answer that instead

    # -- "which therapy do I need" -------------------------------------------------------------------

    def _start_questionnaire(self, decision: Decision) -> Reply:
        self.state.mode = Mode.QUESTIONNAIRE
        self.state.question_index = 0
        self.state.yes_to = set()
        self.state.last_more = self.content.topics["which"].more
        first = self.content.triage.questions[0].text
        text = f"{self.message('questionnaire_intro')} {first}"
        return self._say(text, replace(decision, kind="topic", topic="which", confirm=False, answer=text))

    def _questionnaire(self, decision: Decision) -> Reply | None:
        questions = self.content.triage.questions
        question = questions[self.state.question_index]
        if decision.kind == "command" and decision.command in ("yes", "no"):
            if decision.command == "yes":
                self.state.yes_to.add(question.signals)
            self.state.question_index += 1
            if self.state.question_index < len(questions):
                text = questions[self.state.question_index].text
                return self._say(text, replace(decision, answer=text))
            return self._conclude(decision)
        if decision.kind == "command" and decision.command == "repeat":
            return self._say(question.text, replace(decision, answer=question.text), stop_speaking=True)
        if decision.kind == "command" and decision.command in ("stop", "goodbye"):
            self.state.mode = Mode.ANSWERING
            if decision.command == "stop":
                text = self.message("questionnaire_left")
                return self._say(text, replace(decision, answer=text), stop_speaking=True)
            return None
        if decision.kind == "unknown":
            text = f"{self.message('yes_no_please')} {question.text}"
            return self._say(text, replace(decision, answer=text))
        if decision.kind == "command":  # slower, louder, help ...: do it and stay in the questionnaire
            reply = self._command(decision)
            self.state.mode = Mode.QUESTIONNAIRE
            return reply
        self.state.mode = Mode.ANSWERING  # a real question or statement: leave the questionnaire
        return None

    def _conclude(self, decision: Decision) -> Reply:
        yes_to = self.state.yes_to
        disposition = "both" if yes_to >= {"pt", "ot"} else next(iter(yes_to), None)
        key = disposition or "none"
        text = self.content.triage.conclusions[key]
        self.state.mode = Mode.ANSWERING
        concluded = replace(decision, kind="triage" if disposition else "unknown", disposition=disposition,
                            command=None, topic=None, answer=text)
        return self._say(text, concluded)
