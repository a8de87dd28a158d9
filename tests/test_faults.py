"""Faults around the conversation: the speaker dies, the log cannot be written, the
caregiver alert hangs or is missing. Each runs the real `assistant listen --text` in a subprocess (real
dialog, real speech through sounddevice on the private PulseAudio server of tests/virtual_audio.py) and
checks that every answer is still printed, in order, that the trouble costs exactly one warning (no
traceback), and that the run ends normally at "goodbye".

(The microphone faults need the speech recognizer and live with the hands-free loop's tests.)
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.dialog import Dialog
from assistant.core.loader import load_content
from assistant.core.understanding import Understander

REPO = Path(__file__).resolve().parent.parent
CONTENT = load_content(DEFAULT_CONTENT_DIR)
NUMBER = "112"
EMERGENCY = CONTENT.red_flags.answer.format(number=NUMBER)
WAIT = 60.0  # generous bound on waiting for the assistant; only reached when something is broken


def expected_answers(lines: list[str]) -> list[str]:
    """What the assistant prints for these lines: the same dialog, run in this process."""
    dialog = Dialog(Understander(CONTENT, emergency_number=NUMBER))
    return [reply.text for reply in map(dialog.handle, lines) if reply.text]


def warnings_in(stderr: str) -> list[str]:
    """Our own log warnings (logging's format is 'LEVEL logger: message'); the C libraries' chatter
    about a vanished sound server is not ours and is left out."""
    return [line for line in stderr.splitlines() if line.startswith(("WARNING ", "ERROR ", "CRITICAL "))]


def went_on_with_one_warning(session, code: int) -> str:
    """The run ended normally, with no traceback and exactly one warning of ours; returns that warning."""
    assert code == 0, session.stderr
    assert "Traceback" not in session.stderr
    warnings = warnings_in(session.stderr)
    assert len(warnings) == 1, session.stderr
    return warnings[0]


def make_env(tmp_path: Path, *, audio: dict[str, str] | None = None, data: Path | None = None,
             config: dict | None = None) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(data or tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "ASSISTANT_CONFIG": str(tmp_path / "config.yaml")}
    if config is not None:
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    env.update(audio or {})
    return env


class Session:
    """A running `assistant listen --text`: type lines, read printed answers as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "listen", "--text", "--emergency-number", NUMBER, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def say(self, *lines: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(f"{line}\n" for line in lines))
        self.proc.stdin.flush()

    def next_answer(self, timeout: float = WAIT) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer printed within {timeout:.0f} s; stderr:\n{self.stderr}") from None
        assert line is not None, f"the assistant ended early (status {self.proc.poll()}):\n{self.stderr}"
        return line

    def finish(self) -> tuple[int, list[str]]:
        """Close stdin, wait for the end; the status and the answers not read yet."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        for reader in self._readers:
            reader.join(10)
        rest = []
        while (line := self._lines.get_nowait()) is not None:
            rest.append(line)
        return code, rest

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def sessions():
    started: list[Session] = []

    def start(env: dict[str, str], *args: str) -> Session:
        session = Session(env, *args)
        started.append(session)
        return session

    yield start
    for session in started:  # a failed test leaves no assistant running
        session.kill()


def voiced_seconds(audio: np.ndarray) -> float:
    return float((np.abs(audio.astype(np.int32)) > 500).sum()) / 16000


def wait_until_heard(recorder, seconds: float) -> None:
    """Until the speaker has played this much speech (read from the recorder's growing raw file)."""
    deadline = time.monotonic() + WAIT
    while True:
        raw = recorder._path.read_bytes()  # the file parec is still writing (tests/virtual_audio.py)
        if voiced_seconds(np.frombuffer(raw[: len(raw) // 2 * 2], dtype=np.int16)) >= seconds:
            return
        assert time.monotonic() < deadline, "the assistant never started speaking"
        time.sleep(0.05)


# ----- output fails -----------------------------------------------------------------------------------------

def _unload_every_sink(virtual_audio) -> None:
    """Unplug the speaker, and the only other sink too, so there is nowhere left to play."""
    for line in virtual_audio.pactl("list", "short", "modules").splitlines():
        module, name, *arguments = line.split("\t")
        if name == "module-null-sink":
            virtual_audio.pactl("unload-module", module)


@pytest.mark.parametrize("fault", ["speaker-unplugged", "sound-server-crash"])
def test_speaker_lost_mid_answer_answers_are_still_printed(tmp_path, virtual_audio, sessions, fault):
    lines = ["what is o t", "what is p t", "my knee hurts when i walk", "goodbye"]
    expected = expected_answers(lines)
    recorder = virtual_audio.record_speaker()
    session = sessions(make_env(tmp_path, audio=virtual_audio.env), "--wake-phrase", "off")
    session.say(lines[0])
    assert session.next_answer() == expected[0]
    wait_until_heard(recorder, 1.0)  # the fault comes mid-answer, while it is being spoken
    if fault == "speaker-unplugged":
        _unload_every_sink(virtual_audio)
    else:
        virtual_audio.crash()
    recorder.stop()
    session.say(*lines[1:])
    code, rest = session.finish()
    assert rest == expected[1:]
    warning = went_on_with_one_warning(session, code)
    assert "assistant.speech.speaker" in warning and "printed only" in warning
    assert "Speaking stopped" in warning  # the fault hit the answer being spoken, then later ones


def test_missing_output_device_answers_are_still_printed(tmp_path, virtual_audio, sessions):
    lines = ["what is o t", "i can't do up my buttons", "say that again", "goodbye"]
    expected = expected_answers(lines)
    session = sessions(make_env(tmp_path, audio=virtual_audio.env), "--output-device", "nonexistent")
    session.say(*lines)
    code, answers = session.finish()
    assert answers == expected
    warning = went_on_with_one_warning(session, code)
    # ... and it says what is wrong and how to fix it
    assert "'nonexistent'" in warning and "--output-device" in warning


# ----- the log cannot be written -----------------------------------------------------------------------------

@pytest.mark.parametrize("problem", ["folder-is-a-file", "disk-full"])
def test_unwritable_log_the_conversation_goes_on(tmp_path, sessions, problem):
    if problem == "folder-is-a-file":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a regular file where the data folder should be\n")
        data = blocker / "share"
    else:  # every write to /dev/full fails with ENOSPC, as on a full disk
        data = tmp_path / "data"
        folder = data / "ot-pt-assistant"
        folder.mkdir(parents=True, mode=0o700)
        (folder / "history.jsonl").symlink_to("/dev/full")
    lines = ["what is o t", "tell me more", "my wife collapsed", "what is p t", "goodbye"]
    expected = expected_answers(lines)
    session = sessions(make_env(tmp_path, data=data), "--no-speak")
    session.say(*lines)
    code, answers = session.finish()
    assert answers == expected
    warning = went_on_with_one_warning(session, code)
    reason = "Not a directory" if problem == "folder-is-a-file" else "No space left on device"
    assert "assistant.caregiver.conversation_log" in warning and reason in warning and "--no-log" in warning


def test_speech_setting_that_cannot_be_saved_is_still_applied(tmp_path, sessions):
    """The config file's folder is a regular file: "slower" still answers (and the run goes on)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {**make_env(tmp_path), "ASSISTANT_CONFIG": str(blocker / "config.yaml")}
    lines = ["slower", "what is o t", "goodbye"]
    session = sessions(env, "--no-speak", "--no-log")
    session.say(*lines)
    code, answers = session.finish()
    assert code == 0, session.stderr
    assert answers == expected_answers(lines)
    warnings = warnings_in(session.stderr)
    assert len(warnings) == 1 and "speech setting" in warnings[0], session.stderr
    assert "Traceback" not in session.stderr


# ----- the caregiver alert hangs or is missing -----------------------------------------------------------------

def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}")
    path.chmod(0o755)
    return path


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped by init."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def test_emergency_answer_does_not_wait_for_the_alert(tmp_path, sessions):
    """The alert program blocks until the test has *read* the emergency answer: had the answer waited for
    the alert, it could never be printed before the release (and the alert would report a timeout)."""
    release, started, finished = tmp_path / "release", tmp_path / "started", tmp_path / "finished"
    alert = _script(tmp_path / "alert.sh",
                    f'echo "$1" > "{started}"\n'
                    f'while [ ! -e "{release}" ]; do sleep 0.05; done\n'
                    f'echo released > "{finished}"\n')
    env = make_env(tmp_path, config={"alert_command": [str(alert)], "alert_timeout": 300})
    session = sessions(env, "--no-speak")
    session.say("what is o t", "help, my husband collapsed", "what is p t")
    answers = [session.next_answer() for _ in range(3)]  # all three while the alert is still blocked
    assert answers == expected_answers(["what is o t", "help, my husband collapsed", "what is p t"])
    assert answers[1] == f"{EMERGENCY} {EMERGENCY}"
    assert not finished.exists()  # the alert really was still running
    release.touch()
    session.say("goodbye")
    code, rest = session.finish()
    assert code == 0, session.stderr
    assert rest == [CONTENT.messages["goodbye"]]
    assert started.read_text().strip() == "help, my husband collapsed"
    assert finished.read_text().strip() == "released"  # it was not killed: it finished after the answers
    assert warnings_in(session.stderr) == []


def test_hanging_alert_is_stopped_and_the_run_finishes(tmp_path, sessions):
    pids = tmp_path / "pids"
    alert = _script(tmp_path / "alert.sh", f'sleep 600 &\necho "$$ $!" > "{pids}"\nwait\n')
    env = make_env(tmp_path, config={"alert_command": [str(alert)], "alert_timeout": 2})
    session = sessions(env, "--no-speak")
    session.say("i think my dad is having a stroke", "goodbye")
    code, answers = session.finish()  # returns only once the alert's thread has ended
    assert code == 0, session.stderr
    assert answers == [f"{EMERGENCY} {EMERGENCY}", CONTENT.messages["goodbye"]]
    assert "Traceback" not in session.stderr
    warnings = warnings_in(session.stderr)
    assert len(warnings) == 1 and "caregiver alert" in warnings[0] and "alert_timeout" in warnings[0], \
        session.stderr
    shell, sleeper = map(int, pids.read_text().split())
    assert not _running(shell) and not _running(sleeper)  # the whole group was stopped, nothing left


def test_missing_alert_program_the_emergency_is_still_answered(tmp_path, sessions):
    env = make_env(tmp_path, config={"alert_command": [str(tmp_path / "no-such-notifier"), "--urgent"]})
    session = sessions(env, "--no-speak")
    lines = ["my mum can't breathe", "what is o t", "goodbye"]
    session.say(*lines)
    code, answers = session.finish()
    assert code == 0, session.stderr
    assert answers == expected_answers(lines)
    assert answers[0] == f"{EMERGENCY} {EMERGENCY}"
    warnings = warnings_in(session.stderr)
    assert len(warnings) == 1 and "not found" in warnings[0] and "no-such-notifier" in warnings[0], session.stderr
    assert "Traceback" not in session.stderr


def test_emergency_with_characters_no_argument_can_carry_still_alerts(tmp_path, sessions):
    """A NUL cannot be passed to a program (argument or environment): it once made the alert fail before
    its program started, so the caregiver never heard of the emergency."""
    marker = tmp_path / "alerted"
    alert = _script(tmp_path / "alert.sh", f'printf "%s|%s" "$1" "$ASSISTANT_UTTERANCE" > "{marker}"\n')
    env = make_env(tmp_path, config={"alert_command": [str(alert)]})
    session = sessions(env, "--no-speak")
    said = "help\x00 my wife collapsed\x00"
    session.say(said, "goodbye")
    code, answers = session.finish()
    assert code == 0, session.stderr
    assert answers == [f"{EMERGENCY} {EMERGENCY}", CONTENT.messages["goodbye"]]
    passed = said.replace("\x00", " ")  # each NUL stands as a space
    assert marker.read_text() == f"{passed}|{passed}"
    assert warnings_in(session.stderr) == []


def test_alert_with_a_lone_surrogate_still_runs(tmp_path):
    """Recognizers and scripts can hand over text with a lone surrogate, which no encoding can carry."""
    from assistant.caregiver.alert import CaregiverAlert

    marker = tmp_path / "alerted"
    alert = CaregiverAlert([str(_script(tmp_path / "alert.sh", f'printf "%s" "$1" > "{marker}"\n'))], timeout=30)
    alert.fire("he collapsed \ud800")
    assert alert.wait(60)
    assert [outcome.ok for outcome in alert.outcomes] == [True], alert.outcomes
    assert marker.read_text() == "he collapsed ?"
