"""Network audio in: whatever PCM format a client announces (rate, sample width, channels), checked and
converted to the recognizer's 16 kHz 16-bit mono; at most MAX_SECONDS per request, kept in memory only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_SECONDS = 30.0  # audio per request: a question, not a recording session
RATES = (4000, 192000)  # sample rates accepted, Hz
WIDTHS = (1, 2, 3, 4)  # bytes per sample (signed little-endian, as wyoming's own converter reads them)
MAX_CHANNELS = 8


class AudioFormatError(ValueError):
    """The announced format or the audio itself cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class PcmFormat:
    rate: int
    width: int
    channels: int

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PcmFormat:
        """The format an audio-start or audio-chunk announces; AudioFormatError when it is not usable."""
        values = [data.get(key) for key in ("rate", "width", "channels")]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise AudioFormatError(f"rate, width and channels must be whole numbers (got {values})")
        rate, width, channels = values
        if not RATES[0] <= rate <= RATES[1]:
            raise AudioFormatError(f"sample rate {rate} Hz is outside {RATES[0]}-{RATES[1]} Hz")
        if width not in WIDTHS:
            raise AudioFormatError(f"sample width {width} bytes is not one of {WIDTHS}")
        if not 1 <= channels <= MAX_CHANNELS:
            raise AudioFormatError(f"{channels} channels is outside 1-{MAX_CHANNELS}")
        return cls(rate, width, channels)

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels

    @property
    def bytes_per_second(self) -> int:
        return self.rate * self.frame_bytes


@dataclass
class AudioRequest:
    """The audio of one request as it arrives, in its announced format, within MAX_SECONDS."""

    format: PcmFormat
    max_seconds: float = MAX_SECONDS
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0

    def add(self, payload: bytes, chunk_format: PcmFormat) -> None:
        if chunk_format != self.format:
            raise AudioFormatError(f"audio-chunk format {_shown(chunk_format)} differs from the "
                                   f"audio-start format {_shown(self.format)}")
        if len(payload) % self.format.frame_bytes:
            raise AudioFormatError(f"an audio-chunk of {len(payload)} bytes is not whole frames of "
                                   f"{self.format.frame_bytes} bytes")
        if self.size + len(payload) > self.max_seconds * self.format.bytes_per_second:
            raise AudioFormatError(f"more than {self.max_seconds:g} s of audio in one request")
        self.chunks.append(payload)
        self.size += len(payload)

    @property
    def seconds(self) -> float:
        return self.size / self.format.bytes_per_second

    def samples(self, rate: int = 16000) -> np.ndarray:
        """The audio as int16 mono at `rate`."""
        return to_mono(b"".join(self.chunks), self.format, rate)


def to_mono(raw: bytes, fmt: PcmFormat, rate: int = 16000) -> np.ndarray:
    """PCM bytes in `fmt` -> int16 mono at `rate` (channels averaged, resampled with soxr)."""
    usable = len(raw) - len(raw) % fmt.frame_bytes
    audio = _as_float(raw[:usable], fmt.width).reshape(-1, fmt.channels).mean(axis=1)
    if fmt.rate != rate and len(audio):
        import soxr

        audio = soxr.resample(audio, fmt.rate, rate)
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def _as_float(raw: bytes, width: int) -> np.ndarray:
    """Signed little-endian samples of `width` bytes -> float32 in [-1, 1)."""
    if width == 1:
        return np.frombuffer(raw, dtype=np.int8).astype(np.float32) / 128.0
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if width == 3:  # 24-bit: widen each sample to 32 bits, sign carried by the top byte
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values & 0x800000, values - 0x1000000, values)
        return values.astype(np.float32) / 8388608.0
    return np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0


def _shown(fmt: PcmFormat) -> str:
    return f"{fmt.rate} Hz, {fmt.width * 8}-bit, {fmt.channels} channel(s)"
