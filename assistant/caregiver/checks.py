"""`assistant doctor`: check everything the hands-free assistant needs and say what to fix.

Every check returns a `CheckResult` and never raises: a machine without a sound card, without PortAudio,
without espeak-ng or with a broken config file gets a report, not a traceback. Speech, recognition and
audio libraries are imported only inside their checks.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# Only the device helpers: they import sounddevice (and so PortAudio) when a check calls them.
from assistant.audio.devices import (
    DeviceNotFoundError,
    SoundSystemError,
    is_default_spec,
    list_devices,
    quiet_stderr,
    resolve_device,
    sounddevice,
)
from assistant.config import DEFAULT_MODELS_DIR, Settings, config_path

DEVICE_TIMEOUT = 3.0  # seconds a device gets to start delivering (or taking) audio
MIC_BLOCK_SECONDS = 0.2  # how much audio the microphone must deliver
PORTAUDIO_FIX = "install PortAudio: `sudo apt-get install libportaudio2` (or run `make install`)"
NO_DEVICE_FIX = ("plug in a USB {thing}; if one is plugged in, check that the sound server runs for this "
                 "user (`pactl info`) or that ALSA lists it (`{alsa}`), then `python -m sounddevice` to see "
                 "it{extra}")
TEXT_FALLBACK = "; meanwhile `assistant listen --text` lets you type questions"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    message: str
    fix: str | None = None
    essential: bool = True  # a failing essential check makes `assistant doctor` exit 1

    def line(self) -> str:
        status = "OK" if self.ok else "PROBLEM"
        text = f"{status:<8} {self.name}: {self.message}"
        if not self.ok and self.fix:
            text += f". Fix: {self.fix}"
        if not self.ok and not self.essential:
            text += " (not essential)"
        return text


# -- helpers ------------------------------------------------------------------------------------------

class _Unavailable(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def _sounddevice() -> ModuleType:
    # ALSA and PortAudio print C-level noise on fd 2 when a device or sound server is missing; the
    # report says it better.
    try:
        with quiet_stderr():
            return sounddevice()
    except SoundSystemError as exc:  # libportaudio.so missing
        raise _Unavailable(f"the PortAudio library is missing ({exc.__cause__ or exc})", PORTAUDIO_FIX) from exc
    except Exception as exc:  # noqa: BLE001 - PortAudio failed to initialise
        raise _Unavailable(f"PortAudio cannot start ({exc})", PORTAUDIO_FIX) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the checks -----------------------------------------------------------------------------------------

def check_config(config_error: str | None = None) -> CheckResult:
    path = config_path()
    if config_error:
        return CheckResult("config file", False, config_error,
                           f"correct or remove that line in {path} (defaults were used for the other checks)")
    if not path.exists():
        return CheckResult("config file", True, f"none at {path}; the defaults are used")
    return CheckResult("config file", True, f"{path} is valid")


def check_content(settings: Settings) -> CheckResult:
    from assistant.core.loader import ContentError, load_content

    folder = settings.content_path()
    try:
        content = load_content(folder)
    except ContentError as exc:
        first = exc.problems[0] if exc.problems else str(exc)
        return CheckResult("content", False,
                           f"{len(exc.problems)} problem(s) in {folder}, the first: {first}",
                           "run `assistant content check` to see them all and fix the YAML")
    return CheckResult("content", True, f"{len(content.topics)} topics, {len(content.red_flags.rules)} "
                                        f"red flags, {len(content.commands)} voice commands from {folder}")


def check_text_to_speech(settings: Settings) -> CheckResult:
    name = "text-to-speech"
    fix = "install the speech engine: `sudo apt-get install espeak-ng` (or run `make install`)"
    try:
        from assistant.speech import synth
    except Exception as exc:  # noqa: BLE001 - pyttsx3 or its espeak library missing
        return CheckResult(name, False, f"the speech engine cannot be loaded ({_first_line(exc)})",
                           fix)
    try:
        voices = synth.list_voices()
    except Exception as exc:  # noqa: BLE001
        return CheckResult(name, False, f"pyttsx3/espeak-ng cannot list voices ({_first_line(exc)})",
                           fix)
    if not voices:
        return CheckResult(name, False, "espeak-ng offers no voices", fix)
    try:
        voice = synth.resolve_voice(settings.voice, voices)
    except Exception as exc:  # noqa: BLE001 - unknown configured voice
        return CheckResult(name, False, _first_line(exc),
                           "pick one from `assistant voices` (--voice or `voice:` in the config file)")
    try:
        samples = synth.synthesize("Hello.", rate=settings.rate, volume=settings.volume, voice=voice,
                                   timeout=10.0)
    except Exception as exc:  # noqa: BLE001
        return CheckResult(name, False, f"espeak-ng could not speak a test word ({_first_line(exc)})", fix)
    if len(samples) == 0:
        return CheckResult(name, False, "espeak-ng produced no audio for a test word", fix)
    which = voice or "the default voice"
    return CheckResult(name, True, f"espeak-ng speaks with {which} ({len(voices)} voices available)")


def _find_device(spec: str | None, kind: str) -> tuple[Any | None, str]:
    """The device the assistant would use for `spec` (or None) and a listing of the devices of this kind."""
    # The same resolution rules the hands-free loop and `assistant devices` use.
    with quiet_stderr():
        devices = list_devices()
    usable = [d for d in devices if d.channels(kind) > 0]  # type: ignore[arg-type]
    listing = "; ".join(f"{d.index}: {d.name}" for d in usable) or "none"
    try:
        return resolve_device(spec, kind, devices), listing  # type: ignore[arg-type]
    except DeviceNotFoundError:
        return None, listing


def _probe_stream(sd: ModuleType, kind: str, device: Any, seconds: float) -> tuple[int, float]:
    """Open and start a stream; wait until `seconds` of audio passed through it. Returns (frames, peak)."""
    rate = int(device.default_samplerate) or 16000
    wanted = max(1, int(rate * seconds))
    got = {"frames": 0, "peak": 0.0}
    done = threading.Event()

    def on_input(indata: Any, frames: int, _time: Any, _status: Any) -> None:
        got["frames"] += frames
        if len(indata):
            got["peak"] = max(got["peak"], float(abs(indata).max()))
        if got["frames"] >= wanted:
            done.set()

    def on_output(outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        outdata.fill(0)  # silence: the check must not startle anyone
        got["frames"] += frames
        if got["frames"] >= wanted:
            done.set()

    stream_class = sd.InputStream if kind == "input" else sd.OutputStream
    with quiet_stderr():
        stream = stream_class(device=device.index, channels=1, samplerate=rate, dtype="float32",
                              callback=on_input if kind == "input" else on_output)
    try:
        with quiet_stderr():
            stream.start()
        done.wait(DEVICE_TIMEOUT)
    finally:
        with quiet_stderr(), contextlib.suppress(Exception):
            stream.abort()
        with quiet_stderr(), contextlib.suppress(Exception):
            stream.close()
    return got["frames"], got["peak"]


def _check_device(settings: Settings, kind: str) -> CheckResult:
    name = "microphone" if kind == "input" else "speaker"
    spec = settings.input_device if kind == "input" else settings.output_device
    flag = "--input-device" if kind == "input" else "--output-device"
    setting = "input_device" if kind == "input" else "output_device"
    no_device_fix = NO_DEVICE_FIX.format(thing=name, alsa="arecord -l" if kind == "input" else "aplay -l",
                                         extra=TEXT_FALLBACK if kind == "input" else "")
    try:
        sd = _sounddevice()
    except _Unavailable as exc:
        return CheckResult(name, False, str(exc), exc.fix)
    try:
        device, listing = _find_device(spec, kind)
    except Exception as exc:  # noqa: BLE001 - PortAudio errors while listing
        return CheckResult(name, False, f"cannot list the sound devices ({_first_line(exc)})", no_device_fix)
    if device is None:
        if is_default_spec(spec):
            return CheckResult(name, False, f"no {name} found (no sound card or sound server); {kind} devices: "
                                            f"{listing}", no_device_fix)
        fix = (no_device_fix if listing == "none" else
               f"choose one of them with {flag} or `{setting}:` in the config file, or plug it in")
        return CheckResult(name, False, f"no {kind} device matches {spec!r} ({setting}); {kind} devices: "
                                        f"{listing}", fix)
    label = f"{device.name!r} (device {device.index})"
    seconds = MIC_BLOCK_SECONDS if kind == "input" else 0.1
    try:
        frames, peak = _probe_stream(sd, kind, device, seconds)
    except Exception as exc:  # noqa: BLE001 - listed but cannot be opened
        return CheckResult(name, False, f"{label} is listed but cannot be opened ({_first_line(exc)})",
                           f"check that no other program holds it and that it is plugged in; or choose "
                           f"another with {flag}")
    rate = int(device.default_samplerate) or 16000
    if frames < int(rate * seconds):
        verb = "delivered" if kind == "input" else "played"
        return CheckResult(name, False,
                           f"{label} opened but {verb} only {frames / rate:.2f} s of audio in "
                           f"{DEVICE_TIMEOUT:g} s",
                           f"check the device and its driver, or choose another with {flag}")
    if kind == "output":
        return CheckResult(name, True, f"{label} plays audio")
    level = "silence only: check that it is not muted" if peak == 0.0 else f"peak level {peak:.3f}"
    return CheckResult(name, True, f"{label} delivers audio ({level})")


def check_speaker(settings: Settings) -> CheckResult:
    return _check_device(settings, "output")


def check_microphone(settings: Settings) -> CheckResult:
    return _check_device(settings, "input")


# -- the room: is it quiet enough to hear the person? -------------------------------------

ROOM_SECONDS = 3.0
ROOM_PROMPT = "Checking the room. Please stay quiet for 3 seconds."
# Speech into a close USB microphone arrives at about -23 dBFS (the level assistant/audio/gain.py brings
# quiet questions up to). Slow, soft or slurred speech is recognized reliably only well above the room's
# own sound, about 20 dB: a room louder than -45 dBFS (RMS over the quiet seconds) leaves too little
# margin, and the gain cannot help, as it raises the noise with the voice. A quiet room is typically
# -60 dBFS or below; a TV or radio at listening level, or a fan near the microphone, comes above -45.
ROOM_NOISE_LIMIT_DBFS = -45.0
ROOM_FIX = ("turn the TV or radio down or off, move the microphone closer to the person (within arm's "
            "length) and away from fans, heaters and open windows, then run `assistant doctor` again")
ROOM_TOO_LOUD_SPOKEN = ("The room is too loud for me to hear you reliably. Please turn the TV or radio "
                        "down, and move the microphone closer to you, away from fans.")
ECHO_SECONDS = 0.3  # after the spoken prompt, so its echo in the room is not measured as noise


def level_dbfs(samples: Any) -> float:
    """RMS level of float samples (-1..1) in dB below full scale; -inf for digital silence."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float64)
    if not len(x):
        return float("-inf")
    x = x - x.mean()  # cheap USB microphones add a DC offset, which is not sound
    rms = float(np.sqrt(np.mean(x * x)))
    return 20.0 * float(np.log10(rms)) if rms > 0 else float("-inf")


