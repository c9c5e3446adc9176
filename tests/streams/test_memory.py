"""The allocator tuning a replay process applies to itself."""

import ctypes
import ctypes.util
import subprocess
import sys

import pytest

def glibc() -> bool:
    name = ctypes.util.find_library("c")
    return name is not None and all(hasattr(ctypes.CDLL(name), f) for f in ("mallopt", "mallinfo2"))


@pytest.mark.skipif(not glibc(), reason="mallopt is glibc's")
def test_large_arrays_come_from_the_heap_once_tuned():
    # run in a child: the tuning is for the whole process, and the test process is not a replay
    probe = """
import ctypes, ctypes.util, numpy as np
from streams.memory import keep_freed_memory
libc = ctypes.CDLL(ctypes.util.find_library("c"))
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
def mapped(tuned):
    if tuned:
        assert keep_freed_memory()
    a = np.ones(4 << 20)  # 32 MB
    return libc.mallinfo2().hblkhd >= a.nbytes
print(mapped(False), mapped(True))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"], "a 32 MB array is its own mapping by default and comes from the heap once tuned"


@pytest.mark.skipif(not glibc(), reason="mallopt is glibc's")
def test_arrow_allocates_from_the_tuned_heap_too():
    probe = """
import pyarrow as pa
from streams.memory import keep_freed_memory
assert keep_freed_memory()
print(pa.default_memory_pool().backend_name)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["system"], "Arrow's allocations go through the C allocator keep_freed_memory tuned"

