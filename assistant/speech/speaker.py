"""The assistant's voice: speaks a reply sentence by sentence, can be stopped at once, never crashes.

speak(text) hands the text to a worker thread that synthesizes the first sentence (~15 ms), opens the
output stream with it queued behind a short lead-in silence, then synthesizes the remaining sentences and
queues each on the stream while the earlier ones play: the first words are heard after one short
synthesis whatever the answer's length. stop() from any thread
silences the stream and ends the worker. A missing or broken output device, or a missing espeak-ng,
costs one warning in the log: the caller has already printed the answer, so the conversation goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.core.spoken_number import say_numbers_as_dialled
from assistant.speech import synth
from assistant.speech.chunks import speech_chunks
from assistant.speech.isolated import IsolatedSynth
from assistant.speech.player import LATENCY_SECONDS, OutputDeviceError, Playback

log = logging.getLogger(__name__)

STOP_JOIN_SECONDS = 0.5  # how long stop() waits for the worker to wind down


@dataclass
class SpeechTiming:
    """When things happened during one speak() call (time.perf_counter seconds), for benchmarks."""

    requested_at: float
    first_sample_at: float | None = None  # first answer sample handed to the output stream
    first_sample_dac_at: float | None = None  # ... and when PortAudio expected it at the speaker
    stopped_at: float | None = None
    silenced_at: float | None = None
    finished_at: float | None = None
    completed: bool = False
    underruns: int = 0  # times the output buffer ran dry during this answer (each one an audible gap)


# One synthesis process for every Speaker in this process (espeak-ng is one engine anyway): a crash in it
# costs a retry, not the assistant (isolated.py).
_SYNTHESIS = IsolatedSynth()


class _Utterance:
    def __init__(self, chunks: list[str]) -> None:
        self.chunks = chunks
        self.stop = threading.Event()
        self.done = threading.Event()
        self.playback: Playback | None = None
        self.timing = SpeechTiming(requested_at=time.perf_counter())
        self.thread: threading.Thread | None = None


class Speaker:
    """Speaks replies with the rate, volume, voice and output device in `settings` (read at each call)."""

    def __init__(self, settings: Settings, streaming: bool = True, warm_up: bool = True,
                 latency: float = LATENCY_SECONDS) -> None:
        self.settings = settings
        self.streaming = streaming  # False: synthesize the whole answer before playing (benchmark baseline)
        self.latency = latency  # output buffering (seconds); see player.LATENCY_SECONDS
        self._lock = threading.Lock()
        self._current: _Utterance | None = None
        self._warned: set[str] = set()
        self._voice_ids: dict[str, str | None] = {}
        self.last_timing: SpeechTiming | None = None
        self._engine_missing = False  # espeak-ng cannot load: do not open the device for nothing
        self.on_finished: Callable[[], None] | None = None  # called when an answer has stopped playing
        if warm_up:
            self._warm_up()

    # ----- problems are logged once, never raised --------------------------------------------------------
    def _warn_once(self, kind: str, message: str) -> None:
        if kind in self._warned:
            log.debug("%s", message)
        else:
            self._warned.add(kind)
            log.warning("%s", message)

    def _warm_up(self) -> None:
        """Load espeak-ng now (~40 ms the first time) so the first reply starts as fast as the others."""
        try:
            self._voice_id()
            _SYNTHESIS.start()
        except synth.EspeakMissingError as exc:
            self._engine_missing = True
            self._warn_once("synth", f"{exc} Answers are printed only.")
        except synth.SpeechError as exc:
            self._warn_once("synth", f"{exc} Answers are printed only.")

    def _voice_id(self) -> str | None:
        spec = (self.settings.voice or "").strip()
        if spec not in self._voice_ids:
            try:
                self._voice_ids[spec] = synth.resolve_voice(spec) if spec else None
                if not spec:
                    synth.list_voices()  # still start the engine once
            except synth.UnknownVoiceError as exc:
                self._warn_once("voice", f"{exc} Using the default voice.")
                self._voice_ids[spec] = None
        return self._voice_ids[spec]

    # ----- synthesis ---------------------------------------------------------------------------------------
    def _synthesize(self, text: str) -> np.ndarray:
        # The emergency number is said as dialled ("nine one one"); the printed answer keeps its digits.
        spoken = say_numbers_as_dialled(text, [self.settings.emergency_number])
        return _SYNTHESIS.synthesize(spoken, self.settings.rate, self.settings.volume, self._voice_id())

    def render(self, text: str) -> np.ndarray:
        """The whole spoken answer as int16 samples at synth.SAMPLE_RATE (what speak() would play)."""
        pieces = [self._synthesize(chunk) for chunk in speech_chunks(text)]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)

    def save(self, text: str, path: str | Path) -> Path:
        """Write the spoken answer to a WAV file. Raises SpeechError (or OSError) naming what went wrong."""
        audio = self.render(text)
        try:
            return synth.write_wav(path, audio)
        except OSError as exc:
            raise synth.SpeechError(f"Cannot write the spoken answer to {path}: {exc.strerror or exc}") from exc

    # ----- speaking ----------------------------------------------------------------------------------------
    def speak(self, text: str, block: bool = True) -> bool:
        """Say `text` (interrupting anything being said). With block=True returns True once it was all
        played, False if it was stopped or could not be played; with block=False returns True at once."""
        self.stop()
        chunks = speech_chunks(text)
        if not chunks:
            return True
        if self._engine_missing:
            log.debug("not speaking: espeak-ng is missing")
            return False
        utterance = _Utterance(chunks)
        self.last_timing = utterance.timing
        thread = threading.Thread(target=self._run, args=(utterance,), name="speaker", daemon=True)
        utterance.thread = thread
        with self._lock:
            self._current = utterance
        thread.start()
        if not block:
            return True
        try:
            while not utterance.done.wait(0.1):
                pass
        except KeyboardInterrupt:
            self.stop()
            raise
        return utterance.timing.completed

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current answer is finished; True if there is nothing left to say."""
        with self._lock:
            current = self._current
        return current is None or current.done.wait(timeout)

    def stop(self) -> None:
        """Silence the current answer at once (callable from any thread)."""
        with self._lock:
            current = self._current
        if current is None:
            return
        if not current.stop.is_set():
            current.timing.stopped_at = time.perf_counter()
            current.stop.set()
        playback = current.playback
        if playback is not None:
            playback.stop()
        if current.thread is not None and current.thread is not threading.current_thread():
            current.thread.join(STOP_JOIN_SECONDS)

    @property
    def is_speaking(self) -> bool:
        with self._lock:
            current = self._current
        return current is not None and not current.done.is_set()

    def _run(self, utterance: _Utterance) -> None:
        try:
            self._play(utterance)
        except Exception as exc:  # noqa: BLE001 - the hands-free loop must survive anything here
            self._warn_once("unexpected", f"Speaking failed ({exc}); the answer is printed only.")
            log.debug("speaking failed", exc_info=True)
        finally:
            timing = utterance.timing
            timing.finished_at = time.perf_counter()
            playback = utterance.playback
            if playback is not None:
                playback.close()
                timing.first_sample_at = playback.first_sample_at
                timing.first_sample_dac_at = playback.first_sample_dac_at
                timing.silenced_at = playback.silenced_at
                timing.underruns = playback.underruns
            utterance.done.set()
            with self._lock:
                last = self._current is utterance  # not replaced by the next answer already
                if last:
                    self._current = None
            if last and self.on_finished is not None:
                self.on_finished()

    def _play(self, utterance: _Utterance) -> None:
        # The first sentence is synthesized before the stream opens and is queued right behind the
        # lead-in, so it is heard after synthesis + lead-in instead of behind a full buffer of silence.
        # The stream starts by filling its whole buffer from what is queued: when the first sentence is
        # shorter than that ("Yes."), the next ones are synthesized first too, or the rest of the buffer
        # would be silence committed before the next sentence exists (an audible pause).
        ahead = 1 if self.streaming else len(utterance.chunks)  # whole-answer mode: benchmark baseline
        ready: list[np.ndarray] = []
        ready_seconds = 0.0
        for chunk in utterance.chunks:
            if len(ready) >= ahead and ready_seconds >= self.latency:
                break
            audio = self._synthesize_or_warn(chunk)
            if audio is None or utterance.stop.is_set():
                return
            ready.append(audio)
            ready_seconds += len(audio) / synth.SAMPLE_RATE
        try:
            playback = Playback(self.settings.output_device, latency=self.latency)
            for audio in ready:
                playback.feed(audio, synth.SAMPLE_RATE)
            utterance.playback = playback
            if utterance.stop.is_set():
                return
            playback.start()
        except OutputDeviceError as exc:
            self._warn_once("device", f"{exc} The answer is printed only.")
            return
        for chunk in utterance.chunks[len(ready):]:  # the rest, while the first plays
            if utterance.stop.is_set():
                break
            audio = self._synthesize_or_warn(chunk)
            if audio is None:
                playback.stop()
                break
            playback.feed(audio, synth.SAMPLE_RATE)
        playback.finish()
        if utterance.stop.is_set():
            playback.stop()
        utterance.timing.completed = playback.wait()
        if playback.failure:
            self._warn_once("device", f"Speaking stopped: {playback.failure}. The answer is printed only.")

    def _synthesize_or_warn(self, text: str) -> np.ndarray | None:
        try:
            return self._synthesize(text)
        except synth.EspeakMissingError as exc:
            self._engine_missing = True
            self._warn_once("synth", f"{exc} The answer is printed only.")
            return None
        except synth.SpeechError as exc:
            self._warn_once("synth", f"{exc} The answer is printed only.")
            return None
