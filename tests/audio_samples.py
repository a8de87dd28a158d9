"""Test audio made on the spot: real espeak-ng speech, speech-like bursts, noise, clicks (int16 mono)."""

from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path

import numpy as np
import soxr

RATE = 16000


def espeak(text: str, voice: str = "en-us", speed: int = 150, rate: int = RATE, trim: bool = True) -> np.ndarray:
    """`text` spoken by espeak-ng, resampled to `rate`; with trim, the silent edges are cut off."""
    wav = subprocess.run(["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), text],
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        native = reader.getframerate()
        # espeak-ng writes an unknown length into the header when writing to a pipe: read what is there
        data = np.frombuffer(wav[44:][: len(wav[44:]) // 2 * 2], dtype=np.int16)
    audio = soxr.resample(data.astype(np.float32), native, rate).clip(-32768, 32767).astype(np.int16)
    if trim:
        loud = np.nonzero(np.abs(audio) > 200)[0]
        audio = audio[loud[0]: loud[-1] + 1] if len(loud) else audio[:0]
    return audio


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), dtype=np.int16)


def noise(seconds: float, level_db: float, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """White noise at `level_db` dBFS RMS."""
    rms = 32768 * 10 ** (level_db / 20)
    data = np.random.default_rng(seed).normal(0, rms, int(round(seconds * rate)))
    return data.clip(-32768, 32767).astype(np.int16)


def syllables(seconds: float, level_db: float = -20, pitch: float = 140, seed: int = 0,
              rate: int = RATE) -> np.ndarray:
    """A speech-like burst: a harmonic voice at `pitch` Hz, amplitude-modulated at ~4 syllables/s."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    f0 = pitch * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.05 + 0.95 * np.abs(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, 6)))  # deep dips, as speech
    edge = np.minimum(1, np.minimum(t, t[::-1]) / 0.02)  # 20 ms fades
    signal = voice * envelope * edge
    signal *= 32768 * 10 ** (level_db / 20) / np.sqrt(np.mean(signal**2))
    return signal.clip(-32768, 32767).astype(np.int16)


def click(rate: int = RATE) -> np.ndarray:
    """A 5 ms knock (a decaying impulse), loud."""
    n = int(0.005 * rate)
    return (20000 * np.exp(-np.arange(n) / (n / 5)) * np.sign(np.sin(np.arange(n)))).astype(np.int16)


def mix(*parts: np.ndarray) -> np.ndarray:
    """Sum int16 signals of equal length without wrapping."""
    total = np.sum([p.astype(np.int32) for p in parts], axis=0)
    return total.clip(-32768, 32767).astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
    return Path(path)
