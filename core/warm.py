"""Pay torch's one-off start-up costs in a background thread, while a new server waits for its first page.

A fresh process pays them when it first needs them, with a student waiting:
- `import torch`: ~2.6 s on 2 cores, inside the first page's run;
- the first optimizer torch builds imports torch._dynamo: ~2.4 s, which is most of the 2.7 s the Train page
  took to redraw after a student picked the seed CNN's recipe (its time estimate builds an Adam optimizer).
`streamlit run app.py` starts this when the server starts; the optimizer part waits for the first page.
Measured on a fresh server, 2 cores, chromium: picking the seed CNN's recipe redrew the page in 2.6-3.1 s
before, 0.7-1.0 s with the warm-up; the first page still takes ~5 s either way (the run imports torch anyway).
"""
from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_thread: threading.Thread | None = None
_page_drawn = threading.Event()


def page_drawn() -> None:
    """A page has been drawn: the rest of the warm-up may run now without delaying it."""
    _page_drawn.set()


def _warm() -> None:
    # Third-party modules only: they never import this project's, so a page importing core/ at the same
    # time just waits for them, and no import cycle can form across the two threads.
    import torch

    # then, not to slow the first page down (~7 s to show instead of ~5 s with this at once), and a second
    # more for the browser to receive and draw it
    if _page_drawn.wait(60):
        time.sleep(1.0)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # imports torch._dynamo


def warm_up() -> threading.Thread | None:
    """Start the warm-up once per process; returns its (daemon) thread, or None if it was already started."""
    global _thread
    with _lock:
        if _thread is not None:
            return None
        _thread = threading.Thread(target=_warm, name="torch-warm-up", daemon=True)
        _thread.start()
        return _thread
