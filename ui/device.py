"""What a device remembers between visits, without an account: the student's nickname, kept in the browser's
localStorage (device.js) and brought back into a new session (a reload, the next lesson)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.state import kept, set_kept

NICK = "w_nick"  # the nickname's widget key (the Train page's text box)
_ASKED = "_device_asked"  # this session has heard what the device remembers
_MEMORY = st.components.v2.component("device_memory", js=(Path(__file__).parent / "device.js").read_text())


def remembered_nickname_ui() -> None:
    """A new session takes the nickname this device last used, unless one is set already; a name typed is
    remembered. Drawn in the sidebar, hidden (page.css): it has nothing to show."""
    nickname = st.session_state.get(NICK, kept(NICK, ""))
    with st.sidebar:
        found = _MEMORY(
            key="device_memory",
            data={"nickname": nickname, "ask": not st.session_state.get(_ASKED, False)},
            on_found_change=lambda: None,
        ).found
    if found is not None:
        st.session_state[_ASKED] = True
        if found and not nickname:
            set_kept(NICK, str(found)[:24])
