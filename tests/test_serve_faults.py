"""What no well-behaved client sends, over raw sockets on 127.0.0.1: each fault gets a Wyoming `error` event
where the connection still works, one log line, and the next good request (on the same connection where the
stream is still in step, else a new one) is answered; the server and the other rooms never notice."""

from __future__ import annotations

import json
import time

import pytest
from running_assistant import spoken
from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe
from wyoming_server import RunningServer, wav_events

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content

CONTENT = load_content(DEFAULT_CONTENT_DIR)
MAX_CONNECTIONS = 3
READ_TIMEOUT = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with RunningServer(tmp_path_factory.mktemp("faults"), "--read-timeout", str(READ_TIMEOUT),
                       "--max-connections", str(MAX_CONNECTIONS)) as running:
        # a conversation going on in another room while the faults come in
        assert running.handle("what is occupational therapy", conversation_id="other-room").text == \
            CONTENT.topics["ot.what"].answer
        yield running
        # ... and it was never disturbed
        assert running.handle("tell me more", conversation_id="other-room").text == CONTENT.topics["ot.what"].more
        assert running.process.poll() is None


@pytest.fixture(scope="module")
def question(tmp_path_factory):
    return spoken(tmp_path_factory.mktemp("said"), "what is physical therapy")


def error_of(connection) -> dict:
    event = connection.read()
    assert event is not None and event.type == "error", event
    return event.data


def still_answers(connection) -> None:
    """The same connection answers a good request."""
    connection.send(Describe().event())
    assert connection.read().type == "info"


