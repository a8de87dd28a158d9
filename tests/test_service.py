"""The systemd service: generated units are accepted by the real systemd tools, quoting survives nasty
option values exactly, and install / uninstall / status work in a private HOME.

Two real systemd programs check every unit here:
- `systemd-analyze verify` (user form with --user and a private XDG_RUNTIME_DIR). Unknown keys only print
  a warning and still exit 0, so its output is read too.
- `systemd --test`, systemd's own dry run, which parses the unit and dumps the resulting command line; we
  decode that dump and compare it with the argv we meant. (It refuses to run as root, so it runs as
  `nobody` here.) systemd is installed but not running in this environment, so nothing is started.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.caregiver import systemd_unit
from assistant.config import Settings

VENV_BIN = Path(sys.executable).parent
NASTY = [
    'USB Mic "Pro" 100% $HOME ${PATH} \\ back\\slash',
    "it's the 'good' one",
    'x" ; /bin/evil ; "',
    '\\" ExecStartPre=/bin/evil',
    "C:\\",
    "%n %h %% %",
    "$$ $",
    "-h",
    "Micrófono USB ñ 日本",
    "  leading and trailing  ",
    "#not a comment",
]
INJECTION = "mic\nExecStartPre=/bin/evil"


def _systemd_binary() -> str:
    for path in ("/lib/systemd/systemd", "/usr/lib/systemd/systemd"):
        if os.access(path, os.X_OK):
            return path
    raise AssertionError("the systemd package is not installed (make system-packages installs it)")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A temp folder that the unprivileged `nobody` can read (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="svc-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _write(folder: Path, text: str) -> Path:
    path = folder / systemd_unit.UNIT_NAME
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def analyze_verify(unit: Path, user: bool, runtime_dir: Path) -> list[str]:
    """Run systemd-analyze verify; it must succeed; return the lines it printed about our unit."""
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "SYSTEMD_LOG_COLOR": "0"}
    cmd = ["systemd-analyze", *(["--user"] if user else []), "verify", str(unit)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{output}\n--- unit ---\n{unit.read_text()}"
    return [line for line in output.splitlines() if systemd_unit.UNIT_NAME in line or str(unit) in line]


def _decode_dump_command(line: str) -> list[str]:
    """Undo the shell-style quoting systemd uses for `Command Line:` in its dump."""
    words, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        word: list[str] = []
        while i < len(line) and line[i] != " ":
            if line[i] != '"':
                word.append(line[i])
                i += 1
                continue
            i += 1
            while line[i] != '"':
                if line[i] == "\\":
                    assert line[i + 1] in '"\\`$', f"unexpected escape in systemd's dump: {line!r}"
                    word.append(line[i + 1])
                    i += 2
                else:
                    word.append(line[i])
                    i += 1
            i += 1
        words.append("".join(word))
    return words


def systemd_parsed(unit: Path) -> tuple[list[str], list[str]]:
    """(argv, environment) of our unit as systemd itself parses it, with `$$` turned into `$` as systemd
    does when it starts the command."""
    cmd = [_systemd_binary(), "--test", "--system", f"--unit={systemd_unit.UNIT_NAME}", "--no-pager"]
    if os.geteuid() == 0:  # systemd refuses test mode as root
        cmd = ["runuser", "-u", "nobody", "--", *cmd]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_UNIT_PATH": f"{unit.parent}:",
           "SYSTEMD_LOG_TARGET": "console"}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"systemd --test failed:\n{result.stdout}\n{result.stderr}"
    block = result.stdout.split(f"-> Unit {systemd_unit.UNIT_NAME}:", 1)[1].split("\n\t-> Unit ", 1)[0]
    commands = [ln.strip(" \t")[len("Command Line: "):] for ln in block.split("\n")
                if ln.strip(" \t").startswith("Command Line: ")]
    assert len(commands) == 1, f"expected exactly one command in the unit, systemd found: {commands}"
    argv = _decode_dump_command(commands[0])
    for arg in argv:
        assert "$" not in arg.replace("$$", ""), f"a lone $ would be expanded by systemd: {arg!r}"
    environment = [ln.strip(" \t")[len("Environment: "):] for ln in block.split("\n")
                   if ln.strip(" \t").startswith("Environment: ")]
    return [arg.replace("$$", "$") for arg in argv], environment


def nasty_settings(content: Path) -> Settings:
    return Settings(input_device=NASTY[0], output_device=NASTY[1], wake_phrase=NASTY[2], voice=NASTY[3],
                    emergency_number=NASTY[5], engine="whisper", model=str(content / NASTY[6]),
                    content_dir=str(content / "100% $HOME's \"content\""), rate=140, volume=0.5)


def nasty_argv(content: Path) -> list[str]:
    given = {"input_device", "output_device", "wake_phrase", "voice", "rate", "volume"}
    argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), nasty_settings(content), given)
    return argv + [f"--extra={value}" for value in NASTY[4:]]  # every nasty value reaches the unit


def _keys(unit_text: str) -> list[str]:
    return [line.split("=", 1)[0] for line in unit_text.split("\n") if "=" in line and line[0] != "#"]


@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_unit_with_nasty_values_verifies_and_round_trips(system: bool, shared_dir: Path) -> None:
    argv = nasty_argv(shared_dir)
    assert argv[0] == str(VENV_BIN / "assistant"), "ExecStart must name this venv's real script"
    spec = systemd_unit.UnitSpec(argv=argv, system=system, user="root" if system else None,
                            supplementary_groups=["audio"] if system else [],
                            environment={"ASSISTANT_CONFIG": str(shared_dir / 'my "100%" $config\\.yaml')},
                            systemd_version=systemd_unit.systemd_version())
    text = systemd_unit.render_unit(spec)
    unit = _write(shared_dir, text)

    assert analyze_verify(unit, user=not system, runtime_dir=shared_dir / "run") == []
    parsed_argv, environment = systemd_parsed(unit)
    assert parsed_argv == argv
    assert environment == ["PYTHONUNBUFFERED=1", f"ASSISTANT_CONFIG={spec.environment['ASSISTANT_CONFIG']}"]
    assert systemd_unit.parse_exec_line(systemd_unit.exec_start_of(text) or "") == argv

    # Nothing was injected: the keys are exactly the ones we write, each ExecStart-like key once.
    keys = _keys(text)
    assert [k for k in keys if k.startswith("Exec")] == ["ExecStart"]
    assert keys.count("User") == (1 if system else 0)
    wanted = "multi-user.target" if system else "default.target"
    assert f"WantedBy={wanted}" in text
    assert "Restart=on-failure" in text and "StandardOutput=journal" in text


@pytest.mark.parametrize("value", [INJECTION, "mic\r[Service]", "tab\there", "bell\x07", "nel\x85"])
def test_line_breaks_and_control_characters_are_refused(value: str, shared_dir: Path) -> None:
    argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), Settings(input_device=value))
    with pytest.raises(systemd_unit.ServiceError, match="--input-device.*cannot go into a systemd unit"):
        systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv))
    with pytest.raises(systemd_unit.ServiceError, match="ASSISTANT_CONFIG"):
        systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv[:1], environment={"ASSISTANT_CONFIG": value}))
    with pytest.raises(systemd_unit.ServiceError, match="not a valid (user|group) name"):
        systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv[:1], system=True, user=f"root{value}"))
    with pytest.raises(systemd_unit.ServiceError, match="not a valid (user|group) name"):
        systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv[:1], system=True, user="root",
                                             supplementary_groups=[f"audio{value}"]))


def test_verify_reads_warnings_and_restart_steps_follow_the_systemd_version(shared_dir: Path) -> None:
    """`systemd-analyze verify` exits 0 on unknown keys; the check above must see its warnings. The
    stepped back-off keys go in only where the installed systemd knows them."""
    argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), Settings())
    installed = systemd_unit.systemd_version()
    assert installed is not None, "systemctl --version did not report a version"
    current = systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv, systemd_version=installed))
    newest = systemd_unit.render_unit(
        systemd_unit.UnitSpec(argv=argv, systemd_version=systemd_unit.STEPPED_RESTART_SINCE))
    oldest = systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv, systemd_version=None))
    assert "RestartSteps=" in newest and "RestartMaxDelaySec=" in newest
    assert "RestartSteps=" not in oldest and "Type=simple" in oldest
    assert ("RestartSteps=" in current) == (installed >= systemd_unit.STEPPED_RESTART_SINCE)

    assert analyze_verify(_write(shared_dir, current), user=True, runtime_dir=shared_dir / "run") == []
    warnings = analyze_verify(_write(shared_dir, newest), user=True, runtime_dir=shared_dir / "run")
    if installed < systemd_unit.STEPPED_RESTART_SINCE:
        assert any("RestartSteps" in line for line in warnings), warnings
    else:
        assert warnings == []
    bogus = current.replace("[Service]\n", "[Service]\nNoSuchKey=1\n")
    assert any("NoSuchKey" in line for line in
               analyze_verify(_write(shared_dir, bogus), user=True, runtime_dir=shared_dir / "run"))


def test_start_limit_never_trips_on_automatic_restarts() -> None:
    argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), Settings())
    for version in (None, 252, 256):
        text = systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv, systemd_version=version))
        values = dict(line.split("=", 1) for line in text.split("\n") if "=" in line and line[0] != "#")
        most_starts = int(values["StartLimitIntervalSec"]) // int(values["RestartSec"]) + 1
        assert int(values["StartLimitBurst"]) > most_starts


def test_program_path_with_spaces_and_percent_is_found_by_systemd(shared_dir: Path) -> None:
    """The executable itself is quoted too: systemd-analyze verify fails if it cannot find it."""
    folder = shared_dir / "my venv 100%" / "bin"
    folder.mkdir(parents=True)
    program = folder / "assistant"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    text = systemd_unit.render_unit(systemd_unit.UnitSpec(argv=[str(program), "listen", "--service"],
                                                systemd_version=systemd_unit.systemd_version()))
    unit = _write(shared_dir, text)
    assert analyze_verify(unit, user=True, runtime_dir=shared_dir / "run") == []
    assert systemd_parsed(unit)[0] == [str(program), "listen", "--service"]
    # ...and a missing program is caught by the same check (so the check above means something).
    program.unlink()
    result = subprocess.run(["systemd-analyze", "--user", "verify", str(unit)], capture_output=True, text=True,
                            env={**os.environ, "XDG_RUNTIME_DIR": str(shared_dir / "run")})
    assert result.returncode != 0 and "not executable" in result.stderr + result.stdout
    for bad in ('/opt/my "venv"/bin/assistant', "/opt/back\\slash/assistant", "/opt/$HOME/assistant"):
        with pytest.raises(systemd_unit.ServiceError, match="quotes, backslashes or '\\$'"):
            systemd_unit.render_unit(systemd_unit.UnitSpec(argv=[bad, "listen"]))


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)


@given(st.lists(printable, min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_quoting_round_trips_through_our_parser(values: list[str]) -> None:
    line = " ".join(systemd_unit.quote_exec_arg(v) for v in values)
    assert systemd_unit.parse_exec_line(line) == values


@given(st.lists(printable, min_size=1, max_size=12))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_quoting_round_trips_through_systemd(shared_dir: Path, values: list[str]) -> None:
    argv = [str(VENV_BIN / "assistant"), *values]
    unit = _write(shared_dir, systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv)))
    assert systemd_parsed(unit)[0] == argv


def test_listen_argv_pins_chosen_settings_and_only_given_speech_settings(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cmd = ["/venv/bin/assistant"]
    assert systemd_unit.listen_argv(cmd, Settings()) == [*cmd, "listen", "--service"]
    chosen = Settings(input_device="2", engine="vosk", content_dir="my content", rate=120, volume=0.4)
    argv = systemd_unit.listen_argv(cmd, chosen, given={"volume"})
    assert argv == [*cmd, "listen", "--service", f"--content={tmp_path / 'my content'}", "--engine=vosk",
                    "--input-device=2", "--volume=0.4"]
    # a default value given on the command line is pinned (the caregiver chose it); --no-log passes on
    assert systemd_unit.listen_argv(cmd, Settings(), given={"wake_phrase"}, log_enabled=False) == [
        *cmd, "listen", "--service", "--wake-phrase=hey coach", "--no-log"]


def test_the_real_listen_command_reads_the_unit_argv_as_the_chosen_settings(shared_dir: Path) -> None:
    """What systemd will run (the argv parsed back by systemd itself) gives `assistant listen` exactly the
    caregiver's values, even ones that look like options or contain quotes, % and $."""
    import argparse
    import importlib

    from assistant import cli

    argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), nasty_settings(shared_dir),
                               given={"input_device", "output_device", "wake_phrase", "voice", "rate"})
    argv.append("--wake-phrase=-h")  # the last one wins, as on any command line: a value like an option
    parsed = systemd_parsed(_write(shared_dir, systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv))))[0]
    parser = argparse.ArgumentParser(prog="assistant")
    subparsers = parser.add_subparsers(dest="command")
    importlib.import_module("assistant.commands.listen").register(subparsers, [cli.common_options()])
    args = parser.parse_args(parsed[1:])
    chosen = nasty_settings(shared_dir)
    assert args.command == "listen" and args.service is True
    assert (args.input_device, args.output_device, args.voice, args.rate) == (
        chosen.input_device, chosen.output_device, chosen.voice, chosen.rate)
    assert args.wake_phrase == "-h" and args.emergency_number == chosen.emergency_number
    assert args.content_dir == chosen.content_dir and args.model == chosen.model


