"""PyAV stays out of the assistant's memory until something uses it (assistant/deferred_import.py)."""

from __future__ import annotations

import subprocess
import sys
import wave

import numpy as np

CHECK = """
import sys
import assistant
from assistant.recognition.whisper_engine import WhisperRecognizer
recognizer = WhisperRecognizer()
print(type(sys.modules["av"]).__name__, "libavcodec" in open("/proc/self/maps").read())
from faster_whisper import decode_audio
print(decode_audio(sys.argv[1]).shape[0], type(sys.modules["av"]).__name__,
      "libavcodec" in open("/proc/self/maps").read())
"""


def test_pyav_is_not_loaded_by_the_recognizer_and_still_works_when_a_file_is_decoded(tmp_path):
    path = tmp_path / "one-second.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(np.zeros(16000, np.int16).tobytes())
    done = subprocess.run([sys.executable, "-c", CHECK, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.splitlines()
    assert before == "_Deferred False"  # FFmpeg's libraries not mapped: not in the resident memory
    assert after == "16000 module True"  # first use: the real PyAV, which decodes the file
