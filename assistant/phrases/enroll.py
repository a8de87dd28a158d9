"""Enrollment: is a take usable (not silent, clipped or too short), and recording takes by voice.

`check_take` is pure. `record_takes` drives the exchange through small callables (say, tone, listen,
status), so the same flow runs on a real microphone and speaker (`assistant phrases record`) or in a
test; it speaks every refusal with its reason and tries again, up to a fixed number of attempts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.phrases import TAKES, describe
from assistant.phrases.features import HOP, RATE, frame_levels_db, frames, speech_span

SILENT_DB = -45.0  # dBFS: a take whose loudest 10 ms is below this is silence
CLIPPED_LEVEL = 32600  # |sample| at or above this is at the limit of the recording
CLIPPED_FRACTION = 0.002  # ... and more than this share of the phrase at the limit is clipped
MIN_SECONDS = 0.2  # of phrase (after trimming silence)
MAX_SECONDS = 4.0
ATTEMPTS_PER_TAKE = 3
WAIT_SECONDS = 10.0  # how long to wait for the person to start speaking

SILENT = "I didn't hear anything. Please say it a little louder, after the tone."
CLIPPED = "That was too loud and came out distorted. Please move back a little, or say it more softly."
TOO_SHORT = "That was too short to learn from. Please say the whole phrase, after the tone."
TOO_LONG = "That was too long. Please say only the phrase, then stop."


def check_take(samples: np.ndarray) -> str | None:
    """None for a usable take, else the reason to say to the person."""
    audio = np.asarray(samples, dtype=np.int16)
    levels = frame_levels_db(frames(audio))
    if not len(levels) or float(levels.max()) < SILENT_DB:
        return SILENT
    span = speech_span(levels)
    if span is None:
        return SILENT
    phrase = audio[span[0] * HOP: span[1] * HOP + 400]
    if np.mean(np.abs(phrase.astype(np.int32)) >= CLIPPED_LEVEL) > CLIPPED_FRACTION:
        return CLIPPED
    seconds = (span[1] - span[0]) * HOP / RATE
    if seconds < MIN_SECONDS:
        return TOO_SHORT
    if seconds > MAX_SECONDS:
        return TOO_LONG
    return None


def tone(seconds: float = 0.25, hz: float = 880.0, rate: int = 22050) -> np.ndarray:
    """A soft beep (float32) that says "now"; faded in and out so it does not click."""
    t = np.arange(int(seconds * rate)) / rate
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    return (0.3 * np.sin(2 * np.pi * hz * t) * fade).astype(np.float32)


def record_takes(name: str, say: Callable[[str], None], beep: Callable[[], None],
                 listen: Callable[[float], np.ndarray | None], status: Callable[[str], None],
                 takes: int = TAKES) -> list[np.ndarray] | None:
    """`takes` good recordings of the phrase, or None when too many attempts failed (said why)."""
    good: list[np.ndarray] = []
    say(f"Let's record {describe(name)}. Say it {takes} times, each time after the tone.")
    while len(good) < takes:
        for _attempt in range(ATTEMPTS_PER_TAKE):
            say(f"Say {describe(name)} after the tone.")
            beep()
            status(f"take {len(good) + 1} of {takes}: say it now")
            audio = listen(WAIT_SECONDS)
            problem = SILENT if audio is None else check_take(audio)
            if problem is None:
                good.append(np.asarray(audio, dtype=np.int16))
                status(f"take {len(good)} of {takes}: ok")
                say(f"Got it. That was {len(good)} of {takes}." if len(good) < takes else "Got it.")
                break
            status(f"take {len(good) + 1} of {takes} refused: {problem}")
            say(problem)
        else:
            say("Let's stop here and try again later. Nothing was changed.")
            return None
    return good
