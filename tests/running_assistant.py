"""Run `assistant listen` as a subprocess on the virtual PulseAudio devices and talk to it by voice.

    with RunningAssistant(tmp_path, virtual_audio, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("listening")            # greeting finished, microphone open
        assistant.say("what is occupational therapy")     # flite speech played into the microphone
        answer = assistant.next_answer()                  # the answer it printed (and is speaking)
        assistant.wait_until_quiet()                      # the spoken answer has finished
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WAIT = 60.0  # generous: the machines are shared and noisy; tests never assert on time


# flite's CMU voice: the loop's tests test the loop, and Whisper tiny.en hears flite's voices like natural
# speech, espeak-ng's formant voice worse ("what is" as "what in"); hearing itself is measured in bench/.
DEFAULT_VOICE = "flite:slt"


def spoken(tmp_path: Path, text: str, voice: str = DEFAULT_VOICE, rate: int = 160) -> Path:
    """A real spoken question written to a WAV file: "flite:<voice>", or an espeak-ng voice name."""
    path = tmp_path / f"said_{abs(hash((text, voice, rate)))}.wav"
    if not path.exists():
        if voice.startswith("flite:"):
            subprocess.run(["flite", "-voice", voice.split(":", 1)[1], "--setf", f"duration_stretch={160 / rate:.3f}",
                            "-t", text, "-o", str(path)], check=True, capture_output=True)
        else:
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text], check=True)
    return path


class RunningAssistant:
    def __init__(self, tmp_path: Path, virtual_audio, *args: str, env: dict[str, str] | None = None,
                 cwd: Path = REPO):
        self.tmp_path = tmp_path
        self.cwd = cwd  # the checkout whose `assistant` package runs (bench: an earlier commit beside this one)
        self.audio = virtual_audio
        self.env = {**os.environ, **virtual_audio.env, "XDG_DATA_HOME": str(tmp_path / "data"),
                    "ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.args = args
        self.answers: queue.Queue[str | None] = queue.Queue()
        self.status: queue.Queue[str | None] = queue.Queue()
        self.status_seen: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> RunningAssistant:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", "listen", *self.args], cwd=self.cwd, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for stream, lines in ((self.process.stdout, self.answers), (self.process.stderr, self.status)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @staticmethod
    def _collect(stream, lines: queue.Queue[str | None]) -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def wait_for_status(self, needle: str, timeout: float = WAIT) -> str:
        """The next status line (stderr) containing `needle`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.status.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"assistant ended while waiting for {needle!r}:\n" + "\n".join(self.status_seen))
            self.status_seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"no status {needle!r} within {timeout} s:\n" + "\n".join(self.status_seen))

    def say(self, text: str, voice: str = DEFAULT_VOICE) -> None:
        self.audio.play_into_mic(spoken(self.tmp_path, text, voice))

    def next_answer(self, timeout: float = WAIT) -> str:
        try:
            line = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout} s:\n" + "\n".join(self.status_lines())) from None
        assert line is not None, "assistant ended without answering:\n" + "\n".join(self.status_seen)
        return line

    def status_lines(self) -> list[str]:
        """Every status line so far, those not yet waited for included."""
        while not self.status.empty():
            self.status_seen.append(str(self.status.get_nowait()))
        return self.status_seen

    def wait_until_quiet(self) -> None:
        """Until the current answer has finished playing (the status goes back to listening)."""
        self.wait_for_status("listening")

    def finish(self, timeout: float = WAIT) -> int:
        assert self.process is not None
        return self.process.wait(timeout)
