"""Speech features for matching personal phrases: trimmed, mean-normalised MFCCs (pure numpy).

    feats = phrase_features(samples)   # int16 or float mono at 16 kHz -> (frames, 13) float32, or None

A speech front end close to the usual one (25 ms Hamming windows, 512-point FFT, 26 mel bands from 60 to
7600 Hz, 13 cepstra without c0, i.e. without loudness), so a take recorded close to the microphone and
one from across the room compare on spectral shape only. Chosen by measurement (bench/phrases.py;
docs/decisions.md), three things differ from the textbook:
- a 20 ms hop instead of 10 ms: as accurate for whole-phrase matching, a quarter of the warping work;
- mel energies more than FLOOR_DB below the loudest are flattened, so quiet stretches (closures, breath)
  compare as "quiet" rather than as whatever the room's noise was that day;
- silence is trimmed against both the loudest frame and the background level (from the quietest frames),
  so a noisy take is not compared with its noise; digital zeros (padding) do not count as background.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RATE = 16000
WINDOW = 400  # 25 ms
HOP = 320  # 20 ms: a quarter of the warping work of the usual 10 ms, and as accurate for whole phrases
FFT = 512
BANDS = 26
CEPSTRA = 13  # c1..c13: c0 (overall level) is dropped
LOW_HZ, HIGH_HZ = 60.0, 7600.0
TRIM_DB = 30.0  # frames this far below the loudest are not part of the phrase (weak ends: see EDGE in matcher)
TRIM_FLOOR_DB = -55.0  # ... and never frames below this level (dBFS), however quiet the take
TRIM_NOISE_DB = 8.0  # ... nor frames less than this above the background (the quietest tenth of frames)
DIGITAL_SILENCE_DB = -90.0  # padding with zeros, not a room
FLOOR_DB = 45.0  # the quiet parts flattened (see phrase_features)
MIN_FRAMES = 5  # 0.1 s: less than this is no phrase


@lru_cache(maxsize=2)
def _mel_bank(rate: int = RATE) -> np.ndarray:
    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    points = mel(LOW_HZ) + (mel(HIGH_HZ) - mel(LOW_HZ)) * np.arange(BANDS + 2) / (BANDS + 1)
    hz = 700.0 * (10 ** (points / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(FFT, 1.0 / rate)
    bank = np.zeros((BANDS, len(bins)), dtype=np.float32)
    for band in range(BANDS):
        left, centre, right = hz[band], hz[band + 1], hz[band + 2]
        rising = (bins - left) / (centre - left)
        falling = (right - bins) / (right - centre)
        bank[band] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


@lru_cache(maxsize=1)
def _dct() -> np.ndarray:
    n = np.arange(BANDS)
    k = np.arange(1, CEPSTRA + 1)[:, None]
    return (np.cos(np.pi * k * (2 * n + 1) / (2 * BANDS)) * np.sqrt(2.0 / BANDS)).astype(np.float32)


def _as_float(samples: np.ndarray) -> np.ndarray:
    audio = np.asarray(samples)
    if audio.dtype == np.int16:
        return audio.astype(np.float32) / 32768.0
    return audio.astype(np.float32)


def frames(samples: np.ndarray) -> np.ndarray:
    """(n, WINDOW) overlapping frames of the float signal."""
    audio = _as_float(samples)
    if len(audio) < WINDOW:
        return np.zeros((0, WINDOW), dtype=np.float32)
    count = 1 + (len(audio) - WINDOW) // HOP
    index = np.arange(WINDOW)[None, :] + HOP * np.arange(count)[:, None]
    return audio[index]


def frame_levels_db(framed: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.mean(framed.astype(np.float64) ** 2, axis=1) + 1e-12)


def speech_span(levels_db: np.ndarray) -> tuple[int, int] | None:
    """First and one-past-last frame of the phrase: frames within TRIM_DB of the loudest."""
    if not len(levels_db):
        return None
    # Takes and live utterances have room noise at their edges; digital silence (padding) is not room noise
    room = levels_db[levels_db > DIGITAL_SILENCE_DB]
    noise = float(np.percentile(room, 10)) if len(room) else DIGITAL_SILENCE_DB
    peak = float(np.max(levels_db))
    if peak < TRIM_FLOOR_DB:
        return None
    threshold = max(peak - TRIM_DB, TRIM_FLOOR_DB, noise + TRIM_NOISE_DB)
    threshold = min(threshold, peak - 6.0)  # a sound with no room around it is still a sound
    loud = np.nonzero(levels_db > threshold)[0]
    if not len(loud):
        return None
    return int(loud[0]), int(loud[-1]) + 1


def phrase_features(samples: np.ndarray, rate: int = RATE) -> np.ndarray | None:
    """Trimmed MFCCs with the phrase's own mean removed (CMN: the microphone's colour cancels out)."""
    if rate != RATE:
        raise ValueError(f"phrase features work at {RATE} Hz, not {rate}")
    framed = frames(samples)
    span = speech_span(frame_levels_db(framed))
    if span is None or span[1] - span[0] < MIN_FRAMES:
        return None
    framed = framed[span[0]:span[1]]
    framed = framed - framed.mean(axis=1, keepdims=True)
    framed[:, 1:] -= 0.97 * framed[:, :-1]  # pre-emphasis: the high formants matter for consonants
    spectrum = np.abs(np.fft.rfft(framed * np.hamming(WINDOW).astype(np.float32), FFT)) ** 2
    energies = spectrum @ _mel_bank(rate).T
    # Quiet parts (closures, breath) look like whatever the room's noise is that day: flatten everything
    # FLOOR_DB below the loudest band so those frames compare as "quiet", not as random noise.
    energies = np.maximum(energies, float(energies.max()) * 10 ** (-FLOOR_DB / 10) + 1e-12)
    mel = np.log(energies)
    ceps = mel @ _dct().T
    ceps -= ceps.mean(axis=0, keepdims=True)
    return ceps.astype(np.float32)
