"""espeak-ng in a child process of its own, so a crash inside the C library does not end the assistant.

libespeak-ng has crashed with a segmentation fault inside Synth (called through pyttsx3) in a fresh-clone
test run: once, in a process that had synthesized a few hundred answers; it did not reproduce in 2,100
more. In-process, that crash ends `assistant listen`. Here it ends only the synthesis process: it is started
again and the answer is synthesized once more. The child is started with "spawn" (a fresh interpreter):
forking a process with decoder threads can hang (OpenBLAS, see assistant/__init__.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from typing import Any

import numpy as np

from assistant.speech import synth

log = logging.getLogger(__name__)
ATTEMPTS = 2  # a crash costs one retry; a second one in a row is reported as a speech error


def _serve(connection: Any) -> None:
    """The child: synthesize each request with synth.synthesize, send back samples or the exception."""
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return  # the assistant has gone
        try:
            connection.send((True, synth.synthesize(*request)))
        except Exception as exc:  # noqa: BLE001 - every synthesis problem goes back to the caller
            connection.send((False, exc if isinstance(exc, synth.SpeechError) else synth.SpeechError(str(exc))))


class IsolatedSynth:
    """synth.synthesize, run in a child process that is restarted when it dies. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Any = None
        self.restarts = 0  # child processes started again after one died (for tests and the log)

    @property
    def child(self) -> Any:
        """The synthesis process now running (a multiprocessing Process), or None."""
        return self._process

    def start(self) -> None:
        """Start the child now (it takes a few tenths of a second), so the first answer does not wait."""
        with self._lock:
            self._ensure_started()

    def synthesize(self, text: str, rate: int, volume: float, voice: str | None) -> np.ndarray:
        with self._lock:
            for attempt in range(1, ATTEMPTS + 1):
                self._ensure_started()
                try:
                    self._connection.send((text, rate, volume, voice))
                    # synthesize() gives up on its own after its timeout; a child stuck in C code does not
                    if not self._connection.poll(15.0 + 0.05 * len(text)):
                        raise TimeoutError
                    ok, value = self._connection.recv()
                except (EOFError, OSError, TimeoutError):
                    code = self._stop_child()
                    log.warning("the speech synthesis process ended (exit code %s) during an answer; "
                                "starting it again (attempt %d of %d)", code, attempt, ATTEMPTS)
                    self.restarts += 1
                    continue
                if ok:
                    return value
                raise value
        raise synth.SpeechError(f"espeak-ng crashed {ATTEMPTS} times in a row while synthesizing "
                                f"{len(text)} characters")

    def close(self) -> None:
        with self._lock:
            self._stop_child()

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        if self._process is not None:  # it died between answers
            code = self._stop_child()
            log.warning("the speech synthesis process had ended (exit code %s); starting it again", code)
            self.restarts += 1
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), name="assistant-speech-synthesis", daemon=True)
        process.start()
        child.close()  # only the child holds its end: its death shows here as EOF
        self._process, self._connection = process, parent

    def _stop_child(self) -> int | None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is None:
            return None
        process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join(1.0)
        return process.exitcode
