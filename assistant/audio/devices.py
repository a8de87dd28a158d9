"""Sound devices as PortAudio (sounddevice) sees them: listing, defaults, and resolving a device spec.

    inputs = input_devices()                         # list[DeviceInfo], default_input marked
    mic = resolve_device(settings.input_device, "input")   # DeviceInfo, or DeviceNotFoundError
    refresh()                                        # re-read the hardware (closes every open stream!)

A device spec is None, "" or "default" (the system default), an index (int or digits), or a name:
the first device whose name equals it, else the first whose name contains it (case-insensitive), among
the devices that have channels in the wanted direction (same rules as assistant.audio.wait).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

Kind = Literal["input", "output"]
DEFAULT_SPECS = ("", "default")

NO_SOUND_SYSTEM_HELP = (
    "no sound devices found. Check that a microphone and a speaker are plugged in and that the sound "
    "system is running (PulseAudio or PipeWire: `pactl info`; plain ALSA: `arecord -l`, `aplay -l`), and "
    "that this user may use audio (the `audio` group). Then run `assistant devices` again."
)
NO_MICROPHONE_HELP = "no microphone found: plug one in, then check `assistant devices`"
NO_SPEAKER_HELP = "no speaker found: plug one in (or choose one), then check `assistant devices`"


class SoundSystemError(RuntimeError):
    """PortAudio cannot be loaded or initialised; the message says what to install."""


class DeviceNotFoundError(LookupError):
    """A device spec matches no device; the message lists the devices there are.

    `summary` is the first part alone (what is wrong and how to choose), for when the list is shown."""

    def __init__(self, summary: str, listing: str = "") -> None:
        super().__init__(f"{summary}{chr(10) + listing if listing else ''}")
        self.summary = summary


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    default_input: bool = False
    default_output: bool = False

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels

    def is_default(self, kind: Kind) -> bool:
        return self.default_input if kind == "input" else self.default_output

    def label(self) -> str:
        return f"[{self.index}] {self.name}"


def sounddevice() -> ModuleType:
    """The sounddevice module, or SoundSystemError with what to install (libportaudio2)."""
    try:
        import sounddevice as sd
    except OSError as exc:  # sounddevice raises OSError when the PortAudio library is missing
        raise SoundSystemError(
            f"the PortAudio sound library cannot be loaded ({exc}): install it with "
            "`sudo apt-get install libportaudio2` (or `make install`)") from exc
    return sd


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C-level stderr (ALSA/PortAudio chatter about unusable devices) inside the block."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def refresh() -> None:
    """Re-initialise PortAudio so newly plugged (or removed) devices show. Closes every open stream."""
    sd = sounddevice()
    with quiet_stderr():
        sd._terminate()
        sd._initialize()


def _default_index(sd: ModuleType, kind: Kind) -> int:
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        return -1


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio lists (inputs and outputs), with the system defaults marked."""
    sd = sounddevice()
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise SoundSystemError(f"the sound system cannot be queried ({exc}). {NO_SOUND_SYSTEM_HELP}") from exc
    default_in, default_out = _default_index(sd, "input"), _default_index(sd, "output")
    devices = []
    for info in raw:
        index = int(info["index"])
        devices.append(DeviceInfo(
            index=index, name=str(info["name"]), hostapi=str(hostapis[info["hostapi"]]["name"]),
            max_input_channels=int(info["max_input_channels"]),
            max_output_channels=int(info["max_output_channels"]),
            default_samplerate=float(info["default_samplerate"]),
            default_input=index == default_in, default_output=index == default_out))
    return devices


def input_devices() -> list[DeviceInfo]:
    return [d for d in list_devices() if d.max_input_channels > 0]


def output_devices() -> list[DeviceInfo]:
    return [d for d in list_devices() if d.max_output_channels > 0]


def describe_devices(devices: list[DeviceInfo], kind: Kind) -> str:
    """One line per device of this kind, for error messages."""
    lines = [f"  {d.label()}{'  (default)' if d.is_default(kind) else ''}"
             for d in devices if d.channels(kind) > 0]
    return "\n".join(lines) if lines else "  (none)"


def is_default_spec(spec: str | int | None) -> bool:
    return spec is None or (isinstance(spec, str) and spec.strip().lower() in DEFAULT_SPECS)


def resolve_device(spec: str | int | None, kind: Kind, devices: list[DeviceInfo] | None = None) -> DeviceInfo:
    """The device `spec` names for `kind` (see the module docstring); DeviceNotFoundError if none."""
    devices = list_devices() if devices is None else devices
    usable = [d for d in devices if d.channels(kind) > 0]
    what = "microphone" if kind == "input" else "speaker"
    flag = "--input-device" if kind == "input" else "--output-device"
    if not usable:
        raise DeviceNotFoundError(NO_MICROPHONE_HELP if kind == "input" else NO_SPEAKER_HELP)
    if is_default_spec(spec):
        for device in usable:
            if device.is_default(kind):
                return device
        return usable[0]  # PortAudio has no default but there are devices: take the first
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        for device in devices:
            if device.index == index:
                if device.channels(kind) > 0:
                    return device
                raise DeviceNotFoundError(
                    f"device {device.label()} has no {kind} channels, so it cannot be the {what}; "
                    f"choose one with {flag} INDEX or NAME.",
                    f"{kind.capitalize()} devices:\n{describe_devices(devices, kind)}")
    else:
        wanted = text.lower()
        for match in ([d for d in usable if d.name.lower() == wanted],
                      [d for d in usable if wanted in d.name.lower()]):
            if match:
                return match[0]
    raise DeviceNotFoundError(
        f"no {what} matches {text!r}; choose one with {flag} INDEX or NAME (part of the name is enough).",
        f"{kind.capitalize()} devices:\n{describe_devices(devices, kind)}")
