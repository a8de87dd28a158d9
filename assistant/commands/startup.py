"""Opening the application for a command, with a message a caregiver can act on when the content is broken."""

from __future__ import annotations

import sys

from assistant.app import Application
from assistant.config import Settings
from assistant.core.loader import ContentError


def open_application(settings: Settings) -> Application:
    try:
        return Application.open(settings)
    except ContentError as exc:
        print(f"assistant: the content in {settings.content_path()} has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Fix them, then run `assistant content check` to confirm.", file=sys.stderr)
        raise SystemExit(2) from exc
