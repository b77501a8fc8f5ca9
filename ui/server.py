"""The server's wiring, read top to bottom: what `streamlit run app.py` starts before any session, the routes and
middleware it adds to Streamlit's own, and what it does on shutdown. app.py hands these to st.App."""

from __future__ import annotations

from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Route

from core.process import warm_up
from ui import compat, feed, roles, services


def routes() -> list[Route]:
    """Routes beside Streamlit's: the live feed a running job's view fetches every second."""
    return [Route(feed.PATH, feed.live_feed)]


def middleware() -> list[Middleware]:
    """Before Streamlit's: the Train page's first visit names the code of its widgets up front (ui/compat.py)."""
    return [Middleware(compat.PreloadTrainWidgets)]


@asynccontextmanager
async def lifespan(app):
    """Start-up: leave Streamlit's pages-folder mode, send small replies at once, make a passcode if students can
    reach the server and none is set (ui/roles.py), build the services every page receives (ui.services.current),
    warm torch up in the background while the first browser connects. Shutdown: stop every job, so each run is
    stored as stopped, not left 'running'."""
    compat.leave_pages_folder_mode()
    compat.reply_at_once(st.get_option("server.port"))  # no 40 ms wait for an ACK before each file (ui/compat.py)
    notice = roles.serve(st.get_option("server.address"), st.get_option("server.port"))
    if notice:  # a server students can reach is a class: its made passcode, on the teacher's console
        print(notice, flush=True)
    built = services.Services()
    services.install(built)
    warm_up()
    yield None
    built.close()
