"""glibc's allocator through ctypes: `malloc_trim(0)`, which hands the free pages of every malloc arena back
to the kernel.

Why: CPython's large objects and chDB (ClickHouse inside this process, with its many threads and so many
arenas) allocate through glibc's malloc, which keeps freed memory in its arenas for reuse. After a big
response the server's RSS stayed hundreds of MiB above its idle level although nothing held that memory.
malloc_trim is a glibc extension: on another C library `load()` says so (UnsupportedLibc) and the caller
skips trimming explicitly, with a log line, rather than calling a symbol that is not there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Callable


class UnsupportedLibc(RuntimeError):
    pass


def load() -> Callable[[], bool]:
    """A function that trims every arena; True when memory went back to the kernel."""
    libc_name, libc_version = platform.libc_ver()
    if libc_name != "glibc":
        raise UnsupportedLibc(f"malloc_trim is a glibc extension; this process runs on {libc_name or 'another libc'}")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    try:
        malloc_trim = libc.malloc_trim
    except AttributeError:
        raise UnsupportedLibc(f"glibc {libc_version} has no malloc_trim") from None
    malloc_trim.argtypes = [ctypes.c_size_t]
    malloc_trim.restype = ctypes.c_int
    return lambda: bool(malloc_trim(0))
