"""Two room satellites (`assistant listen --server ... --room ...`), each on its own virtual devices (a
PulseAudio server each), against one `assistant serve` on 127.0.0.1: each room is answered in that room
only, and an emergency in one room gets the emergency answer there and an alert naming that room."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from running_assistant import REPO, RunningAssistant
from virtual_audio import VirtualAudio
from wyoming_server import RunningServer

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content

CONTENT = load_content(DEFAULT_CONTENT_DIR)
FAST = ("--rate", "230", "--no-log", "--wake-phrase", "off")

def test_two_rooms_against_one_server(tmp_path, virtual_audio):
    alerts = tmp_path / "alerts.txt"
    script = tmp_path / "alert.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s|%s\\n" "$1" "$2" >> "{alerts}"\n')
    script.chmod(0o755)
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "config.yaml").write_text(f'alert_command: ["{script}"]\n')
    (tmp_path / "kitchen").mkdir()
    (tmp_path / "bathroom").mkdir()
    with RunningServer(tmp_path / "server") as server, VirtualAudio() as bathroom_audio, \
            RunningAssistant(tmp_path / "kitchen", virtual_audio, *FAST, "--server", server.uri,
                             "--room", "kitchen") as kitchen, \
            RunningAssistant(tmp_path / "bathroom", bathroom_audio, *FAST, "--server", server.uri,
                             "--room", "bathroom") as bathroom:
        kitchen.wait_for_status("listening")
        bathroom.wait_for_status("listening")
        kitchen.say("what is occupational therapy")
        assert kitchen.next_answer() == CONTENT.topics["ot.what"].answer
        bathroom.say("help me i fell")
        emergency = CONTENT.red_flags.answer.format(number="911")
        assert bathroom.next_answer() == f"{emergency} {emergency}"
        kitchen.wait_until_quiet()
        time.sleep(1.0)
        assert kitchen.answers.empty()  # the kitchen heard nothing of the bathroom
        assert bathroom.answers.empty()  # nor the bathroom of the kitchen
        deadline = time.monotonic() + 30
        while not alerts.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        said, room = alerts.read_text().splitlines()[0].split("|")
        assert room == "bathroom" and "fell" in said
    logged = subprocess.run([sys.executable, "-m", "assistant", "history", "--json"], cwd=REPO, check=True,
                            capture_output=True, text=True, env=server.env).stdout.splitlines()
    rooms = [(json.loads(line)["room"], json.loads(line)["decision"]["disposition"]) for line in logged]
    assert ("kitchen", None) in rooms and ("bathroom", "emergency") in rooms  # the server's history names each room
