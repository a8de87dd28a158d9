"""The offline guarantee: the assistant works with the network taken away, and never even tries it.

Every run here is a real `assistant` subprocess with tests/offline on PYTHONPATH: its sitecustomize.py makes
creating an IPv4/IPv6 socket (and any name lookup) raise OSError("network disabled by test"), leaves Unix
sockets alone (PulseAudio), and writes a marker file: "loaded <pid>" proves it was active in that very
process, and a "blocked ..." line would name any attempt to reach the network (there must be none).
The "netns" variant also runs the command in a fresh network namespace (`unshare -n`: no interface but a
loopback that is down), which reaches what Python patching cannot: the C libraries (espeak-ng, PortAudio,
the recognizers).

`listen_once_offline()` and `hands_free_offline()` below drive `assistant listen --once` and the hands-free
loop with real spoken questions played into the virtual microphone.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.dialog import Dialog
from assistant.core.loader import load_content
from assistant.core.understanding import Understander

REPO = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "offline"
CONTENT = load_content(DEFAULT_CONTENT_DIR)
WAIT = 60.0  # bound on waiting for the assistant; only reached when something is broken
LAYERS = ["sockets", "sockets+netns"]


# ----- running the assistant offline ---------------------------------------------------------------------

@functools.cache
def _netns_prefix() -> tuple[str, ...] | None:
    """The command prefix that puts a program in a new network namespace here, or None if none works."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (("unshare", "--net"), ("unshare", "--map-root-user", "--net")):
        probe = subprocess.run([*prefix, "true"], capture_output=True)
        if probe.returncode == 0:
            return prefix
    return None


def _prefix(layer: str) -> list[str]:
    if layer == "sockets":
        return []
    prefix = _netns_prefix()
    if prefix is None:
        pytest.skip("no network namespace can be made here (unshare --net); the 'sockets' variant ran")
    return list(prefix)


def offline_env(tmp_path: Path, audio: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "OFFLINE_MARKER": str(tmp_path / "offline.txt"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(SITE), os.environ.get("PYTHONPATH")]))}
    env.update(audio or {})
    return env


