"""Offline OT/PT voice assistant."""

import os

# OpenBLAS's fork handler waits for its worker threads: a subprocess started (the caregiver alert, parec)
# while another thread is inside OpenBLAS can hang the process for good (caught with gdb during decoding).
# The assistant's numpy work is on small buffers, so one BLAS thread costs nothing. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