def record_room(settings: Settings, seconds: float = ROOM_SECONDS) -> tuple[Any, int]:
    """`seconds` of float32 mono from the configured microphone, and its rate. Raises _Unavailable."""
    import numpy as np

    sd = _sounddevice()
    device, _listing = _find_device(settings.input_device, "input")
    if device is None:
        raise _Unavailable("no microphone to listen with", "see the microphone line above")
    rate = int(device.default_samplerate) or 16000
    wanted = int(rate * seconds)
    blocks: list[Any] = []
    got = [0]
    done = threading.Event()

    def on_input(indata: Any, frames: int, _time: Any, _status: Any) -> None:
        if got[0] < wanted:
            blocks.append(indata[:, 0].copy())
            got[0] += frames
        if got[0] >= wanted:
            done.set()

    with quiet_stderr():
        stream = sd.InputStream(device=device.index, channels=1, samplerate=rate, dtype="float32",
                                callback=on_input)
    try:
        with quiet_stderr():
            stream.start()
        done.wait(seconds + DEVICE_TIMEOUT)
    finally:
        with quiet_stderr(), contextlib.suppress(Exception):
            stream.abort()
        with quiet_stderr(), contextlib.suppress(Exception):
            stream.close()
    audio = np.concatenate(blocks)[:wanted] if blocks else np.zeros(0, dtype=np.float32)
    return audio, rate


