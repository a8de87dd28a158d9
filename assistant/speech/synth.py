"""Text to audio with pyttsx3's espeak driver, one fresh engine state per utterance.

Measured pitfalls of pyttsx3 2.99 on Linux (DESIGN.md) and how this module avoids them:
- `say()` shells out to `aplay` and cannot be stopped: only `save_to_file` is used; playback is ours.
- `pyttsx3.init()` caches one engine per driver, so rate/voice changes pile onto old state and can apply
  late, and after `save_to_file` later `say()` calls go to that file: every utterance builds a new
  `pyttsx3.Engine("espeak")` (its driver resets voice, rate and volume), gets its settings before the
  text (see below), and is dropped afterwards.
- espeak runs in RETRIEVAL mode, so `runAndWait()` returns before the WAV exists: we wait for the
  driver's "finished-utterance" notification instead.
- espeak is one global library state with one synthesis callback: a process-wide lock serialises use.
- In that mode espeak_SetParameter is not applied at once: it is a command for espeak's own thread. pyttsx3
  queues the rate and volume, then `runAndWait()` -> endLoop -> driver.stop() calls espeak_Cancel() whenever
  that thread is still busy, and a command it dequeues at that instant is dropped: 1 utterance in 250-500
  was spoken at the driver's defaults (200 wpm or volume 1.0) instead of the settings asked for.
  So we set voice, rate and volume ourselves, wait until espeak's thread has applied
  them (read back and checked) and is idle, and only then start the text: nothing is left to cancel. We also
  wait for that thread to finish an utterance's last command before dropping the engine, whose callback it
  is still returning from.
- the driver prints "Audio saved to ..." on stdout, which would corrupt `assistant ask --json`: silenced.
"""

from __future__ import annotations

import ctypes
import logging
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # what the espeak driver writes
RATE_RANGE = (80, 450)  # words per minute espeak-ng accepts
INSTALL_HINT = "install it with `sudo apt-get install espeak-ng` (or run `make install`)"

# espeak keeps one synthesis callback and one parameter set per process.
_LOCK = threading.RLock()
_pyttsx3: ModuleType | None = None
IDLE_TIMEOUT = 5.0  # espeak's thread finishes a parameter change or an utterance's tail in microseconds


class SpeechError(RuntimeError):
    """Synthesis failed; the message says what to do."""


class EspeakMissingError(SpeechError):
    """The espeak-ng library is not installed."""


class UnknownVoiceError(SpeechError):
    """The configured voice is not one espeak-ng knows."""


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    languages: list[str] = field(default_factory=list)
    gender: str | None = None


def _engine_module() -> ModuleType:
    """Import pyttsx3 and its espeak driver once, turning a missing library into an actionable error."""
    global _pyttsx3
    if _pyttsx3 is None:
        try:
            import pyttsx3
            from pyttsx3.drivers import espeak as espeak_driver
        except (OSError, RuntimeError, ImportError) as exc:
            raise EspeakMissingError(f"The speech engine espeak-ng is not available ({exc}); "
                                     f"{INSTALL_HINT}.") from exc
        # The driver announces every saved file on stdout; keep stdout for answers and JSON.
        espeak_driver.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]
        _pyttsx3 = pyttsx3
    return _pyttsx3


def _new_engine() -> Any:
    pyttsx3 = _engine_module()
    try:
        return pyttsx3.Engine("espeak")  # not pyttsx3.init(): that returns a cached engine
    except RuntimeError as exc:  # "could not initialize espeak": library present, data missing
        raise EspeakMissingError(f"espeak-ng could not start ({exc}); {INSTALL_HINT}.") from exc


def list_voices() -> list[Voice]:
    """Every voice espeak-ng offers, as pyttsx3 reports them."""
    with _LOCK:
        engine = _new_engine()
        try:
            return [
                Voice(id=str(v.id), name=str(v.name), languages=[str(x) for x in (v.languages or [])],
                      gender=v.gender)
                for v in engine.getProperty("voices")
            ]
        finally:
            del engine  # drop it under the lock: its destructor clears espeak's global callback


def default_voice_id() -> str | None:
    """The voice a fresh engine speaks with when none is configured."""
    with _LOCK:
        engine = _new_engine()
        try:
            voice = engine.getProperty("voice")
            return str(voice) if voice else None
        finally:
            del engine


def resolve_voice(spec: str | None, voices: list[Voice] | None = None) -> str | None:
    """Turn a voice id, name or language ("gmw/en-us", "English (America)", "en-us") into an id."""
    if spec is None or not spec.strip():
        return None
    wanted = spec.strip().lower()
    voices = voices if voices is not None else list_voices()
    for match in (
        lambda v: v.id.lower() == wanted,
        lambda v: v.name.lower() == wanted,
        lambda v: wanted in (lang.lower() for lang in v.languages),
        lambda v: v.id.lower().rsplit("/", 1)[-1] == wanted,
    ):
        for voice in voices:
            if match(voice):
                return voice.id
    raise UnknownVoiceError(f"Unknown voice '{spec}'. Run `assistant voices` to list the voices, then set "
                            "one with --voice ID (or `voice:` in the config file).")