def start_offline(tmp_path: Path, layer: str, *args: str, audio: dict[str, str] | None = None,
                  stdin: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    """`assistant ARGS...` offline, running (text pipes); finish it with run_offline's checks."""
    return subprocess.Popen([*_prefix(layer), sys.executable, "-m", "assistant", *args], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=offline_env(tmp_path, audio))


def run_offline(tmp_path: Path, layer: str, *args: str, input: str | None = None,
                audio: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`assistant ARGS...` offline to the end; asserts it succeeded, cleanly, and never tried the network."""
    proc = start_offline(tmp_path, layer, *args, audio=audio,
                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
    try:
        stdout, stderr = proc.communicate(input, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert_stayed_offline(tmp_path, proc.pid, result)
    return result


def assert_stayed_offline(tmp_path: Path, pid: int, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    marker = (tmp_path / "offline.txt").read_text().splitlines()
    assert f"loaded {pid}" in marker  # the blocker was active in the assistant's own process
    attempts = [line for line in marker if line.startswith("blocked")]
    assert attempts == [], "\n".join(attempts)


def expected_answers(lines: list[str]) -> list[str]:
    dialog = Dialog(Understander(CONTENT))
    return [reply.text for reply in map(dialog.handle, lines) if reply.text]


# ----- the blocker is real -----------------------------------------------------------------------------------

PROBE = """
import socket, urllib.request
def fails(what, call):
    try:
        call()
    except OSError as exc:
        print(what, "failed:", exc)
    else:
        print(what, "WORKED")
fails("ipv4", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
fails("ipv6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
fails("default", lambda: socket.socket())
fails("connect", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2))
fails("http", lambda: urllib.request.urlopen("http://127.0.0.1:PORT/", timeout=2))
fails("dns", lambda: socket.getaddrinfo("localhost", 80))
a, b = socket.socketpair()  # Unix: still works (asyncio uses it)
a.sendall(b"ok"); print("socketpair", b.recv(2).decode())
u = socket.socket(socket.AF_UNIX); print("unix", u.family.name); u.close()
"""


def test_the_blocker_blocks_the_network_and_leaves_unix_sockets(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))  # a real local server the probe must not reach
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        proc = subprocess.run([sys.executable, "-c", PROBE.replace("PORT", str(port))], capture_output=True,
                              text=True, env=offline_env(tmp_path), timeout=60)
        with pytest.raises(TimeoutError):
            server.accept()  # nobody came
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for what in ("ipv4", "ipv6", "default", "connect", "http", "dns"):
        assert any(line.startswith(f"{what} failed:") and "network disabled by test" in line for line in lines), \
            proc.stdout
    assert "socketpair ok" in lines and "unix AF_UNIX" in lines
    marker = (tmp_path / "offline.txt").read_text()
    assert marker.startswith("loaded ") and marker.count("\nblocked ") == 6


# ----- ask and the typed conversation ----------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_ask_json_offline(tmp_path, layer):
    result = run_offline(tmp_path, layer, "ask", "what is o t", "--no-speak", "--json")
    decision = json.loads(result.stdout)
    assert decision["topic"] == "ot.what"
    assert decision["answer"] == CONTENT.topics["ot.what"].answer


@pytest.mark.parametrize("layer", LAYERS)
def test_ask_save_audio_offline_real_synthesis(tmp_path, layer):
    target = tmp_path / "x.wav"
    result = run_offline(tmp_path, layer, "ask", "what is o t", "--save-audio", str(target))
    assert result.stdout.splitlines() == [CONTENT.topics["ot.what"].answer]
    with wave.open(str(target)) as wav:
        rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
    audio = np.frombuffer(frames, dtype=np.int16)
    # espeak-ng really spoke the ~35-word answer: many seconds of clearly voiced sound
    assert (np.abs(audio.astype(np.int32)) > 1000).sum() / rate > 3.0


@pytest.mark.parametrize("layer", LAYERS)
def test_listen_text_offline(tmp_path, layer):
    lines = ["what is o t", "tell me more", "my husband collapsed", "which therapy do i need", "yes", "no",
             "goodbye"]
    result = run_offline(tmp_path, layer, "listen", "--text", "--no-speak", input="\n".join(lines) + "\n")
    assert result.stdout.splitlines() == expected_answers(lines)
    history = tmp_path / "data" / "ot-pt-assistant" / "history.jsonl"
    assert [json.loads(line)["transcript"] for line in history.read_text().splitlines()] == lines


@pytest.mark.parametrize("layer", LAYERS)
def test_listen_text_speaks_offline_through_the_sound_server(tmp_path, layer, virtual_audio):
    """Unix sockets are left alone: the answer reaches the (virtual) speaker through PulseAudio."""
    recorder = virtual_audio.record_speaker()
    lines = ["louder", "goodbye"]  # short answers: "Louder." and "Goodbye. Take care."
    result = run_offline(tmp_path, layer, "listen", "--text", "--wake-phrase", "off", "--volume", "0.6",
                         input="\n".join(lines) + "\n", audio=virtual_audio.env)
    heard = recorder.stop()
    assert result.stdout.splitlines() == expected_answers(lines)
    assert (np.abs(heard.astype(np.int32)) > 500).sum() / 16000 > 0.5  # speech reached the speaker
    assert "WARNING" not in result.stderr  # the speaker worked: no "printed only" fallback


# ----- HOOK: the microphone paths, for when the speech recognizer lands -----------------------------------

def spoken_question(tmp_path: Path, text: str) -> Path:
    """A real spoken question (flite, which Whisper tiny.en hears like natural speech) with a second of
    silence after it, as a 16 kHz WAV."""
    from audio_samples import silence, write_wav
    from speech_voices import speak

    audio = np.concatenate([silence(0.3), speak(text, "flite:slt"), silence(1.5)])
    return write_wav(tmp_path / f"{'-'.join(text.split())}.wav", audio)


def _collect(stream, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _wait_for(lines: queue.Queue[str | None], seen: list[str], needle: str) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"never saw {needle!r}; stderr so far:\n{''.join(seen)}") from None
        if line is None:
            raise AssertionError(f"ended before {needle!r}:\n{''.join(seen)}")
        seen.append(line)
        if needle in line:
            return


def listen_once_offline(tmp_path: Path, layer: str, virtual_audio, question: str) -> dict:
    """`assistant listen --once` offline: speak `question` into the virtual microphone once it listens;
    returns the printed decision (asserting exit 0, no traceback, no network attempt).
    """
    wav = spoken_question(tmp_path, question)
    proc = start_offline(tmp_path, layer, "listen", "--once", audio=virtual_audio.env, stdin=subprocess.DEVNULL)
    errors: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_collect, args=(proc.stderr, errors), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        _wait_for(errors, seen, "Listening")  # listen_once's prompt: the microphone is open
        virtual_audio.play_into_mic(wav)
        stdout = proc.stdout.read() if proc.stdout else ""
        proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(10)
    while (line := errors.get_nowait()) is not None:
        seen.append(line)
    assert_stayed_offline(tmp_path, proc.pid, subprocess.CompletedProcess(proc.args, proc.returncode, stdout,
                                                                          "".join(seen)))
    return json.loads(stdout)


def hands_free_offline(tmp_path: Path, layer: str, virtual_audio, questions: list[str]) -> list[str]:
    """The hands-free loop (`assistant listen`, no wake phrase, no speaking) offline: each question is spoken
    into the virtual microphone after the previous answer was printed, then "goodbye" ends the run.
    Returns the printed answers (asserting exit 0, no traceback, no network attempt).
    """
    proc = start_offline(tmp_path, layer, "listen", "--wake-phrase", "off", "--no-speak",
                         audio=virtual_audio.env, stdin=subprocess.DEVNULL)
    errors: queue.Queue[str | None] = queue.Queue()
    answers: queue.Queue[str | None] = queue.Queue()
    readers = [threading.Thread(target=_collect, args=(proc.stderr, errors), daemon=True),
               threading.Thread(target=_collect, args=(proc.stdout, answers), daemon=True)]
    for reader in readers:
        reader.start()
    seen: list[str] = []
    printed: list[str] = []
    try:
        _wait_for(errors, seen, "listening")  # the loop's status line: the microphone is open
        for question in [*questions, "goodbye"]:
            virtual_audio.play_into_mic(spoken_question(tmp_path, question))
            line = answers.get(timeout=WAIT)
            assert line is not None, "".join(seen)
            printed.append(line.rstrip("\n"))
        proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for reader in readers:
        reader.join(10)
    while (line := errors.get_nowait()) is not None:
        seen.append(line)
    assert_stayed_offline(tmp_path, proc.pid, subprocess.CompletedProcess(proc.args, proc.returncode,
                                                                          "\n".join(printed), "".join(seen)))
    return printed


@pytest.mark.parametrize("layer", LAYERS)
def test_listen_once_offline(tmp_path, layer, virtual_audio):
    decision = listen_once_offline(tmp_path, layer, virtual_audio, "what is occupational therapy")
    assert decision["topic"] == "ot.what" and decision["transcript"]


@pytest.mark.parametrize("layer", LAYERS)
def test_hands_free_loop_offline(tmp_path, layer, virtual_audio):
    questions = ["what is occupational therapy", "what is physical therapy"]
    answers = hands_free_offline(tmp_path, layer, virtual_audio, questions)
    assert answers == expected_answers([*questions, "goodbye"])