def test_user_unit_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert systemd_unit.unit_path(False) == tmp_path / "cfg" / "systemd" / "user" / systemd_unit.UNIT_NAME
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")  # the XDG rules ignore relative paths
    assert systemd_unit.unit_path(False) == tmp_path / "home" / ".config" / "systemd" / "user" / systemd_unit.UNIT_NAME
    assert systemd_unit.unit_path(True) == Path("/etc/systemd/system") / systemd_unit.UNIT_NAME


# ----- the command line, in a private HOME ----------------------------------------------------------------


@pytest.fixture
def private_home(tmp_path: Path) -> dict[str, str]:
    """Environment for `assistant` subprocesses: a temp HOME and config, and a private runtime dir so no
    real user manager can be reached (none runs here anyway)."""
    (tmp_path / "run").mkdir(mode=0o700)
    config = tmp_path / "assistant.yaml"
    config.write_text("input_device: USB PnP Sound Device\nwake_phrase: hello helper\n")
    return {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_RUNTIME_DIR": str(tmp_path / "run"), "ASSISTANT_CONFIG": str(config),
            # systemctl works on files only, even on a machine booted with systemd: no real manager is touched
            "SYSTEMD_OFFLINE": "1"}


def assistant(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "assistant"), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_dry_run_prints_a_verified_unit_and_writes_nothing(private_home: dict[str, str], tmp_path: Path,
                                                           shared_dir: Path) -> None:
    result = assistant(private_home, "service", "install", "--dry-run", "--output-device", 'Speaker "2" 50%',
                       "--rate", "150")
    assert result.returncode == 0, result.stderr
    assert "nothing was written" in result.stderr
    assert not (tmp_path / "config").exists() and not (tmp_path / "home").exists()
    unit = _write(shared_dir, result.stdout)
    assert analyze_verify(unit, user=True, runtime_dir=shared_dir / "run") == []
    assert systemd_parsed(unit)[0] == [
        str(VENV_BIN / "assistant"), "listen", "--service", "--input-device=USB PnP Sound Device",
        '--output-device=Speaker "2" 50%', "--wake-phrase=hello helper", "--rate=150"]
    assert f'Environment="ASSISTANT_CONFIG={private_home["ASSISTANT_CONFIG"]}"' in result.stdout

    system = assistant(private_home, "service", "install", "--dry-run", "--system", "--user", "root")
    assert system.returncode == 0, system.stderr
    unit = _write(shared_dir, system.stdout)
    assert "User=root" in system.stdout and "WantedBy=multi-user.target" in system.stdout
    assert analyze_verify(unit, user=False, runtime_dir=shared_dir / "run") == []


