"""Shared start-up steps for the commands: loading content with a message a caregiver can act on."""

from __future__ import annotations

import sys

from assistant.config import Settings
from assistant.core.content import Content
from assistant.core.loader import ContentError, load_content


def load_content_or_exit(settings: Settings) -> Content:
    try:
        return load_content(settings.content_path())
    except ContentError as exc:
        print(f"assistant: the content in {settings.content_path()} has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Fix them, then run `assistant content check` to confirm.", file=sys.stderr)
        raise SystemExit(2) from exc
