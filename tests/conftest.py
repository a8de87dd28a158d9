"""Shared pytest fixtures. Each helper keeps its fixtures in its own clearly marked section."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import assistant  # noqa: F401 - before numpy loads (virtual_audio imports it): its thread settings apply

# isort: split
from virtual_audio import VirtualAudio

if TYPE_CHECKING:
    from assistant.core.content import Content
    from assistant.core.understanding import Understander

# ===== virtual audio devices (owner: audio-devices helper) ===============================================


@pytest.fixture
def virtual_audio() -> Iterator[VirtualAudio]:
    """A private PulseAudio server, activated for this process (see tests/virtual_audio.py for the API).

    Subprocesses need ``env={**os.environ, **virtual_audio.env}``. Stopped and removed after the test."""
    with VirtualAudio() as audio:
        audio.activate()
        yield audio
# ===== end virtual audio devices ==========================================================================

# ===== the shipped content and its understander (shared by the understanding tests) =====================
# Module-scoped, as each test file had them: loaded once per file, never shared across files. Imported
# inside the fixtures so a broken core fails only the tests that use it, not every test's collection.
CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


@pytest.fixture(scope="module")
def content() -> Content:
    """The content in content/, loaded as the assistant loads it."""
    from assistant.core.loader import load_content

    return load_content(CONTENT_DIR)


@pytest.fixture(scope="module")
def understander(content: Content) -> Understander:
    from assistant.core.understanding import Understander

    return Understander(content)
# ===== end shipped content ================================================================================


# ===== temp files left behind (shared by the speech tests) ===============================================
@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Route every tempfile of this process into an empty folder, to see what is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
# ===== end temp files =====================================================================================
