"""Speech made harder the way homes and tired or impaired speakers make it (int16 mono, 16 kHz).

    degrade(audio, "noisy", seed=3)      # one of DEGRADATIONS; the seed varies the details

- slow: the same voice at 70% speed, pitch kept (sox tempo), as after a stroke or with fatigue;
- noisy: pink noise (fans, traffic, a running tap) at 10 dB SNR against the speech;
- reverberant: a synthetic room (exponentially decaying noise, RT60 0.5-0.9 s) plus the direct sound;
- quiet: 25 dB quieter (Parkinson's hypophonia, a microphone across the room);
- paused: a 1.0-1.5 s pause at the word gap nearest the middle, as halting speech has.
Every clip also gets a faint microphone noise floor (-70 dBFS), so "silence" is never digital zero.
"""

from __future__ import annotations

import subprocess

import numpy as np

RATE = 16000
DEGRADATIONS = ("slow", "noisy", "reverberant", "quiet", "paused")


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio.astype(np.float64))))) if audio.size else 0.0


def _speech_rms(audio: np.ndarray) -> float:
    """RMS over the loud half of 20 ms frames: the level of the speech, not of the pauses around it."""
    frame = RATE // 50
    frames = audio[: len(audio) // frame * frame].astype(np.float64).reshape(-1, frame)
    if not len(frames):
        return _rms(audio)
    energy = np.mean(frames**2, axis=1)
    return float(np.sqrt(np.mean(np.sort(energy)[len(energy) // 2:])))


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise of unit RMS (white noise shaped in the frequency domain)."""
    spectrum = np.fft.rfft(rng.normal(0, 1, n))
    spectrum /= np.sqrt(np.maximum(1, np.arange(len(spectrum))))
    noise = np.fft.irfft(spectrum, n)
    return noise / (_rms(noise) or 1.0)


def _to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def slow(audio: np.ndarray, factor: float = 0.7) -> np.ndarray:
    # -D: no dither. sox dithers its 16-bit output with a new random seed each run, so the same clip came out
    # different in every process, and a recognition test could pass in one run and fail in the next.
    out = subprocess.run(["sox", "-D", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-",
                          "-t", "raw", "-", "tempo", "-s", str(factor)],
                         input=audio.astype(np.int16).tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.int16).copy()


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    noise = pink_noise(len(audio), rng) * _speech_rms(audio) / 10 ** (snr_db / 20)
    return _to_int16(audio.astype(np.float64) + noise)


def reverberate(audio: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    length = int(rt60 * RATE)
    t = np.arange(length) / RATE
    tail = rng.normal(0, 1, length) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[: int(0.005 * RATE)] = 0  # the first reflections arrive a few ms after the direct sound
    response = 0.35 * tail / np.sqrt(np.sum(tail**2))
    response[0] = 1.0
    wet = np.fft.irfft(np.fft.rfft(audio.astype(np.float64), len(audio) + length) *
                       np.fft.rfft(response, len(audio) + length), len(audio) + length)
    wet *= _speech_rms(audio) / (_speech_rms(wet) or 1.0)
    return _to_int16(wet)


def insert_pause(audio: np.ndarray, seconds: float) -> np.ndarray:
    """Silence inserted at the quietest 20 ms frame of the middle third (a gap between words)."""
    frame = RATE // 50
    n = len(audio) // frame
    if n < 6:
        return np.concatenate([audio, np.zeros(int(seconds * RATE), np.int16)])
    energy = np.mean(audio[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1)
    middle = range(n // 3, 2 * n // 3)
    cut = min(middle, key=lambda i: energy[i]) * frame + frame // 2
    return np.concatenate([audio[:cut], np.zeros(int(seconds * RATE), np.int16), audio[cut:]])


def degrade(audio: np.ndarray, how: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if how == "plain":
        out = audio
    elif how == "slow":
        out = slow(audio, 0.7)
    elif how == "noisy":
        out = add_noise(audio, 10.0, rng)
    elif how == "reverberant":
        out = reverberate(audio, float(rng.uniform(0.5, 0.9)), rng)
    elif how == "quiet":
        out = _to_int16(audio.astype(np.float64) * 10 ** (-25 / 20))
    elif how == "paused":
        out = insert_pause(audio, float(rng.uniform(1.0, 1.5)))
    else:
        raise ValueError(f"unknown degradation {how!r}: use plain or one of {', '.join(DEGRADATIONS)}")
    floor = rng.normal(0, 32768 * 10 ** (-70 / 20), len(out))
    return _to_int16(out.astype(np.float64) + floor)
