"""Sounds of a home, made on the spot (int16 mono, 16 kHz): the backgrounds speech must be told apart from.

Each maker takes the length in seconds, a level (dBFS RMS over the whole signal) and a seed. Shared by
the voice-activity tests and bench/listening.py.
"""

from __future__ import annotations

import numpy as np

RATE = 16000


def _to_level(x: np.ndarray, level_db: float) -> np.ndarray:
    x = x * (32768 * 10 ** (level_db / 20) / max(1e-9, float(np.sqrt(np.mean(x**2)))))
    return x.clip(-32768, 32767).astype(np.int16)


def _shaped_noise(n: int, slope: float, rng: np.random.Generator) -> np.ndarray:
    """Noise whose power falls as 1/f**slope (1: pink, 2: brown)."""
    spectrum = np.fft.rfft(rng.normal(0, 1, n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    return np.fft.irfft(spectrum / f ** (slope / 2), n)


def pink(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    return _to_level(_shaped_noise(int(seconds * RATE), 1.0, np.random.default_rng(seed)), level_db)


def wandering_pink(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    """Pink noise whose loudness drifts by +-8 dB over a few seconds (traffic, a washing machine)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    drift_db = 8 * np.sin(2 * np.pi * t / rng.uniform(3, 7) + rng.uniform(0, 6))
    return _to_level(_shaped_noise(n, 1.0, rng) * 10 ** (drift_db / 20), level_db)


def fan(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    """A fan: rumbling brown noise, mains hum with harmonics, and a whoosh modulated at the blade rate."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    rumble = _shaped_noise(n, 2.0, rng)
    rumble /= np.std(rumble)
    hum = sum(np.sin(2 * np.pi * 100 * k * t + rng.uniform(0, 6)) / k for k in range(1, 6))
    whoosh = _shaped_noise(n, 0.5, rng)
    whoosh /= np.std(whoosh)
    blade = 1 + 0.4 * np.sin(2 * np.pi * rng.uniform(18, 30) * t)
    return _to_level(rumble + 0.5 * hum + 0.7 * whoosh * blade, level_db)


def kitchen(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    """Clatter: knocks and ringing dishes (decaying resonances), the odd scrape, over a room tone."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = _shaped_noise(n, 1.0, rng)
    out *= 0.05 / np.std(out)
    at = 0.0
    while True:
        at += rng.exponential(0.8)
        start = int(at * RATE)
        if start >= n:
            break
        if rng.random() < 0.15:  # a scrape: a burst of band-limited noise
            length = int(rng.uniform(0.2, 0.6) * RATE)
            burst = np.diff(rng.normal(0, 1, length + 1)) * np.hanning(length) * rng.uniform(0.3, 1)
        else:  # a knock or a dish: a few decaying partials
            length = int(rng.uniform(0.05, 0.5) * RATE)
            tt = np.arange(length) / RATE
            burst = sum(np.sin(2 * np.pi * rng.uniform(400, 6000) * tt) * np.exp(-tt / rng.uniform(0.01, 0.15))
                        for _ in range(rng.integers(1, 5))) * rng.uniform(0.3, 1.5)
        end = min(n, start + length)
        out[start:end] += burst[: end - start]
    return _to_level(out, level_db)


def music(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    """Music-like audio: a melody of harmonic notes with vibrato over sustained chords, and a drum beat."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    out = np.zeros(n)
    scale = 220 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12, 14, 16]) / 12)
    beat = 60 / rng.uniform(90, 130)

    def note(f0: float, start: float, length: float, harmonics: int, vibrato: float) -> None:
        a, b = int(start * RATE), min(n, int((start + length) * RATE))
        if b <= a:
            return
        tt = t[a:b] - start
        freq = f0 * (1 + vibrato * np.sin(2 * np.pi * 5.5 * tt))
        phase = 2 * np.pi * np.cumsum(freq) / RATE
        envelope = np.minimum(1, tt / 0.02) * np.exp(-tt / (length * 0.8))
        out[a:b] += envelope * sum(np.sin(k * phase) / k**1.5 for k in range(1, harmonics + 1))

    at = 0.0
    while at < seconds:
        root = scale[rng.integers(0, 5)]
        for interval in (1, 5 / 4, 3 / 2):  # a chord per bar
            note(root / 2 * interval, at, 4 * beat, 4, 0.0)
        for k in range(8):  # eighth-note melody
            if rng.random() < 0.8:
                note(scale[rng.integers(0, len(scale))] * 2, at + k * beat / 2, beat / 2, 8, 0.01)
        for k in range(4):  # kick and hi-hat
            a = int((at + k * beat) * RATE)
            length = min(n - a, int(0.15 * RATE))
            if length > 0:
                tt = np.arange(length) / RATE
                out[a:a + length] += 2 * np.sin(2 * np.pi * 60 * tt) * np.exp(-tt / 0.05)
                out[a:a + length] += 0.3 * rng.normal(0, 1, length) * np.exp(-tt / 0.02)
        at += 4 * beat
    return _to_level(out, level_db)


def voice_over(reading: np.ndarray, seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    """Another person (or the TV) reading on and on: `reading` (speech, int16) looped from a random point."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    x = np.tile(reading.astype(np.float64), n // len(reading) + 2)
    start = int(rng.integers(0, len(reading)))
    return _to_level(x[start:start + n], level_db)


def speech_at_level(x: np.ndarray, level_db: float) -> np.ndarray:
    """Speech scaled so its active part (20 ms frames within 30 dB of the loudest) is at `level_db` dBFS
    RMS: how loud a talker is, whatever the pauses between words."""
    f = x[: len(x) // 320 * 320].astype(np.float64).reshape(-1, 320)
    e = (f**2).mean(axis=1)
    active = f[e > e.max() * 1e-3]
    gain = 32768 * 10 ** (level_db / 20) / np.sqrt((active**2).mean())
    return (x * gain).clip(-32768, 32767).astype(np.int16)


BACKGROUNDS = {"pink": pink, "wandering": wandering_pink, "fan": fan, "kitchen": kitchen, "music": music}
