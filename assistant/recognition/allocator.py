"""Big decoding buffers go back to the system when freed, so they do not keep the process's memory high.

glibc's malloc raises its mmap threshold to the largest block freed so far (up to 32 MB): once CTranslate2 has
freed a few big buffers, the next ones come from the heap, and the heap grows past what is live, fragmented,
and stays at its high-water mark. A fixed threshold maps each buffer above it on its own and unmaps it on free,
at the price of fresh pages (page faults) for each. Figures, side by side with glibc's own behaviour:
`python -m bench.allocator`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
# Lower thresholds save little more memory for more CPU (docs/decisions.md).
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024


@functools.cache
def map_big_buffers_separately() -> bool:
    """Once per process; False where the C library is not glibc (the setting does not exist there)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
