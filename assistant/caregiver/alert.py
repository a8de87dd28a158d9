"""The caregiver alert: a program the caregiver chose, run when the user says something like an emergency.

Configured in the config file as a command and its arguments, for example::

    alert_command: ["/usr/local/bin/notify-caregiver", "--urgent"]
    alert_timeout: 10

`fire(utterance)` runs it without a shell (no quoting surprises with what the user said) as
``[*alert_command, utterance]`` with ``ASSISTANT_UTTERANCE`` in its environment (from a room served over the
network: ``[*alert_command, utterance, room]`` and ``ASSISTANT_ROOM`` too), in a background thread so
the spoken emergency advice is never delayed. It runs in its own process group, so on timeout the whole
group (a script and whatever it started) is stopped; every process is waited for (no zombies). Failures
(program missing, non-zero exit, timeout) are logged as warnings; nothing is raised into the loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import IO

from assistant.config import Settings

log = logging.getLogger(__name__)

UTTERANCE_ENV = "ASSISTANT_UTTERANCE"
ROOM_ENV = "ASSISTANT_ROOM"
KILL_GRACE_SECONDS = 1.0  # after SIGTERM on timeout, how long before SIGKILL
OUTPUT_TAIL_CHARS = 300  # how much of the program's output goes into a failure warning
CONFIG_HINT = "check alert_command in the config file"


@dataclass(frozen=True)
class AlertOutcome:
    """How one alert ended (kept for status displays and tests)."""

    utterance: str
    ok: bool
    returncode: int | None = None  # None when it never ran or was killed on timeout
    timed_out: bool = False
    error: str | None = None  # why it failed, as logged
    room: str | None = None  # the room it was said in (served over the network), None on the device


class CaregiverAlert:
    def __init__(self, command: list[str] | tuple[str, ...] | None, timeout: float = 10.0) -> None:
        self.command = [str(part) for part in (command or [])]
        self.timeout = float(timeout)
        self.outcomes: list[AlertOutcome] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> CaregiverAlert:
        return cls(settings.alert_command, settings.alert_timeout)

    @property
    def enabled(self) -> bool:
        return bool(self.command)

    def fire(self, utterance: str, room: str | None = None) -> None:
        """Start the alert in the background and return at once; a no-op when no command is configured.
        `room`: where it was said (a satellite, a device or a configured name), passed after the words."""
        if not self.command:
            return
        # Not a daemon thread: an emergency alert started just before exit still runs to its end (or
        # timeout), and its process is reaped.
        thread = threading.Thread(target=self._run, args=(utterance, room), name="caregiver-alert", daemon=False)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the alerts started so far; True if all have finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    # -- the background part ------------------------------------------------------------------------

    def _run(self, utterance: str, room: str | None = None) -> None:
        try:
            outcome = dataclasses.replace(self._execute(utterance, room), room=room)
        except Exception as exc:  # noqa: BLE001 - never let the alert thread die with a traceback
            outcome = AlertOutcome(utterance, ok=False, error=f"unexpected error: {exc!r}", room=room)
        if not outcome.ok:
            log.warning("caregiver alert %s failed: %s", self._shown(), outcome.error)
        else:
            log.info("caregiver alert %s done", self._shown())
        with self._lock:
            self.outcomes.append(outcome)

    def _shown(self) -> str:
        return " ".join(self.command)

    def _execute(self, utterance: str, room: str | None = None) -> AlertOutcome:
        said = _passable(utterance)
        env = {**os.environ, UTTERANCE_ENV: said}
        where = [] if room is None else [_passable(room)]
        if room is not None:
            env[ROOM_ENV] = where[0]
        # Output goes to a temporary file, not a pipe: a program that leaves a background child holding the
        # pipe open cannot make us block, and nothing it prints reaches our stdout (JSON, status lines).
        with tempfile.TemporaryFile() as output:
            try:
                proc = subprocess.Popen([*self.command, said, *where], env=env, stdin=subprocess.DEVNULL,
                                        stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                        close_fds=True)
            except FileNotFoundError:
                return AlertOutcome(utterance, ok=False, error=f"program '{self.command[0]}' not found: "
                                    f"install it or give its full path ({CONFIG_HINT})")
            except PermissionError:
                return AlertOutcome(utterance, ok=False, error=f"program '{self.command[0]}' cannot be run "
                                    f"(not executable? try chmod +x; {CONFIG_HINT})")
            except OSError as exc:
                return AlertOutcome(utterance, ok=False,
                                    error=f"cannot start '{self.command[0]}': {exc} ({CONFIG_HINT})")
            try:
                returncode = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _stop_group(proc)
                return AlertOutcome(utterance, ok=False, timed_out=True,
                                    error=f"still running after {self.timeout:g} s (alert_timeout); "
                                          f"stopped it{_tail(output)}")
            finally:
                _reap_group_leftovers(proc)
            if returncode != 0:
                how = (f"was killed by {_signal_name(-returncode)}" if returncode < 0
                       else f"exited with status {returncode}")
                return AlertOutcome(utterance, ok=False, returncode=returncode, error=f"{how}{_tail(output)}")
            return AlertOutcome(utterance, ok=True, returncode=0)


def _passable(utterance: str) -> str:
    """What was said, in a form an argument and an environment value can carry: the OS cannot pass a NUL,
    and a lone surrogate cannot be encoded (each made the alert fail before its program even started)."""
    return utterance.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the alert's process group, SIGKILL it if it lingers, and reap our child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # also catches grandchildren that ignored SIGTERM
    proc.wait()


def _reap_group_leftovers(proc: subprocess.Popen) -> None:
    # Our child is always waited for above. Its own children, if it left any, are re-parented to init
    # (or a subreaper) which reaps them; nothing of the group remains our zombie.
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _tail(output: IO[bytes]) -> str:
    try:
        output.flush()
        output.seek(0)
        text = output.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    if not text:
        return ""
    if len(text) > OUTPUT_TAIL_CHARS:
        text = "..." + text[-OUTPUT_TAIL_CHARS:]
    return f"; its output: {' '.join(text.split())}"
