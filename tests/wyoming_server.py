"""Run `assistant serve` as a subprocess on 127.0.0.1 (a free port) and talk to it with the real `wyoming`
client library or over a raw socket.

    with RunningServer(tmp_path, "--read-timeout", "3") as server:
        transcript = server.transcribe(wav_path)     # asr: the words the assistant acts on
        handled = server.handle("what is occupational therapy", conversation_id="a")
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

from running_assistant import REPO
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event, read_event, write_event
from wyoming.handle import Handled
from wyoming.info import Describe, Info

WAIT = 60.0  # the machine is shared: generous, tests never assert on time


def wav_events(path: Path, samples_per_chunk: int = 1024) -> list[Event]:
    """A WAV file as Wyoming audio events, in its own format (rate, width, channels)."""
    with wave.open(str(path)) as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        audio = wav.readframes(wav.getnframes())
    step = samples_per_chunk * width * channels
    return [AudioStart(rate=rate, width=width, channels=channels).event(),
            *(AudioChunk(rate=rate, width=width, channels=channels, audio=audio[i:i + step]).event()
              for i in range(0, len(audio), step)),
            AudioStop().event()]


class RunningServer:
    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.env = {**os.environ, "XDG_DATA_HOME": str(folder / "data"),
                    "ASSISTANT_CONFIG": str(folder / "config.yaml"), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.args = args
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> RunningServer:
        self.process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--uri", "tcp://127.0.0.1:0",
                                         *self.args], cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._collect, daemon=True).start()
        line = self.wait_for_log("listening on")
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _collect(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_log(self, needle: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the server ended while waiting for {needle!r}:\n" + "\n".join(self.log))
            self.log.append(line)
            if needle in line:
                return line
        raise AssertionError(f"no log line {needle!r} within {timeout} s:\n" + "\n".join(self.log))

    def log_lines(self) -> list[str]:
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                self.log.append(line)
        return self.log

    # -- the real wyoming client library (as Home Assistant uses it) ------------------------------------

    def request(self, events: list[Event], answer: str) -> Event:
        async def exchange() -> Event:
            async with AsyncTcpClient("127.0.0.1", self.port) as client:
                for event in events:
                    await client.write_event(event)
                while True:
                    event = await asyncio.wait_for(client.read_event(), WAIT)
                    assert event is not None, f"the server closed the connection before {answer}"
                    if event.type in (answer, "error"):
                        return event
        return asyncio.run(exchange())

    def describe(self) -> Info:
        return Info.from_event(self.request([Describe().event()], "info"))

    def transcribe(self, wav: Path) -> str:
        event = self.request([Transcribe(language="en").event(), *wav_events(wav)], "transcript")
        assert event.type == "transcript", event
        return Transcript.from_event(event).text

    def handle(self, text: str, **context: Any) -> Handled:
        event = self.request([Transcript(text=text, language="en", context=context or None).event()], "handled")
        assert event.type == "handled", event
        return Handled.from_event(event)

    # -- a raw socket, for what no well-behaved client sends ---------------------------------------------

    def raw(self) -> RawConnection:
        return RawConnection(socket.create_connection(("127.0.0.1", self.port), timeout=WAIT))


class RawConnection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.writer = sock.makefile("wb")

    def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)
        self.writer.flush()

    def send(self, event: Event) -> None:
        write_event(event, self.writer)

    def read(self) -> Event | None:
        return read_event(self.reader)

    def closed(self) -> bool:
        """True when the server has closed the connection (nothing more comes)."""
        return self.reader.read(1) == b""

    def close(self) -> None:
        for part in (self.reader, self.writer, self.sock):
            part.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