def _say(settings: Settings, text: str) -> None:
    """Speak through the assistant's own speech path; a failure only costs the spoken words."""
    try:
        from assistant.speech.speaker import Speaker

        Speaker(settings, warm_up=False).speak(text)
    except Exception:  # noqa: BLE001 - the printed text says the same
        pass


def check_room(settings: Settings, announce: Callable[[str], None] | None = None,
               speak: bool = True, microphone_ok: bool = True) -> CheckResult:
    """Ask for quiet (printed, and spoken when `speak`), record ROOM_SECONDS and judge the noise level."""
    name = "room noise"
    if not microphone_ok:
        return CheckResult(name, False, "not measured: the microphone does not work",
                           "fix the microphone first (see above)", essential=False)
    if announce is not None:
        announce(ROOM_PROMPT)
    if speak:
        _say(settings, ROOM_PROMPT)
        time.sleep(ECHO_SECONDS)
    try:
        audio, rate = record_room(settings)
    except _Unavailable as exc:
        return CheckResult(name, False, f"not measured: {exc}", exc.fix, essential=False)
    except Exception as exc:  # noqa: BLE001 - PortAudio refused the device this time
        return CheckResult(name, False, f"not measured: the microphone cannot be opened ({_first_line(exc)})",
                           "see the microphone line above", essential=False)
    if len(audio) < int(0.9 * ROOM_SECONDS * rate):
        return CheckResult(name, False, f"not measured: the microphone delivered only {len(audio) / rate:.1f} s "
                                        f"in {ROOM_SECONDS + DEVICE_TIMEOUT:g} s",
                           "check the microphone and its driver", essential=False)
    level = level_dbfs(audio)
    if level == float("-inf"):
        return CheckResult(name, True, "digital silence while quiet: check that the microphone is not muted")
    if level > ROOM_NOISE_LIMIT_DBFS:
        if speak:
            _say(settings, ROOM_TOO_LOUD_SPOKEN)
        return CheckResult(name, False, f"{level:.0f} dBFS while the room should be quiet: too loud to hear "
                                        f"questions reliably (the limit is {ROOM_NOISE_LIMIT_DBFS:.0f} dBFS)",
                           ROOM_FIX, essential=False)
    return CheckResult(name, True, f"{level:.0f} dBFS while quiet: quiet enough "
                                   f"(the limit is {ROOM_NOISE_LIMIT_DBFS:.0f} dBFS)")


