"""Reload content/ while the assistant runs, so a clinician's edit takes effect without a restart.

An edit that breaks the content never reaches the person: the last good content stays in use, and the
caregiver's status line says what is wrong (once per change of the files).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from assistant.core.content import Content
from assistant.core.loader import ContentError, load_content

log = logging.getLogger(__name__)


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            info = path.stat()
        except OSError:
            continue
        stamps.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(stamps)


class ContentWatcher:
    def __init__(self, directory: Path, content: Content, on_problem: Callable[[str], None]):
        self.directory = Path(directory)
        self.content = content
        self.on_problem = on_problem
        self._stamp = _fingerprint(self.directory)

    def changed_content(self) -> Content | None:
        """New valid content if the files changed since the last look, else None."""
        stamp = _fingerprint(self.directory)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            content = load_content(self.directory)
        except ContentError as exc:
            self.on_problem(f"content in {self.directory} was edited but has {len(exc.problems)} problem(s); "
                            f"still using the last good content. First: {exc.problems[0]}")
            return None
        self.content = content
        log.info("content reloaded from %s", self.directory)
        return content
