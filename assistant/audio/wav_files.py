"""WAV files -> int16 mono at the recognizer's rate, whatever their rate, channels and sample format.

Reads RIFF/WAVE itself (Python's `wave` module knows only integer PCM): 8-bit unsigned, 16/24/32-bit
signed integer and 32/64-bit float samples, plain or WAVE_FORMAT_EXTENSIBLE headers, any number of
channels (averaged to mono), any rate (resampled with soxr). Files written by a pipe whose header has no
real length (espeak-ng --stdout, sox -) are read up to their end. Every problem is an AudioFileError
whose message names the file and says what is wrong with it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PCM, FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
MAX_SECONDS = 600.0  # a spoken question is seconds long; refuse to resample hours of audio
MAX_FILE_BYTES = 512 * 1024**2  # ten minutes of 8-channel 96 kHz float is still below this
_OTHER_FORMATS = {b"ID3": "an MP3", b"\xff\xfb": "an MP3", b"\xff\xf3": "an MP3", b"OggS": "an Ogg",
                  b"fLaC": "a FLAC", b"FORM": "an AIFF", b"RIFX": "a big-endian RIFF", b"RF64": "an RF64"}


class AudioFileError(ValueError):
    """The file cannot be used as audio: str(error) is '<file>: <what is wrong>'."""

    def __init__(self, path: Path | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    bits: int
    float_samples: bool
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def load_wav(path: Path | str, rate: int = 16000) -> np.ndarray:
    """The file's audio as int16 mono at `rate`."""
    samples, info = read_wav(path)
    mono = samples.mean(axis=1) if info.channels > 1 else samples[:, 0]
    if info.rate != rate:
        import soxr

        mono = soxr.resample(mono.astype(np.float32), info.rate, rate, quality="HQ")
    return np.clip(np.round(mono * 32768.0), -32768, 32767).astype(np.int16)


def read_wav(path: Path | str) -> tuple[np.ndarray, WavInfo]:
    """(samples as float32 in -1..1 with shape (frames, channels), info)."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        for magic, kind in _OTHER_FORMATS.items():
            if data.startswith(magic):
                raise AudioFileError(path, f"not a WAV file (it looks like {kind} file): convert it, "
                                           f"e.g. `sox '{path.name}' -r 16000 -c 1 question.wav`")
        raise AudioFileError(path, "not a WAV file (no RIFF/WAVE header)" if data else "the file is empty")
    fmt: bytes | None = None
    audio: bytes | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt = data[body:body + size]
        elif chunk_id == b"data":
            # Pipes write 0 or 0xFFFFFFFF as the length: the data then runs to the end of the file
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            audio = data[body:end]
            break
        pos = body + size + (size & 1)
    if fmt is None:
        raise AudioFileError(path, "corrupt WAV file: no 'fmt ' chunk describing the audio")
    if audio is None:
        raise AudioFileError(path, "corrupt WAV file: no 'data' chunk with audio")
    info = _format(path, fmt)
    frame_bytes = info.channels * info.bits // 8
    frames = len(audio) // frame_bytes
    if frames == 0:
        raise AudioFileError(path, "the WAV file contains no audio (0 samples)")
    if frames / info.rate > MAX_SECONDS:
        raise AudioFileError(path, f"the recording is {frames / info.rate:.0f} s long; a question should be "
                                   f"under {MAX_SECONDS:.0f} s: cut it to the question")
    samples = _decode(audio[: frames * frame_bytes], info).reshape(frames, info.channels)
    return samples, WavInfo(info.rate, info.channels, info.bits, info.float_samples, frames)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise AudioFileError(path, "no such file")
    if path.is_dir():
        raise AudioFileError(path, "is a folder, not a WAV file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AudioFileError(path, f"the file is {size // 1024**2} MB, far too large for a spoken question")
        return path.read_bytes()
    except PermissionError as exc:
        raise AudioFileError(path, "cannot be read: permission denied") from exc
    except OSError as exc:
        raise AudioFileError(path, f"cannot be read: {exc.strerror or exc}") from exc


def _format(path: Path, fmt: bytes) -> WavInfo:
    if len(fmt) < 16:
        raise AudioFileError(path, "corrupt WAV file: the 'fmt ' chunk is too short")
    tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == EXTENSIBLE:
        if len(fmt) < 40:
            raise AudioFileError(path, "corrupt WAV file: the extensible 'fmt ' chunk is too short")
        tag = struct.unpack_from("<H", fmt, 24)[0]  # the sub-format GUID starts with the real format tag
    if channels == 0:
        raise AudioFileError(path, "corrupt WAV file: it says it has 0 channels")
    if rate < 1000 or rate > 384000:
        raise AudioFileError(path, f"corrupt WAV file: a sample rate of {rate} Hz")
    if tag == PCM and bits in (8, 16, 24, 32):
        return WavInfo(rate, channels, bits, False, 0)
    if tag == FLOAT and bits in (32, 64):
        return WavInfo(rate, channels, bits, True, 0)
    kind = {PCM: f"{bits}-bit integer", FLOAT: f"{bits}-bit float", 0x0006: "A-law", 0x0007: "mu-law",
            0x0002: "ADPCM", 0x0011: "IMA ADPCM", 0x0055: "MP3"}.get(tag, f"format code {tag:#06x}")
    raise AudioFileError(path, f"unsupported WAV encoding ({kind}): use 8/16/24/32-bit PCM or 32/64-bit float, "
                               f"e.g. `sox '{path.name}' -b 16 question.wav`")


def _decode(raw: bytes, info: WavInfo) -> np.ndarray:
    if info.float_samples:
        values = np.frombuffer(raw, dtype="<f4" if info.bits == 32 else "<f8").astype(np.float32)
        return np.nan_to_num(np.clip(values, -1.0, 1.0), nan=0.0)
    if info.bits == 8:  # 8-bit WAV is unsigned, centred on 128
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if info.bits == 16:
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if info.bits == 24:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values & 0x800000, values - (1 << 24), values)
        return values.astype(np.float32) / float(1 << 23)
    return (np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
