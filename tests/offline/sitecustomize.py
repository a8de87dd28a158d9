"""Loaded at start-up by every Python process that has tests/offline on PYTHONPATH (tests/test_offline.py).

It takes the network away from Python code: creating an IPv4 or IPv6 socket raises OSError("network
disabled by test"), and name lookups fail. Unix sockets stay (PulseAudio is reached through one, and
socket.socketpair() is used locally by asyncio and friends). Each blocked attempt is appended to the
marker file with where it came from, so a test can tell "works offline" from "never even tried".
The marker file ($OFFLINE_MARKER) also gets a "loaded <pid>" line: the proof that this file was active.
"""

from __future__ import annotations

import _socket
import os
import socket
import traceback

MESSAGE = "network disabled by test"
_MARKER = os.environ.get("OFFLINE_MARKER")
_BLOCKED_FAMILIES = {socket.AF_INET, socket.AF_INET6}
_Original = socket.socket


def _note(line: str) -> None:
    if _MARKER:
        with open(_MARKER, "a", encoding="utf-8") as marker:
            marker.write(line.rstrip("\n").replace("\n", " | ") + "\n")


def _blocked(what: str) -> OSError:
    caller = "".join(traceback.format_stack(limit=6)[:-2]).strip()
    _note(f"blocked {os.getpid()} {what}: {caller}")
    return OSError(MESSAGE)


class _OfflineSocket(_Original):
    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
        if fileno is None and (family == -1 or family in _BLOCKED_FAMILIES):  # -1 means AF_INET
            raise _blocked(f"socket(family={family})")
        super().__init__(family, type, proto, fileno)
        if self.family in _BLOCKED_FAMILIES:  # an inherited descriptor of an internet socket
            self.detach()
            raise _blocked(f"socket(fileno={fileno})")


def _no_lookup(*args: object, **kwargs: object) -> object:
    raise _blocked(f"name lookup {args[:2]}")


# What socket.create_connection, http.client, urllib, asyncio ... all create. (_socket.socket itself cannot
# be replaced: socket.socket.__init__ calls it by name. Code in C is out of reach of any of this; the
# test's network-namespace run covers it.)
socket.socket = _OfflineSocket  # type: ignore[misc]
for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
    setattr(socket, _name, _no_lookup)
    setattr(_socket, _name, _no_lookup)

_note(f"loaded {os.getpid()}")
