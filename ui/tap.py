"""A tap on a chart selects what it taps, as a mouse click does (tap.js): Results' confusion matrix on a tablet."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_TAP = st.components.v2.component("tap_selects", js=(Path(__file__).parent / "tap.js").read_text())


def tap_selects_ui() -> None:
    """Let a finger select a chart's points on this page (drawn once, invisible)."""
    _TAP(key="tap_selects")
