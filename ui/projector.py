"""The presenter view: one switch, kept for the session, that turns Train, Race, Board and the teacher's console
into what a 1280x720 projector shows the class: the sidebar folded, the settings out of the way, the charts above
the fold. Each page decides what it tucks away; this holds the switch and the look they share."""

from __future__ import annotations

import streamlit as st

from core.i18n import tr
from ui.state import keep, save_kept

KEY = "presenter"  # the switch's widget key, kept across pages (ui/state.py)
# no sidebar (nor its handle): the room goes to the charts
CSS = """<style>
[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'], [data-testid='stExpandSidebarButton']
  {display: none;}
</style>"""


def presenting() -> bool:
    """Is the switch on (for a page whose title says so, before the switch is drawn)?"""
    keep(KEY, False)
    return bool(st.session_state[KEY])


def presenter_ui(where, help: str) -> bool:
    """The switch, drawn in `where` (the title's row); True while it is on, with the projector's look applied."""
    keep(KEY, False)
    on = where.toggle(tr("Presenter view"), key=KEY, help=help, width="content")
    save_kept(KEY)
    if on:
        st.html(CSS)
    return on


def title_row(title: str, help: str) -> bool:
    """A page's title with the presenter switch after it, as wide as its words (a column cut it to "Presenter…"
    beside a tablet's sidebar), wrapping under the title when the row is narrow; whether the switch is on."""
    row = st.container(horizontal=True, vertical_alignment="bottom", horizontal_alignment="distribute", gap="small")
    row.title(title, width="content")
    return presenter_ui(row, help)
