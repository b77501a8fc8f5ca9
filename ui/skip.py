"""A skip link: the first Tab stop of a page jumps over the top bar and the sidebar to its main button (skip.js)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_SKIP = st.components.v2.component("skip_link", js=(Path(__file__).parent / "skip.js").read_text())


def skip_link_ui(label: str, button_key: str) -> None:
    """Draw (hidden, page.css) the skip link to the button drawn with key=`button_key`."""
    _SKIP(key="skip_link", data={"label": label, "target": f".st-key-{button_key} button"})