def test_install_status_uninstall_in_a_private_home(private_home: dict[str, str], tmp_path: Path) -> None:
    unit = tmp_path / "config" / "systemd" / "user" / systemd_unit.UNIT_NAME
    link = unit.parent / "default.target.wants" / systemd_unit.UNIT_NAME

    missing = assistant(private_home, "service", "status")
    assert missing.returncode == 1 and "not installed" in missing.stdout

    installed = assistant(private_home, "service", "install", "--input-device", "Mic 'B'")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert unit.is_file() and f"Wrote {unit}" in installed.stdout
    assert "systemd is not running here" in installed.stdout
    assert "systemctl --user daemon-reload && systemctl --user enable --now" in installed.stdout
    # systemctl enables a unit without a running manager: the link that starts it at login exists
    assert link.is_symlink() and link.resolve() == unit.resolve()
    written = systemd_unit.parse_exec_line(systemd_unit.exec_start_of(unit.read_text()) or "")
    assert written == [str(VENV_BIN / "assistant"), "listen", "--service", "--input-device=Mic 'B'",
                       "--wake-phrase=hello helper"]

    state = assistant(private_home, "service", "status")
    assert state.returncode == 0, state.stderr
    assert str(unit) in state.stdout and "(installed)" in state.stdout
    assert "Enabled:   enabled" in state.stdout and "systemd is not running here" in state.stdout
    command = next(line for line in state.stdout.splitlines() if line.startswith("Command:"))
    assert shlex.split(command[len("Command:"):]) == written  # shown so it can be pasted into a shell

    removed = assistant(private_home, "service", "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not unit.exists() and not link.is_symlink()
    assert removed.stdout.splitlines() == [f"Removed {unit}"]
    again = assistant(private_home, "service", "uninstall")
    assert again.returncode == 0 and "No service was installed" in again.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--user", "root"], "only applies to a system service"),
    (["--system", "--user", "no-such-user-here"], "there is no user 'no-such-user-here'"),
    (["--input-device", INJECTION], "line break"),
    (["--content", "/no/such/folder"], "content folder /no/such/folder does not exist"),
])
def test_install_refuses_bad_input_with_a_message(private_home: dict[str, str], tmp_path: Path,
                                                  args: list[str], message: str) -> None:
    result = assistant(private_home, "service", "install", "--dry-run", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert result.stdout == "" and not (tmp_path / "config").exists()


def test_without_systemctl_install_says_what_to_run_and_uninstall_cleans_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without systemd tools (the real `systemctl` is only hidden from PATH here)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    unit = tmp_path / "units" / systemd_unit.UNIT_NAME
    argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), Settings())
    text = systemd_unit.render_unit(systemd_unit.UnitSpec(argv=argv))
    outcome = systemd_unit.install(text, system=False, path=unit)
    assert not outcome.ok and unit.read_text() == text
    assert any("systemctl --user daemon-reload && systemctl --user enable --now" in line
               for line in outcome.lines)
    assert not systemd_unit.status(False, path=unit).manager_running

    link = unit.parent / "default.target.wants" / systemd_unit.UNIT_NAME  # enabled on some other occasion
    link.parent.mkdir()
    link.symlink_to(unit)
    removed = systemd_unit.uninstall(False, path=unit)
    assert removed.lines == [f"Removed {unit}"] and not unit.exists() and not link.is_symlink()


