"""Every room at once: `assistant serve` on 127.0.0.1 with 1, 4 and 8 rooms sending a spoken question at the
same moment (the real wyoming client, real speech, the real recognizer), beside the single-room local path;
and the server's memory idle, with 8 connections open, and after 1,000 mixed good and bad requests.

Targets: 8 rooms at once all answered right with p95 audio-stop -> answer text <= 2 s; 1,000 mixed requests
with 0 crashes and 0 lost answers to the good ones."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 3  # each room count is measured this many times
# (question, flite voice, topic): a different voice per room, as different people in different rooms
QUESTIONS = [
    ("what is occupational therapy", "slt", "ot.what"),
    ("what is physical therapy", "awb", "pt.what"),
    ("what do occupational therapists do", "rms", "ot.treatments"),
    ("what are the goals of physical therapy", "slt", "pt.goals"),
    ("where do physical therapists work", "awb", "settings"),
    ("what is the difference between occupational and physical therapy", "rms", "compare"),
    ("what are the goals of occupational therapy", "kal", "ot.goals"),
    ("what do physical therapists do", "kal", "pt.treatments"),
]


def _speak(folder: Path, text: str, voice: str) -> Path:
    path = folder / f"{voice}_{abs(hash(text))}.wav"
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True, capture_output=True)
    return path


def _pcm(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path)) as wav:
        return wav.getframerate(), wav.readframes(wav.getnframes())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, folder: Path) -> None:
        env = {**os.environ, "XDG_DATA_HOME": str(folder / "data"), "ASSISTANT_CONFIG": str(folder / "c.yaml")}
        self.process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--uri", "tcp://127.0.0.1:0",
                                         "--no-log", "--max-connections", "64"], cwd=REPO, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        for line in self.process.stderr:
            found = re.search(r"127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        else:
            raise RuntimeError("the server did not start")
        import threading

        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()  # drain its log

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(15)


async def _room(port: int, room: int, rate: int, audio: bytes, barrier: asyncio.Barrier) -> dict[str, Any]:
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient
    from wyoming.handle import Handled

    step = 2048
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
        for i in range(0, len(audio), step):
            await client.write_event(AudioChunk(rate=rate, width=2, channels=1, audio=audio[i:i + step]).event())
        await barrier.wait()  # every room's audio-stop at the same moment
        stopped = time.perf_counter()
        await client.write_event(AudioStop().event())
        while (event := await client.read_event()).type != "transcript":
            pass
        transcribed = time.perf_counter()
    text = Transcript.from_event(event).text
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcript(text=text, context={"conversation_id": f"bench-room-{room}"}).event())
        while (event := await client.read_event()).type not in ("handled", "not-handled"):
            pass
        handled = time.perf_counter()
    return {"transcript": transcribed - stopped, "handled": handled - stopped, "answer": Handled.from_event(event).text}


async def _rooms_at_once(port: int, clips: list[tuple[int, bytes]], rooms: int) -> list[dict[str, Any]]:
    barrier = asyncio.Barrier(rooms)
    return await asyncio.gather(*(_room(port, i, *clips[i % len(clips)], barrier) for i in range(rooms)))


def _local_path(wavs: list[Path]) -> list[float]:
    """The single-room local loop's share of the same work: recognize the utterance, decide, answer."""
    from assistant.app import Application
    from assistant.audio.wav_files import load_wav
    from assistant.config import Settings
    from assistant.recognition.reading import reading_to_act_on

    app = Application.open(Settings())
    recognizer = app.recognizer()
    dialog = app.new_dialog()
    seconds = []
    for path in wavs * ROUNDS:
        samples = load_wav(path, rate=recognizer.sample_rate)
        started = time.perf_counter()
        dialog.handle(reading_to_act_on(recognizer.transcribe(samples), app.understander))
        seconds.append(time.perf_counter() - started)
    return seconds


