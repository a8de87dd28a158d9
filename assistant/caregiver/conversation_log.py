"""The conversation log a caregiver reads: one JSON line per turn in the user's data folder, owner-only.

Each line is ``{"time": ISO 8601 local time with offset, "transcript": what was heard, "decision":
Decision.to_contract(), "answer": what was said}``, plus ``"room"`` where it was said in a room served over
the network (a satellite, a device or a configured name). What someone says about their health is private:
the folder is created 0700 and the file 0600, and a file found with wider permissions is narrowed.

Writing must never disturb the hands-free loop: any failure (disk full, permissions, a file where the
folder should be) is logged once as a warning, the turn is dropped, and later turns try again.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import data_dir

if TYPE_CHECKING:
    from assistant.core.decision import Decision
    from assistant.core.dialog import Reply

log = logging.getLogger(__name__)

HISTORY_FILE = "history.jsonl"
FILE_MODE = 0o600
DIR_MODE = 0o700


def history_path() -> Path:
    """Where the log lives: $XDG_DATA_HOME/ot-pt-assistant/history.jsonl (or the platform's data folder)."""
    return data_dir() / HISTORY_FILE


class ConversationLog:
    """Appends turns to the history file; `enabled=False` (``--no-log``) writes nothing at all."""

    def __init__(self, path: str | Path | None = None, enabled: bool = True) -> None:
        self.path = Path(path) if path is not None else history_path()
        self.enabled = enabled
        self._own_folder = path is None  # the app's data folder is ours to tighten; a caller's folder is not
        self._lock = threading.Lock()
        self._failing = False  # a warning was logged for the current run of failures
        self.written = 0
        self.dropped = 0

    def record(self, reply: Reply, transcript: str | None = None, room: str | None = None) -> bool:
        """Log a dialog turn: the reply's decision and exactly what was said (``reply.text``)."""
        return self.append(transcript, reply.decision, reply.text, room=room)

    def append(self, transcript: str | None, decision: Decision, answer: str | None = None,
               when: datetime | None = None, room: str | None = None) -> bool:
        """Append one turn; True if it was written. Never raises.

        transcript None means the decision's transcript (speech) or else its input (typed text); answer
        None means the decision's answer."""
        if not self.enabled:
            return False
        try:
            heard = transcript if transcript is not None else (
                decision.transcript if decision.transcript is not None else decision.input)
            turn = {
                "time": (when or datetime.now()).astimezone().isoformat(timespec="seconds"),
                "transcript": heard,
                "decision": decision.to_contract(),
                "answer": decision.answer if answer is None else answer,
            }
            if room is not None:
                turn["room"] = room
            # ensure_ascii=False keeps the file readable with `less`; lone surrogates become \\udcxx text.
            line = json.dumps(turn, ensure_ascii=False, default=str) + "\n"
            data = line.encode("utf-8", "backslashreplace")
            with self._lock:
                self._write(data)
        except Exception as exc:  # noqa: BLE001 - the loop must go on whatever happened here
            self._failed(exc)
            return False
        self._recovered()
        return True

    def check(self) -> str | None:
        """Make sure the file can be written (creating folder and file as append would); None or why not."""
        try:
            with self._lock:
                os.close(self._open())
        except OSError as exc:
            return _describe(exc, self.path)
        return None

    # -- internals ------------------------------------------------------------------------------------

    def _prepare_folder(self) -> None:
        folder = self.path.parent
        missing: list[Path] = []
        probe = folder
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for created in missing:  # mkdir's mode is reduced by the umask; make sure it is owner-only
            os.chmod(created, DIR_MODE)
        if self._own_folder and stat.S_IMODE(folder.stat().st_mode) & 0o077:
            os.chmod(folder, DIR_MODE)

    def _open(self) -> int:
        self._prepare_folder()
        # O_RDWR, not O_WRONLY: _write reads the last byte to see whether a line was left unfinished.
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            info = os.fstat(fd)
            # Only a regular file is ours to tighten (never chmod a device such as /dev/null).
            if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) != FILE_MODE:
                os.fchmod(fd, FILE_MODE)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _write(self, data: bytes) -> None:
        fd = self._open()
        try:
            info = os.fstat(fd)
            size = info.st_size
            if stat.S_ISREG(info.st_mode) and size and os.pread(fd, 1, size - 1) != b"\n":
                # A previous write was cut short (crash, full disk): start on a fresh line so this turn
                # does not merge with the broken one.
                data = b"\n" + data
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def _failed(self, exc: BaseException) -> None:
        self.dropped += 1
        if self._failing:
            log.debug("conversation log still not writable: %s", exc)
            return
        self._failing = True
        log.warning("cannot write the conversation log: %s. The conversation goes on; turns are not "
                    "logged until this is fixed (or start with --no-log).", _describe(exc, self.path))

    def _recovered(self) -> None:
        self.written += 1
        if self._failing:
            self._failing = False
            log.warning("conversation log %s is writable again (%d turn(s) were not logged)",
                        self.path, self.dropped)


def _describe(exc: BaseException, path: Path) -> str:
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        where = exc.filename or path
        return f"{where}: {reason}"
    return f"{path}: {exc}"


# -- reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Turn:
    time: str
    transcript: str | None
    decision: dict[str, Any]
    answer: str
    room: str | None = None  # where it was said (a served room); None on the device itself

    @property
    def kind(self) -> str:
        return str(self.decision.get("kind") or "unknown")

    @property
    def is_emergency(self) -> bool:
        return self.decision.get("disposition") == "emergency"

    def to_json(self) -> dict[str, Any]:
        data = {"time": self.time, "transcript": self.transcript, "decision": self.decision,
                "answer": self.answer}
        if self.room is not None:
            data["room"] = self.room
        return data

    @classmethod
    def from_json(cls, data: Any) -> Turn | None:
        """A turn from one parsed line, or None if the line is not a turn."""
        if not isinstance(data, dict):
            return None
        time, transcript, decision, answer = (data.get(key) for key in ("time", "transcript", "decision",
                                                                         "answer"))
        if not isinstance(time, str) or not isinstance(decision, dict) or not isinstance(answer, str):
            return None
        if transcript is not None and not isinstance(transcript, str):
            return None
        room = data.get("room")
        return cls(time=time, transcript=transcript, decision=decision, answer=answer,
                   room=room if isinstance(room, str) else None)


@dataclass
class History:
    """Turns read back from the log, oldest first, and how many lines could not be read."""

    path: Path
    turns: list[Turn] = field(default_factory=list)
    corrupt: int = 0
    exists: bool = True

    def __iter__(self) -> Iterator[Turn]:
        return iter(self.turns)

    def __len__(self) -> int:
        return len(self.turns)


def read_history(last: int | None = None, path: str | Path | None = None) -> History:
    """The logged turns (only the last `last` ones if given), skipping and counting corrupt lines.

    A missing file is an empty history (``exists=False``); an unreadable one raises OSError."""
    file = Path(path) if path is not None else history_path()
    if last is not None and last < 0:
        raise ValueError("last must be 0 or more")
    if not file.exists():
        return History(path=file, exists=False)
    keep: deque[Turn] = deque(maxlen=last)  # streams the file: memory stays bounded with --last
    corrupt = 0
    with file.open("r", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                turn = Turn.from_json(json.loads(line))
            except ValueError:
                turn = None
            if turn is None:
                corrupt += 1
            else:
                keep.append(turn)
    return History(path=file, turns=list(keep), corrupt=corrupt)
