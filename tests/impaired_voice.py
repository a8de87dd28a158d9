"""A simulated impaired voice for the personal-phrase tests and bench: never the same clip twice.

    person = Person(seed=1)                        # one speaker: a base voice, pitch, speed, muffling
    take = person.say("stop", take=3)              # int16 16 kHz mono, different for every take number
    other = other_voice("what is physical therapy", index=4)   # flite / espeak-ng voices, not the person

Each take varies what varies between a person's attempts: speaking rate (slow, dysarthric-like, with
word gaps), pitch, articulation (a low-pass "muffled" filter whose cut-off moves), tremor (amplitude
and pitch modulation at 4-7 Hz), level, background noise and the silence around the phrase.
"""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import soxr

RATE = 16000


def _wav_bytes_to_int16(raw: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(raw)) as reader:
        native = reader.getframerate()
    # espeak-ng --stdout writes an unknown length into the header: read what is there
    data = np.frombuffer(raw[44:][: len(raw[44:]) // 2 * 2], dtype=np.int16)
    return data, native


@lru_cache(maxsize=512)
def _espeak(text: str, voice: str, speed: int, pitch: int, gap: int) -> np.ndarray:
    raw = subprocess.run(["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch),
                          "-g", str(gap), text], capture_output=True, check=True).stdout
    data, native = _wav_bytes_to_int16(raw)
    return soxr.resample(data.astype(np.float32) / 32768.0, native, RATE).astype(np.float32)


@lru_cache(maxsize=256)
def _flite(text: str, voice: str) -> np.ndarray:
    raw = subprocess.run(["flite", "-voice", voice, "-t", text, "-o", "/dev/stdout"],
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(raw)) as reader:
        native = reader.getframerate()
        data = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    return soxr.resample(data.astype(np.float32) / 32768.0, native, RATE).astype(np.float32)


def _low_pass(audio: np.ndarray, cutoff: float) -> np.ndarray:
    """Muffled articulation: a windowed-sinc FIR low-pass."""
    taps = 101
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff / RATE * n) * np.hamming(taps)
    return np.convolve(audio, kernel / kernel.sum(), mode="same").astype(np.float32)


def _tremor(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Amplitude and pitch wobble at a tremor rate (4-7 Hz): pitch through a time-varying resampling."""
    t = np.arange(len(audio)) / RATE
    rate_hz = rng.uniform(4.0, 7.0)
    phase = rng.uniform(0, 2 * np.pi)
    pitch_depth = rng.uniform(0.01, 0.035)
    warp = np.cumsum(1.0 + pitch_depth * np.sin(2 * np.pi * rate_hz * t + phase))
    warp *= (len(audio) - 1) / warp[-1]
    wobbled = np.interp(warp, np.arange(len(audio)), audio)
    amplitude = 1.0 - rng.uniform(0.15, 0.4) * (0.5 + 0.5 * np.sin(2 * np.pi * rate_hz * t + phase + 1.0))
    return (wobbled * amplitude).astype(np.float32)


def _finish(audio: np.ndarray, rng: np.random.Generator, snr_db: float, level_db: float) -> np.ndarray:
    """Level, silence around the phrase, and noise at `snr_db` below the speech (pink-ish or white)."""
    loud = np.nonzero(np.abs(audio) > 1e-3)[0]
    audio = audio[loud[0]:loud[-1] + 1] if len(loud) else audio
    speech_rms = float(np.sqrt(np.mean(audio**2))) or 1e-4
    gain = 10 ** (level_db / 20) / speech_rms
    audio = audio * min(gain, 0.7 / (float(np.max(np.abs(audio))) or 1.0))  # a good take is never clipped
    before = np.zeros(int(rng.uniform(0.15, 0.5) * RATE), dtype=np.float32)
    after = np.zeros(int(rng.uniform(0.2, 0.5) * RATE), dtype=np.float32)
    signal = np.concatenate([before, audio, after])
    noise = rng.normal(0, 1, len(signal))
    if rng.random() < 0.5:  # pink-ish: a fan or a room rather than hiss
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
    noise *= 10 ** ((level_db - snr_db) / 20) / (np.sqrt(np.mean(noise**2)) or 1.0)
    return np.clip((signal + noise) * 32768, -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class Person:
    """One simulated speaker with an impaired voice; `say(text, take)` is one attempt at a phrase."""

    seed: int = 1
    voice: str = "en-us+m3"
    speed: int = 110  # words per minute: slow, as after a stroke
    pitch: int = 35
    muffle_hz: float = 2600.0  # typical low-pass cut-off of this person's articulation

    def say(self, text: str, take: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, take, sum(map(ord, text))])
        speed = int(self.speed * rng.uniform(0.8, 1.2))
        pitch = int(np.clip(self.pitch + rng.integers(-8, 9), 0, 99))
        gap = int(rng.integers(0, 12))  # word gaps in 10 ms units: halting speech
        audio = _espeak(text, self.voice, speed, pitch, gap)
        audio = _low_pass(audio, self.muffle_hz * rng.uniform(0.75, 1.25))
        audio = _tremor(audio, rng)
        return _finish(audio, rng, snr_db=rng.uniform(12, 30), level_db=rng.uniform(-30, -16))


OTHER_ESPEAK = ("en-gb", "en-us+f2", "en-us+f4", "en-gb-x-rp+m1", "en-us+m7", "en-sc")
OTHER_FLITE = ("kal", "slt", "awb", "rms")


def other_voice(text: str, index: int) -> np.ndarray:
    """`text` said by somebody else (a caregiver, the TV): flite and espeak-ng voices in turn."""
    rng = np.random.default_rng([1000 + index, sum(map(ord, text))])
    voices = len(OTHER_FLITE) + len(OTHER_ESPEAK)
    slot = index % voices
    if slot < len(OTHER_FLITE):
        audio = _flite(text, OTHER_FLITE[slot])
    else:
        audio = _espeak(text, OTHER_ESPEAK[slot - len(OTHER_FLITE)], int(rng.integers(140, 190)),
                        int(rng.integers(30, 70)), 0)
    return _finish(audio, rng, snr_db=rng.uniform(15, 30), level_db=rng.uniform(-28, -16))


def write_wav(path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
