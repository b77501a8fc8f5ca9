"""Who may do what. With a teacher passcode set (TEACHER_PASSCODE, or `teacher_passcode` in Streamlit's
secrets) the server is a class: each student controls and deletes only their own runs, the teacher (after
typing the passcode) any. Without one it is one person's laptop, and that person owns every run."""

from __future__ import annotations

import hmac
import os

import streamlit as st

from core.i18n import tr
from ui.session import owner_tags


def passcode() -> str | None:
    """The teacher passcode the server was started with, or None (a single user's laptop)."""
    if os.environ.get("TEACHER_PASSCODE"):
        return os.environ["TEACHER_PASSCODE"]
    try:
        return st.secrets.get("teacher_passcode") or None
    except FileNotFoundError:  # no secrets file: nothing set
        return None


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
