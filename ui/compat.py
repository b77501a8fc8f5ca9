"""The one place this project relies on Streamlit behaviour that has no public API. Each item says what it
works around and which test fails if a Streamlit upgrade breaks it."""

from __future__ import annotations

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