def _vosk_problem() -> str | None:
    try:
        with quiet_stderr():
            import vosk  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"the vosk package cannot be imported ({_first_line(exc)})"
    return None


def _whisper_problem(folder: Path | None) -> str | None:
    """None when faster-whisper imports and the model is whole: for the built-in model every file is hashed
    against its published checksum here (the assistant itself remembers a check it has done)."""
    from assistant.recognition import RecognizerError
    from assistant.recognition.whisper_model import packaged_model_dir, verify_packaged_model

    try:
        import faster_whisper  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"the faster-whisper package cannot be imported ({_first_line(exc)})"
    if folder is None:
        try:
            verify_packaged_model(packaged_model_dir(), cache_file=None)
        except RecognizerError as exc:
            return str(exc)
    return None


def check_recognizer(settings: Settings) -> CheckResult:
    from assistant.recognition import RecognizerError, choose_engine

    name = "recognizer"
    reinstall = "reinstall the Python packages: `make install`"
    try:
        engine, folder = choose_engine(settings, DEFAULT_MODELS_DIR)
    except RecognizerError as exc:
        return CheckResult(name, False, str(exc), "install one with `assistant model install`, correct --model / "
                                                  "`model:`, or leave them out for the built-in English model")
    if engine == "vosk":
        problem = _vosk_problem()
        if problem:
            return CheckResult(name, False, f"Vosk: {problem}", reinstall)
        return CheckResult(name, True, f"Vosk with the model {folder}")
    problem = _whisper_problem(folder)
    if problem:
        return CheckResult(name, False, f"Whisper: {problem}", reinstall)
    if folder is not None:
        return CheckResult(name, True, f"Whisper with the model {folder}")
    return CheckResult(name, True, "Whisper tiny.en, the built-in English model (checksums match"
                                   f"{_int8_copy_state()}); `assistant model install` adds a Vosk model")


def _int8_copy_state() -> str:
    from assistant.recognition import RecognizerError
    from assistant.recognition.whisper_model import INT8_FOLDER, default_cache_file, verify_int8_copy

    folder = default_cache_file().parent / INT8_FOLDER
    try:
        verify_int8_copy(folder)
    except RecognizerError:
        return f"; its int8 copy is written to {folder} on the next start"
    return f"; int8 copy in {folder}"


def check_listened_for(settings: Settings) -> CheckResult:
    """The phrases listened for on every utterance (besides the free transcript): from the content."""
    from assistant.core.listened import closed_set, closed_set_problems
    from assistant.core.loader import ContentError, load_content
    from assistant.core.understanding import Understander
    from assistant.core.wake import active_wake_phrase

    name = "listened for"
    try:
        content = load_content(settings.content_path())
    except ContentError:
        return CheckResult(name, False, "the content does not load", "see the content line above", essential=False)
    phrases = closed_set(content, active_wake_phrase(settings.wake_phrase))
    problems = closed_set_problems(Understander(content))
    if problems:
        return CheckResult(name, False, problems[0], "run `assistant content check` to see them all",
                           essential=False)
    groups: dict[str, list[str]] = {}
    for phrase in phrases:
        groups.setdefault(phrase.meaning, []).append(f'"{phrase.text}"')
    said = "; ".join(f"{meaning} ({len(texts)}): {', '.join(texts)}" for meaning, texts in groups.items())
    engine = "" if settings.engine != "vosk" else " (Whisper only: Vosk hears the content's phrases as its grammar)"
    return CheckResult(name, True, f"{len(phrases)} phrases{engine}: {said}")


