"""Start the assistant at boot or login with systemd: generate, install, remove and inspect its unit.

The unit runs ``<venv>/bin/assistant listen --service <the caregiver's options>``. Everything written into
the unit file is quoted per systemd.service(5) / systemd.syntax(7), so no option value (a device name with
spaces, quotes, backslashes, ``%`` or ``$``) can change the command line or add a directive; values that
cannot be written safely (newlines and other control characters) are refused with a message.

Rendering (`render_unit`) and parsing back (`parse_exec_line`) are pure; `install`, `uninstall` and
`status` touch the file system and call `systemctl`, which also works for enable/disable where systemd is
installed but not running (a container, an image being prepared).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings

UNIT_NAME = "ot-pt-assistant.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
# systemd >= 254 grows the restart delay (RestartSteps=, RestartMaxDelaySec=); older ones warn on them.
STEPPED_RESTART_SINCE = 254
EXEC_TYPE_SINCE = 240  # Type=exec: a missing binary fails the start instead of passing silently
RESTART_SEC = 10
RESTART_MAX_DELAY_SEC = 120
RESTART_STEPS = 5
START_LIMIT_INTERVAL_SEC = 60
MANAGER_STATES = {"initializing", "starting", "running", "degraded", "maintenance", "stopping"}

# (Settings field, listen option). Pinned in the unit when given on the command line or set in the config.
PINNED_OPTIONS = (
    ("content_dir", "--content"),
    ("emergency_number", "--emergency-number"),
    ("engine", "--engine"),
    ("model", "--model"),
    ("input_device", "--input-device"),
    ("output_device", "--output-device"),
    ("wake_phrase", "--wake-phrase"),
)
# Speech settings change by voice ("slower", "louder") and are saved in the config file; pinning them in
# the unit would undo those changes at every restart, so they go in only when given to `service install`.
SPEECH_OPTIONS = (("rate", "--rate"), ("volume", "--volume"), ("voice", "--voice"))
PATH_OPTIONS = {"content_dir", "model"}

_USER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # used with fullmatch: no trailing newline
_BARE_DOLLAR = re.compile(r"\$(?!\$)")


class ServiceError(Exception):
    """The unit cannot be generated or installed; the message says what to do."""


# ----- quoting -----------------------------------------------------------------------------------------


def _check_value(value: str, what: str) -> None:
    bad = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
        name = names.get(bad, f"the control character {bad!r}")
        raise ServiceError(f"{what} contains {name}, which cannot go into a systemd unit safely: {value!r}. "
                           "Choose the device by its number from `assistant devices`, or fix the value.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ServiceError(f"{what} is not valid text (UTF-8): {value!r}") from exc


def quote_exec_arg(value: str, what: str = "a value") -> str:
    """One ExecStart= argument, double-quoted: backslash and quote escaped, % as %%, $ as $$."""
    _check_value(value, what)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def quote_env_assignment(name: str, value: str) -> str:
    """One Environment= word, double-quoted. No $$: systemd does not expand variables in Environment=."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ServiceError(f"bad environment variable name {name!r}")
    _check_value(value, f"the environment value {name}")
    text = f"{name}={value}"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def _check_executable(path: str) -> None:
    # systemd refuses quotes and backslashes in the executable path and does not expand $ there.
    if not os.path.isabs(path):
        raise ServiceError(f"the assistant program path must be absolute, got {path!r}")
    _check_value(path, "the assistant program path")
    if any(ch in path for ch in "\"'\\$"):
        raise ServiceError(
            f"systemd cannot run a program whose path contains quotes, backslashes or '$': {path}. "
            "Install the assistant (its virtual environment) in a folder without them.")


_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "s": " ",
              "\\": "\\", '"': '"', "'": "'"}