FAKE_SYSTEMCTL = """#!/bin/sh
# Stands in for systemctl talking to a running manager, which cannot run in this container.
echo "$*" >> "{log}"
case "$*" in
  *is-system-running*) echo running ;;
  *is-enabled*) echo enabled ;;
  *is-active*) echo active ;;
  *restart*) [ -e "{fail}" ] && {{ echo "Job failed: bad unit" >&2; exit 1; }} ;;
esac
exit 0
"""


def test_with_a_running_manager_install_reloads_enables_and_restarts(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd cannot run as a manager in this container, so a stand-in `systemctl` records what we ask
    of a running one (the offline behaviour is tested with the real systemctl above)."""
    bin_dir, log, fail = tmp_path / "bin", tmp_path / "calls.log", tmp_path / "fail"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL.format(log=log, fail=fail))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    unit = tmp_path / "units" / systemd_unit.UNIT_NAME
    text = systemd_unit.render_unit(systemd_unit.UnitSpec(argv=[str(VENV_BIN / "assistant"), "listen", "--service"]))

    outcome = systemd_unit.install(text, system=False, path=unit)
    assert outcome.ok and any("Enabled and started" in line for line in outcome.lines)
    calls = log.read_text().splitlines()
    name = systemd_unit.UNIT_NAME
    assert calls == ["--user is-system-running", "--user daemon-reload", f"--user enable {name}",
                     f"--user restart {name}"]
    state = systemd_unit.status(False, path=unit)
    assert (state.installed, state.enabled, state.active, state.manager_running) == (True, "enabled", "active",
                                                                                    True)
    fail.touch()
    failed = systemd_unit.install(text, system=True, path=unit)
    assert not failed.ok and any("`systemctl restart" in line and "bad unit" in line for line in failed.lines)

    log.write_text("")
    removed = systemd_unit.uninstall(False, path=unit)
    assert removed.lines == [f"Removed {unit}"] and not unit.exists()
    assert log.read_text().splitlines() == ["--user is-system-running", f"--user disable --now {name}",
                                            "--user daemon-reload"]
