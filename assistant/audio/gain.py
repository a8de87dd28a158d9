"""Automatic gain for the recognizer: a quiet question is brought up to a speaking level (pure numpy).

    louder = speech_gain(audio, speech)   # int16 audio, bool mask (per sample) of the frames that are speech

One gain for the whole utterance, measured on its speech only (the VAD's frames), so the noise between
words does not pull it up and the words keep their natural rise and fall: a per-block AGC would pump the
noise up in every pause. Speech that is loud enough already is left exactly as it is, and the gain never
lets a sample clip. The segmenter applies it after deciding where the utterance is, so it cannot create
false starts; it only changes what the recognizer hears (bench/listening.py measures what it is worth).
"""

from __future__ import annotations

import numpy as np

TARGET_DB = -23.0  # dBFS RMS of speech a recognizer hears well (a close USB microphone, speaking normally)
MAX_GAIN_DB = 30.0  # at most; more would mostly raise the noise of a far-away or muffled voice
PEAK = 0.9 * 32767  # the loudest sample after the gain


def gain_db(audio: np.ndarray, speech: np.ndarray) -> float:
    """The gain (dB, 0 .. MAX_GAIN_DB) that brings the speech in `audio` to TARGET_DB without clipping."""
    x = np.asarray(audio, dtype=np.float64)
    voiced = x[np.asarray(speech, dtype=bool)]
    if len(voiced) == 0:
        return 0.0
    rms = float(np.sqrt(np.mean(voiced**2)))
    peak = float(np.max(np.abs(x)))
    if rms <= 0 or peak <= 0:
        return 0.0
    wanted = TARGET_DB - 20 * np.log10(rms / 32768)
    headroom = 20 * np.log10(PEAK / peak)
    return float(np.clip(min(wanted, headroom), 0.0, MAX_GAIN_DB))


def speech_gain(audio: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """`audio` (int16) with gain_db applied; the very same array when no gain is needed."""
    gain = gain_db(audio, speech)
    if gain <= 0.05:
        return audio
    return np.round(audio.astype(np.float64) * 10 ** (gain / 20)).clip(-32768, 32767).astype(np.int16)