def _resolve_specifiers(word: str) -> str:
    # Only %% is ever written by quote_exec_arg; any other specifier means the unit was not ours.
    out, i = [], 0
    while i < len(word):
        if word[i] == "%":
            if word[i + 1:i + 2] != "%":
                raise ValueError(f"unexpected systemd specifier in {word!r}")
            out.append("%")
            i += 2
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def split_systemd_words(text: str) -> list[str]:
    """Split like systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) (systemd.syntax(7))."""
    words: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\n\r":
            i += 1
        if i >= n:
            return words
        word: list[str] = []
        quote: str | None = None
        while i < n:
            ch = text[i]
            if ch == "\\":
                if i + 1 >= n:
                    raise ValueError("trailing backslash")
                nxt = text[i + 1]
                if nxt in _C_ESCAPES:
                    word.append(_C_ESCAPES[nxt])
                    i += 2
                elif nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
                    word.append(chr(int(text[i + 2:i + 4], 16)))
                    i += 4
                elif re.fullmatch(r"[0-7]{3}", text[i + 1:i + 4]):
                    word.append(chr(int(text[i + 1:i + 4], 8)))
                    i += 4
                elif nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2:i + 6]):
                    word.append(chr(int(text[i + 2:i + 6], 16)))
                    i += 6
                elif nxt == "U" and re.fullmatch(r"[0-9A-Fa-f]{8}", text[i + 2:i + 10]):
                    word.append(chr(int(text[i + 2:i + 10], 16)))
                    i += 10
                else:
                    raise ValueError(f"unknown escape \\{nxt}")
            elif quote is not None:
                if ch == quote:
                    quote = None
                else:
                    word.append(ch)
                i += 1
            elif ch in "\"'":
                quote = ch
                i += 1
            elif ch in " \t\n\r":
                break
            else:
                word.append(ch)
                i += 1
        if quote is not None:
            raise ValueError("unbalanced quotes")
        words.append("".join(word))


def parse_exec_line(value: str) -> list[str]:
    """The argv systemd runs for an ExecStart= value: unquote + C-unescape, resolve %%, then $$ -> $.

    Covers what quote_exec_arg writes: a bare `$VAR` or another specifier raises ValueError, and an
    unquoted `;` (a command separator) is not treated specially (this module never writes any of them).
    """
    argv = []
    for word in split_systemd_words(value):
        word = _resolve_specifiers(word)
        if _BARE_DOLLAR.search(word.replace("$$", "")):
            raise ValueError(f"unexpected variable reference in {word!r}")
        argv.append(word.replace("$$", "$"))
    return argv


# ----- what to run ---------------------------------------------------------------------------------------


def assistant_command() -> list[str]:
    """The absolute command that starts this very installation: the venv's `assistant` script if it is
    there, else `<python> -m assistant`. The python path is not resolved: a venv's python is a symlink,
    and resolving it would leave the venv."""
    python = Path(sys.executable).absolute()
    script = python.parent / "assistant"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(python), "-m", "assistant"]


def listen_argv(command: list[str], settings: Settings, given: Collection[str] = (),
                log_enabled: bool = True) -> list[str]:
    """`<command> listen --service` plus the caregiver's options, as `--name=value` words (so a value
    starting with '-' cannot be taken for an option)."""
    defaults = Settings()
    argv = [*command, "listen", "--service"]
    for name, option in PINNED_OPTIONS:
        value = getattr(settings, name)
        if value is None or (name not in given and value == getattr(defaults, name)):
            continue
        text = str(value)
        if name in PATH_OPTIONS:
            text = str(Path(text).expanduser().absolute())
        argv.append(f"{option}={text}")
    for name, option in SPEECH_OPTIONS:
        value = getattr(settings, name)
        if name in given and value is not None:
            argv.append(f"{option}={value}")
    if not log_enabled:
        argv.append("--no-log")
    return argv


def serve_argv(command: list[str], settings: Settings, given: Collection[str] = (), log_enabled: bool = True,
               serve_options: Collection[str] = ()) -> list[str]:
    """`<command> serve` with the server's options (--uri=..., --allow=...) instead of `listen --service`."""
    argv = listen_argv(command, settings, given, log_enabled)
    at = argv.index("listen")
    return [*argv[:at], "serve", *serve_options, *argv[at + 2:]]


# ----- the unit -----------------------------------------------------------------------------------------


@dataclass
class UnitSpec:
    argv: list[str]
    system: bool = False
    user: str | None = None  # User= of a system unit
    environment: dict[str, str] = field(default_factory=dict)
    supplementary_groups: list[str] = field(default_factory=list)
    systemd_version: int | None = None  # None: unknown, write only what every systemd knows


