"""An int8 copy of a CTranslate2 Whisper model file, so that loading it needs no conversion.

The built-in tiny.en ships its weights as float16. Asked for int8 on the CPU, CTranslate2 converts them while
loading, and the float16 and float32 copies it goes through lift the process's peak memory about 80 MB above
what the model then uses. This writes, once, the weights CTranslate2 would make: every `.../weight` except the
convolutions quantized to int8 per row (scale 127 / largest magnitude, rounded, as CTranslate2's own
converter does), everything else float32. Loading the copy reads the weights as they are; the encoder's
output is bit-identical (tests/test_recognition.py).

Run as `python -m assistant.recognition.ct2_int8 SOURCE TARGET`: the assistant writes the copy in a child
process, so the 300 MB that reading and converting take is never part of its own memory.

The model.bin layout is CTranslate2's (ctranslate2/specs/model_spec.py, binary version 6): a header, the
named variables with shape, type and bytes, then the aliases.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BINARY_VERSION = 6
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # CTranslate2's DataType order


class ModelFileError(ValueError):
    """model.bin is not a CTranslate2 model file this can read."""


@dataclass
class ModelFile:
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: list[tuple[str, str]]


def read_model_file(path: Path) -> ModelFile:
    data = Path(path).read_bytes()
    try:
        return _parse(data, path)
    except (IndexError, ValueError) as exc:  # an unknown type id, a name that is not UTF-8, a wrong size
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path} is not a CTranslate2 model file this reads: {exc}") from exc


def _parse(data: bytes, path: Path) -> ModelFile:
    offset = 0

    def take(fmt: str) -> int:
        nonlocal offset
        if offset + struct.calcsize(fmt) > len(data):
            raise ModelFileError(f"{path} ends early, at byte {offset}: the file is damaged or cut short")
        (value,) = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal offset
        length = take("H")
        value = data[offset:offset + length - 1].decode("utf-8")
        offset += length
        return value

    version = take("I")
    if version != BINARY_VERSION:
        raise ModelFileError(f"{path} is CTranslate2 model format {version}; only format {BINARY_VERSION} is known")
    spec, revision = text(), take("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = text()
        shape = tuple(take("I") for _ in range(take("B")))
        dtype, size = DTYPES[take("B")], take("I")
        if offset + size > len(data):
            raise ModelFileError(f"{path} ends inside the variable {name}: the file is damaged or cut short")
        kind = np.dtype(np.uint16 if dtype == "bfloat16" else dtype)  # numpy has no bfloat16: kept as bits
        variables[name] = np.frombuffer(data, kind, count=size // kind.itemsize, offset=offset).reshape(shape)
        offset += size
    aliases = [(text(), text()) for _ in range(take("I"))]
    if offset != len(data):
        raise ModelFileError(f"{path} has {len(data) - offset} bytes after its last entry: not a model this reads")
    return ModelFile(spec, revision, variables, aliases)


def quantized(model: ModelFile) -> ModelFile:
    """The variables as CTranslate2 holds them for compute type int8 on the CPU."""
    if any(array.dtype == np.uint16 for array in model.variables.values()):
        raise ModelFileError("bfloat16 weights are not handled: use the model folder as it is")
    variables: dict[str, np.ndarray] = {}
    for name, array in model.variables.items():
        if not np.issubdtype(array.dtype, np.floating):
            variables[name] = array
        elif name.endswith("weight") and "conv" not in name:  # WhisperModel::is_quantizable
            variables[name], variables[f"{name}_scale"] = _int8_rows(array.astype(np.float32))
        else:
            variables[name] = array.astype(np.float32)
    return ModelFile(model.spec, model.revision, variables, model.aliases)


def _int8_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = weight.reshape(weight.shape[0], -1)
    largest = np.amax(np.absolute(rows), axis=1)
    largest[largest == 0] = 127.0
    largest = np.maximum(largest, np.float32(127) / np.finfo(np.float32).max)  # a tiny row keeps a finite scale
    scale = (np.float32(127.0) / largest).astype(np.float32)
    values = np.rint(rows * scale[:, None]).astype(np.int8).reshape(weight.shape)
    return values, scale


def write_model_file(model: ModelFile, path: Path) -> None:
    def text(value: str) -> bytes:
        encoded = value.encode("utf-8")
        return struct.pack("H", len(encoded) + 1) + encoded + b"\0"

    with open(path, "wb") as handle:
        handle.write(struct.pack("I", BINARY_VERSION) + text(model.spec) + struct.pack("I", model.revision))
        handle.write(struct.pack("I", len(model.variables)))
        for name, array in model.variables.items():
            handle.write(text(name) + struct.pack("B", array.ndim))
            handle.write(b"".join(struct.pack("I", dim) for dim in array.shape))
            data = np.ascontiguousarray(array).tobytes()
            handle.write(struct.pack("B", DTYPES.index(array.dtype.name)) + struct.pack("I", len(data)) + data)
        handle.write(struct.pack("I", len(model.aliases)))
        for alias, target in model.aliases:
            handle.write(text(alias) + text(target))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m assistant.recognition.ct2_int8 SOURCE/model.bin TARGET/model.bin", file=sys.stderr)
        return 2
    try:
        write_model_file(quantized(read_model_file(Path(argv[0]))), Path(argv[1]))
    except (OSError, ModelFileError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
