"""The hands-free loop, top-down: microphone -> voice activity (segmenter) -> early decoding -> the reading acted
on -> personal phrases -> the conversation's turn -> speaker. And `listen --once`: one utterance, decided.

The loop survives every device problem: a microphone that is missing, unplugged or whose sound server
restarts is reported once in the status line and reopened with a growing pause, until it works again.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator

from assistant.app import Application
from assistant.audio.microphone import Microphone, MicrophoneError
from assistant.audio.segmenter import Segmenter, Utterance
from assistant.config import Settings
from assistant.core.decision import Decision
from assistant.core.question_end import question_complete
from assistant.loop.early_decoding import SpeculativeRecognizer, TranscriptEndCheck
from assistant.loop.turn_taking import TurnTaking
from assistant.loop.typed import converse_typed
from assistant.phrases.personal import PersonalPhrases
from assistant.recognition.base import Transcript
from assistant.recognition.reading import (
    addressed_reading,
    asked_back,
    decide,
    listened_words,
    reading_to_act_on,
)

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0)  # seconds between attempts to reopen a failed microphone
ONCE_MAX_WAIT = 10.0  # `listen --once`: give up when nobody speaks for this long
Status = Callable[[str], None]


def run_hands_free(app: Application, turns: TurnTaking, status: Status, service: bool = False) -> int:
    recognizer = app.recognizer(listen_for_wake=True)
    status(f"speech recognizer: {recognizer.description}")
    if service:  # USB devices can come up after the service starts: wait for them instead of failing
        from assistant.audio.wait import wait_for_input_device, wait_for_output_device

        wait_for_input_device(app.settings.input_device, on_wait=lambda progress: status(progress.message))
        wait_for_output_device(app.settings.output_device, on_wait=lambda progress: status(progress.message))
    mic = Microphone(app.settings.input_device, rate=recognizer.sample_rate)
    if not open_microphone(mic, status, give_up=not service and sys.stdin.isatty()):
        status("No microphone: type your questions instead (Ctrl-C to quit).")
        return converse_typed(turns)
    # The follow-up window starts when an answer has finished playing, not when it started.
    if hasattr(turns.speaker, "on_finished"):
        turns.speaker.on_finished = turns.speaking_finished
    turns.greet(ready=True)
    speculative = SpeculativeRecognizer(recognizer)
    phrases = app.personal_phrases() if mic.rate == 16000 else None
    if phrases is not None:
        status(f"personal phrases: {', '.join(phrases.names)}")
    try:
        _listen(turns, mic, speculative, app.settings, status, phrases)
    finally:
        mic.close()
        turns.speaker.stop()
        speculative.close()
    return 0


def _listen(turns: TurnTaking, mic: Microphone, recognizer: SpeculativeRecognizer, settings: Settings,
            status: Status, phrases: PersonalPhrases | None) -> None:
    if not turns.speaker.is_speaking:
        status("listening")  # otherwise said when the greeting has finished

    def reading(transcript: Transcript) -> str:
        # the content may have been reloaded: the understander is looked up each time
        return reading_to_act_on(transcript, turns.dialog.understander, turns.wake.split)

    end_check = TranscriptEndCheck(recognizer, turns.question_complete, reading=reading)
    for utterance in utterances_surviving_errors(mic, lambda: _segmenter(settings, mic.rate, end_check),
                                                 turns.finished, status, on_settled=recognizer.speculate):
        _take_turn(turns, utterance, recognizer, reading, status, phrases)


def utterances_surviving_errors(mic: Microphone, new_segmenter: Callable[[], Segmenter], stop: threading.Event,
                                status: Status, on_settled: Callable | None = None) -> Iterator[Utterance]:
    """The microphone's utterances until `stop`; a microphone that fails is reported and reopened with a
    growing pause (a fresh segmenter each time), so nothing a device does ends the loop."""
    attempt = 0
    while not stop.is_set():
        try:
            for utterance in mic.utterances(new_segmenter(), stop=stop, on_settled=on_settled):
                attempt = 0
                yield utterance
        except MicrophoneError as exc:
            delay = retry_delay(attempt)
            status(f"microphone problem: {exc} Trying again in {delay:.0f} s.")
            stop.wait(delay)
            attempt += 1
            try:
                mic.reopen(refresh=True)
                status("microphone back: listening")
            except MicrophoneError as again:
                log.debug("microphone still unavailable: %s", again)


def _take_turn(turns: TurnTaking, utterance: Utterance, recognizer: SpeculativeRecognizer,
               reading: Callable[[Transcript], str], status: Status, phrases: PersonalPhrases | None) -> None:
    """One utterance: the words acted on, the person's own phrases where they match, then the turn."""
    transcript = addressed_reading(recognizer.transcribe(utterance.audio), utterance.above_room_db)
    if asked_back(transcript, turns.dialog.understander):  # a listened-for yes/no the free reading heard the other way
        status(f'heard "{transcript.listened_for.text}" and "{transcript.text}": asking back')  # type: ignore[union-attr]
        turns.speaker.speak(turns.dialog.message("yes_no_please"), block=False)
        return
    text = reading(transcript)
    doubtful = text != transcript.text
    if transcript.listened_for is not None and text.endswith(listened_words(transcript)):
        status(f'listened for "{transcript.listened_for.text}" (transcript "{transcript.text}")')
    if phrases is not None:  # the person's own recording decides where it matches
        heard = phrases.hear(utterance.audio, text)
        if heard.phrase is not None:
            status(f'personal phrase "{heard.phrase}" (transcript "{text}")')
            doubtful = False
        if heard.ask_back:
            turns.speaker.speak(turns.dialog.message("yes_no_please"), block=False)
            return
        text = heard.text
    if text:
        turns.hear(text, doubtful=doubtful)
        if not turns.finished.is_set() and not turns.speaker.is_speaking:
            status("listening")  # otherwise said when the answer has finished playing