def logged_once(server, needle: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(needle in line for line in server.log_lines()):
        time.sleep(0.05)
    assert sum(needle in line for line in server.log_lines()) == 1, server.log_lines()


def test_garbage_line_then_a_good_request_on_the_same_connection(server):
    with server.raw() as connection:
        connection.send_bytes(b"GET / HTTP/1.1 garbage-line-1\n")
        assert error_of(connection)["code"] == "bad-json"
        still_answers(connection)
    logged_once(server, "garbage-line-1")


def test_bad_json_and_a_header_without_a_type(server):
    with server.raw() as connection:
        connection.send_bytes(b'{"type": "describe", "data": {bad-json-2\n')
        assert error_of(connection)["code"] == "bad-json"
        connection.send_bytes(b'{"data": {}, "no-type-3": 1}\n')
        assert error_of(connection)["code"] == "bad-header"
        connection.send_bytes(b'{"type": "transcript", "data_length": 5}\nnot{}')
        assert error_of(connection)["code"] == "bad-data"
        still_answers(connection)
    logged_once(server, "bad-json-2")
    logged_once(server, "no-type-3")


def test_absurd_lengths_close_only_that_connection(server):
    for header in (b'{"type": "audio-chunk", "payload_length": 1000000000000}\n',
                   b'{"type": "audio-chunk", "payload_length": -5}\n',
                   b'{"type": "describe", "data_length": 99999999}\n',
                   b'{"type": "describe", "x": "' + b"a" * 70000 + b'"}\n'):
        with server.raw() as connection:
            connection.send_bytes(header)
            assert error_of(connection)["code"] in ("too-large", "bad-length", "header-too-long")
            assert connection.closed()  # the stream cannot be followed any further
        with server.raw() as connection:
            still_answers(connection)
    logged_once(server, "payload_length 1000000000000")


def test_audio_before_audio_start_then_a_good_transcription(server, question):
    with server.raw() as connection:
        connection.send(AudioChunk(rate=16000, width=2, channels=1, audio=b"\0\0" * 512).event())
        assert error_of(connection)["code"] == "no-audio-start"
        connection.send(AudioStop().event())
        assert error_of(connection)["code"] == "no-audio-start"
        for event in (Transcribe(language="en").event(), *wav_events(question)):
            connection.send(event)
        answer = connection.read()
        assert answer.type == "transcript" and answer.data["text"] == "what is physical therapy"


@pytest.mark.parametrize("start, chunk", [
    ({"rate": 16000, "width": 7, "channels": 1}, None),
    ({"rate": 0, "width": 2, "channels": 1}, None),
    ({"rate": "fast", "width": 2, "channels": 1}, None),
    ({"rate": 16000, "width": 2, "channels": 1}, {"rate": 8000, "width": 2, "channels": 1}),
    ({"rate": 16000, "width": 2, "channels": 2}, {"rate": 16000, "width": 2, "channels": 2, "odd": True}),
])
def test_wrong_formats_then_a_good_transcription(server, question, start, chunk):
    with server.raw() as connection:
        connection.send(Transcribe(language="en").event())
        connection.send(Event(type="audio-start", data=start))
        if chunk is not None:
            fields = {key: chunk[key] for key in ("rate", "width", "channels")}
            payload = b"\1" * (1023 if chunk.get("odd") else 1024)
            connection.send(Event(type="audio-chunk", data=fields, payload=payload))
            connection.send(Event(type="audio-chunk", data=fields, payload=payload))  # dropped quietly
        assert error_of(connection)["code"] == "bad-audio"
        connection.send(AudioStop().event())  # ends the refused request without another error
        for event in (Transcribe(language="en").event(), *wav_events(question)):
            connection.send(event)
        answer = connection.read()
        assert answer.type == "transcript" and answer.data["text"] == "what is physical therapy"


def test_more_than_30_seconds_of_audio_is_refused(server):
    with server.raw() as connection:
        connection.send(AudioStart(rate=16000, width=2, channels=1).event())
        second = b"\0\0" * 16000
        for _ in range(31):
            connection.send(AudioChunk(rate=16000, width=2, channels=1, audio=second).event())
        assert "more than 30 s" in error_of(connection)["text"]
        connection.send(AudioStop().event())
        still_answers(connection)


def test_client_vanishing_mid_audio(server):
    with server.raw() as connection:
        connection.send(AudioStart(rate=16000, width=2, channels=1).event())
        connection.send(AudioChunk(rate=16000, width=2, channels=1, audio=b"\0\0" * 8000).event())
        connection.send_bytes(json.dumps({"type": "audio-chunk", "data": {"rate": 16000, "width": 2, "channels": 1},
                                          "payload_length": 32000}).encode() + b"\n" + b"\0" * 100)
    logged_once(server, "bytes into a 32000-byte read")
    with server.raw() as connection:
        still_answers(connection)


def test_a_client_that_stops_sending_is_dropped(server):
    with server.raw() as connection:
        connection.send(AudioStart(rate=16000, width=2, channels=1).event())
        assert error_of(connection)["code"] == "timeout"  # after READ_TIMEOUT seconds of nothing
        assert connection.closed()
    with server.raw() as connection:
        still_answers(connection)


def test_too_many_connections_are_refused_and_the_rest_answer(server):
    held = [server.raw() for _ in range(MAX_CONNECTIONS)]
    try:
        for connection in held:
            still_answers(connection)  # each is counted before the next one connects
        with server.raw() as extra:
            assert error_of(extra)["code"] == "refused"
        still_answers(held[0])
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.2)
    with server.raw() as connection:
        still_answers(connection)


def test_allow_refuses_addresses_outside_the_listed_networks(tmp_path):
    with RunningServer(tmp_path, "--allow", "10.0.0.0/8") as refusing:
        with refusing.raw() as connection:
            assert "not in the allowed networks" in error_of(connection)["text"]
            assert connection.closed()
    with RunningServer(tmp_path / "open", "--allow", "127.0.0.0/8") as allowing:
        assert allowing.describe().handle


def test_nothing_is_written_to_disk_but_the_history(server):
    audio_files = [p for p in server.folder.rglob("*") if p.is_file() and p.suffix in (".wav", ".raw", ".pcm")]
    assert audio_files == []


def test_loopback_only_unless_told(server):
    assert any("only programs on this machine can connect" in line for line in server.log_lines())
    # the listening socket is bound to 127.0.0.1 (0100007F in /proc/net/tcp), not to every address
    bound = [line.split()[1] for line in open("/proc/net/tcp").read().splitlines()[1:]
             if line.split()[1].endswith(f":{server.port:04X}") and line.split()[3] == "0A"]
    assert bound == [f"0100007F:{server.port:04X}"]
