"""Microphone -> recognizer -> conversation: the hands-free loop and `listen --once`.

The loop survives every device problem: a microphone that is missing, unplugged or whose sound server
restarts is reported once in the status line and reopened with a growing pause, until it works again.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from assistant.audio.microphone import Microphone, MicrophoneError
from assistant.audio.segmenter import Segmenter, Utterance
from assistant.config import Settings
from assistant.conversation import Conversation
from assistant.core.decision import Decision
from assistant.core.endpoint import question_complete
from assistant.core.understanding import Understander
from assistant.end_check import TranscriptEndCheck
from assistant.hearing import addressed_reading, decide, reading_to_act_on
from assistant.recognition.base import Transcript
from assistant.runtime import load_content_or_exit
from assistant.speculation import SpeculativeRecognizer

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0)  # seconds between attempts to reopen a failed microphone
ONCE_MAX_WAIT = 10.0  # `listen --once`: give up when nobody speaks for this long


def _segmenter(settings: Settings, rate: int, end_check: TranscriptEndCheck | None = None) -> Segmenter:
    return Segmenter(rate=rate, end_silence=settings.endpoint_silence, max_pause=settings.max_pause,
                     max_utterance=settings.max_utterance, end_check=end_check)


def _open_recognizer(settings: Settings, wake_phrase: str | None = None):
    from assistant.recognition import open_recognizer

    content = load_content_or_exit(settings)
    return open_recognizer(settings, content, wake_phrase=wake_phrase)


def listen_once(settings: Settings) -> Decision:
    """Record one utterance from the microphone and decide on it (no speaking)."""
    content = load_content_or_exit(settings)
    understander = Understander(content, emergency_number=settings.emergency_number)
    recognizer = SpeculativeRecognizer(_open_recognizer(settings))
    try:
        with Microphone(settings.input_device, rate=recognizer.recognizer.sample_rate) as mic:
            print("Listening: ask your question.", file=sys.stderr, flush=True)
            end_check = TranscriptEndCheck(recognizer, lambda text, trails_off, others: question_complete(
                text, understander.understand(text), trails_off, understander.subjects, others),
                reading=lambda transcript: reading_to_act_on(transcript, understander))
            utterances = mic.utterances(_segmenter(settings, mic.rate, end_check), max_wait=ONCE_MAX_WAIT,
                                        on_settled=recognizer.speculate)
            utterance = next(utterances, None)
        if utterance is None:
            return _error_decision("microphone", f"no speech heard within {ONCE_MAX_WAIT:.0f} seconds")
        transcript = recognizer.transcribe(utterance.audio)
    except MicrophoneError as exc:
        return _error_decision("microphone", f"{exc}")
    finally:
        recognizer.close()
    return decide(transcript, understander, source="microphone")


def _error_decision(source: str, problem: str) -> Decision:
    return Decision(input=source, transcript=None, kind="unknown", topic=None, disposition=None, command=None,
                    answer=problem, confidence=0.0, confirm=False, error=problem)


def _watch_speaking(conversation: Conversation, stop: threading.Event) -> None:
    """Starts the follow-up window when an answer has finished playing, not when it started."""
    was_speaking = False
    while not stop.wait(0.1):
        speaking = conversation.speaker.is_speaking
        if was_speaking and not speaking:
            conversation.speaking_finished()
        was_speaking = speaking


def run_hands_free(conversation: Conversation, settings: Settings, status: Callable[[str], None],
                   service: bool = False) -> int:
    wake = settings.wake_phrase if settings.wake_phrase and settings.wake_phrase.lower() != "off" else None
    recognizer = _open_recognizer(settings, wake)
    status(f"speech recognizer: {recognizer.description}")
    if service:  # USB devices can come up after the service starts: wait for them instead of failing
        from assistant.audio.wait import wait_for_input_device, wait_for_output_device

        wait_for_input_device(settings.input_device, on_wait=lambda progress: status(progress.message))
        wait_for_output_device(settings.output_device, on_wait=lambda progress: status(progress.message))
    mic = Microphone(settings.input_device, rate=recognizer.sample_rate)
    attempt = 0
    while True:
        try:
            mic.open()
            break
        except MicrophoneError as exc:
            if not service and sys.stdin.isatty():
                status(f"{exc}\nNo microphone: type your questions instead (Ctrl-C to quit).")
                from assistant.commands.listen import _typed

                return _typed(conversation, status)
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            status(f"{exc} Trying again in {delay:.0f} s.")
            time.sleep(delay)
            attempt += 1
    stop_watch = threading.Event()
    watcher = threading.Thread(target=_watch_speaking, args=(conversation, stop_watch), daemon=True)
    watcher.start()
    conversation.greet(ready=True)
    speculative = SpeculativeRecognizer(recognizer)
    phrases = _personal_phrases(conversation, wake, status) if mic.rate == 16000 else None
    try:
        _listen(conversation, mic, speculative, settings, status, phrases)
    finally:
        stop_watch.set()
        mic.close()
        conversation.speaker.stop()
        speculative.close()
    return 0


def _personal_phrases(conversation: Conversation, wake: str | None, status: Callable[[str], None]):
    from assistant.phrases.personal import PersonalPhrases

    phrases = PersonalPhrases.load(conversation.dialog.understander, wake_phrase=wake)
    if phrases is not None:
        status(f"personal phrases: {', '.join(phrases.names)}")
    return phrases


def words_heard(utterance: Utterance, recognizer, reading: Callable[[Transcript], str]) -> tuple[str, bool]:
    """The words to act on for one utterance, and whether they are another reading than Whisper's first (then
    asked back). The reading that starts with the wake phrase is taken only from an utterance as loud as the
    person (hearing.addressed_reading), never from a TV's quieter stretches."""
    transcript = addressed_reading(recognizer.transcribe(utterance.audio), utterance.above_room_db)
    text = reading(transcript)
    return text, text != transcript.text


