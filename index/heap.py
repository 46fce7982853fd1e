"""Keep the process's heap close to what it holds (glibc only; a no-op elsewhere).

Chroma's Rust core allocates large transient buffers for every ``get``/``query``/``upsert``
(reading 10,000 chunks for the BM25 index costs ~300 MB that is freed right after) from
many threads. glibc keeps freed memory in per-thread arenas instead of returning it, so
a serving process measured at 10k chunks sat at ~520 MB where ~220 MB was in use, and
each new thread arena adds more. Two remedies, both measured there: cap the number of
arenas before Chroma starts its threads (-140 MB), and hand free pages back to the OS
after the big reads and writes (-300 MB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


@functools.lru_cache(maxsize=1)
def _libc():  # type: ignore[no-untyped-def]
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only: musl and macOS lack it
        libc.mallopt  # noqa: B018
        return libc
    except (OSError, AttributeError):
        return None


def limit_arenas(n: int = 2) -> None:
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, n)


def trim() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
