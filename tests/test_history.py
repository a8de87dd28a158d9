"""The conversation log: private files, append and read back, corrupt lines, failures that never raise,
and `assistant history` as the caregiver runs it (a subprocess with its own XDG_DATA_HOME)."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from assistant.caregiver.conversation_log import ConversationLog, history_path, read_history
from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.dialog import Dialog
from assistant.core.loader import load_content
from assistant.core.understanding import Understander

ASSISTANT = [sys.executable, "-m", "assistant"]


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(load_content(DEFAULT_CONTENT_DIR), emergency_number="911")


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_log_lives_in_the_xdg_data_folder_and_is_owner_only(data_home: Path, understander: Understander):
    old_umask = os.umask(0)  # the most permissive umask: the log must still be private
    try:
        log = ConversationLog()
        assert log.append("what is occupational therapy", understander.understand("what is occupational therapy"))
    finally:
        os.umask(old_umask)
    path = data_home / "ot-pt-assistant" / "history.jsonl"
    assert log.path == path == history_path()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(data_home) == 0o700  # created by us as well


def test_existing_file_and_folder_permissions_are_narrowed(data_home: Path, understander: Understander):
    folder = data_home / "ot-pt-assistant"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    path = folder / "history.jsonl"
    path.write_text("")
    path.chmod(0o644)
    assert ConversationLog().append(None, understander.understand("what is physical therapy"))
    assert mode(path) == 0o600
    assert mode(folder) == 0o700


def test_a_callers_existing_folder_is_left_alone(tmp_path: Path, understander: Understander):
    tmp_path.chmod(0o755)
    log = ConversationLog(path=tmp_path / "turns.jsonl")
    assert log.append(None, understander.understand("hello"))
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "turns.jsonl") == 0o600


def test_turns_are_appended_and_read_back(tmp_path: Path, understander: Understander):
    path = tmp_path / "history.jsonl"
    log = ConversationLog(path=path)
    questions = ["what is occupational therapy", "i have trouble buttoning my shirt", "repeat that"]
    decisions = [understander.understand(q) for q in questions]
    for question, decision in zip(questions, decisions, strict=True):
        assert log.append(question, decision, answer=f"said: {decision.answer}")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert all(set(json.loads(line)) == {"time", "transcript", "decision", "answer"} for line in lines)

    history = read_history(path=path)
    assert history.exists and history.corrupt == 0 and len(history) == 3
    for turn, question, decision in zip(history, questions, decisions, strict=True):
        assert turn.transcript == question
        assert turn.decision == json.loads(json.dumps(decision.to_contract()))
        assert turn.answer == f"said: {decision.answer}"
        stamp = datetime.fromisoformat(turn.time)
        assert stamp.tzinfo is not None  # local time *with* its offset
        assert abs((datetime.now().astimezone() - stamp).total_seconds()) < 3600
    assert [t.kind for t in history] == [d.kind for d in decisions]


def test_defaults_come_from_the_decision_and_the_dialog_reply(tmp_path: Path, understander: Understander):
    path = tmp_path / "h.jsonl"
    log = ConversationLog(path=path)
    decision = understander.understand("what do occupational therapists do")
    assert log.append(None, decision)  # typed text: transcript None -> the input; answer -> decision.answer
    dialog = Dialog(understander)
    reply = dialog.handle("i fell and cannot get up")  # an emergency: said twice
    assert log.record(reply, transcript="i fell and cannot get up")
    first, second = read_history(path=path).turns
    assert first.transcript == decision.input and first.answer == decision.answer
    assert second.is_emergency and second.answer == reply.text
    assert second.decision["disposition"] == "emergency"


def test_last_n_keeps_the_newest(tmp_path: Path, understander: Understander):
    path = tmp_path / "h.jsonl"
    log = ConversationLog(path=path)
    decision = understander.understand("what is physical therapy")
    for i in range(7):
        log.append(f"question {i}", decision)
    assert [t.transcript for t in read_history(last=3, path=path)] == ["question 4", "question 5", "question 6"]
    assert len(read_history(last=100, path=path)) == 7
    assert len(read_history(last=0, path=path)) == 0
    with pytest.raises(ValueError):
        read_history(last=-1, path=path)


def test_corrupt_lines_are_skipped_and_counted(tmp_path: Path, understander: Understander):
    path = tmp_path / "h.jsonl"
    log = ConversationLog(path=path)
    decision = understander.understand("what is occupational therapy")
    log.append("good one", decision)
    with path.open("a", encoding="utf-8") as out:
        out.write("this is not json\n")
        out.write("[1, 2, 3]\n")  # JSON, but not a turn
        out.write('{"time": "2024-01-01T10:00:00+00:00", "transcript": 5, "decision": {}, "answer": "x"}\n')
        out.write("\n")  # blank lines are not counted
        out.write('{"time": "2024-01-01T10:00:00+00:00", "transcr')  # cut short by a crash: no newline
    assert log.append("after the crash", decision)  # must start on a fresh line, not merge with the stub
    history = read_history(path=path)
    assert [t.transcript for t in history] == ["good one", "after the crash"]
    assert history.corrupt == 4


def test_missing_file_is_an_empty_history(tmp_path: Path):
    history = read_history(path=tmp_path / "none.jsonl")
    assert not history.exists and len(history) == 0 and history.corrupt == 0


def test_disabled_log_writes_nothing(data_home: Path, understander: Understander):
    log = ConversationLog(enabled=False)
    assert not log.append("what is physical therapy", understander.understand("what is physical therapy"))
    assert not data_home.exists()  # not even the folder


def test_no_log_option_turns_the_log_off(data_home: Path):
    from assistant.cli import build_parser, settings_from_args

    args = build_parser().parse_args(["history", "--no-log"])
    assert settings_from_args(args).log_enabled is False
    args = build_parser().parse_args(["history"])
    assert settings_from_args(args).log_enabled is True


def test_unwritable_log_warns_once_and_retries(tmp_path: Path, understander: Understander,
                                               caplog: pytest.LogCaptureFixture):
    # Tests run as root, so chmod cannot make a folder unwritable; a regular file where the folder should
    # be fails for root too (ENOTDIR).
    blocker = tmp_path / "data"
    blocker.write_text("I am a file, not a folder")
    log = ConversationLog(path=blocker / "ot-pt-assistant" / "history.jsonl")
    decision = understander.understand("what is occupational therapy")
    with caplog.at_level(logging.DEBUG, logger="assistant.caregiver.conversation_log"):
        results = [log.append("turn", decision) for _ in range(3)]
    assert results == [False, False, False]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(blocker) in warnings[0].getMessage() and "not a directory" in warnings[0].getMessage().lower()
    assert log.dropped == 3
    assert log.check() is not None

    caplog.clear()
    blocker.unlink()  # the caregiver fixes it: later turns are written again
    with caplog.at_level(logging.WARNING, logger="assistant.caregiver.conversation_log"):
        assert log.append("turn after the fix", decision)
    assert "writable again" in caplog.text
    assert [t.transcript for t in read_history(path=log.path)] == ["turn after the fix"]


def test_full_disk_does_not_raise(understander: Understander, caplog: pytest.LogCaptureFixture):
    # /dev/full fails every write with ENOSPC, exactly like a full disk.
    before = os.stat("/dev/full").st_mode
    log = ConversationLog(path="/dev/full")
    with caplog.at_level(logging.WARNING, logger="assistant.caregiver.conversation_log"):
        assert not log.append("turn", understander.understand("what is physical therapy"))
        assert not log.append("turn", understander.understand("what is physical therapy"))
    assert len(caplog.records) == 1 and "No space left on device" in caplog.text
    assert os.stat("/dev/full").st_mode == before  # a device is never chmod-ed


def test_xdg_data_home_under_a_file_does_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    understander: Understander):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "share"))
    assert not ConversationLog().append("turn", understander.understand("hello"))


def test_table_shows_each_turn_readably(tmp_path: Path, understander: Understander):
    from rich.console import Console

    from assistant.commands.history import print_table

    path = tmp_path / "h.jsonl"
    log = ConversationLog(path=path)
    log.append("[unk] what is occupational therapy", understander.understand("what is occupational therapy"))
    log.append("i fell and cannot get up", understander.understand("i fell and cannot get up"))
    console = Console(record=True, width=220, force_terminal=True)
    print_table(read_history(path=path), console=console)
    text = console.export_text()
    assert "[unk] what is occupational therapy" in text  # user text is shown as it is, never as markup
    assert "topic ot.what" in text and "triage emergency" in text
    assert "Time" in text and "Heard" in text and "Answer" in text


# -- `assistant history` as a subprocess ---------------------------------------------------------------

def run_history(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(data.parent / "config")}
    return subprocess.run([*ASSISTANT, "history", *args], env=env, capture_output=True, text=True, timeout=60)


def test_history_command_without_a_log_says_where_it_would_be(tmp_path: Path):
    data = tmp_path / "data"
    result = run_history(data)
    assert result.returncode == 0, result.stderr
    assert "No conversation history yet" in result.stdout
    assert str(data / "ot-pt-assistant" / "history.jsonl") in result.stdout
    assert "Traceback" not in result.stderr


def test_history_command_shows_the_last_turns(tmp_path: Path, understander: Understander):
    data = tmp_path / "data"
    path = data / "ot-pt-assistant" / "history.jsonl"
    log = ConversationLog(path=path)
    questions = ["what is physical therapy", "what is occupational therapy", "i fell and cannot get up"]
    for question in questions:
        log.append(question, understander.understand(question))
    with path.open("a") as out:
        out.write("garbage\n")

    result = run_history(data, "--last", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2  # not a terminal: one plain line per turn
    assert 'heard: "what is occupational therapy"' in lines[0] and "[topic ot.what]" in lines[0]
    assert 'heard: "i fell and cannot get up"' in lines[1] and "[triage emergency]" in lines[1]
    assert "answered:" in lines[1]
    assert "skipped 1 unreadable line" in result.stderr

    result = run_history(data, "--json")
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["transcript"] for t in turns] == questions
    assert turns[2]["decision"]["disposition"] == "emergency"


def test_history_command_rejects_a_bad_count(tmp_path: Path):
    result = run_history(tmp_path / "data", "--last", "0")
    assert result.returncode == 2
    assert "1 or more" in result.stderr
