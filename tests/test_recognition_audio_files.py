"""WAV files of every common kind -> int16 mono at the engine's rate; bad files -> a message naming them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.wav_files import AudioFileError, load_wav, read_wav


def tone(rate: int, seconds: float = 0.5, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return level * np.sin(2 * np.pi * freq * t)


def wav_bytes(samples: np.ndarray, rate: int, bits: int, fmt: int = 1, extensible: bool = False,
              pipe_length: bool = False) -> bytes:
    """A WAV file written by hand: samples float in -1..1, shape (frames, channels)."""
    frames, channels = samples.shape
    if fmt == 3:
        data = samples.astype("<f4" if bits == 32 else "<f8").tobytes()
    elif bits == 8:
        data = np.clip(np.round(samples * 127 + 128), 0, 255).astype(np.uint8).tobytes()
    elif bits == 24:
        ints = np.clip(np.round(samples * (2**23 - 1)), -(2**23), 2**23 - 1).astype("<i4").reshape(-1)
        data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    else:
        dtype = {16: "<i2", 32: "<i4"}[bits]
        data = np.round(samples * (2 ** (bits - 1) - 1)).astype(dtype).tobytes()
    align = channels * bits // 8
    if extensible:
        guid = struct.pack("<H", fmt) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt_chunk = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * align, align, bits, 22, bits, 0) + guid
    else:
        fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, rate * align, align, bits)
    size = 0xFFFFFFFF if pipe_length else len(data)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    body += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # an odd-sized chunk before the data (padded)
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 0xFFFFFFFF if pipe_length else len(body)) + body


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(("rate", "bits", "fmt", "channels", "extensible"), [
    (16000, 16, 1, 1, False),
    (44100, 16, 1, 2, False),
    (8000, 8, 1, 1, False),
    (22050, 24, 1, 1, False),
    (48000, 32, 1, 2, False),
    (32000, 32, 3, 1, False),
    (16000, 64, 3, 1, False),
    (48000, 24, 1, 6, True),
    (96000, 32, 3, 2, True),
])
def test_every_common_format_becomes_int16_mono_16k(tmp_path, rate, bits, fmt, channels, extensible):
    signal = tone(rate)
    samples = np.repeat(signal[:, None], channels, axis=1)
    path = tmp_path / "q.wav"
    path.write_bytes(wav_bytes(samples, rate, bits, fmt, extensible))
    audio = load_wav(path, 16000)
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert abs(audio.size - 8000) <= 2  # 0.5 s at 16 kHz
    assert abs(dominant_frequency(audio, 16000) - 440) < 5
    rms = np.sqrt(np.mean(audio[500:-500].astype(np.float64) ** 2)) / 32768
    assert abs(rms - 0.5 / np.sqrt(2)) < 0.02  # the level survives conversion and resampling


def test_channels_are_averaged(tmp_path):
    left, right = tone(16000, level=0.4), np.zeros(8000)
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(np.stack([left, right], axis=1), 16000, 16))
    samples, info = read_wav(path)
    assert info.channels == 2 and samples.shape == (8000, 2)
    mono = load_wav(path, 16000)
    assert abs(np.abs(mono).max() / 32768 - 0.2) < 0.01


def test_a_file_written_through_a_pipe_is_read_to_its_end(tmp_path):
    path = tmp_path / "pipe.wav"
    path.write_bytes(wav_bytes(tone(16000)[:, None], 16000, 16, pipe_length=True))
    assert load_wav(path, 16000).size == 8000


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "the file is empty"),
    (b"hello, this is text", "not a WAV file"),
    (b"ID3\x03\x00" + bytes(100), "looks like an MP3"),
    (b"OggS" + bytes(100), "looks like an Ogg"),
    (b"RIFF\x04\x00\x00\x00WAVE", "no 'fmt ' chunk"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00", "corrupt WAV file"),
])
def test_unusable_files_name_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "question.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError) as caught:
        load_wav(path)
    assert str(caught.value).startswith(str(path))
    assert problem in str(caught.value)


def test_missing_empty_and_odd_wavs(tmp_path):
    with pytest.raises(AudioFileError, match="no such file"):
        load_wav(tmp_path / "nowhere.wav")
    with pytest.raises(AudioFileError, match="is a folder"):
        load_wav(tmp_path)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(wav_bytes(np.zeros((0, 1)), 16000, 16))
    with pytest.raises(AudioFileError, match="contains no audio"):
        load_wav(empty)
    no_data = tmp_path / "nodata.wav"
    no_data.write_bytes(wav_bytes(tone(16000)[:, None], 16000, 16)[:36 + 12])  # header, no data chunk
    with pytest.raises(AudioFileError, match="no 'data' chunk"):
        load_wav(no_data)
    alaw = tmp_path / "alaw.wav"
    raw = bytearray(wav_bytes(tone(8000)[:, None], 8000, 16))
    raw[20:22] = struct.pack("<H", 6)  # format code: A-law
    alaw.write_bytes(bytes(raw))
    with pytest.raises(AudioFileError, match="unsupported WAV encoding \\(A-law\\)"):
        load_wav(alaw)


def test_a_real_espeak_recording_loads(tmp_path):
    import subprocess

    path = Path(tmp_path) / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), "what is physical therapy"], check=True)
    samples, info = read_wav(path)
    assert info.rate == 22050 and info.channels == 1 and info.bits == 16
    audio = load_wav(path, 16000)
    assert 0.8 < audio.size / 16000 < 3.0 and np.abs(audio).max() > 3000
