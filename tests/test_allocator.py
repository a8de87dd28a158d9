"""The recognizer's allocator setting (assistant/recognition/allocator.py), in fresh processes: once the Whisper
recognizer is loaded, freed big buffers leave the process instead of keeping its memory at the high-water mark."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# 20 blocks of 10 MB, the newest kept (the heap cannot shrink below a live block at its top), like CTranslate2's
# buffers during a 30 s pass and the result that outlives them.
RETAINED_AFTER_BUFFERS = textwrap.dedent("""
    import sys
    import numpy as np

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    if sys.argv[1] == "recognizer":
        from assistant.recognition.whisper_engine import WhisperRecognizer

        WhisperRecognizer()
    np.ones(12 << 20, np.uint8)  # one big block freed: glibc raises its mmap threshold past 10 MB
    before = rss_mb()
    blocks = [np.ones(10 << 20, np.uint8) for _ in range(20)]
    newest = blocks[-1]
    del blocks
    print(rss_mb() - before)
""")


def _retained_mb(setting: str) -> float:
    done = subprocess.run([sys.executable, "-c", RETAINED_AFTER_BUFFERS, setting], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


def test_freed_big_buffers_leave_a_process_with_the_recognizer():
    assert _retained_mb("plain") > 100  # glibc's own behaviour: the heap keeps most of the 200 MB
    assert _retained_mb("recognizer") < 25  # only the block still in use
