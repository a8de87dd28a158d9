"""Voice activity: the Silero VAD (ONNX, shipped inside the faster-whisper wheel) run frame by frame.

    vad = SileroVad()                     # one per audio stream: it keeps the model's state
    p = vad(frame)                        # 512 int16 samples at 16 kHz (32 ms) -> speech probability 0..1
    vad.reset()                           # a new stream (e.g. after the microphone was gated)

The model is a small LSTM: each call passes 64 samples of context from the previous frame plus the 512
new ones, and carries the recurrent state (h, c) on, as faster_whisper/vad.py does for a whole file. The
ONNX session is loaded once per process and shared (0.2 ms a frame on one core, see bench/listening.py).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16000
FRAME = 512  # samples per call at 16 kHz: the only frame size the model takes
_CONTEXT = 64


class VadUnavailableError(RuntimeError):
    """The VAD model or onnxruntime is missing; the message says how to install them."""


def model_path() -> Path:
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError as exc:
        raise VadUnavailableError("voice activity detection needs the faster-whisper package "
                                  "(pip install faster-whisper)") from exc
    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    if not path.is_file():
        raise VadUnavailableError(f"the Silero VAD model is missing ({path}): reinstall faster-whisper")
    return path


@functools.cache
def _session() -> Any:
    """The process's one Silero session: faster-whisper's own (one thread, no memory arena), which the recognizer
    also uses to find the speech in an utterance: a second session of the same model cost 1.5 MB more."""
    model_path()  # a clear message when the model file is missing
    try:
        import onnxruntime  # noqa: F401 - a clear message when it is missing
        from faster_whisper.vad import get_vad_model
    except ImportError as exc:
        raise VadUnavailableError("voice activity detection needs onnxruntime (pip install onnxruntime)") from exc
    return get_vad_model().session


class SileroVad:
    """Streaming speech probability for consecutive 512-sample frames of one 16 kHz stream. Not thread-safe."""

    def __init__(self) -> None:
        self._session = _session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability of the next frame (int16 or float in -1..1, exactly FRAME samples)."""
        if len(frame) != FRAME:
            raise ValueError(f"the VAD takes frames of {FRAME} samples, not {len(frame)}")
        x = frame.astype(np.float32) / 32768.0 if frame.dtype == np.int16 else frame.astype(np.float32)
        window = np.concatenate([self._context, x])[None, :]
        out, self._h, self._c = self._session.run(None, {"input": window, "h": self._h, "c": self._c})
        self._context = x[-_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])
