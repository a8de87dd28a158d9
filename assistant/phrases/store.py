"""The person's phrase recordings: ``<data folder>/phrases/<name>/take-<n>.wav``, owner-only.

Recordings of someone's voice are personal: folders are created 0700 and files 0600, and a folder of
ours found with wider permissions is narrowed. Adding a phrase replaces its earlier recordings at once
(written to a new folder, then swapped in), so a failed enrollment never leaves half a phrase.
"""

from __future__ import annotations

import os
import shutil
import stat
import wave
from pathlib import Path

import numpy as np

from assistant.config import data_dir
from assistant.phrases import NAMES

RATE = 16000
DIR_MODE = 0o700
FILE_MODE = 0o600


def phrases_dir() -> Path:
    return data_dir() / "phrases"


class PhraseStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or phrases_dir()

    def names(self) -> list[str]:
        """Enrolled phrases, in the order of NAMES."""
        if not self.root.is_dir():
            return []
        return [name for name in NAMES if self._takes(name)]

    def _takes(self, name: str) -> list[Path]:
        folder = self.root / name
        return sorted(folder.glob("take-*.wav")) if folder.is_dir() else []

    def load(self, name: str) -> list[np.ndarray]:
        """The recordings of one phrase, int16 mono at 16 kHz."""
        takes = []
        for path in self._takes(name):
            with wave.open(str(path)) as reader:
                takes.append(np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16).copy())
        return takes

    def load_all(self) -> dict[str, list[np.ndarray]]:
        return {name: self.load(name) for name in self.names()}

    def save(self, name: str, takes: list[np.ndarray]) -> Path:
        if name not in NAMES:
            raise ValueError(f"unknown phrase {name!r}")
        self._prepare(self.root)
        staging = self.root / f".{name}.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=DIR_MODE)
        os.chmod(staging, DIR_MODE)
        for number, take in enumerate(takes, 1):
            self._write(staging / f"take-{number}.wav", take)
        target = self.root / name
        old = self.root / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        return target

    def remove(self, name: str) -> bool:
        target = self.root / name
        if not target.is_dir():
            return False
        shutil.rmtree(target)
        return True

    def _prepare(self, folder: Path) -> None:
        missing = []
        probe = folder
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for created in missing:  # mkdir's mode is reduced by the umask
            os.chmod(created, DIR_MODE)
        if stat.S_IMODE(folder.stat().st_mode) & 0o077:
            os.chmod(folder, DIR_MODE)

    @staticmethod
    def _write(path: Path, samples: np.ndarray) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
        os.chmod(path, FILE_MODE)
