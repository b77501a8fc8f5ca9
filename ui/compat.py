"""The one place this project relies on Streamlit behaviour that has no public API. Each item says what it
works around and which test fails if a Streamlit upgrade breaks it."""

from __future__ import annotations

import os
import re
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


# The widgets the Train page, the default page, draws on a first visit: the names of their code files in
# Streamlit's bundle (static/js/<Name>.<hash>.js), each loaded only when a page first shows one.
TRAIN_WIDGETS = tuple("Button Radio Selectbox Slider NumberInput TextInput Checkbox BidiComponent Html".split())
_IMPORTS = re.compile(rb'(?:from|import)\s*"\./([\w.-]+\.js)"')  # static imports only, not import("...")


def widget_code(widgets=TRAIN_WIDGETS) -> list[str]:
    """The files of Streamlit's frontend code these widgets load, with the files they import, less those the
    page's own HTML already loads; empty if this Streamlit lays its bundle out otherwise."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    index = folder.parent.parent / "index.html"
    if not index.is_file():
        return []
    loaded = index.read_text()
    todo = [p.name for name in widgets for p in sorted(folder.glob(f"{name}.*.js"))]
    found: dict[str, None] = {}
    while todo:
        name = todo.pop(0)
        if name in found or f"./static/js/{name}" in loaded or not (folder / name).is_file():
            continue
        found[name] = None
        todo += [m.decode() for m in _IMPORTS.findall((folder / name).read_bytes())]
    return list(found)


class PreloadTrainWidgets:
    """ASGI middleware: the app's root page (the Train page) names the code of the widgets it draws in its
    <head>, as <link rel="modulepreload">, as Streamlit's page does for its own code. The browser fetches it
    while it starts Streamlit's code, instead of one widget after another once the first script run's elements
    arrive (some fifty files, the Start button's among the last). Other pages, other files and a Streamlit whose
    bundle is laid out otherwise pass through unchanged. Guarded by tests/e2e/test_first_page.py."""

    def __init__(self, app, base_url: str | None = None):
        self.app = app
        base = (st.get_option("server.baseUrlPath") if base_url is None else base_url) or ""
        self.root = "/" + base.strip("/")
        links = "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{n}">' for n in widget_code())
        self.links = links.encode()

    async def __call__(self, scope, receive, send):
        if (
            not self.links
            or scope["type"] != "http"
            or scope["method"] != "GET"
            or (scope["path"].rstrip("/") or "/") != self.root
        ):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body: list[bytes] = []

        async def send_page(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                if (
                    message["status"] == 200
                    and headers.get(b"content-type", b"").startswith(b"text/html")
                    and b"content-encoding" not in headers
                ):
                    start = message  # held until the whole page is here
                    return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body).replace(b"</head>", self.links + b"</head>", 1)
            # its own length; no validators, which named the file on disk, not this page
            drop = {b"content-length", b"etag", b"last-modified"}
            headers = [(k, v) for k, v in start["headers"] if k.lower() not in drop]
            await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, send_page)
