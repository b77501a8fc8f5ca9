"""A canvas to draw a digit on with a mouse, a finger or a pen: MNIST's look (white ink on black), sent back after
each stroke."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.i18n import tr
from core.preprocess import INK_THRESHOLD

SIDE = 280  # canvas pixels: 10 per MNIST pixel
STROKE = 20  # brush width: about 2 MNIST pixels once a digit is scaled into its 20x20 box


def _clear(key: str) -> None:
    st.session_state[f"{key}_n"] = st.session_state.get(f"{key}_n", 0) + 1  # a new key: a fresh, empty canvas


def drawing_ui(key: str) -> np.ndarray | None:
    """Show the canvas and a Clear button; the drawing as (SIDE, SIDE, 4) uint8 RGBA, or None before any ink."""
    # Imported here, inside a running page: importing the package outside a Streamlit runtime raises.
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(
        stroke_width=STROKE,
        stroke_color="#ffffff",
        background_color="#000000",
        update_streamlit=True,  # after each stroke: the prediction follows the drawing
        height=SIDE,
        width=SIDE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"{key}_{st.session_state.get(f'{key}_n', 0)}",
    )
    st.button(tr("Clear"), key=f"{key}_clear", on_click=_clear, args=(key,), icon="🧽")
    image = result.image_data
    if image is None or image.ndim != 3 or not (image[..., :3].max(axis=-1) > INK_THRESHOLD).any():
        return None
    return image