def _mixed_requests(port: int, clip: tuple[int, bytes], count: int, expected: str) -> dict[str, int]:
    """`count` requests, one in three bad: garbage, bad JSON, audio before audio-start, a wrong format, an
    absurd payload_length, a client vanishing mid-audio; the good ones: describe, handle, and a real question."""
    from wyoming.event import read_event, write_event

    chunk = b'{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},'
    bad_requests = [  # (bytes sent, whether an error event can come back)
        (b"garbage\n", True), (b'{"type": \n', True), (chunk + b'"payload_length":4}\n\0\0\0\0', True),
        (b'{"type":"audio-start","data":{"rate":16000,"width":9,"channels":1}}\n', True),
        (b'{"type":"audio-chunk","payload_length":99999999999}\n', True),
        (b'{"type":"audio-start","data":{"rate":16000,"width":2,"channels":1}}\n' + chunk
         + b'"payload_length":3200}\n\0\0', False),  # vanishes mid-audio
    ]
    lost = good = bad = errors_answered = 0
    for n in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            reader, writer = sock.makefile("rb"), sock.makefile("wb")
            if n % 3 == 2:
                bad += 1
                sent, answered = bad_requests[n // 3 % len(bad_requests)]
                writer.write(sent)
                writer.flush()
                if answered:
                    event = read_event(reader)
                    errors_answered += event is not None and event.type == "error"
                continue
            good += 1
            ok = _good_request(n, reader, writer, clip, expected, read_event, write_event)
            lost += not ok
    return {"requests": count, "good": good, "bad": bad, "bad answered with error": errors_answered,
            "lost good answers": lost}


def _good_request(n, reader, writer, clip, expected, read_event, write_event) -> bool:
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.info import Describe

    if n % 30 == 0:  # a real spoken question now and then (each costs a decode)
        rate, audio = clip
        write_event(Transcribe(language="en").event(), writer)
        write_event(AudioStart(rate=rate, width=2, channels=1).event(), writer)
        write_event(AudioChunk(rate=rate, width=2, channels=1, audio=audio).event(), writer)
        write_event(AudioStop().event(), writer)
        event = read_event(reader)
        return event is not None and event.type == "transcript" and event.data.get("text") == expected
    if n % 2:
        write_event(Describe().event(), writer)
        event = read_event(reader)
        return event is not None and event.type == "info"
    write_event(Transcript(text=expected, context={"conversation_id": f"mixed-{n % 8}"}).event(), writer)
    event = read_event(reader)
    return event is not None and event.type == "handled" and bool(event.data.get("text"))


def main() -> dict[str, Any]:
    from assistant.config import DEFAULT_CONTENT_DIR
    from assistant.core.loader import load_content

    content = load_content(DEFAULT_CONTENT_DIR)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-rooms-") as tmp:
        folder = Path(tmp)
        wavs = [_speak(folder, text, voice) for text, voice, _ in QUESTIONS]
        clips = [_pcm(path) for path in wavs]
        server = Server(folder)
        try:
            time.sleep(1.0)
            figures["server RSS idle (MB)"] = round(_rss_mb(server.process.pid), 1)
            for rooms in (1, 4, 8):
                results = []
                for _ in range(ROUNDS):
                    results += asyncio.run(_rooms_at_once(server.port, clips, rooms))
                right = sum(r["answer"] == content.topics[QUESTIONS[i % rooms % len(QUESTIONS)][2]].answer
                            for i, r in enumerate(results))
                for key in ("transcript", "handled"):
                    values = [r[key] for r in results]
                    figures[f"{rooms} room(s): audio-stop -> {key} median / p95 (s)"] = (
                        f"{statistics.median(values):.2f} / {_percentile(values, 0.95):.2f}")
                figures[f"{rooms} room(s): right answers"] = f"{right}/{len(results)}"
                print(f"{rooms} room(s): {figures[f'{rooms} room(s): right answers']} right; handled "
                      f"{figures[f'{rooms} room(s): audio-stop -> handled median / p95 (s)']}", flush=True)
            held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(8)]
            time.sleep(0.5)
            figures["server RSS with 8 connections open (MB)"] = round(_rss_mb(server.process.pid), 1)
            for sock in held:
                sock.close()
            figures["1,000 mixed requests"] = _mixed_requests(server.port, clips[0], 1000, QUESTIONS[0][0])
            figures["server RSS after 1,000 mixed requests (MB)"] = round(_rss_mb(server.process.pid), 1)
            figures["server crashed"] = server.process.poll() is not None
        finally:
            server.close()
        local = _local_path(wavs)
        figures["local single room: audio end -> answer text median / p95 (s)"] = (
            f"{statistics.median(local):.2f} / {_percentile(local, 0.95):.2f}")
    for name, value in figures.items():
        print(f"{name:<62} {value}")
    return figures


if __name__ == "__main__":
    main()