def check_conversation_log(settings: Settings) -> CheckResult:
    from assistant.caregiver.conversation_log import ConversationLog

    name = "conversation log"
    if not settings.log_enabled:
        return CheckResult(name, True, "off (--no-log or `log_enabled: false`)")
    history = ConversationLog()
    problem = history.check()
    if problem:
        return CheckResult(name, False, f"cannot be written ({problem})",
                           f"make {history.path.parent} a folder this user can write, free disk space, "
                           "or turn the log off with --no-log", essential=False)
    return CheckResult(name, True, f"{history.path} is writable (owner-only)")


def check_alert(settings: Settings) -> CheckResult:
    name = "caregiver alert"
    if not settings.alert_command:
        return CheckResult(name, True, f"none configured (optional: `alert_command:` in {config_path()})")
    program = settings.alert_command[0]
    found = shutil.which(program)
    if found is None:
        return CheckResult(name, False, f"the alert program {program!r} is not found or not executable",
                           "install it, give its full path in `alert_command:`, or `chmod +x` it")
    if settings.alert_timeout <= 0:
        return CheckResult(name, False, f"alert_timeout is {settings.alert_timeout:g}",
                           "set `alert_timeout:` to the seconds the program may take, e.g. 10")
    return CheckResult(name, True, f"will run {found} (timeout {settings.alert_timeout:g} s); not run now")


def check_phrases(settings: Settings) -> CheckResult:
    """What personal phrases are enrolled; a warning (not essential) when two sound too alike."""
    from assistant.phrases.report import review
    from assistant.phrases.store import PhraseStore

    name = "personal phrases"
    store = PhraseStore()
    enrolled = store.names()
    if not enrolled:
        return CheckResult(name, True, "none enrolled (optional: `assistant phrases record stop`)")
    counts = ", ".join(f"{n} ({len(store.load(n))})" for n in enrolled)
    found = review(store)
    problems = [f"'{a}' and '{b}' too alike to tell apart" for a, b in found.alike]
    problems += [f"the takes of '{n}' differ a lot from each other" for n in found.inconsistent]
    if problems:
        return CheckResult(name, False, f"enrolled: {counts}; {'; '.join(problems)}",
                           "record those phrases again (`assistant phrases record NAME`), or remove one of "
                           "two that are too alike", essential=False)
    return CheckResult(name, True, f"enrolled: {counts}")


def _passed(results: list[CheckResult], *names: str) -> bool:
    return all(any(r.name == name and r.ok for r in results) for name in names)


def run_checks(settings: Settings, config_error: str | None = None,
               on_result: Callable[[CheckResult], None] | None = None,
               announce: Callable[[str], None] | None = None,
               more: Sequence[tuple[str, Callable[[], CheckResult]]] = ()) -> list[CheckResult]:
    """Run every check in order; `on_result` sees each result as soon as it is known, `announce` what the
    person near the microphone is asked to do (the room check asks for quiet)."""
    checks: list[tuple[str, Callable[[], CheckResult]]] = [
        ("config file", lambda: check_config(config_error)),
        ("content", lambda: check_content(settings)),
        ("text-to-speech", lambda: check_text_to_speech(settings)),
        ("speaker", lambda: check_speaker(settings)),
        ("microphone", lambda: check_microphone(settings)),
        ("room noise", lambda: check_room(settings, announce,
                                          speak=_passed(results, "text-to-speech", "speaker"),
                                          microphone_ok=_passed(results, "microphone"))),
        ("recognizer", lambda: check_recognizer(settings)),
        ("listened for", lambda: check_listened_for(settings)),
        ("conversation log", lambda: check_conversation_log(settings)),
        ("caregiver alert", lambda: check_alert(settings)),
        ("personal phrases", lambda: check_phrases(settings)),
        *more,  # checks a front end adds (a satellite's server)
    ]
    results: list[CheckResult] = []  # read by the room check: it speaks and listens only on working devices
    for name, check in checks:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - a broken check is reported, never a traceback
            result = CheckResult(name, False, f"the check itself failed ({type(exc).__name__}: "
                                              f"{_first_line(exc)})", "please report this")
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
