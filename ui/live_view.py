"""The live view: a run's heading, its progress bar and its charts as one component, redrawn in place.

st.plotly_chart gives a chart a new identity whenever its figure changes (a live chart was torn down every
second, losing a student's zoom), and every element a rerun redraws costs the browser React work on the cores
the training uses. This component keeps its plotly divs and draws a changed figure with Plotly.react; while a
run trains it follows the live feed (ui/feed.py) by itself. Its code is live_view.js and live_view.css.
"""

from __future__ import annotations

import html
from pathlib import Path

import streamlit as st

from core import plots
from core.i18n import tr
from ui import feed
from ui.compat import plotly_module
from ui.labels import md

_HERE = Path(__file__).parent
_JS, _CSS = (_HERE / "live_view.js").read_text(), (_HERE / "live_view.css").read_text()
_PLOTLY = plotly_module()


# registered once per process; the runtime keeps the definition
_VIEW = st.components.v2.component("live_view", js=_JS, css=_CSS, isolate_styles=False)


def chart(where, fig, key: str | None = None, config: dict | None = None, **kw):
    """Show a core.plots figure in `where` (st, a column...) with its own projector look, not Streamlit's theme,
    and the same chart as text: a sentence a screen reader says before it, its data as a table to open."""
    summary, rows = plots.describe(fig)
    # an image role named by the sentence: read by screen readers, drawn as nothing (page.css)
    alt = f'<div class="chart-alt" role="img" aria-label="{html.escape(summary)}"></div>'
    where.markdown(alt, unsafe_allow_html=True)
    event = where.plotly_chart(fig, key=key, theme=None, config={"displaylogo": False, **(config or {})}, **kw)
    if rows:
        with where.expander(tr("📋 The chart's data as a table")):
            # a real <table>, which a screen reader walks by rows and columns; its cells are Markdown, and a legend
            # may hold a student's text
            st.table([{k: md(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows])
    return event


def live_view(
    where,
    key: str,
    figures: dict,
    head: str | None = None,
    progress: tuple[float, str] | None = None,
    follow: str | None = None,
    announce: str | None = None,
) -> None:
    """A heading, a progress bar (fraction, text) and figures side by side, redrawn in place.

    `figures` maps a name to a figure (tests read them by name). With `follow` (ui.feed.url of a running
    job) the view fetches its next state every second until the run ends, then asks for a rerun.
    """
    if _PLOTLY is None:  # a Streamlit without its plotly chunk where compat expects it: plain elements
        with where:
            if head:
                st.subheader(head)
            if progress:
                st.progress(progress[0], text=progress[1])
            for col, (name, fig) in zip(st.columns(max(len(figures), 1)), figures.items()):
                chart(col, fig, key=name)
        return
    with where:
        _VIEW(
            key=key,
            data={**feed.payload(figures, head, progress, announce), "feed": follow, "module": _PLOTLY},
            on_ended_change=lambda: None,
            on_tick_change=lambda: None,
        )


def live_chart(where, fig, key: str) -> None:
    """One figure that a fragment redraws, updated in place."""
    live_view(where, key, {key: fig})
