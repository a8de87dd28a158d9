"""Turn-taking on the device: when to answer, when to stay quiet, and the follow-up window.

The wake phrase opens a window for a question; after an answer a follow-up needs no wake phrase for a few
seconds. While the assistant speaks, only "stop", the wake phrase or an emergency cut in (barge-in), so it
never answers its own voice. An emergency is answered even without the wake phrase.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.app import Application
from assistant.core.dialog import Dialog, Reply
from assistant.core.question_end import TRAILING_MARKS, question_complete
from assistant.core.wake import WakeWord

log = logging.getLogger(__name__)


class Speaks(Protocol):
    def speak(self, text: str, block: bool = True) -> None: ...
    def stop(self) -> None: ...
    @property
    def is_speaking(self) -> bool: ...
    def set_voice(self, rate: int | None = None, volume: float | None = None) -> None: ...


class SilentSpeaker:
    """Stands in for the speaker with --no-speak: answers are printed only."""

    is_speaking = False

    def speak(self, text: str, block: bool = True) -> bool:
        return True

    def stop(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> bool:
        return True


@dataclass
class TurnRecord:
    transcript: str
    reply: Reply


class TurnTaking:
    """One device's conversation: a Dialog with a speaker, a wake phrase and a follow-up window."""

    def __init__(self, dialog: Dialog, speaker: Speaks, status: Callable[[str], None],
                 on_turn: Callable[[TurnRecord], None], on_alert: Callable[[str], None],
                 on_speech_change: Callable[[int | None, float | None], None],
                 wake_phrase: str | None = None, follow_up_seconds: float = 8.0, end_on_goodbye: bool = True,
                 refresh: Callable[[], None] | None = None):
        self.dialog = dialog
        self.speaker = speaker
        self.status = status
        self.on_turn = on_turn
        self.on_alert = on_alert
        self.on_speech_change = on_speech_change
        self.wake = WakeWord(wake_phrase)
        self.follow_up_seconds = follow_up_seconds
        # As a service nobody could start it again: "goodbye" only ends the current conversation.
        self.end_on_goodbye = end_on_goodbye
        self.refresh = refresh or (lambda: None)  # e.g. reload edited content before each turn
        self.awake_until = 0.0 if self.wake.enabled else float("inf")
        # Woken by the wake phrase alone ("hey coach" ... "yes?"): what comes next is said to the assistant.
        # Otherwise the window is a follow-up after an answer, where the TV may be talking too.
        self.invited = False
        self.finished = threading.Event()

    # -- one transcript ------------------------------------------------------------------------------

    def greet(self, ready: bool = False) -> None:
        """The greeting; `ready` adds the short phrase that tells the person it is listening now."""
        reply = self.dialog.start()
        if ready:
            reply = dataclasses.replace(reply, text=f"{reply.text} {self.dialog.message('ready')}")
        self._say(reply)

    def hear(self, transcript: str, typed: bool = False, doubtful: bool = False) -> None:
        """Handle one recognized (or typed) utterance. Typed text is deliberate: it always gets an answer.
        `doubtful`: the words are not the recognizer's first reading, so an answer is asked back first."""
        transcript = transcript.strip()
        if not transcript:
            return
        self.refresh()
        if typed:
            self.speaker.stop()
        speaking = not typed and self.speaker.is_speaking  # typed text is deliberate: never taken for an echo
        woke, rest = self.wake.split(transcript)
        if speaking:
            # Barge-in: only "stop" or the wake phrase cut in; anything else is probably our own voice.
            heard = self.dialog.understander.understand(rest if woke else transcript)
            if (woke and self.wake.enabled) or heard.command in ("stop", "goodbye") or heard.is_emergency:
                self.speaker.stop()
                self.status("stopped")
                if heard.command == "stop" or not rest:
                    return
            else:
                self.status(f'heard "{transcript}" while speaking: only "stop" interrupts')
                return
        if time.monotonic() > self.awake_until:
            if not woke:
                decision = self.dialog.understander.understand(transcript)
                if not decision.is_emergency:  # an emergency is answered even when asleep
                    self.status(f'heard "{transcript}" without the wake phrase: not answering')
                    return
                rest = transcript
            elif not rest.strip():
                self.status("listening")
                self._invite()
                return
        elif woke and self.wake.enabled and not rest.strip():
            self._invite()
            return
        elif self.wake.enabled and not woke and not typed and not self._addressed(transcript):
            self.status(f'heard "{transcript}" after the answer, not about therapy: not answering '
                        f'(say the wake phrase first)')
            return
        self.invited = False
        self.status(f'heard "{rest or transcript}"')
        reply = self.dialog.handle(rest or transcript, doubtful=doubtful)
        if reply.alert:
            self.on_alert(transcript)
        if reply.rate is not None or reply.volume is not None:
            self.on_speech_change(reply.rate, reply.volume)
        if reply.stop_speaking:
            self.speaker.stop()
        self.on_turn(TurnRecord(transcript=transcript, reply=reply))
        self._say(reply)
        if reply.end:
            if self.wake.enabled:
                self.awake_until = 0.0
                self.status("waiting for the wake phrase")
            elif self.end_on_goodbye:
                self.finished.set()
        elif self.wake.enabled:
            self.awake_until = time.monotonic() + self.follow_up_seconds

    def _invite(self) -> None:
        self.awake_until = time.monotonic() + self.follow_up_seconds
        self.invited = True
        self.speaker.speak(self.dialog.message("listening"), block=False)

    def _addressed(self, transcript: str) -> bool:
        """In the follow-up window without the wake phrase: is this said to the assistant, or is it the TV?
        Said to it: when it was invited, when a yes/no question is waiting, or when the words are about what
        it knows (a topic, a triage statement, a voice command, an emergency). A background voice that
        happens to fall in the window is rarely any of these (bench/home_listening.py measures it)."""
        if self.invited or self.dialog.asked_something:
            return True
        return self.dialog.understander.understand(transcript).kind != "unknown"

    def question_complete(self, transcript: str, trails_off: bool = False,
                          alternatives: Sequence[str] = ()) -> bool | None:
        """Whether what was heard so far is the whole question (the segmenter's end check); `alternatives`:
        the recognizer's other readings of the same audio."""
        woke, rest = self.wake.split(transcript)
        woke = woke and self.wake.enabled
        if woke and not rest.strip():
            return question_complete(transcript, None)  # the wake phrase alone: the question is to come
        if not woke:
            rest = transcript
        understander = self.dialog.understander
        heard = understander.understand(rest)
        if not woke and self._waiting_for_wake() and not heard.is_emergency:
            # Words that will not be answered are no reason to end early. Over a TV the wake phrase on its
            # own is often misheard ("hey coach," -> "health"), and ending there cut it off from the
            # question after it: the endpoint silence decides instead.
            return None
        trails_off = trails_off or transcript.rstrip().endswith(TRAILING_MARKS)  # split() keeps words only
        others = [self.wake.split(other)[1] if self.wake.enabled else other for other in alternatives]
        return question_complete(rest, heard, trails_off, understander.subjects, others)

    def _waiting_for_wake(self) -> bool:
        """Asleep and silent: only the wake phrase (or an emergency) gets an answer now."""
        return self.wake.enabled and time.monotonic() > self.awake_until and not self.speaker.is_speaking

    def _say(self, reply: Reply) -> None:
        if not reply.text:
            return
        self.status(f"answering: {reply.text[:70]}{'...' if len(reply.text) > 70 else ''}")
        self.speaker.speak(reply.text, block=False)

    def speaking_finished(self) -> None:
        """Called by the loop when playback ends: the follow-up window starts after the answer."""
        self.status("listening")
        if self.wake.enabled and self.awake_until > 0:
            self.awake_until = time.monotonic() + self.follow_up_seconds


def device_conversation(app: Application, speaker: Speaks, status: Callable[[str], None],
                        on_answer: Callable[[str], None], service: bool = False) -> TurnTaking:
    """The conversation on this device: its own dialog, the speaker, the caregiver alert and the log."""

    def on_turn(turn: TurnRecord) -> None:
        on_answer(turn.reply.text)
        app.history.record(turn.reply, turn.transcript)

    def reload_content() -> None:
        if app.reload_content(on_problem=status):
            status("content reloaded")

    app.reload_content(on_problem=status)  # the first call only starts watching the files
    return TurnTaking(app.new_dialog(), speaker, status=status, on_turn=on_turn, on_alert=app.alert.fire,
                      on_speech_change=app.remember_speech, wake_phrase=app.wake_phrase,
                      follow_up_seconds=app.settings.follow_up_seconds, end_on_goodbye=not service,
                      refresh=reload_content)
