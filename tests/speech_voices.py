"""Synthetic speakers for the recognition tests and bench: espeak-ng and flite voices, 16 kHz int16 mono.

Two synthesizers, because recognizers hear them differently: flite's CMU voices are recognized much like
natural speech, espeak-ng's formant voices worse (Whisper writes "occupational" as "knock your facial" in
espeak-ng's en-us voice; see bench/recognition.py). A voice is named "espeak:<voice>" or "flite:<voice>".
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave

import numpy as np
import soxr

RATE = 16000
TEST_VOICES = ("espeak:en-us", "flite:slt", "flite:rms")  # heard by the tests
HELD_OUT_VOICES = ("espeak:en-us+m4", "espeak:en-us+klatt", "flite:kal16", "flite:awb")  # only by the bench


def speak(text: str, voice: str = "espeak:en-us", rate: int = RATE) -> np.ndarray:
    """`text` said by `voice`, with the synthesizer's own short silences around it."""
    engine, _, name = voice.partition(":")
    if engine == "flite":
        with tempfile.NamedTemporaryFile(suffix=".wav") as out:
            subprocess.run(["flite", "-voice", name, "-t", text, "-o", out.name], check=True, capture_output=True)
            with wave.open(out.name) as reader:
                native = reader.getframerate()
                data = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    elif engine == "espeak":
        wav = subprocess.run(["espeak-ng", "--stdout", "-v", name, "-s", "150", text],
                             capture_output=True, check=True).stdout
        with wave.open(io.BytesIO(wav)) as reader:
            native = reader.getframerate()
        data = np.frombuffer(wav[44:][: len(wav[44:]) // 2 * 2], dtype=np.int16)  # pipe: no real length
    else:
        raise ValueError(f"unknown voice {voice!r}: use espeak:<voice> or flite:<voice>")
    return soxr.resample(data.astype(np.float32), native, rate).clip(-32768, 32767).astype(np.int16)


def write_wav(path, samples: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
