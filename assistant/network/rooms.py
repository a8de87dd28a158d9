"""One conversation per room: a Dialog for each conversation id (else satellite id, else device id), dropped
after idle time as Home Assistant drops its conversation ids, so rooms never see each other's state."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.core.dialog import Dialog

IDLE_SECONDS = 300.0  # Home Assistant replaces a satellite's conversation id after 5 minutes idle
MAX_ROOMS = 256  # conversations kept at once; the least recently used goes first (a client inventing ids)


@dataclass(frozen=True)
class Where:
    """Which conversation a request belongs to, and the room to name in alerts and the history."""

    key: str
    room: str

    @classmethod
    def from_context(cls, context: Any, peer: str, names: dict[str, str] | None = None) -> Where:
        """From a transcript's context: conversation_id keys the dialog, else satellite_id, else device_id,
        else the client's address. The room is the configured name of the satellite or device, else its id."""
        context = context if isinstance(context, dict) else {}
        names = names or {}
        ids = {key: str(context[key]) for key in ("conversation_id", "satellite_id", "device_id")
               if isinstance(context.get(key), str | int) and not isinstance(context.get(key), bool)
               and str(context[key]).strip()}
        device = ids.get("satellite_id") or ids.get("device_id")
        room = names.get(device, device) if device else None
        if "conversation_id" in ids:
            conversation = ids["conversation_id"]
            return cls(key=f"conversation:{conversation}", room=room or f"conversation {conversation}")
        if device:
            return cls(key=f"device:{device}", room=room or device)
        return cls(key=f"client:{peer}", room=f"client {peer}")


class Rooms:
    """The dialogs of the conversations going on; `new_dialog` makes one (Application.new_dialog)."""

    def __init__(self, new_dialog: Callable[[], Dialog], idle_seconds: float = IDLE_SECONDS,
                 max_rooms: int = MAX_ROOMS, clock: Callable[[], float] = time.monotonic) -> None:
        self.new_dialog = new_dialog
        self.idle_seconds = idle_seconds
        self.max_rooms = max_rooms
        self.clock = clock
        self._dialogs: OrderedDict[str, tuple[Dialog, float]] = OrderedDict()

    def dialog(self, key: str) -> Dialog:
        """The conversation's dialog, a fresh one when it is new or has been idle too long."""
        now = self.clock()
        self._expire(now)
        dialog = self._dialogs.pop(key, (None, 0.0))[0] or self.new_dialog()
        self._dialogs[key] = (dialog, now)
        while len(self._dialogs) > self.max_rooms:
            self._dialogs.popitem(last=False)
        return dialog

    def __len__(self) -> int:
        self._expire(self.clock())
        return len(self._dialogs)

    def _expire(self, now: float) -> None:
        while self._dialogs:
            key, (_, used) = next(iter(self._dialogs.items()))
            if now - used < self.idle_seconds:
                break
            del self._dialogs[key]
