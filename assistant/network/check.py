"""`assistant doctor --server`: a room satellite's server answers `describe` and offers speech to text and
the conversation."""

from __future__ import annotations

from assistant.caregiver.checks import CheckResult
from assistant.network.client import RoomClient, ServerError


def check_server(uri: str) -> CheckResult:
    """A room satellite's server: it answers `describe` and offers speech to text and the conversation."""
    try:
        info = RoomClient(uri, room="doctor", timeout=5.0).describe()
    except ServerError as exc:
        return CheckResult("server", False, str(exc), "start `assistant serve --uri tcp://0.0.0.0:10700` on the "
                                                      "server and check the address given with --server")
    if not info.asr or not info.handle:
        return CheckResult("server", False, f"{uri} answers but offers no speech to text or no conversation",
                           "point --server at `assistant serve`")
    return CheckResult("server", True, f"{uri} answers ({info.asr[0].models[0].description})")
