"""Router only: every page lives in pages/ and every computation in core/."""
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if get_script_run_ctx(suppress_warning=True) is None:
    # `streamlit run app.py` reads this file once to start the server (st.App): Streamlit's own routes plus
    # the live feed a running job's view fetches every second (pages/feed.py). Each session then runs this
    # file as its script, the branch below.
    from starlette.routing import Route

    from core.warm import warm_up
    from pages import feed

    warm_up()  # torch's imports, in the background while the first browser connects (core/warm.py)

    app = st.App(__file__, routes=[Route(feed.PATH, feed.live_feed)])
    feed.SERVED = True
else:
    from core.warm import page_drawn

    st.set_page_config(page_title="Learn image classification", page_icon="🔢", layout="wide")

    st.navigation([
        st.Page("pages/train.py", title="Train", icon="🏋️", default=True),
        st.Page("pages/data.py", title="Data", icon="🖼️"),
        st.Page("pages/results.py", title="Results", icon="🎯"),
        st.Page("pages/inside.py", title="Inside the model", icon="🔬"),
        st.Page("pages/compare.py", title="Compare runs", icon="📈"),
        st.Page("pages/race.py", title="Same-seed race", icon="🏁"),
        st.Page("pages/board.py", title="Class board", icon="🏫"),
    ]).run()
    page_drawn()  # the server's warm-up goes on now (core/warm.py)
