"""The language switch (English / 简体中文): chosen in the sidebar, kept in the URL (?lang=zh_CN) and the session,
the browser's language on a first visit. core.i18n holds the catalogues and tr(); this sets each run's language.

Streamlit runs a fragment's reruns, and each full rerun, on a thread that may be new: every run sets its
language again (setup() in app.py, fragment() below), so a context variable is never read from a stale thread.
"""

from __future__ import annotations

import functools

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.i18n import LANGUAGES, language, match, tr, use

KEY = "lang"  # the URL parameter and the switch's widget key


def setup() -> str:
    """This run's language: the switch's, else the URL's, else the browser's; written back into the URL."""
    lang = st.session_state.get(KEY) or st.query_params.get(KEY) or match(st.context.locale)
    lang = use(lang)
    st.session_state[KEY] = lang
    if st.query_params.get(KEY) != lang:
        st.query_params[KEY] = lang
    if st.session_state.get(_DRAWN, lang) != lang:
        _renamed_choices()
    st.session_state[_DRAWN] = lang
    return lang


_DRAWN = "_lang_drawn"  # the language the page was last drawn in


def _renamed_choices() -> None:
    """After a switch, every choice shows its name in the new language. A selectbox or radio keeps the name it
    showed (the browser holds the chosen option by name, and the value itself did not change): a value set
    again is sent again, under its new name."""
    for key, value in list(st.session_state.items()):
        if isinstance(value, str) and key != KEY and not key.startswith("_"):
            try:
                st.session_state[key] = value
            except StreamlitAPIException:  # a widget whose value cannot be set (none holds a str today)
                pass


def language_ui() -> None:
    """The switch, at the top of the sidebar: changing it only redraws the page, a running job trains on."""
    st.sidebar.radio(tr("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key=KEY, horizontal=True)


def fragment(func=None, **kw):
    """st.fragment that sets the session's language first (a fragment's rerun does not run app.py)."""
    if func is None:
        return functools.partial(fragment, **kw)

    @functools.wraps(func)
    def localized(*args, **kwargs):
        use(st.session_state.get(KEY))
        return func(*args, **kwargs)

    return st.fragment(localized, **kw)


__all__ = ["fragment", "language", "language_ui", "setup"]
