"""Content edited while the assistant runs: a valid edit is used from the next question on; a broken edit
is reported and the last good content stays in use (the person never hears a broken answer)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content

REPO = Path(__file__).resolve().parent.parent


def _ask(process: subprocess.Popen, line: str) -> str:
    process.stdin.write(line + "\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


def test_edits_while_running_are_used_and_broken_edits_are_refused(tmp_path):
    content_dir = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content_dir)
    original = load_content(content_dir).topics["settings"].answer
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "ASSISTANT_CONFIG": str(tmp_path / "c.yaml")}
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "listen", "--text", "--no-speak", "--content", str(content_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    try:
        assert _ask(process, "where do therapists work") == original

        topics = content_dir / "topics.yaml"
        edited = "Therapists work in hospitals, clinics, schools and at home."
        topics.write_text(topics.read_text().replace(original.split(",")[0], edited.rstrip(".") + ". X"))
        time.sleep(0.05)  # a new modification time
        reloaded = load_content(content_dir).topics["settings"].answer
        assert _ask(process, "where do therapists work") == reloaded != original

        topics.write_text(topics.read_text() + "\n  - id: [unclosed\n")  # now broken
        assert _ask(process, "where do therapists work") == reloaded  # last good content kept
        assert _ask(process, "goodbye")
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "content reloaded" in stderr
    assert "still using the last good content" in stderr and "topics.yaml" in stderr
    assert "Traceback" not in stderr
