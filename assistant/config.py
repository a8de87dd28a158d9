"""User settings: defaults, the per-user config file, and command-line overrides.

The config file is YAML in the user's config folder (``$XDG_CONFIG_HOME/ot-pt-assistant/config.yaml``).
Speech settings changed by voice ("slower", "louder") are written back so they survive a restart.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import yaml

APP_NAME = "ot-pt-assistant"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = REPO_ROOT / "content"
DEFAULT_MODELS_DIR = REPO_ROOT / "models"


class ConfigError(Exception):
    """The config file cannot be used; the message says which file and what to fix."""


@dataclass
class Settings:
    emergency_number: str = "911"
    content_dir: str | None = None
    engine: str = "auto"  # auto | whisper | vosk
    model: str | None = None  # a Vosk or faster-whisper model folder (None: auto-detect, built-in Whisper)
    input_device: str | None = None  # index or name
    output_device: str | None = None
    rate: int = 165  # words per minute
    volume: float = 0.9  # 0.1 .. 1.0
    voice: str | None = None
    wake_phrase: str = "hey coach"  # "off" answers any speech
    follow_up_seconds: float = 8.0
    endpoint_silence: float = 1.0  # seconds of trailing silence that end an utterance
    max_pause: float = 2.5  # seconds waited in a pause when the words so far trail off ("with my ...")
    max_utterance: float = 15.0
    alert_command: list[str] = field(default_factory=list)
    alert_timeout: float = 10.0
    log_enabled: bool = True

    def content_path(self) -> Path:
        return Path(self.content_dir) if self.content_dir else DEFAULT_CONTENT_DIR


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def config_path() -> Path:
    override = os.environ.get("ASSISTANT_CONFIG")
    return Path(override) if override else config_dir() / "config.yaml"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _check_range(low: float, high: float, unit: str) -> Any:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"must be between {low:g} and {high:g} {unit}".rstrip()
    return check


def _check_number(value: str) -> str | None:
    # An empty or garbled number would be read out as "Call  now" in an emergency.
    if re.fullmatch(r"\+?[0-9][0-9 -]*", value.strip()) and sum(c.isdigit() for c in value) >= 2:
        return None
    return "must be the digits of the local emergency number, e.g. 911, 999, 112 or 000"


# What each setting may be; a value outside it is refused with the reason, never used quietly.
_CHECKS = {
    "emergency_number": _check_number,
    "engine": lambda v: None if v in ("auto", "whisper", "vosk") else "must be auto, whisper or vosk",
    "rate": _check_range(80, 400, "words per minute"),
    "volume": _check_range(0.05, 1.0, ""),
    "wake_phrase": lambda v: None if v.strip() else 'must be a phrase, or "off" to answer any speech',
    "follow_up_seconds": _check_range(0, 120, "seconds"),
    "endpoint_silence": _check_range(0.2, 5, "seconds"),
    "max_pause": _check_range(0.5, 10, "seconds"),
    "max_utterance": _check_range(1, 120, "seconds"),
    "alert_timeout": _check_range(0.5, 600, "seconds"),
}


def _coerce(name: str, value: Any, source: str) -> Any:
    if value is None:
        return None
    value = _convert(name, value, source)
    problem = _CHECKS[name](value) if name in _CHECKS else None
    if problem:
        raise ConfigError(f"{source}: setting '{name}' has a bad value {value!r}: it {problem}")
    return value


def _convert(name: str, value: Any, source: str) -> Any:
    default = getattr(Settings(), name)
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            raise ValueError("expected true or false")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            if isinstance(value, str):
                raise ValueError("expected a list, e.g. [\"/usr/local/bin/notify\", \"--urgent\"]")
            return [str(v) for v in value]
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: setting '{name}' has a bad value {value!r}: {exc}") from exc


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file if there is one; unknown keys and bad values are errors that name the file."""
    path = path or config_path()
    settings = Settings()
    if not path.exists():
        return settings
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected 'setting: value' lines at the top level")
    for key, value in data.items():
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ConfigError(f"{path}: unknown setting '{key}'. Known settings: {known}")
        setattr(settings, key, _coerce(key, value, str(path)))
    return settings


def save_settings(settings: Settings, path: Path | None = None, only: list[str] | None = None) -> Path:
    """Write settings (or just the named ones) into the config file, keeping the others already there."""
    path = path or config_path()
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            existing = {}
    values = dataclasses.asdict(settings)
    for key in only or list(values):
        existing[key] = values[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(existing, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return path


def apply_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """Command-line values win over the config file; None means 'not given'."""
    for key, value in overrides.items():
        if value is not None and key in _FIELDS:
            setattr(settings, key, _coerce(key, value, "command line"))
    return settings
