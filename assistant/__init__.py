"""Offline OT/PT voice assistant."""

import os

# OpenBLAS's fork handler waits for its worker threads: a subprocess started (the caregiver alert, parec)
# while another thread is inside OpenBLAS can hang the process for good (caught with gdb during decoding).
# The assistant's numpy work is on small buffers, so one BLAS thread costs nothing. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _defer_unused_modules() -> None:
    from assistant.deferred_import import defer

    defer("av")  # imported by faster-whisper for decoding audio files, which the assistant never asks of it


_defer_unused_modules()

__version__ = "0.1.0"
