"""Router only: every page lives in pages/ and every computation in core/."""
import streamlit as st

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
