"""The caregiver alert runs real programs (small shell scripts written by the tests): argv and environment,
no shell, in the background, killed with its process group on timeout, failures logged, nothing left over."""

from __future__ import annotations

import logging
import os
import textwrap
import time
from pathlib import Path

import pytest

from assistant.caregiver.alert import UTTERANCE_ENV, CaregiverAlert
from assistant.config import load_settings

UTTERANCE = 'I fell; "help" $(touch /tmp/should-not-exist) `id` & me'


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def wait_for_file(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def process_state(pid: int) -> str | None:
    """'R', 'S', 'Z' ... from /proc, or None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def zombie_children() -> list[int]:
    me = os.getpid()
    zombies = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[0] == "Z" and int(fields[1]) == me:
                zombies.append(int(entry.name))
    return zombies


def test_alert_passes_the_utterance_as_argument_and_environment_without_a_shell(tmp_path: Path):
    out = tmp_path / "alert.txt"
    go = tmp_path / "go"
    notify = script(tmp_path / "notify.sh", f"""\
        while [ ! -e {go} ]; do sleep 0.02; done   # wait until the test lets it finish
        printf '%s\\n' "$#" "$1" "$2" "${UTTERANCE_ENV}" > {out}.tmp
        mv {out}.tmp {out}
        """)
    alert = CaregiverAlert([str(notify), "--urgent"], timeout=30)
    alert.fire(UTTERANCE)
    # fire() has returned while the program is still waiting for `go`: it never blocks the spoken advice.
    assert not out.exists()
    assert not alert.wait(timeout=0)
    go.touch()
    assert alert.wait(timeout=30)
    argc, first, last, env = out.read_text().splitlines()
    assert (argc, first, last, env) == ("2", "--urgent", UTTERANCE, UTTERANCE)
    assert not Path("/tmp/should-not-exist").exists()  # no shell ever saw the utterance
    assert alert.outcomes[0].ok and alert.outcomes[0].returncode == 0
    assert zombie_children() == []


def test_timeout_kills_the_whole_process_group(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    pids = tmp_path / "pids"
    slow = script(tmp_path / "slow.sh", f"""\
        sleep 300 &
        echo $! > {pids}.tmp && mv {pids}.tmp {pids}
        echo "still trying to reach the caregiver"
        sleep 300
        """)
    alert = CaregiverAlert([str(slow)], timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="assistant.caregiver.alert"):
        alert.fire("help me")
        wait_for_file(pids)
        grandchild = int(pids.read_text())
        # 300 s scripts: finishing within this bound is only possible if the timeout stopped them.
        assert alert.wait(timeout=60)
    outcome = alert.outcomes[0]
    assert outcome.timed_out and not outcome.ok and outcome.returncode is None
    assert "alert_timeout" in caplog.text and "still trying to reach the caregiver" in caplog.text
    assert process_state(grandchild) in (None, "Z")  # the background child of the script was killed too
    assert zombie_children() == []


def test_missing_program_is_logged(caplog: pytest.LogCaptureFixture):
    alert = CaregiverAlert(["/nonexistent/notify-caregiver", "--urgent"], timeout=5)
    with caplog.at_level(logging.WARNING, logger="assistant.caregiver.alert"):
        alert.fire("chest pain")
        assert alert.wait(timeout=30)
    assert "/nonexistent/notify-caregiver" in caplog.text and "not found" in caplog.text
    assert not alert.outcomes[0].ok


def test_program_that_is_not_executable_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    plain = tmp_path / "notify.txt"
    plain.write_text("not a program")
    plain.chmod(0o644)
    alert = CaregiverAlert([str(plain)], timeout=5)
    with caplog.at_level(logging.WARNING, logger="assistant.caregiver.alert"):
        alert.fire("chest pain")
        assert alert.wait(timeout=30)
    assert "cannot be run" in caplog.text and str(plain) in caplog.text


def test_failing_program_is_logged_with_its_status_and_output(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    failing = script(tmp_path / "fail.sh", """\
        echo "mail server unreachable" >&2
        exit 3
        """)
    alert = CaregiverAlert([str(failing)], timeout=30)
    with caplog.at_level(logging.WARNING, logger="assistant.caregiver.alert"):
        alert.fire("I can't breathe")
        assert alert.wait(timeout=30)
    assert "status 3" in caplog.text and "mail server unreachable" in caplog.text
    assert alert.outcomes[0].returncode == 3
    assert zombie_children() == []


def test_program_output_never_reaches_our_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]):
    chatty = script(tmp_path / "chatty.sh", """\
        echo '{"not": "an answer"}'
        """)
    alert = CaregiverAlert([str(chatty)], timeout=30)
    alert.fire("help")
    assert alert.wait(timeout=30)
    captured = capfd.readouterr()
    assert "not" not in captured.out and "not" not in captured.err  # `assistant ask --json` stays clean


def test_no_command_means_no_alert():
    alert = CaregiverAlert([], timeout=5)
    assert not alert.enabled
    alert.fire("help")
    assert alert.wait(timeout=0)
    assert alert.outcomes == []


def test_several_alerts_overlap_and_all_finish(tmp_path: Path):
    log = tmp_path / "log"
    append = script(tmp_path / "append.sh", f"""\
        echo "$1" >> {log}
        """)
    alert = CaregiverAlert([str(append)], timeout=30)
    for word in ("one", "two", "three"):
        alert.fire(word)
    assert alert.wait(timeout=30)
    assert sorted(log.read_text().split()) == ["one", "three", "two"]
    assert all(outcome.ok for outcome in alert.outcomes)


def test_command_and_timeout_come_from_the_config_file(tmp_path: Path):
    out = tmp_path / "out"
    notify = script(tmp_path / "notify.sh", f"""\
        echo "$2 $1" > {out}
        """)
    config = tmp_path / "config.yaml"
    config.write_text(f"alert_command: [{notify}, --to-caregiver]\nalert_timeout: 7\n")
    settings = load_settings(config)
    alert = CaregiverAlert.from_settings(settings)
    assert alert.command == [str(notify), "--to-caregiver"] and alert.timeout == 7.0
    alert.fire("fell down")
    assert alert.wait(timeout=30)
    assert out.read_text().strip() == "fell down --to-caregiver"
