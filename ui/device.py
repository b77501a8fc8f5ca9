"""What a device remembers between visits, without an account: the student's nickname, kept in the browser's
localStorage (device.js) and brought back into a new session (a reload, the next lesson)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.state import kept, set_kept

NICK = "w_nick"  # the nickname's widget key (the Train page's text box)
_ASKED = "_device_asked"  # this session has heard what the device remembers
_FOUND = "_device_found"  # a name the device remembered, for the next run to put in place
_MEMORY = st.components.v2.component("device_memory", js=(Path(__file__).parent / "device.js").read_text())


def remembered_nickname() -> None:
    """Before any page draws its widgets: put in place the name the device remembered (remembered_nickname_ui)."""
    found = st.session_state.pop(_FOUND, None)
    if found and not st.session_state.get(NICK, kept(NICK, "")):
        set_kept(NICK, found)


def remembered_nickname_ui() -> None:
    """After the page: ask the device, once a session, for the nickname it last used, and remember a name typed.
    Drawn last and hidden (page.css): the device's answer reruns the script, which would cut short a page still
    drawing its widgets; the next run puts the name in place before the Train page draws its text box."""
    nickname = st.session_state.get(NICK, kept(NICK, ""))
    ask = not st.session_state.get(_ASKED, False)
    st.session_state[_ASKED] = True  # asked once: the device answers only if it knows a name this session lacks
    memory = _MEMORY(key="device_memory", data={"nickname": nickname, "ask": ask}, on_found_change=lambda: None)
    found = memory.found
    if found and not nickname:
        st.session_state[_FOUND] = str(found)[:24]
        st.rerun()
