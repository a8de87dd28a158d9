"""`assistant serve` with the real `wyoming` client library over real sockets on 127.0.0.1 and over stdio,
real recordings and the real recognizer: what Home Assistant does with it, and one conversation per room.
One server for the module (it loads the recognizer once)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from running_assistant import REPO, spoken
from wyoming.asr import Transcribe, Transcript
from wyoming.event import read_event, write_event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize
from wyoming_server import RunningServer, wav_events

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content

CONTENT = load_content(DEFAULT_CONTENT_DIR)
QUESTIONS = ("what is occupational therapy", "what do physical therapists do", "where do occupational therapists work")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="module")
def server(folder):
    alerts = folder / "alerts.txt"
    script = folder / "alert.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s|%s|%s\\n" "$1" "$2" "$ASSISTANT_ROOM" >> "{alerts}"\n')
    script.chmod(0o755)
    (folder / "config.yaml").write_text(f'alert_command: ["{script}"]\n')
    with RunningServer(folder, "--room-name", "voice_pe_bath=bathroom") as running:
        yield running


def stereo_44k(folder, text: str):
    """A real spoken question (flite), resampled to 44.1 kHz stereo as a satellite's microphone may send it."""
    source = spoken(folder, text)
    path = folder / f"{source.stem}_44k_stereo.wav"
    if not path.exists():
        subprocess.run(["sox", str(source), "-r", "44100", "-c", "2", str(path)], check=True)
    return path


def test_describe_offers_asr_handle_and_tts_in_english(server):
    info = server.describe()
    assert [program.name for program in info.asr] == ["ot-pt-assistant-asr"]
    assert info.asr[0].installed and info.asr[0].models[0].languages == ["en"]
    assert "Whisper" in info.asr[0].models[0].description  # names the recognizer it really runs
    assert info.handle[0].installed and info.handle[0].models[0].languages == ["en"]
    assert info.tts[0].installed and info.tts[0].voices[0].languages == ["en"]


def test_recording_at_44k_stereo_comes_back_as_its_words_over_tcp(server, folder):
    assert server.transcribe(stereo_44k(folder, "what is occupational therapy")) == "what is occupational therapy"


def test_recording_at_44k_stereo_comes_back_as_its_words_over_stdio(folder):
    """The flow of wyoming-faster-whisper's own test: the server on stdin/stdout, describe, then a recording."""
    wav = stereo_44k(folder, "what is physical therapy")
    env = {"XDG_DATA_HOME": str(folder / "stdio-data"), "ASSISTANT_CONFIG": str(folder / "none.yaml"),
           "PATH": "/usr/bin:/bin", "HOME": str(folder)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--uri", "stdio://"], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        write_event(Describe().event(), proc.stdin)
        info = Info.from_event(read_event(proc.stdout))
        assert info.asr and info.handle and info.tts
        write_event(Transcribe(language="en").event(), proc.stdin)
        for event in wav_events(wav):
            write_event(event, proc.stdin)
        event = read_event(proc.stdout)
        assert event.type == "transcript"
        assert Transcript.from_event(event).text == "what is physical therapy"
    finally:
        proc.stdin.close()
        assert proc.wait(30) == 0  # the end of stdin ends the server cleanly
        proc.stdout.close()
        proc.stderr.close()


def test_spoken_questions_through_asr_then_handle_answer_as_assistant_ask(server, folder):
    """asr hears what `assistant ask --audio` hears; handle answers those words as `assistant ask` answers them
    (Home Assistant passes only the text from asr to handle)."""
    wavs = [spoken(folder, question) for question in QUESTIONS]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder)}
    heard = subprocess.run([sys.executable, "-m", "assistant", "ask", "--audio", *map(str, wavs), "--json",
                            "--no-speak", "--no-log"], cwd=REPO, check=True, capture_output=True, text=True, env=env)
    transcripts = [server.transcribe(wav) for wav in wavs]
    assert transcripts == [json.loads(line)["transcript"] for line in heard.stdout.splitlines()]
    answered = subprocess.run([sys.executable, "-m", "assistant", "ask", "-", "--json", "--no-speak", "--no-log"],
                              cwd=REPO, check=True, capture_output=True, text=True, env=env,
                              input="\n".join(transcripts) + "\n")
    expected = [json.loads(line) for line in answered.stdout.splitlines()]
    for number, (transcript, decision) in enumerate(zip(transcripts, expected, strict=True)):
        assert server.handle(transcript, conversation_id=f"ask-{number}").text == decision["answer"]
    assert sum(d["topic"] == topic and not d["confirm"]
               for d, topic in zip(expected, ["ot.what", "pt.treatments", "settings"], strict=True)) >= 2