def _listen(conversation: Conversation, mic: Microphone, recognizer: SpeculativeRecognizer, settings: Settings,
            status: Callable[[str], None], phrases=None) -> None:
    attempt = 0
    if not conversation.speaker.is_speaking:
        status("listening")  # otherwise said when the greeting has finished
    def reading(transcript: Transcript) -> str:
        # the content may have been reloaded: the understander is looked up each time
        return reading_to_act_on(transcript, conversation.dialog.understander, conversation.wake.split)

    end_check = TranscriptEndCheck(recognizer, conversation.question_complete, reading=reading)
    while not conversation.finished.is_set():
        try:
            for utterance in mic.utterances(_segmenter(settings, mic.rate, end_check), stop=conversation.finished,
                                            on_settled=recognizer.speculate):
                attempt = 0
                text, doubtful = words_heard(utterance, recognizer, reading)
                if phrases is not None:  # the person's own recording decides where it matches
                    heard = phrases.hear(utterance.audio, text)
                    if heard.phrase is not None:
                        status(f'personal phrase "{heard.phrase}" (transcript "{text}")')
                        doubtful = False
                    if heard.ask_back:
                        conversation.speaker.speak(conversation.dialog.message("yes_no_please"), block=False)
                        continue
                    text = heard.text
                if text:
                    conversation.hear(text, doubtful=doubtful)
                    if not conversation.finished.is_set() and not conversation.speaker.is_speaking:
                        status("listening")  # otherwise said when the answer has finished playing
        except MicrophoneError as exc:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            status(f"microphone problem: {exc} Trying again in {delay:.0f} s.")
            conversation.finished.wait(delay)
            attempt += 1
            try:
                mic.reopen(refresh=True)
                status("microphone back: listening")
            except MicrophoneError as again:
                log.debug("microphone still unavailable: %s", again)
