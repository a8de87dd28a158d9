"""Wait at start-up until the microphone or speaker can really be opened.

On a home device started at boot, a USB microphone or speaker often appears seconds after the assistant
does. Instead of failing (and being restarted by systemd over and over), the service waits here::

    mic = wait_for_input_device(settings.input_device, on_wait=lambda progress: log.info(progress.message))

PortAudio lists devices only when it is initialised, so between polls PortAudio is re-initialised
(``assistant.audio.devices.refresh``: ``sd._terminate(); sd._initialize()``), which also closes every
open stream: call these functions before opening any stream. A spec names a device as everywhere else
(``resolve_device``: None/"default", an index, or a name or part of one). A device counts as found only
when a stream on it opens, because a name in the list is not enough (an ALSA device bound to a missing
PulseAudio source is listed but cannot open).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.audio.devices import (
    DeviceInfo,
    DeviceNotFoundError,
    Kind,
    SoundSystemError,
    is_default_spec,
    quiet_stderr,
    refresh,
    resolve_device,
    sounddevice,
)

REPORT_EVERY = 30.0  # seconds between repeated "still waiting" reports


@dataclass(frozen=True)
class WaitProgress:
    """What `on_wait` receives about polls that did not find the device (see `report_every`)."""

    kind: Kind
    spec: str | int | None
    attempt: int  # 1 for the first failed poll
    waited: float  # seconds since waiting started
    reason: str  # why this poll failed

    @property
    def message(self) -> str:
        what = "microphone" if self.kind == "input" else "speaker"
        return f"waiting for the {what} {_describe(self.spec)} ({self.waited:.0f} s): {self.reason}"


class DeviceWaitTimeout(TimeoutError):
    """The device did not appear in time; the message names it and says how to check."""


def _describe(spec: str | int | None) -> str:
    return "(system default)" if is_default_spec(spec) else repr(spec)


def find_device(spec: str | int | None, kind: Kind) -> DeviceInfo | None:
    """The listed device `spec` names (rules of assistant.audio.devices.resolve_device), or None."""
    try:
        return resolve_device(spec, kind)
    except (DeviceNotFoundError, SoundSystemError):
        return None


def try_open(device: DeviceInfo, kind: Kind) -> str | None:
    """Open (and close, without starting) a one-channel stream on the device; None if it worked, else why."""
    sd = sounddevice()
    stream_class = sd.InputStream if kind == "input" else sd.OutputStream
    try:
        # ALSA and PortAudio print several C-level lines per failed open; polling every second would
        # flood the journal.
        with quiet_stderr():
            stream = stream_class(device=device.index, channels=1, samplerate=device.default_samplerate,
                                  dtype="int16")
            stream.close()
    except (sd.PortAudioError, ValueError, OSError) as exc:
        return f"{device.name!r} is listed but cannot be opened ({str(exc).splitlines()[0]})"
    return None


def wait_for_device(spec: str | int | None, kind: Kind, timeout: float | None = None, poll: float = 1.0,
                    on_wait: Callable[[WaitProgress], None] | None = None,
                    report_every: float = REPORT_EVERY) -> DeviceInfo:
    """Poll until a device matching `spec` opens; return it. See wait_for_input_device."""
    start = time.monotonic()
    attempt = 0
    last_report: tuple[float, str] | None = None
    while True:
        if attempt:  # the first look uses PortAudio's current list; later ones re-read the hardware
            refresh()
        device = find_device(spec, kind)
        reason = "no such device yet" if device is None else try_open(device, kind)
        if device is not None and reason is None:
            return device
        attempt += 1
        waited = time.monotonic() - start
        if on_wait is not None and (last_report is None or last_report[1] != reason
                                    or waited - last_report[0] >= report_every):
            last_report = (waited, str(reason))
            on_wait(WaitProgress(kind=kind, spec=spec, attempt=attempt, waited=waited, reason=str(reason)))
        if timeout is not None and waited + poll > timeout:
            what = "microphone" if kind == "input" else "speaker"
            flag = "--input-device" if kind == "input" else "--output-device"
            raise DeviceWaitTimeout(
                f"the {what} {_describe(spec)} did not appear within {timeout:g} s ({reason}). "
                f"Check that it is plugged in, then run `assistant devices` to see its name and choose it "
                f"with {flag}.")
        time.sleep(poll)


def wait_for_input_device(spec: str | int | None, timeout: float | None = None, poll: float = 1.0,
                          on_wait: Callable[[WaitProgress], None] | None = None,
                          report_every: float = REPORT_EVERY) -> DeviceInfo:
    """Block until a microphone matching `spec` (index, name substring, or None/"default") can be opened.

    Polls every `poll` seconds, re-initialising PortAudio between polls. `on_wait` hears about failed
    polls: the first one, each one whose reason differs from the last report, and otherwise one every
    `report_every` seconds (0: every poll), so a long wait does not flood the journal.
    timeout=None waits for ever; otherwise DeviceWaitTimeout is raised once waiting longer would pass it.
    """
    return wait_for_device(spec, "input", timeout, poll, on_wait, report_every)


def wait_for_output_device(spec: str | int | None, timeout: float | None = None, poll: float = 1.0,
                           on_wait: Callable[[WaitProgress], None] | None = None,
                           report_every: float = REPORT_EVERY) -> DeviceInfo:
    """The same as wait_for_input_device, for the speaker."""
    return wait_for_device(spec, "output", timeout, poll, on_wait, report_every)
