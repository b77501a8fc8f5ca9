"""The one place this project relies on Streamlit behaviour that has no public API. Each item says what it
works around and which test fails if a Streamlit upgrade breaks it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import streamlit as st


def leave_pages_folder_mode() -> None:
    """Route every URL, a first deep link included, through app.py's st.navigation.

    A `pages/` folder beside the main script puts Streamlit in its legacy multipage mode until st.navigation
    first runs: a first visit straight to /board would run pages/board.py alone (no page config, a sidebar
    listing every file). The product's layout names the folder `pages/`, so the server leaves that mode
    before any session starts. Guarded by tests/e2e/test_deep_links.py.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def plotly_module() -> str | None:
    """The file name of Streamlit's own plotly.js chunk, which the live view imports (no second copy of
    plotly.js to download on a slow laptop); None if this Streamlit lays its bundle out otherwise, and the
    live view then falls back to plain elements. Guarded by tests/e2e/test_live_training.py."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    return next((p.name for p in folder.glob("PlotlyChart.*.js")), None)


def reply_at_once(port: int) -> bool:
    """Turn Nagle's algorithm off for the server's connections: TCP_NODELAY on its listening socket on `port`,
    which each connection it accepts inherits (Linux, the BSDs). True if that socket was found.

    Streamlit makes that socket without naming its protocol (proto 0), and asyncio turns Nagle off only on a
    socket whose proto is IPPROTO_TCP: every reply after the first on a kept-alive connection then waited for the
    browser's delayed ACK, 40 ms a file (1-2 ms with this), and a fresh tab's first page fetches its widgets' code
    as some fifty files over six connections (bench/RESULTS.md, "First page of a fresh tab"). Found among this
    process's open files by its port; False, and nothing changed, if there are none to list (Windows) or none
    listens there. Guarded by tests/test_compat.py."""
    folder = "/dev/fd"
    found = False
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        try:
            fd = os.dup(int(name))
        except (ValueError, OSError):  # the listing's own descriptor, closed by now
            continue
        try:
            sock = socket.socket(fileno=fd)
        except OSError:  # a file, a pipe: not a socket
            os.close(fd)
            continue
        with sock:  # closes the duplicate only
            try:
                if (
                    sock.family in (socket.AF_INET, socket.AF_INET6)
                    and sock.type == socket.SOCK_STREAM
                    and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                    and sock.getsockname()[1] == port
                ):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    found = True
            except OSError:
                continue
    return found
