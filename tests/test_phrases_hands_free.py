"""Personal phrases end to end on the virtual PulseAudio devices: `assistant phrases record stop` enrolls
the simulated impaired voice through the virtual microphone (prompts spoken on the virtual speaker), then
`assistant listen` hears a new take of "stop" during a long answer and stops, decided by the phrase."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading

from impaired_voice import Person
from running_assistant import REPO, WAIT, RunningAssistant

PERSON = Person(seed=4)
FAST = ("--rate", "230", "--no-log")


def _lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def test_enroll_by_voice_then_stop_hands_free(tmp_path, virtual_audio):
    env = {**os.environ, **virtual_audio.env, "XDG_DATA_HOME": str(tmp_path / "data"),
           "ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "assistant", "phrases", "record", "stop", *FAST], cwd=REPO,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    status: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stderr, status), daemon=True).start()
    seen: list[str] = []
    refused = 0
    try:
        played = 0
        while played < 3:
            line = status.get(timeout=WAIT)
            assert line is not None, "\n".join(seen)
            seen.append(line)
            if "say it now" in line:
                virtual_audio.play_into_mic(_take_wav(tmp_path, played))
                played += 1
            refused += "refused" in line
        out, _ = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "\n".join(seen)
    assert "'stop' enrolled from 3 recordings" in out and refused == 0
    assert "Say 'stop' after the tone." in seen

    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("personal phrases: stop")
        assistant.wait_for_status("listening")
        assistant.say("what do occupational therapists do")
        assert len(assistant.next_answer()) > 100  # a long answer is being spoken (whatever it heard)
        virtual_audio.play_into_mic(_take_wav(tmp_path, 40))  # a new take, never enrolled
        assistant.wait_for_status('personal phrase "stop"')
        assistant.wait_for_status("stopped")


def _take_wav(tmp_path, take: int):
    from impaired_voice import write_wav

    path = tmp_path / f"stop-{take}.wav"
    write_wav(path, PERSON.say("stop", take))
    return path
