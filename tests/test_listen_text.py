"""`assistant listen --text`: the typed conversation (the fallback without a microphone), end to end
through the real CLI: dialog, conversation log, caregiver alert, remembered speech settings, and speech
on the virtual speaker."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content

REPO = Path(__file__).resolve().parent.parent
CONTENT = load_content(DEFAULT_CONTENT_DIR)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "ASSISTANT_CONFIG": str(tmp_path / "config.yaml")}
    env.update(extra)
    return env


def _listen(tmp_path: Path, lines: list[str], *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "listen", "--text", *args], input="\n".join(lines) + "\n",
        capture_output=True, text=True, cwd=REPO, env=env or _env(tmp_path), timeout=timeout)


def test_typed_conversation_answers_in_order_and_logs_each_turn(tmp_path):
    lines = ["what is o t", "tell me more", "say that again", "which therapy do i need", "yes", "yes", "goodbye"]
    result = _listen(tmp_path, lines, "--no-speak")
    assert result.returncode == 0, result.stderr
    said = result.stdout.splitlines()
    more = CONTENT.topics["ot.what"].more
    assert said == [
        CONTENT.topics["ot.what"].answer, more, more,
        f"{CONTENT.messages['questionnaire_intro']} {CONTENT.triage.questions[0].text}",
        CONTENT.triage.questions[1].text, CONTENT.triage.conclusions["both"], CONTENT.messages["goodbye"],
    ]
    assert "Traceback" not in result.stderr
    log = tmp_path / "data" / "ot-pt-assistant" / "history.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    turns = [json.loads(line) for line in log.read_text().splitlines()]
    assert [t["transcript"] for t in turns] == lines
    assert turns[0]["decision"]["topic"] == "ot.what"
    assert turns[5]["decision"]["disposition"] == "both"


def test_no_log_writes_nothing(tmp_path):
    result = _listen(tmp_path, ["what is physio", "bye"], "--no-speak", "--no-log")
    assert result.returncode == 0
    assert not (tmp_path / "data" / "ot-pt-assistant" / "history.jsonl").exists()


def test_emergency_runs_the_caregiver_alert_and_is_said_twice(tmp_path):
    marker = tmp_path / "alerted.txt"
    script = tmp_path / "alert.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{marker}"\n')
    script.chmod(0o755)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(
        {"alert_command": [str(script)], "emergency_number": "112"}))
    utterance = "my wife collapsed and she won't wake up"
    result = _listen(tmp_path, ["what is p t", utterance, "goodbye"], "--no-speak")
    assert result.returncode == 0, result.stderr
    emergency = CONTENT.red_flags.answer.format(number="112")
    assert result.stdout.splitlines()[1] == f"{emergency} {emergency}"
    assert marker.read_text() == utterance


def test_spoken_speed_change_is_remembered(tmp_path):
    result = _listen(tmp_path, ["slower", "slower", "louder", "goodbye"], "--no-speak", "--rate", "165",
                     "--volume", "0.6")
    assert result.returncode == 0, result.stderr
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["rate"] == 115 and saved["volume"] == 0.75


def test_typed_answers_are_spoken_on_the_speaker(tmp_path, virtual_audio):
    recorder = virtual_audio.record_speaker()
    result = _listen(tmp_path, ["what is occupational therapy", "goodbye"], "--wake-phrase", "off",
                     env=_env(tmp_path, **virtual_audio.env))
    audio = recorder.stop()
    assert result.returncode == 0, result.stderr
    voiced = np.abs(audio.astype(np.int32)) > 500
    # greeting + answer + goodbye at 165 wpm: well over ten seconds of speech reach the speaker
    assert voiced.sum() / 16000 > 5.0