def test_two_conversations_interleaved_keep_their_own_state(server):
    questions = CONTENT.triage.questions
    a, b = {"conversation_id": "kitchen-1"}, {"conversation_id": "bedroom-1"}
    assert server.handle("what is occupational therapy", **a).text == CONTENT.topics["ot.what"].answer
    started = server.handle("which therapy do i need", **b)
    assert started.text == f"{CONTENT.messages['questionnaire_intro']} {questions[0].text}"
    assert started.continue_conversation is True  # a question was asked: listen without the wake phrase
    assert server.handle("tell me more", **a).text == CONTENT.topics["ot.what"].more
    assert server.handle("no", **b).text == questions[1].text
    asked = server.handle("tell me about therapy education", **a)
    assert asked.text.startswith("Did you mean") and asked.continue_conversation is True
    assert server.handle("yes", **b).text == CONTENT.triage.conclusions["ot"]
    assert server.handle("yes", **a).text == CONTENT.topics["ot.education"].answer
    assert server.handle("tell me more", **b).text == CONTENT.topics["which"].more
    assert server.handle("tell me more", **a).text == CONTENT.topics["ot.education"].more
    # a conversation nobody has spoken in has nothing to tell more about
    assert server.handle("tell me more", conversation_id="new-1").text == CONTENT.messages["no_more"]


def test_emergency_from_a_room_alerts_naming_it_and_the_history_shows_it(server, folder):
    handled = server.handle("help me i fell and i can't get up", conversation_id="c-7",
                            satellite_id="voice_pe_bath")
    emergency = CONTENT.red_flags.answer.format(number="911")
    assert handled.text == f"{emergency} {emergency}"  # first and twice, as on the device
    alerts = folder / "alerts.txt"
    deadline = time.monotonic() + 30
    while not alerts.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alerts.read_text().splitlines()[-1] == "help me i fell and i can't get up|bathroom|bathroom"
    shown = subprocess.run([sys.executable, "-m", "assistant", "history", "--last", "1"], cwd=REPO, check=True,
                           capture_output=True, text=True, env=server.env).stdout
    assert "room: bathroom" in shown and "emergency" in shown
    logged = subprocess.run([sys.executable, "-m", "assistant", "history", "--json"], cwd=REPO, check=True,
                            capture_output=True, text=True, env=server.env).stdout.splitlines()
    rooms = {json.loads(line)["room"] for line in logged}
    assert "bathroom" in rooms and "conversation kitchen-1" in rooms  # every turn records its room


def test_tts_speaks_with_the_assistant_voice_and_its_rate(server):
    def seconds(text: str) -> float:
        events = []
        import asyncio

        from wyoming.client import AsyncTcpClient

        async def run():
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                await client.write_event(Synthesize(text=text).event())
                while True:
                    event = await client.read_event()
                    events.append(event)
                    if event.type == "audio-stop":
                        return
        asyncio.run(run())
        start = events[0]
        assert start.type == "audio-start" and start.data["channels"] == 1 and start.data["width"] == 2
        audio = sum(len(e.payload or b"") for e in events if e.type == "audio-chunk")
        return audio / 2 / start.data["rate"]

    text = "Occupational therapy helps you live better."
    before = seconds(text)
    assert before > 1.0
    server.handle("slower please", conversation_id="tts-room")  # the rate setting holds for tts too
    assert seconds(text) > before * 1.1
    server.handle("faster", conversation_id="tts-room")


def test_doctor_on_a_satellite_checks_its_server_answers(server):
    from assistant.network.check import check_server

    answered = check_server(server.uri)
    assert answered.ok and "Whisper" in answered.message
    refused = check_server("tcp://127.0.0.1:9")  # nothing listens there
    assert not refused.ok and "assistant serve" in refused.fix


def test_service_install_serve_writes_a_unit_for_the_server(folder):
    unit = subprocess.run([sys.executable, "-m", "assistant", "service", "install", "--serve", "--uri",
                           "tcp://0.0.0.0:10700", "--allow", "192.168.1.0/24", "10.0.0.0/8", "--dry-run"], cwd=REPO,
                          check=True, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}).stdout
    start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert '"serve" "--uri=tcp://0.0.0.0:10700" "--allow=192.168.1.0/24" "--allow=10.0.0.0/8"' in start
    assert '"listen"' not in start and "Restart=" in unit
