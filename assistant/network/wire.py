"""Reading Wyoming events from a client within limits: a header line, optional extra data, optional payload.

wyoming's own `async_read_event` trusts the client: any payload_length is read into memory, and a bad line
ends the connection without a word. Here every size is checked before anything is read, a client that stops
sending is dropped after `read_timeout`, and a problem is a ProtocolError saying whether the stream is still
in step (the connection goes on after an error event) or not (an error event, then the connection closes).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event

HEADER_BYTES = 64 * 1024  # asyncio's own StreamReader line limit; a longer line is refused
DATA_BYTES = 64 * 1024
PAYLOAD_BYTES = 2 * 1024 * 1024  # one audio-chunk: 5 s of 48 kHz 32-bit stereo; clients send ~64 ms


@dataclass(frozen=True)
class Limits:
    data_bytes: int = DATA_BYTES
    payload_bytes: int = PAYLOAD_BYTES
    read_timeout: float | None = 30.0  # seconds without a whole event; None: wait for ever (stdio)


class ProtocolError(Exception):
    """What the client sent cannot be used. `in_step`: the next event can still be read."""

    def __init__(self, text: str, code: str, in_step: bool) -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.in_step = in_step


class ClientGone(Exception):
    """The client closed the connection in the middle of an event."""


async def read_event(reader: asyncio.StreamReader, limits: Limits) -> Event | None:
    """The next event, None at a clean end of the stream; raises ProtocolError or ClientGone."""
    while True:
        line = await _timed(_read_line(reader), limits.read_timeout)
        if not line:
            return None
        if not line.endswith(b"\n"):
            raise ClientGone("the connection closed in the middle of a header line")
        if line.strip():
            break  # blank lines between events are harmless: skipped
    header = _header(line)
    data_length = _length(header, "data_length", limits.data_bytes)
    payload_length = _length(header, "payload_length", limits.payload_bytes)
    data = header.get("data") or {}
    if not isinstance(data, dict):
        data = None
    try:
        if data_length:
            extra = await _timed(reader.readexactly(data_length), limits.read_timeout)
            try:
                merged = json.loads(extra)
            except ValueError:
                merged = None
            if not isinstance(merged, dict) or data is None:
                if payload_length:  # stay in step: the payload still belongs to this event
                    await _timed(reader.readexactly(payload_length), limits.read_timeout)
                raise ProtocolError("the event's extra data is not a JSON object", "bad-data", in_step=True)
            data.update(merged)
        payload = await _timed(reader.readexactly(payload_length), limits.read_timeout) if payload_length else None
    except asyncio.IncompleteReadError as exc:
        raise ClientGone(f"the connection closed {len(exc.partial)} bytes into a {exc.expected}-byte read") from exc
    if data is None:
        raise ProtocolError("the event's data is not a JSON object", "bad-data", in_step=True)
    return Event(type=header["type"], data=data, payload=payload)


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ValueError as exc:  # over the StreamReader's limit: the rest of the line cannot be found again
        raise ProtocolError(f"a header line longer than {HEADER_BYTES} bytes", "header-too-long",
                            in_step=False) from exc


def _header(line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        raise ProtocolError(f"not a Wyoming event header: {_sample(line)}", "bad-json", in_step=True) from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str) or not header["type"]:
        raise ProtocolError(f"a header without an event type: {_sample(line)}", "bad-header", in_step=True)
    return header


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{key} {value!r} is not a byte count", "bad-length", in_step=False)
    if value > limit:  # nothing of it is read: the stream cannot be followed any further
        raise ProtocolError(f"{key} {value} is over the limit of {limit} bytes", "too-large", in_step=False)
    return value


async def _timed(awaitable, timeout: float | None):
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        raise ProtocolError(f"nothing received for {timeout:g} s", "timeout", in_step=False) from None


def _sample(line: bytes) -> str:
    text = line[:60].decode("utf-8", "replace").strip()
    return repr(text + ("..." if len(line) > 60 else ""))
