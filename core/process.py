"""Process tuning for a server whose training threads share one Python process with the pages, in one place:
torch's start-up costs paid in the background, the garbage collector, glibc's heap and the GIL switch interval.
Each choice is measured in bench/RESULTS.md ("Server process")."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
import sys
import threading
import time

# the cores this process may run on (a container or taskset may allow fewer than the machine has)
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

_lock = threading.Lock()
_thread: threading.Thread | None = None
_page_drawn = threading.Event()


def page_drawn() -> None:
    """A page has been drawn: the rest of the warm-up may run now without delaying it."""
    _page_drawn.set()


def _warm() -> None:
    # Third-party modules only: they never import this project's, so no import cycle forms across threads.
    import torch

    if _page_drawn.wait(60):  # the first page first, then a second for the browser to draw it
        time.sleep(1.0)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # the first optimizer imports torch._dynamo (~2 s)


def warm_up() -> threading.Thread | None:
    """Import torch and build a first optimizer in a daemon thread, once per process (None if already started)."""
    global _thread
    with _lock:
        if _thread is not None:
            return None
        _thread = threading.Thread(target=_warm, name="torch-warm-up", daemon=True)
        _thread.start()
        return _thread


@functools.cache
def _glibc():
    """The C library when it is glibc (Linux), else None; looked up once (find_library runs ldconfig)."""
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
        return lib if lib is not None and hasattr(lib, "malloc_trim") else None
    except OSError:
        return None


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc keeps a finished run's buffers)."""
    gc.collect()
    lib = _glibc()
    if lib is not None:
        lib.malloc_trim(0)


def settle_heap() -> None:
    """Tune a server process when its warm heap exists, for training threads that share it with pages."""
    # A full collection walks every tracked object holding the GIL; frozen objects (the imported libraries)
    # are left out of the walk and are still freed when their reference count drops.
    gc.collect()
    gc.freeze()
    lib = _glibc()
    if lib is not None:  # one heap arena per core, not glibc's 8: each arena keeps its peak
        lib.mallopt(-8, CORES)  # M_ARENA_MAX
    # a training thread releases the GIL around each tensor op and wants it straight back
    sys.setswitchinterval(0.0005)
