"""A room satellite: the microphone, voice activity, the wake phrase, turn-taking and the speaker stay on this
small device; each utterance goes to the server's `asr` and the words to its `handle` over Wyoming, where
this room has its own conversation (and the caregiver alert names the room).

microphone -> voice activity (segmenter) -> server asr -> wake phrase / barge-in / follow-up (TurnTaking)
-> server handle -> speaker.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections.abc import Callable

from assistant.app import Application
from assistant.audio.microphone import Microphone
from assistant.audio.segmenter import Segmenter
from assistant.core.dialog import Dialog, Reply
from assistant.loop.hands_free import open_microphone, utterances_surviving_errors
from assistant.loop.turn_taking import Speaks, TurnRecord, TurnTaking
from assistant.network.client import RoomClient, ServerError

log = logging.getLogger(__name__)

RATE = 16000  # what the satellite sends: Home Assistant's own pipeline format
# Said when the server cannot be reached: the emergency number must still be heard.
SERVER_DOWN = "I cannot reach the assistant right now. If this is an emergency, call {number}."
Status = Callable[[str], None]


class RoomDialog(Dialog):
    """The conversation of this room, kept by the server: a local Dialog only for its messages and for what
    turn-taking asks of the words (stop, wake phrase, emergency) before they are sent."""

    def __init__(self, app: Application, server: RoomClient, status: Status) -> None:
        super().__init__(app.understander, rate=app.settings.rate, volume=app.settings.volume,
                         wake_phrase=app.wake_phrase)
        self.server = server
        self.status = status
        self.emergency_number = app.settings.emergency_number

    def handle(self, text: str, doubtful: bool = False) -> Reply:
        decision = self.understander.understand(text)
        try:
            handled = self.server.handle(text)
        except ServerError as exc:
            self.status(f"server problem: {exc}")
            said = SERVER_DOWN.format(number=self.emergency_number)
            return Reply(text=said, decision=dataclasses.replace(decision, answer=said), stop_speaking=True)
        said = handled.text or ""
        context = handled.context or {}
        rate, volume = context.get("rate"), context.get("volume")
        changed_rate = rate if isinstance(rate, int) and rate != self.rate else None
        changed_volume = volume if isinstance(volume, int | float) and volume != self.volume else None
        self.rate = rate if changed_rate is not None else self.rate
        self.volume = float(volume) if changed_volume is not None else self.volume
        self.state.last_text = said or self.state.last_text
        # The server fires the caregiver alert (it knows the room); "goodbye" still ends the local window.
        return Reply(text=said, decision=dataclasses.replace(decision, answer=said), alert=False,
                     stop_speaking=decision.kind == "command" or decision.is_emergency,
                     end=decision.command == "goodbye", rate=changed_rate, volume=changed_volume)


def satellite_conversation(app: Application, server: RoomClient, speaker: Speaks, status: Status,
                           on_answer: Callable[[str], None], service: bool = False) -> TurnTaking:
    def on_turn(turn: TurnRecord) -> None:
        on_answer(turn.reply.text)

    return TurnTaking(RoomDialog(app, server, status), speaker, status=status, on_turn=on_turn,
                      on_alert=lambda _: None, on_speech_change=app.remember_speech, wake_phrase=app.wake_phrase,
                      follow_up_seconds=app.settings.follow_up_seconds, end_on_goodbye=not service)


def run_satellite(app: Application, turns: TurnTaking, server: RoomClient, status: Status,
                  service: bool = False) -> int:
    status(f"room satellite '{server.room}' of {server.uri}")
    if service:  # USB devices can come up after the service starts: wait for them instead of failing
        from assistant.audio.wait import wait_for_input_device, wait_for_output_device

        wait_for_input_device(app.settings.input_device, on_wait=lambda progress: status(progress.message))
        wait_for_output_device(app.settings.output_device, on_wait=lambda progress: status(progress.message))
    mic = Microphone(app.settings.input_device, rate=RATE)
    if not open_microphone(mic, status, give_up=not service and sys.stdin.isatty()):
        return 1
    if hasattr(turns.speaker, "on_finished"):
        turns.speaker.on_finished = turns.speaking_finished
    turns.greet(ready=True)
    try:
        _listen(app, turns, mic, server, status)
    finally:
        mic.close()
        turns.speaker.stop()
    return 0


def _listen(app: Application, turns: TurnTaking, mic: Microphone, server: RoomClient, status: Status) -> None:
    if not turns.speaker.is_speaking:
        status("listening")
    settings = app.settings

    def new_segmenter() -> Segmenter:
        return Segmenter(rate=mic.rate, end_silence=settings.endpoint_silence, max_pause=settings.max_pause,
                         max_utterance=settings.max_utterance)

    for utterance in utterances_surviving_errors(mic, new_segmenter, turns.finished, status):
        started = time.perf_counter()
        try:
            text = server.transcribe(utterance.audio, rate=mic.rate)
        except ServerError as exc:
            status(f"server problem: {exc}")
            turns.speaker.speak(SERVER_DOWN.format(number=settings.emergency_number), block=False)
            continue
        log.info("heard by the server in %.2f s: %r", time.perf_counter() - started, text)
        if text:
            turns.hear(text)
            if not turns.finished.is_set() and not turns.speaker.is_speaking:
                status("listening")