def render_unit(spec: UnitSpec) -> str:
    """The unit file text. Raises ServiceError for values that cannot be written safely."""
    if not spec.argv:
        raise ServiceError("nothing to run")
    _check_executable(spec.argv[0])
    exec_start = " ".join(
        [quote_exec_arg(spec.argv[0], "the assistant program path")]
        + [quote_exec_arg(arg, f"the option {arg.split('=', 1)[0]!r}") for arg in spec.argv[1:]])
    version = spec.systemd_version
    stepped = version is not None and version >= STEPPED_RESTART_SINCE
    exec_type = "exec" if version is not None and version >= EXEC_TYPE_SINCE else "simple"
    restart_sec = RESTART_SEC // 2 if stepped else RESTART_SEC
    # Automatic restarts alone must never trip the start limit (the person cannot type
    # `systemctl reset-failed`); the limit only stops storms of manual or external starts.
    burst = START_LIMIT_INTERVAL_SEC // restart_sec + 3
    environment = {"PYTHONUNBUFFERED": "1", **spec.environment}
    if spec.system:
        user = spec.user or ""
        if not _USER_NAME.fullmatch(user):
            raise ServiceError(f"not a valid user name for the service: {user!r}")
        after = "sound.target"
        wanted_by = "multi-user.target"
    else:
        after = "sound.target pipewire-pulse.service pulseaudio.service"
        wanted_by = "default.target"
    lines = [
        "# Generated by `assistant service install`. Re-run it to change the options; hand edits are lost.",
        "[Unit]",
        "Description=OT/PT voice assistant (hands-free)",
        f"After={after}",
        f"StartLimitIntervalSec={START_LIMIT_INTERVAL_SEC}",
        f"StartLimitBurst={burst}",
        "",
        "[Service]",
        f"Type={exec_type}",
        f"ExecStart={exec_start}",
    ]
    if spec.system:
        lines.append(f"User={spec.user}")
        for group in spec.supplementary_groups:
            if not _USER_NAME.fullmatch(group):
                raise ServiceError(f"not a valid group name: {group!r}")
        if spec.supplementary_groups:
            lines.append("SupplementaryGroups=" + " ".join(spec.supplementary_groups))
    lines += [f"Environment={quote_env_assignment(k, v)}" for k, v in environment.items()]
    lines += [
        "Restart=on-failure",
        f"RestartSec={restart_sec}",
    ]
    if stepped:
        lines += [f"RestartSteps={RESTART_STEPS}", f"RestartMaxDelaySec={RESTART_MAX_DELAY_SEC}"]
    lines += [
        "StandardOutput=journal",
        "StandardError=journal",
        "SyslogIdentifier=ot-pt-assistant",
        "",
        "[Install]",
        f"WantedBy={wanted_by}",
        "",
    ]
    return "\n".join(lines)


def exec_start_of(unit_text: str) -> str | None:
    """The raw ExecStart= value of a unit file (the last one wins, as in systemd)."""
    value = None
    for line in unit_text.split("\n"):  # not splitlines(): systemd ends lines only at \n
        if line.startswith("ExecStart="):
            value = line[len("ExecStart="):]
    return value


# ----- where and with what -------------------------------------------------------------------------------


