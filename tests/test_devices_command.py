"""`assistant devices` as a subprocess: inside the virtual PulseAudio devices, and with no sound at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from virtual_audio import VirtualAudio

from assistant.audio import devices


def assistant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def section(stdout: str, title: str) -> list[tuple[bool, list[str]]]:
    """Rows of the table under `title`: (marked in use, [index, name, channels, rate, "default"?])."""
    lines = stdout.splitlines()
    rows = []
    for line in lines[lines.index(title) + 2:]:  # skip the header line
        if not line.startswith("  "):
            break
        fields = line.split()  # the virtual devices' names have no spaces
        rows.append((fields[0] == "*", fields[1:] if fields[0] == "*" else fields))
    return rows


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.yaml"  # an empty config: no device chosen
    config.write_text("")
    return {**os.environ, "ASSISTANT_CONFIG": str(config)}


def test_lists_the_virtual_devices_with_defaults(virtual_audio: VirtualAudio, env: dict[str, str]) -> None:
    expected = {(str(d.index), d.name) for d in devices.list_devices()}  # what PortAudio shows in-process
    assert {name for _, name in expected} >= {"pulse", "default"}
    result = assistant("devices", env={**env, **virtual_audio.env})
    assert result.returncode == 0, result.stderr
    for title in ("Microphones (inputs)", "Speakers (outputs)"):
        rows = section(result.stdout, title)
        assert {(fields[0], fields[1]) for _, fields in rows} == expected, f"{title}: {rows}"
        defaults = [(in_use, fields[1]) for in_use, fields in rows if fields[-1] == "default"]
        assert defaults == [(True, "default")], f"{title}: the default must be marked and in use: {rows}"
    assert "microphone: [1] default (system default)" in result.stdout


def test_chosen_device_is_marked(virtual_audio: VirtualAudio, env: dict[str, str]) -> None:
    result = assistant("devices", "--input-device", "PULSE", env={**env, **virtual_audio.env})
    assert result.returncode == 0, result.stderr
    rows = section(result.stdout, "Microphones (inputs)")
    assert [fields[1] for in_use, fields in rows if in_use] == ["pulse"]
    assert "microphone: [0] pulse (chosen as 'PULSE')" in result.stdout


def test_unknown_device_is_an_actionable_error(virtual_audio: VirtualAudio, env: dict[str, str]) -> None:
    result = assistant("devices", "--input-device", "usb headset", env={**env, **virtual_audio.env})
    assert result.returncode == 1
    assert "no microphone matches 'usb headset'; choose one with --input-device INDEX or NAME" in result.stderr
    assert "pulse" in result.stdout  # the list to choose from is still shown


def test_no_sound_system_says_so_and_fails(env: dict[str, str], tmp_path: Path) -> None:
    cards = Path("/proc/asound/cards")
    if cards.exists() and "no soundcards" not in cards.read_text():
        pytest.skip("this machine has a real sound card, so 'no sound system' cannot be produced")
    result = assistant("devices", env={**env, "PULSE_SERVER": f"unix:{tmp_path}/nothing-here"})
    assert result.returncode != 0
    assert "no sound devices found" in result.stderr and "pactl info" in result.stderr
    assert result.stdout == ""