def words_heard(utterance: Utterance, recognizer, reading: Callable[[Transcript], str]) -> tuple[str, bool]:
    """The words to act on for one utterance, and whether they are another reading than Whisper's first (then
    asked back). The reading that starts with the wake phrase is taken only from an utterance as loud as the
    person (recognition.reading.addressed_reading), never from a TV's quieter stretches."""
    transcript = addressed_reading(recognizer.transcribe(utterance.audio), utterance.above_room_db)
    text = reading(transcript)
    return text, text != transcript.text


def listen_once(app: Application) -> Decision:
    """Record one utterance from the microphone and decide on it (no speaking)."""
    understander = app.understander
    recognizer = SpeculativeRecognizer(app.recognizer())
    try:
        with Microphone(app.settings.input_device, rate=recognizer.recognizer.sample_rate) as mic:
            print("Listening: ask your question.", file=sys.stderr, flush=True)
            end_check = TranscriptEndCheck(recognizer, lambda text, trails_off, others: question_complete(
                text, understander.understand(text), trails_off, understander.subjects, others),
                reading=lambda transcript: reading_to_act_on(transcript, understander))
            utterances = mic.utterances(_segmenter(app.settings, mic.rate, end_check), max_wait=ONCE_MAX_WAIT,
                                        on_settled=recognizer.speculate)
            utterance = next(utterances, None)
        if utterance is None:
            problem = f"no speech heard within {ONCE_MAX_WAIT:.0f} seconds"
            return Decision.unusable("microphone", problem, error=problem)
        transcript = recognizer.transcribe(utterance.audio)
    except MicrophoneError as exc:
        return Decision.unusable("microphone", str(exc), error=str(exc))
    finally:
        recognizer.close()
    return decide(transcript, understander, source="microphone")


def open_microphone(mic: Microphone, status: Status, give_up: bool) -> bool:
    """Open the microphone, trying again with a growing pause until it works (a USB microphone plugged in
    late); with `give_up` (someone at a terminal, not a service), False at the first failure instead."""
    attempt = 0
    while True:
        try:
            mic.open()
            return True
        except MicrophoneError as exc:
            if give_up:
                status(str(exc))
                return False
            delay = retry_delay(attempt)
            status(f"{exc} Trying again in {delay:.0f} s.")
            time.sleep(delay)
            attempt += 1


def retry_delay(attempt: int) -> float:
    """Seconds to wait before reopening a failed microphone for the attempt-th time in a row."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]


def _segmenter(settings: Settings, rate: int, end_check: TranscriptEndCheck | None = None) -> Segmenter:
    return Segmenter(rate=rate, end_silence=settings.endpoint_silence, max_pause=settings.max_pause,
                     max_utterance=settings.max_utterance, end_check=end_check)
