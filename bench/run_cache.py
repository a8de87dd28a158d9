"""Decodes shared within one `python -m bench` run: the same clip, decoded by a recognizer with the same
settings, is decoded once, whichever module asks first.

`python -m bench` makes an empty folder for the run and names it in $BENCH_RUN_CACHE for every module it
starts; the folder is deleted when the run ends, so nothing is reused across runs and a code change is always
measured afresh. A module run on its own (`python -m bench.NAME`) has no folder: it still shares decodes
within its own process (the same audio decoded twice in one module), never with another.

Each entry keeps the transcript, the recognizer's `last_*` attributes that benches read after a decode
(`last_passes`, ...), and the CPU and wall time the decode took where it was made, so a module that reports
decode times reports the real decode's, not the cache's.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV = "BENCH_RUN_CACHE"
KEYED_PRIVATE = ("_wake_spellings", "_wake_words", "_prompt", "_listen_tokens")  # what the engine listens for
_MEMORY: dict[str, Decoded] = {}
COUNTS = {"asked": 0, "decoded": 0, "from_this_module": 0, "from_other_modules": 0}


@dataclass(frozen=True)
class Decoded:
    transcript: Any
    cpu: float  # process CPU seconds of the decode
    wall: float
    after: dict[str, Any]  # the recognizer's last_* attributes after the decode


def run_folder() -> Path | None:
    folder = os.environ.get(ENV)
    return Path(folder) if folder else None


def _plain(value: Any) -> str | None:
    """A stable text for a setting (None: not a setting, e.g. a model object or a buffer)."""
    if isinstance(value, str | int | float | bool | Path) or value is None:
        return repr(value)
    if isinstance(value, tuple | list):
        parts = [_plain(v) for v in value]
        return None if None in parts else f"({', '.join(p for p in parts if p is not None)})"
    if is_dataclass(value) and not isinstance(value, type):
        parts = [f"{f.name}={_plain(getattr(value, f.name))}" for f in fields(value)]
        return f"{type(value).__name__}({', '.join(parts)})"
    return None


def settings_key(recognizer: Any) -> str:
    """What makes two recognizers decode alike: their class and every plain public setting they hold
    (options, the phrases listened for, the model folder and its files' sizes and times) and the wake phrase
    spellings and prompt tokens."""
    parts = [f"{type(recognizer).__module__}.{type(recognizer).__qualname__}"]
    for name, value in sorted(vars(recognizer).items()):
        # public settings, and the private ones that change what is heard; not running figures (last_*, or
        # private totals such as CPU seconds so far, which change with every decode)
        if name.startswith("last_") or name.startswith("_") and name not in KEYED_PRIVATE:
            continue
        text = _plain(value)
        if text is not None:
            parts.append(f"{name}={text}")
    folder = getattr(recognizer, "model_dir", None)
    if folder is not None and Path(folder).is_dir():
        for path in sorted(Path(folder).iterdir()):
            if path.is_file():
                stat = path.stat()
                parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts)


def _key(recognizer: Any, audio: np.ndarray) -> str:
    digest = hashlib.sha256(settings_key(recognizer).encode())
    samples = np.ascontiguousarray(audio)
    digest.update(f"{samples.dtype}{samples.shape}".encode())
    digest.update(samples.tobytes())
    return digest.hexdigest()


def decode(recognizer: Any, audio: np.ndarray) -> Decoded:
    """`recognizer.transcribe(audio)`, decoded once per run; its last_* attributes are set as after a decode."""
    key = _key(recognizer, audio)
    found = _MEMORY.get(key)
    folder = run_folder()
    path = folder / "decodes" / f"{key}.pickle" if folder is not None else None
    if found is None and path is not None and path.is_file():
        try:
            found = pickle.loads(path.read_bytes())
        except (OSError, EOFError, pickle.UnpicklingError):  # written by another module as we read: decode
            found = None
    COUNTS["asked"] += 1
    if found is not None:
        COUNTS["from_this_module" if key in _MEMORY else "from_other_modules"] += 1
    if found is None:
        COUNTS["decoded"] += 1
        cpu, wall = time.process_time(), time.perf_counter()
        transcript = recognizer.transcribe(audio)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = {k: v for k, v in vars(recognizer).items() if k.startswith("last_")}
        found = Decoded(transcript, cpu, wall, after)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(pickle.dumps(found))
            partial.replace(path)  # atomic: another module never reads half an entry
    else:
        for name, value in found.after.items():
            setattr(recognizer, name, value)
    _MEMORY[key] = found
    return found


def summary() -> str | None:
    """One line on the decodes asked for in this process (None: none went through the run's decodes)."""
    if not COUNTS["asked"]:
        return None
    return (f"decodes: {COUNTS['asked']} asked, {COUNTS['decoded']} made, {COUNTS['from_this_module']} the same "
            f"audio again in this module, {COUNTS['from_other_modules']} decoded by another module of this run")


def transcribe(recognizer: Any, audio: np.ndarray) -> Any:
    return decode(recognizer, audio).transcript


class Shared:
    """A recognizer whose `transcribe` goes through the run's decodes; everything else is the recognizer's."""

    def __init__(self, recognizer: Any) -> None:
        self.__dict__["_recognizer"] = recognizer

    def transcribe(self, samples: np.ndarray) -> Any:
        return transcribe(self._recognizer, samples)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recognizer, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._recognizer, name, value)
