"""The C allocator, tuned for a replay: one long pass that allocates and frees gigabytes.

glibc hands each array above a threshold (128 kB, adapting up to 32 MB) its own fresh
mapping and gives it back to the system when freed, so the next batch's arrays fault
their pages in again, at a few microseconds a page on a virtual machine: a 1M-row
replay spent a quarter of its CPU time in the kernel doing so. Served from the heap
and kept there once freed, the same memory is reused batch after batch. A no-op where
the C library is not glibc.

Arrow's own allocator (mimalloc) gives freed memory back too, and the kernel zeroes every
page of it again when it is reused: a fifth of a 1M-row replay's CPU time went into
zeroing pages, and the replay's system time halved (wall time down by about a tenth)
once Arrow allocated from the same tuned heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt's parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Arrays below this come from the heap; freed memory above the heap's top beyond the
# second is returned. Both well above any one batch's arrays.
MMAP_THRESHOLD = 256 << 20
TRIM_THRESHOLD = 512 << 20


def keep_freed_memory() -> bool:
    """Tell glibc to serve large arrays from its heap and keep what is freed; whether it could."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None)
    if mallopt is None:
        return False
    if not (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return False
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    return True
