"""The hands-free loop: listen, recognize, understand, answer aloud, listen again.

Devices and engines come in from outside (microphone, recognizer, speaker), so the loop itself only
wires them to the pure Dialog. While the assistant speaks, what the microphone hears is only checked
for "stop" or the wake phrase (barge-in), never answered, so the assistant cannot answer itself.
A microphone that fails is reopened with a back-off; nothing a device does ends the loop.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz

from assistant.core.dialog import Dialog, Reply
from assistant.core.normalize import basic_tokens, find_phrase

log = logging.getLogger(__name__)
WAKE_SIMILARITY = 85  # rapidfuzz ratio of the opening words to the wake phrase


class Speaks(Protocol):
    def speak(self, text: str, block: bool = True) -> None: ...
    def stop(self) -> None: ...
    @property
    def is_speaking(self) -> bool: ...
    def set_voice(self, rate: int | None = None, volume: float | None = None) -> None: ...


class Hears(Protocol):
    def utterances(self) -> Iterator[np.ndarray | None]:
        """Whole utterances as int16 mono at the recognizer's rate; None now and then when idle."""
        ...


@dataclass
class TurnRecord:
    transcript: str
    reply: Reply


class WakeWord:
    """Finds the wake phrase in a transcript and returns what was said after it."""

    def __init__(self, phrase: str | None):
        self.tokens = tuple(basic_tokens(phrase)) if phrase and phrase.lower() != "off" else ()

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def split(self, transcript: str) -> tuple[bool, str]:
        tokens = basic_tokens(transcript)
        if not self.tokens:
            return True, transcript
        pos = find_phrase(tokens, self.tokens)
        if pos >= 0:
            return True, " ".join(tokens[pos + len(self.tokens):])
        # Recognizers often mishear a short phrase at the start ("hey couch", "he coach"): accept a close
        # match of the opening words, never one later in the sentence.
        size = len(self.tokens)
        opening = " ".join(tokens[:size])
        if len(tokens) >= size and fuzz.ratio(opening, " ".join(self.tokens)) >= WAKE_SIMILARITY:
            return True, " ".join(tokens[size:])
        return False, transcript


class Conversation:
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
        self.finished = threading.Event()

    # -- one transcript ------------------------------------------------------------------------------

    def greet(self, ready: bool = False) -> None:
        """The greeting; `ready` adds the short phrase that tells the person it is listening now."""
        reply = self.dialog.start()
        if ready:
            reply = dataclasses.replace(reply, text=f"{reply.text} {self.dialog.message('ready')}")
        self._say(reply)

    def hear(self, transcript: str, typed: bool = False) -> None:
        """Handle one recognized (or typed) utterance. Typed text is deliberate: it always gets an answer."""
        transcript = transcript.strip()
        if not transcript:
            return
        self.refresh()
        if typed:
            self.speaker.stop()
        speaking = self.speaker.is_speaking
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
                self.awake_until = time.monotonic() + self.follow_up_seconds
                self.status("listening")
                self.speaker.speak(self.dialog.message("listening"), block=False)
                return
        elif woke and self.wake.enabled and not rest.strip():
            self.awake_until = time.monotonic() + self.follow_up_seconds
            self.speaker.speak(self.dialog.message("listening"), block=False)
            return
        self.status(f'heard "{rest or transcript}"')
        reply = self.dialog.handle(rest or transcript)
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
