"""`assistant ask --audio FILE... --json --no-speak` as a user runs it: generated speech in, decisions out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from speech_voices import speak, write_wav

REPO = Path(__file__).resolve().parent.parent


def _ask(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_CONFIG": str(tmp_path / "none.yaml"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "VOSK_MODEL_PATH": ""}
    return subprocess.run([sys.executable, "-m", "assistant", "ask", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)


def test_spoken_questions_and_bad_files_give_one_json_line_each(tmp_path):
    question = tmp_path / "question.wav"
    write_wav(question, speak("what is occupational therapy", "flite:slt"))
    emergency = tmp_path / "emergency.wav"
    write_wav(emergency, speak("i have chest pain", "flite:slt"))
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    missing = tmp_path / "missing.wav"
    result = _ask("--audio", str(question), str(text), str(missing), str(emergency), "--json", "--no-speak",
                  tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["input"] for line in lines] == [str(question), str(text), str(missing), str(emergency)]
    first, bad, gone, urgent = lines
    assert first["transcript"] == "what is occupational therapy"
    assert (first["kind"], first["topic"], first["confirm"]) == ("topic", "ot.what", False)
    assert bad["kind"] == "unknown" and bad["transcript"] is None
    assert bad["error"].startswith(str(text)) and "not a WAV file" in bad["error"]
    assert gone["kind"] == "unknown" and "no such file" in gone["error"]
    assert (urgent["kind"], urgent["disposition"]) == ("triage", "emergency")
    assert "error" not in first and "error" not in urgent
    notices = [line for line in result.stderr.splitlines() if "speech recognizer" in line]
    assert notices == ["assistant: speech recognizer: Whisper (faster-whisper), built-in English model "
                       "(Whisper tiny.en), CPU int8"]


def test_engine_vosk_without_a_model_says_how_to_install_one(tmp_path):
    question = tmp_path / "question.wav"
    write_wav(question, speak("what is physical therapy", "flite:rms"))
    result = _ask("--engine", "vosk", "--model", str(tmp_path / "no-model"), "--audio", str(question), "--json",
                  "--no-speak", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "assistant model install" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