def clamp_rate(rate: int) -> int:
    return int(min(max(int(rate), RATE_RANGE[0]), RATE_RANGE[1]))


def clamp_volume(volume: float) -> float:
    return float(min(max(float(volume), 0.0), 1.0))


def synthesize(text: str, rate: int = 165, volume: float = 0.9, voice: str | None = None,
               timeout: float | None = None) -> np.ndarray:
    """Speak `text` into int16 mono samples at SAMPLE_RATE, with exactly these settings.

    `voice` must be an id from list_voices() (see resolve_voice) or None for espeak's default.
    """
    if not text or not text.strip():
        return np.zeros(0, dtype=np.int16)
    timeout = timeout if timeout is not None else 10.0 + 0.05 * len(text)
    with _LOCK, tempfile.TemporaryDirectory(prefix="assistant-tts-") as tmp:
        path = Path(tmp) / "utterance.wav"
        done = threading.Event()
        errors: list[BaseException] = []

        def on_error(name: Any = None, exception: BaseException | None = None) -> None:
            errors.append(exception or SpeechError("unknown synthesis error"))
            done.set()

        _wait_idle()  # whatever espeak's thread still does belongs to someone else: let it finish
        engine = _new_engine()
        try:
            engine.connect("finished-utterance", lambda **_: done.set())
            engine.connect("error", on_error)
            _apply_settings(voice, clamp_rate(rate), clamp_volume(volume))  # not queued in pyttsx3: see above
            engine.save_to_file(text, str(path))
            engine.runAndWait()  # starts the (asynchronous) synthesis; espeak is idle, so nothing is cancelled
            finished = done.wait(timeout)
            if not finished:
                _cancel()
                raise SpeechError(f"espeak-ng did not finish speaking {len(text)} characters "
                                  f"within {timeout:.0f} s")
            _wait_idle()  # espeak's thread is still returning from our callback: let it, before dropping it
            if errors:
                raise SpeechError(f"espeak-ng failed: {errors[0]}") from errors[0]
            return _read_wav(path)
        finally:
            del engine  # its destructor resets espeak's callback: must happen before the next engine


def _espeak() -> ModuleType:
    _engine_module()
    from pyttsx3.drivers import _espeak

    return _espeak


_get_parameter: Any = None


def _current_parameter(parameter: int) -> int:
    """The value espeak is using now (pyttsx3's GetParameter binding omits the `current` argument)."""
    global _get_parameter
    espeak = _espeak()
    if _get_parameter is None:
        prototype = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
        _get_parameter = prototype(("espeak_GetParameter", espeak.dll))
    return int(_get_parameter(parameter, 1))


def _wait_idle(timeout: float = IDLE_TIMEOUT) -> None:
    """Block until espeak's command thread has nothing left to do (it applies parameters and speaks)."""
    espeak = _espeak()
    deadline = time.monotonic() + timeout
    pause = 0.0
    while espeak.IsPlaying():
        if time.monotonic() > deadline:
            log.warning("espeak-ng stayed busy for %.0f s; cancelling what it was doing", timeout)
            _cancel()
            return
        time.sleep(pause)  # 0 first: the usual wait is a few microseconds
        pause = min(0.001, pause + 0.0002)


def _apply_settings(voice: str | None, rate: int, volume: float) -> None:
    """Give espeak exactly this voice, rate and volume, and return once its thread is using them."""
    from pyttsx3.drivers.espeak import EspeakDriver

    espeak = _espeak()
    wanted = {espeak.RATE: rate, espeak.VOLUME: int(round(volume * 100, 2))}  # the driver's conversion
    for _attempt in range(3):
        try:
            if voice:
                EspeakDriver.setProperty("voice", voice)  # applied at once (espeak does not queue voices)
            EspeakDriver.setProperty("rate", rate)  # these two are queued for espeak's thread
            EspeakDriver.setProperty("volume", volume)
        except (ValueError, KeyError) as exc:
            raise SpeechError(f"espeak-ng failed: {exc}") from exc
        _wait_idle()
        current = {name: _current_parameter(name) for name in wanted}
        if current == wanted:
            return
        log.debug("espeak-ng has rate/volume %s instead of %s; setting them again", current, wanted)
    raise SpeechError(f"espeak-ng did not take rate {rate} and volume {volume}")


def _cancel() -> None:
    try:
        from pyttsx3.drivers import _espeak

        _espeak.Cancel()
    except Exception:  # noqa: BLE001 - best effort on an already failing path
        log.debug("espeak cancel failed", exc_info=True)


def _read_wav(path: Path) -> np.ndarray:
    if not path.exists():
        raise SpeechError("espeak-ng finished but wrote no audio")
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1 or wav.getframerate() != SAMPLE_RATE:
            raise SpeechError(f"unexpected audio from espeak-ng: {wav.getnchannels()} channel(s), "
                              f"{8 * wav.getsampwidth()} bit, {wav.getframerate()} Hz")
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray, samplerate: int = SAMPLE_RATE) -> Path:
    """Write int16 mono samples as a standard PCM WAV file."""
    path = Path(path)
    with path.open("wb") as out, wave.open(out, "wb") as wav:  # open first: a failed wave.open leaks
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(samplerate)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return path