def user_unit_dir() -> Path:
    """~/.config/systemd/user, honouring an absolute $XDG_CONFIG_HOME (the XDG base directory rules)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "systemd" / "user"


def unit_path(system: bool) -> Path:
    return (SYSTEM_UNIT_DIR if system else user_unit_dir()) / UNIT_NAME


def invoking_user() -> str:
    """The person who ran the command, also through sudo."""
    if os.geteuid() == 0 and os.environ.get("SUDO_USER"):
        return os.environ["SUDO_USER"]
    return pwd.getpwuid(os.getuid()).pw_name


def systemd_version() -> int | None:
    """The installed systemd's version number, or None if systemctl is missing or says something else."""
    if shutil.which("systemctl") is None:
        return None
    try:
        out = subprocess.run(["systemctl", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"systemd (\d+)", out)
    return int(match.group(1)) if match else None


@dataclass
class Systemctl:
    """`systemctl` for the user's manager or the system's."""

    system: bool

    def scope(self) -> list[str]:
        return [] if self.system else ["--user"]

    def command(self, *args: str) -> list[str]:
        return ["systemctl", *self.scope(), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(self.command(*args), capture_output=True, text=True, timeout=60)
        except FileNotFoundError:
            return subprocess.CompletedProcess(self.command(*args), 127, "", "systemctl not found")
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(self.command(*args), 124, "", "systemctl timed out")

    def manager_running(self) -> bool:
        """Whether a systemd manager answers (false in containers and where systemd is not PID 1)."""
        if shutil.which("systemctl") is None:
            return False
        # "offline" where not booted with systemd (or SYSTEMD_OFFLINE=1), nothing when the bus is missing
        return self.run("is-system-running").stdout.strip() in MANAGER_STATES

    def shell_line(self, *args: str) -> str:
        return " ".join(self.command(*args))


# ----- install / uninstall / status ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened, in lines for the caregiver; ok is False when they must act."""

    path: Path
    ok: bool = True
    lines: list[str] = field(default_factory=list)


def _activation_commands(ctl: Systemctl) -> str:
    return f"{ctl.shell_line('daemon-reload')} && {ctl.shell_line('enable', '--now', UNIT_NAME)}"


def write_unit(text: str, path: Path) -> None:
    """Write atomically (a half-written unit must never be loaded), mode 0644."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
        tmp.replace(path)
    except PermissionError as exc:
        raise ServiceError(f"cannot write {path}: permission denied. A system-wide service needs root: "
                           "run the same command with sudo.") from exc


def install(text: str, system: bool, path: Path | None = None, ctl: Systemctl | None = None) -> Outcome:
    """Write the unit, then reload + enable + start it if systemd is running; else enable it for the next
    boot where systemctl can do that offline, and say what to run."""
    path = path or unit_path(system)
    ctl = ctl or Systemctl(system)
    write_unit(text, path)
    outcome = Outcome(path, lines=[f"Wrote {path}"])
    if shutil.which("systemctl") is None:
        outcome.ok = False
        outcome.lines.append("systemctl is not installed here. On the home device run: "
                             + _activation_commands(ctl))
        return outcome
    if ctl.manager_running():
        # restart, not just `enable --now`: a re-install must replace a running old command line
        for args in (("daemon-reload",), ("enable", UNIT_NAME), ("restart", UNIT_NAME)):
            result = ctl.run(*args)
            if result.returncode != 0:
                outcome.ok = False
                outcome.lines.append(f"`{ctl.shell_line(*args)}` failed: {result.stderr.strip()}")
                return outcome
        outcome.lines.append(f"Enabled and started {UNIT_NAME}: it starts at "
                             f"{'boot' if system else 'login'} and restarts after a failure.")
        return outcome
    enabled = ctl.run("enable", UNIT_NAME)
    outcome.lines.append("systemd is not running here, so the service was not started.")
    if enabled.returncode == 0:
        outcome.lines.append(f"It is enabled: it will start at the next {'boot' if system else 'login'}.")
    else:
        outcome.ok = False
    outcome.lines.append(f"Where systemd runs, start it now with: {_activation_commands(ctl)}")
    return outcome


def uninstall(system: bool, path: Path | None = None, ctl: Systemctl | None = None) -> Outcome:
    """Stop and disable the service (where systemd allows), then remove the unit file."""
    path = path or unit_path(system)
    ctl = ctl or Systemctl(system)
    outcome = Outcome(path)
    have_ctl = shutil.which("systemctl") is not None
    running = have_ctl and ctl.manager_running()
    if have_ctl and path.exists():
        # `disable` works without a running manager (it removes the links); `--now` needs one.
        result = ctl.run("disable", "--now", UNIT_NAME) if running else ctl.run("disable", UNIT_NAME)
        if result.returncode != 0:
            outcome.lines.append(f"note: `{ctl.shell_line('disable', UNIT_NAME)}` said: "
                                 + result.stderr.strip())
    if path.exists():
        try:
            path.unlink()
        except PermissionError as exc:
            raise ServiceError(f"cannot remove {path}: permission denied. "
                               "Run the same command with sudo.") from exc
        outcome.lines.append(f"Removed {path}")
    else:
        outcome.lines.append(f"No service was installed ({path} does not exist).")
    # Where systemctl could not disable it, drop the link that would start it (now dangling) ourselves.
    for target in ("multi-user.target", "default.target"):
        link = path.parent / f"{target}.wants" / UNIT_NAME
        if link.is_symlink():
            link.unlink()
    if running:
        ctl.run("daemon-reload")
    return outcome


@dataclass
class ServiceStatus:
    path: Path
    installed: bool
    enabled: str | None  # systemctl is-enabled's word ("enabled", "disabled", ...) or None if unknown
    active: str | None  # systemctl is-active's word, or None where systemd is not running
    manager_running: bool
    argv: list[str] | None  # the command the unit runs, parsed back


def status(system: bool, path: Path | None = None, ctl: Systemctl | None = None) -> ServiceStatus:
    path = path or unit_path(system)
    ctl = ctl or Systemctl(system)
    installed = path.is_file()
    running = ctl.manager_running()
    enabled = active = None
    argv = None
    if installed:
        try:
            raw = exec_start_of(path.read_text(encoding="utf-8"))
            argv = parse_exec_line(raw) if raw is not None else None
        except (OSError, ValueError, UnicodeDecodeError):
            argv = None
        if shutil.which("systemctl") is not None:
            word = ctl.run("is-enabled", UNIT_NAME).stdout.strip()
            enabled = word or None
    if running:
        active = ctl.run("is-active", UNIT_NAME).stdout.strip() or None
    return ServiceStatus(path, installed, enabled, active, running, argv)
