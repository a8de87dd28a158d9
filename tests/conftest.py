"""Shared pytest fixtures. Each helper keeps its fixtures in its own clearly marked section."""

from __future__ import annotations

# ===== virtual audio devices (owner: audio-devices helper) ===============================================
from collections.abc import Iterator

import pytest
from virtual_audio import VirtualAudio


@pytest.fixture
def virtual_audio() -> Iterator[VirtualAudio]:
    """A private PulseAudio server, activated for this process (see tests/virtual_audio.py for the API).

    Subprocesses need ``env={**os.environ, **virtual_audio.env}``. Stopped and removed after the test."""
    with VirtualAudio() as audio:
        audio.activate()
        yield audio
# ===== end virtual audio devices ==========================================================================
