"""Who may do what. With a teacher passcode the server is a class: each student controls and deletes only their
own runs, the teacher (after typing the passcode, or opening the teacher link) any. Without one it is one person's
laptop, and that person owns every run.

Secure by default, as Jupyter is with its token: the passcode is TEACHER_PASSCODE, or `teacher_passcode` in
Streamlit's secrets, or, for a server bound beyond loopback (`--server.address 0.0.0.0`: students can reach it)
with neither set, one made as it starts and printed on its console with the teacher link (ui/server.py). Only a
server on 127.0.0.1 (.streamlit/config.toml's default) is a laptop."""

from __future__ import annotations

import hmac
import os
import secrets
import socket

import streamlit as st

from core.i18n import tr
from ui.session import owner_tags

LINK = "passcode"  # the teacher link's query parameter: ?passcode=... unlocks the teacher's tools in that tab
_made: str | None = None  # the passcode made at start-up for a server students can reach


def on_loopback(address: str | None) -> bool:
    """Can only this machine reach a server bound to `address`? (Streamlit binds every interface when unset.)"""
    return bool(address) and (address.startswith("127.") or address in ("localhost", "::1"))


def serve(address: str | None, port: int) -> str | None:
    """At the server's start: a server students can reach, with no passcode set, makes one. Returns the lines to
    print on the console (the passcode and the teacher link), or None."""
    global _made
    if configured() is not None or on_loopback(address):
        return None
    _made = secrets.token_urlsafe(9)
    host = socket.gethostname() if address in (None, "", "0.0.0.0", "::") else address
    return (
        "This server can be reached from other machines and no TEACHER_PASSCODE is set, so it runs as a class:\n"
        "each student controls only their own runs.\n"
        f"  Teacher passcode: {_made}\n"
        f"  Teacher link (keep it to yourself): http://{host}:{port}/teacher?{LINK}={_made}"
    )


def configured() -> str | None:
    """The passcode the teacher set, if any."""
    if os.environ.get("TEACHER_PASSCODE"):
        return os.environ["TEACHER_PASSCODE"]
    try:
        return st.secrets.get("teacher_passcode") or None
    except FileNotFoundError:  # no secrets file: nothing set
        return None


def passcode() -> str | None:
    """The teacher passcode of this server: set, or made at start-up for a reachable server; None on a laptop."""
    return configured() or _made


def teacher_link() -> None:
    """Before any page draws: the teacher link (?passcode=...) unlocks this tab; the passcode then leaves the URL,
    so it is not on the projector or in a shared link."""
    typed = st.query_params.get(LINK)
    if typed is None:
        return
    del st.query_params[LINK]
    code = passcode()
    if code is not None and hmac.compare_digest(typed.encode(), code.encode()):
        st.session_state["_teacher"] = True


def is_teacher() -> bool:
    """This session may control every run: the passcode was typed here, or no class is set up."""
    return passcode() is None or st.session_state.get("_teacher", False)


def may_delete(run: dict) -> bool:
    """May this session delete this stored run?"""
    return is_teacher() or (bool(run.get("owner")) and run["owner"] in owner_tags())


def teacher_ui() -> None:
    """The passcode box, where a class is set up; what it unlocks is said beside it."""
    if passcode() is None:
        return
    if st.session_state.get("_teacher"):
        st.caption(tr("🎓 Teacher: you may stop and delete any run."))
        return
    with st.expander(tr("🎓 Teacher")):
        typed = st.text_input(tr("Teacher passcode"), type="password", key="_teacher_passcode")
        if typed:
            if hmac.compare_digest(typed.encode(), passcode().encode()):
                st.session_state["_teacher"] = True
                st.rerun()
            st.error(tr("That is not the passcode."))
