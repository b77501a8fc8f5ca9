"""What a device remembers between visits, without an account: the student's nickname, kept in the browser's
localStorage (device.js) and brought back into a new session (a reload, the next lesson)."""

from __future__ import annotations

import secrets
from pathlib import Path

import streamlit as st

from ui.state import kept, set_kept

NICK = "w_nick"  # the nickname's widget key (the Train page's text box)
_SESSION = "_device_session"  # this session's token: the device answers once per session (device.js)
_FOUND = "_device_found"  # a name the device remembered, for the next run to put in place
_MEMORY = st.components.v2.component("device_memory", js=(Path(__file__).parent / "device.js").read_text())


def remembered_nickname() -> None:
    """Before any page draws its widgets: put in place the name the device remembered (remembered_nickname_ui)."""
    found = st.session_state.pop(_FOUND, None)
    if found and not st.session_state.get(NICK, kept(NICK, "")):
        set_kept(NICK, found)


def remembered_nickname_ui() -> None:
    """At the end of the Train page, where the name is typed: ask the device, once a session, for the nickname it
    last used; remember a name typed. Hidden (page.css). Drawn last, and on that page alone: its answer reruns the
    script, which would cut short a page still drawing its widgets, and on every page (in the sidebar or the main
    area alike) moving from Results to Train now and then came up with an empty Epochs box (a browser loop: 2 of
    10 such moves, 0 of 10 with it on Train alone). The next run puts the name in place before the text box."""
    nickname = st.session_state.get(NICK, kept(NICK, ""))
    session = st.session_state.setdefault(_SESSION, secrets.token_hex(8))  # asked once per session, in device.js
    data = {"nickname": nickname, "session": session}
    found = _MEMORY(key="device_memory", data=data, on_found_change=lambda: None).found
    if found and not nickname:
        st.session_state[_FOUND] = str(found)[:24]
        st.rerun()
