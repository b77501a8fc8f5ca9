"""ui/compat.py's server-side pieces, without a server: Nagle's algorithm off for a socket made as Streamlit makes
its own, and the Train page's widget code named in the root page's <head> (tests/e2e/test_first_page.py checks
both against a real server)."""

import asyncio
import concurrent.futures
import os
import socket
from pathlib import Path

import pytest
import streamlit as st

from ui import compat

JS = Path(st.__file__).parent / "static" / "static" / "js"


@pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="no /dev/fd to find the socket in")
def test_reply_at_once_turns_nagle_off_for_the_connections_a_listening_socket_accepts():
    listener = socket.socket(family=socket.AF_INET)  # as Streamlit binds its own: no proto, so asyncio leaves Nagle on
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        assert compat.reply_at_once(port)
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            assert client.fileno() >= 0
    finally:
        listener.close()
    assert not compat.reply_at_once(port)  # nothing listens there any more


def test_the_train_widgets_code_is_found_in_streamlits_bundle():
    files = compat.widget_code()
    index = (JS.parent.parent / "index.html").read_text()
    for widget in compat.TRAIN_WIDGETS:
        assert any(f.startswith(widget + ".") for f in files), widget
    assert all((JS / f).is_file() and f"./static/js/{f}" not in index for f in files)
    assert len(files) == len(set(files))


def page(html: bytes = b"<html><head><title>t</title></head><body></body></html>"):
    """A stand-in for Streamlit's static files: its index page at every path, sent in two pieces."""

    async def app(scope, receive, send):
        kind = b"text/html; charset=utf-8" if scope["path"].rstrip("/") in ("", "/class") else b"text/javascript"
        headers = [(b"content-type", kind), (b"content-length", str(len(html)).encode()), (b"etag", b'"abc"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": html[:10], "more_body": True})
        await send({"type": "http.response.body", "body": html[10:]})

    return app


def fetch(app, path: str, method: str = "GET") -> tuple[dict, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    request = app({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    # on a thread of its own: a browser test run before in this worker leaves playwright's loop running on this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, request).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    return dict(start["headers"]), b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_the_root_page_names_the_widget_code_in_its_head_and_other_pages_pass_through():
    inner = page()
    preload = compat.PreloadTrainWidgets(inner, base_url="")
    headers, body = fetch(preload, "/")
    button = next(f for f in compat.widget_code() if f.startswith("Button."))
    link = f'<link rel="modulepreload" crossorigin href="./static/js/{button}">'.encode()
    assert link in body and body.index(link) < body.index(b"</head>") and body.endswith(b"</body></html>")
    assert headers[b"content-length"] == str(len(body)).encode() and b"etag" not in headers
    assert fetch(preload, "/data") == fetch(inner, "/data")  # another page: as Streamlit sends it
    assert fetch(preload, "/static/js/x.js") == fetch(inner, "/static/js/x.js")
    assert fetch(preload, "/", "HEAD") == fetch(inner, "/", "HEAD")
    under = compat.PreloadTrainWidgets(inner, base_url="/class/")  # server.baseUrlPath
    assert link in fetch(under, "/class/")[1] and link not in fetch(under, "/")[1]
