"""Settings a caregiver gives (config file or command line) are checked: a value the assistant cannot use
is refused with the file, the setting and what it must be, never used quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import ConfigError, Settings, apply_overrides, load_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("line", "problem"), [
    ('emergency_number: ""', "digits of the local emergency number"),
    ("emergency_number: call mum", "digits of the local emergency number"),
    ("rate: 1000", "between 80 and 400 words per minute"),
    ("rate: fast", "invalid literal"),
    ("volume: 5", "between 0.05 and 1"),
    ("engine: google", "auto, whisper or vosk"),
    ('wake_phrase: "  "', '"off"'),
    ("endpoint_silence: 0", "between 0.2 and 5 seconds"),
    ("max_pause: 0.1", "between 0.5 and 10 seconds"),
    ("alert_command: /bin/notify", "expected a list"),
    ("speed: 3", "unknown setting 'speed'"),
])
def test_bad_config_values_name_the_file_setting_and_fix(tmp_path, line, problem):
    path = tmp_path / "config.yaml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(path) in str(error.value) and problem in str(error.value)


@pytest.mark.parametrize("number", ["911", "999", "112", "000", "+44 999", "1-1-2"])
def test_real_emergency_numbers_are_accepted(number):
    assert apply_overrides(Settings(), {"emergency_number": number}).emergency_number == number


def test_command_line_value_is_checked_and_the_run_refused(tmp_path):
    result = subprocess.run([sys.executable, "-m", "assistant", "ask", "what is o t", "--no-speak",
                             "--volume", "5"], capture_output=True, text=True, cwd=REPO,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 2 and result.stdout == ""
    assert "command line: setting 'volume'" in result.stderr and "between 0.05 and 1" in result.stderr
