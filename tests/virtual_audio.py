"""A private PulseAudio server with a virtual microphone and speaker, for tests without sound hardware.

Usage (pytest fixture ``virtual_audio`` in tests/conftest.py yields a started, activated instance)::

    def test_something(virtual_audio, tmp_path):
        rec = virtual_audio.record_speaker()          # parec on the speaker sink's monitor
        sd.play(tone, 16000); sd.wait()               # in-process sounddevice goes to the virtual speaker
        heard = rec.stop()                            # numpy int16, 16 kHz mono

        virtual_audio.play_into_mic("question.wav")   # blocks until played; wait=False returns the Popen
        # ... a sounddevice InputStream on the default input device hears it

        subprocess.run(["assistant", "devices"], env={**os.environ, **virtual_audio.env})

        virtual_audio.unload_mic()                    # the microphone source disappears (fault tests;
        virtual_audio.load_mic()                      # PulseAudio moves open streams to another source)
        virtual_audio.crash()                         # SIGKILL the server: open streams really fail

Or directly: ``with VirtualAudio() as va: va.activate(); ...``.

Layout of the server (names are class attributes):
- sink ``assistant_speaker`` (default sink): what the assistant says; ``record_speaker()`` records its
  monitor.
- sink ``assistant_mic_feed``: ``play_into_mic()`` plays into it; its monitor is remapped as
- source ``assistant_mic`` (default source): what a sounddevice InputStream on the default device hears.

PortAudio sees the server through Debian's ALSA pulse plugin as the ALSA devices ``pulse`` and ``default``.

Each instance has its own server, socket, HOME and XDG_RUNTIME_DIR in a fresh temp folder, so the test
workers `make test` runs side by side (pytest-xdist) never share a device.

The daemon runs in the foreground as our child (not ``-D``) so that ``stop()`` can terminate it and wait
for it, and so that it gets SIGTERM if the test process dies (PR_SET_PDEATHSIG: no orphan daemons). The
death signal fires when the *thread* that called ``start()`` exits, so start it from a long-lived thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ENV_KEYS = ("PULSE_SERVER", "HOME", "XDG_RUNTIME_DIR")
RECORD_RATE = 16000
_PR_SET_PDEATHSIG = 1


class VirtualAudioError(RuntimeError):
    """The virtual sound server could not be started or driven; the message carries its log."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    data = np.asarray(samples)
    if data.dtype != np.int16:
        data = (np.clip(data, -1.0, 1.0) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1 if data.ndim == 1 else data.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return path


class SpeakerRecorder:
    """A running ``parec`` on the speaker monitor; ``stop()`` returns what was played, int16 16 kHz mono."""

    def __init__(self, proc: subprocess.Popen, path: Path) -> None:
        self._proc = proc
        self._path = path
        self._result: np.ndarray | None = None

    def stop(self) -> np.ndarray:
        if self._result is None:
            time.sleep(0.15)  # let the last ~100 ms drain through the null sink into parec
            if self._proc.poll() is None:
                self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            raw = self._path.read_bytes()
            self._result = np.frombuffer(raw[: len(raw) // 2 * 2], dtype=np.int16).copy()
            self._path.unlink(missing_ok=True)
        return self._result


class VirtualAudio:
    """Context manager around a private PulseAudio daemon (see the module docstring)."""

    SPEAKER_SINK = "assistant_speaker"
    MIC_FEED_SINK = "assistant_mic_feed"
    MIC_SOURCE = "assistant_mic"

    def __init__(self, start_timeout: float = 10.0) -> None:
        self.start_timeout = start_timeout
        self.dir: Path | None = None
        self.env: dict[str, str] = {}
        self._daemon: subprocess.Popen | None = None
        self._children: list[subprocess.Popen] = []
        self._saved_env: dict[str, str | None] | None = None
        self._mic_module: str | None = None
        self._counter = 0

    # ----- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> VirtualAudio:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> VirtualAudio:
        for tool in ("pulseaudio", "pactl", "paplay", "parec"):
            if shutil.which(tool) is None:
                raise VirtualAudioError(f"`{tool}` not found: install pulseaudio and pulseaudio-utils "
                                        "(make system-packages)")
        self.dir = Path(tempfile.mkdtemp(prefix="virtual-audio-"))
        runtime = self.dir / "run"
        runtime.mkdir(mode=0o700)
        socket = runtime / "native"
        self.env = {"PULSE_SERVER": f"unix:{socket}", "HOME": str(self.dir), "XDG_RUNTIME_DIR": str(runtime)}
        script = self.dir / "default.pa"
        script.write_text(
            f"load-module module-native-protocol-unix socket={socket} auth-anonymous=1\n"
            f"load-module module-null-sink sink_name={self.SPEAKER_SINK}"
            " sink_properties=device.description=Virtual_Speaker\n"
            f"load-module module-null-sink sink_name={self.MIC_FEED_SINK}"
            " sink_properties=device.description=Virtual_Microphone_Feed\n"
            f"set-default-sink {self.SPEAKER_SINK}\n"
        )
        log = self.dir / "pulseaudio.log"
        cmd = ["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1",
               "--disable-shm=yes", "--use-pid-file=no", "--realtime=no", "--high-priority=no",
               "--system=no", f"--log-target=file:{log}"]
        self._cmd = cmd
        self._launch()
        return self

    def _launch(self) -> None:
        self._daemon = subprocess.Popen(self._cmd, env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=_die_with_parent)
        try:
            self._wait_ready()
            self.load_mic()
            self._keep_sinks_responsive()
        except BaseException:
            self.stop()
            raise

    def restart(self) -> None:
        """Kill the sound server and start a new one on the same socket: the sound system goes away under
        open streams, then comes back (as after a crash of the user's sound server)."""
        self.crash()
        for proc in self._children:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._children.clear()
        self._mic_module = None
        self._launch()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._daemon is not None
            if self._daemon.poll() is not None:
                raise VirtualAudioError(f"pulseaudio exited with {self._daemon.returncode}:\n{self.log()}")
            probe = subprocess.run(["pactl", "info"], env=self._sub_env(), capture_output=True, text=True)
            if probe.returncode == 0 and self.SPEAKER_SINK in probe.stdout:
                return
            time.sleep(0.05)
        raise VirtualAudioError(f"pulseaudio did not answer within {self.start_timeout} s:\n{self.log()}")

    def _keep_sinks_responsive(self) -> None:
        # An idle null sink renders in 2 s blocks and a new stream waits for the next block (the first
        # playback or capture in a fresh server took 1-2 s). A low-latency reader on each monitor keeps them
        # rendering in small blocks, like a real sound card.
        # Suspended sinks render nothing; they resume with the keepers' small latency already requested.
        for sink in (self.SPEAKER_SINK, self.MIC_FEED_SINK):
            self.pactl("suspend-sink", sink, "1")
        keepers = [subprocess.Popen(
            ["parec", "--latency-msec", "20", "-d", f"{sink}.monitor", "--raw", "--channels=1"],
            env=self._sub_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent)
            for sink in (self.SPEAKER_SINK, self.MIC_FEED_SINK)]
        self._children.extend(keepers)
        for proc in keepers:
            self._wait_for_recorder(proc, "keep-alive parec")
        for sink in (self.SPEAKER_SINK, self.MIC_FEED_SINK):
            self.pactl("suspend-sink", sink, "0")

    def _wait_for_recorder(self, proc: subprocess.Popen, what: str, timeout: float = 5.0) -> None:
        """Return once the server lists this parec's stream (from then on it gets everything rendered)."""
        deadline = time.monotonic() + timeout
        marker = f'application.process.id = "{proc.pid}"'
        while marker not in self.pactl("list", "source-outputs"):
            if proc.poll() is not None or time.monotonic() > deadline:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                raise VirtualAudioError(f"{what} did not start:\n{self.log()}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop helpers and the daemon (terminate, then wait), restore the environment, remove the dir."""
        self.deactivate()
        for proc in self._children:
            if proc.poll() is None:
                proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._children.clear()
        if self._daemon is not None:
            if self._daemon.poll() is None:
                self._daemon.terminate()
                try:
                    self._daemon.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._daemon.kill()
                    self._daemon.wait()
            self._daemon = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        self._mic_module = None

    @property
    def running(self) -> bool:
        return self._daemon is not None and self._daemon.poll() is None

    def log(self) -> str:
        path = self.dir / "pulseaudio.log" if self.dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    # ----- this process ----------------------------------------------------------------------------------
    def activate(self) -> None:
        """Point this process (os.environ and sounddevice/PortAudio) at the virtual server."""
        if self._saved_env is None:
            self._saved_env = {key: os.environ.get(key) for key in ENV_KEYS}
        os.environ.update(self.env)
        _reinit_sounddevice()

    def deactivate(self) -> None:
        """Undo activate(): restore the previous environment and re-initialise sounddevice."""
        if self._saved_env is None:
            return
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = None
        _reinit_sounddevice()

    # ----- driving the devices ---------------------------------------------------------------------------
    def _sub_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def pactl(self, *args: str) -> str:
        result = subprocess.run(["pactl", *args], env=self._sub_env(), capture_output=True, text=True)
        if result.returncode != 0:
            raise VirtualAudioError(f"pactl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def _tmp_path(self, suffix: str) -> Path:
        assert self.dir is not None, "VirtualAudio is not started"
        self._counter += 1
        return self.dir / f"{self._counter:04d}{suffix}"

    def play_into_mic(self, wav: str | Path | np.ndarray, rate: int = RECORD_RATE,
                      wait: bool = True) -> subprocess.Popen:
        """Play a WAV file (or a mono array at `rate`) into the virtual microphone.

        With wait=True (default) returns after it has been played; with wait=False returns the running
        paplay at once (it is stopped by stop() if still running)."""
        path = _write_wav(self._tmp_path(".wav"), wav, rate) if isinstance(wav, np.ndarray) else Path(wav)
        if not path.is_file():
            raise VirtualAudioError(f"{path}: no such WAV file to play into the microphone")
        proc = subprocess.Popen(["paplay", "--latency-msec", "100", "-d", self.MIC_FEED_SINK, str(path)],
                                env=self._sub_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=_die_with_parent)
        self._children.append(proc)
        if wait:
            _, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise VirtualAudioError(f"paplay {path} failed: {err.decode(errors='replace').strip()}")
        return proc

    def record_speaker(self, timeout: float = 5.0) -> SpeakerRecorder:
        """Start recording the speaker; returns once the recorder is live (nothing played after is lost)."""
        path = self._tmp_path(".raw")
        with path.open("wb") as out:
            proc = subprocess.Popen(
                ["parec", "--latency-msec", "50", "-d", f"{self.SPEAKER_SINK}.monitor", "--raw",
                 "--format=s16le", f"--rate={RECORD_RATE}", "--channels=1"],
                env=self._sub_env(), stdout=out, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self._children.append(proc)
        self._wait_for_recorder(proc, f"parec on {self.SPEAKER_SINK}.monitor", timeout)
        return SpeakerRecorder(proc, path)

    def crash(self) -> None:
        """Kill the sound server abruptly (SIGKILL), as when a device or the sound system disappears.

        Open streams fail; stop() still cleans up. Start a new VirtualAudio to have sound again."""
        if self._daemon is not None and self._daemon.poll() is None:
            self._daemon.kill()
            self._daemon.wait()

    def unload_mic(self) -> None:
        """Remove the microphone source (like unplugging a USB microphone)."""
        if self._mic_module is not None:
            self.pactl("unload-module", self._mic_module)
            self._mic_module = None

    def load_mic(self) -> None:
        """(Re)create the microphone source and make it the default source."""
        if self._mic_module is None:
            self._mic_module = self.pactl(
                "load-module", "module-remap-source", f"source_name={self.MIC_SOURCE}",
                f"master={self.MIC_FEED_SINK}.monitor",
                "source_properties=device.description=Virtual_Microphone").strip()
        self.pactl("set-default-source", self.MIC_SOURCE)


def _reinit_sounddevice() -> None:
    # PortAudio enumerates devices once at initialisation; re-initialise so it sees the current server.
    try:
        import sounddevice as sd
    except (ImportError, OSError):
        return
    sd._terminate()
    sd._initialize()
