"""A short soak in `make test`: real speech through the real recognizer, Dialog and espeak-ng synthesis,
turn after turn in one process, with no leaked memory, threads, file descriptors, processes or temp files.

The full 1,000-turn soak is `python -m bench.soak` (bench/soak.py, shared with this test).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_soak", REPO / "bench" / "soak.py")
soak_module = importlib.util.module_from_spec(_spec)
sys.modules["bench_soak"] = soak_module  # its dataclasses look their module up while being defined
_spec.loader.exec_module(soak_module)

TURNS = 8 * len(soak_module.QUESTIONS)  # 56 turns: every question eight times


def test_soak_keeps_resources_flat():
    result = soak_module.soak(TURNS)
    assert result.turns == TURNS
    assert result.wrong == []  # every turn heard right and answered with the expected kind of decision
    assert result.rss_growth_mb < 20, result.rss_samples
    start, end = result.start, result.end
    # Back to (at most) their start values: no slack. "At most" because a thread, file or process left by
    # an earlier test in this pytest process may end during the soak; what the soak itself leaks only adds.
    assert end.python_threads <= start.python_threads
    assert end.os_threads <= start.os_threads
    assert end.fds <= start.fds  # the speech path opens and closes its WAV files within each turn
    assert end.children <= start.children
    assert end.temp_files == start.temp_files == 0  # a private temp folder: nothing left behind
    assert result.leaks() == {}
