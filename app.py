"""The router: each page lives in pages/, what they share in ui/, every computation in core/.

`streamlit run app.py` reads this file twice over: imported once as the module `app` to find the server
(st.App below: Streamlit's routes plus ours, ui/server.py), then run as `__main__`, the script of every
session, which routes to the page the URL names.
"""

from pathlib import Path

import streamlit as st

if __name__ != "__main__":
    from ui import server

    app = st.App(__file__, routes=server.routes(), middleware=server.middleware(), lifespan=server.lifespan)
else:
    from core.i18n import tr
    from core.process import page_drawn
    from ui.device import remembered_nickname
    from ui.i18n import language_ui, setup
    from ui.roles import teacher_link
    from ui.state import settings_from_url, settings_to_url

    setup()  # this run's language: the switch's, the URL's (?lang=), or the browser's
    st.set_page_config(page_title=tr("Learn image classification"), page_icon="🔢", layout="wide")
    st.html(Path(__file__).parent / "ui" / "page.css")  # the projector-sized layout, for every page
    settings_from_url()  # a reload or a shared link: the Train settings it carries...
    settings_to_url()  # ...and back into the URL, on whatever page this is (the Train page updates it too)
    language_ui()
    teacher_link()  # the teacher link (?passcode=...) unlocks this tab, and leaves the URL (ui/roles.py)
    remembered_nickname()  # a reload or the next lesson keeps the student's name (ui/device.py)
    st.navigation(
        {
            # a student's own work, one link each...
            "": [
                st.Page("pages/train.py", title=tr("Train"), icon="🏋️", default=True),
                st.Page("pages/data.py", title=tr("Data"), icon="🖼️"),
                st.Page("pages/images.py", title=tr("Images"), icon="✏️"),
                st.Page("pages/results.py", title=tr("Results"), icon="🎯"),
                st.Page("pages/inside.py", title=tr("Inside"), icon="🔬"),
            ],
            # ...and, in one menu, the pages about several runs and the class: nine links did not fit a tablet
            # beside the sidebar (four of them went under "4 more")
            tr("Runs & class"): [
                st.Page("pages/compare.py", title=tr("Compare"), icon="📈"),
                st.Page("pages/race.py", title=tr("Race"), icon="🏁"),
                st.Page("pages/board.py", title=tr("Board"), icon="🏫"),
                st.Page("pages/teacher.py", title=tr("Teacher"), icon="🎓"),
            ],
        },
        # at the top: the sidebar is the Train page's settings, which fit a projector without scrolling; the
        # names are short (a page's own title says it in full)
        position="top",
    ).run()
    page_drawn()  # the server's torch warm-up goes on now (core/process.py)
