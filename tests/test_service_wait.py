"""Waiting at start-up for audio devices that appear late, on the virtual PulseAudio devices.

A USB microphone that comes up late is modelled by an ALSA device bound to one PulseAudio source (as the
`pulse` plugin allows): the device is listed all along, but opening it fails until the source exists,
which is exactly what `wait_for_input_device` must tell apart. The source is then loaded from another
thread while the wait is running.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import sounddevice as sd
from virtual_audio import VirtualAudio

from assistant.audio.wait import (
    DeviceWaitTimeout,
    WaitProgress,
    find_device,
    wait_for_input_device,
    wait_for_output_device,
)

LATE_SINK = "late_speaker"
ASOUNDRC = """
pcm.late_usb_mic {{
    type pulse
    device "{mic}"
    hint {{ show on description "Late USB microphone" }}
}}
pcm.late_usb_speaker {{
    type pulse
    device "{speaker}"
    hint {{ show on description "Late USB speaker" }}
}}
"""


@pytest.fixture
def late_devices(virtual_audio: VirtualAudio) -> VirtualAudio:
    """ALSA devices `late_usb_mic` (the virtual microphone source) and `late_usb_speaker` (a sink that
    does not exist yet), declared in the virtual server's HOME, which ALSA reads when PortAudio starts."""
    assert virtual_audio.dir is not None
    Path(virtual_audio.dir, ".asoundrc").write_text(
        ASOUNDRC.format(mic=VirtualAudio.MIC_SOURCE, speaker=LATE_SINK))
    return virtual_audio


def _later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_waits_for_a_microphone_that_appears_late_then_hears_it(late_devices: VirtualAudio) -> None:
    late_devices.unload_mic()  # unplugged when the assistant starts
    progress: list[WaitProgress] = []
    timer = _later(1.0, late_devices.load_mic)  # ...plugged in a second later
    try:
        mic = wait_for_input_device("late_usb_mic", timeout=30, poll=0.2, on_wait=progress.append)
    finally:
        timer.join()
    assert mic.name == "late_usb_mic" and mic.max_input_channels > 0
    assert progress, "the microphone was missing at first, so the wait must have reported progress"
    attempts = [p.attempt for p in progress]
    assert attempts[0] == 1 and attempts == sorted(set(attempts))
    assert all(p.kind == "input" and p.spec == "late_usb_mic" for p in progress)
    assert "cannot be opened" in progress[-1].reason
    assert "waiting for the microphone 'late_usb_mic'" in progress[0].message

    # The device we got is the real microphone: a tone played into it is heard.
    t = np.arange(int(16000 * 1.5)) / 16000
    late_devices.play_into_mic((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), wait=False)
    heard = sd.rec(int(mic.default_samplerate * 2.0), samplerate=mic.default_samplerate, channels=1, dtype="int16",
                   device=mic.index, blocking=True)
    assert np.abs(heard).max() > 3000, "the tone played into the late microphone was not heard"


def test_waits_for_a_speaker_that_appears_late(late_devices: VirtualAudio) -> None:
    progress: list[WaitProgress] = []
    timer = _later(1.0, lambda: late_devices.pactl("load-module", "module-null-sink", f"sink_name={LATE_SINK}"))
    try:
        speaker = wait_for_output_device("late_usb_speaker", timeout=30, poll=0.2, on_wait=progress.append)
    finally:
        timer.join()
    assert speaker.name == "late_usb_speaker" and speaker.max_output_channels > 0
    assert progress and progress[0].message.startswith("waiting for the speaker 'late_usb_speaker'")


def test_present_devices_return_at_once_by_default_index_or_name(virtual_audio: VirtualAudio) -> None:
    progress: list[WaitProgress] = []
    default_mic = wait_for_input_device(None, timeout=10, on_wait=progress.append)
    by_index = wait_for_input_device(str(default_mic.index), timeout=10, on_wait=progress.append)
    by_name = wait_for_output_device("PULSE", timeout=10, on_wait=progress.append)  # case-insensitive
    assert progress == []
    assert by_index == default_mic and by_name.name == "pulse"
    assert find_device("no such device anywhere", "input") is None


def test_gives_up_after_the_timeout_with_an_actionable_message(virtual_audio: VirtualAudio) -> None:
    every: list[WaitProgress] = []
    with pytest.raises(DeviceWaitTimeout) as caught:
        wait_for_input_device("Blue Yeti", timeout=1.0, poll=0.2, on_wait=every.append, report_every=0)
    message = str(caught.value)
    assert "microphone 'Blue Yeti'" in message and "assistant devices" in message
    assert "--input-device" in message
    assert len(every) >= 2 and all(p.reason == "no such device yet" for p in every)
    # By default an unchanged reason is reported once, not at every poll (the journal would fill up).
    throttled: list[WaitProgress] = []
    with pytest.raises(DeviceWaitTimeout):
        wait_for_output_device("Blue Yeti", timeout=1.0, poll=0.2, on_wait=throttled.append)
    assert [p.attempt for p in throttled] == [1]
