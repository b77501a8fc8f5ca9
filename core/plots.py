"""Plotly figure builders: pure functions from numbers to go.Figure, sized for a projector."""

from __future__ import annotations

import base64
import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.signal import lfilter

from core.i18n import N_, ntr, tr

FONT = dict(size=16)
COLORS = {
    "train loss": "#1f77b4",
    "train acc": "#ff7f0e",
    "val acc": "#2ca02c",
    "test acc": "#d62728",
    "val loss": "#9467bd",
    "test loss": "#8c564b",
}
MAX_LINE_POINTS = 800  # a chart is ~800 px wide: more points are not seen, only sent and drawn
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
_AXIS = dict(gridcolor="#e6e6e6", linecolor="#8a8a8a", showline=True, ticks="outside", zeroline=False, automargin=True)
# Every figure's look, in place of plotly's default template and Streamlit's theme (pages pass theme=None):
# Streamlit's theme shrinks fonts for a projector, and a template this small makes each live redraw cheaper
# for the browser (plotly's default template carries styles for every trace type).
PROJECTOR = go.layout.Template(
    layout=dict(
        font=dict(family='"Source Sans", "Source Sans Pro", sans-serif', size=16, color="#31333F"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=PALETTE,
        xaxis=_AXIS,
        yaxis=_AXIS,
        hoverlabel=dict(font=dict(size=16)),
        colorscale=dict(sequential="Blues"),
    )
)


# The chart's toolbar stands down its right edge: a touch screen shows it all the time (there is no hover), and
# across the top it covered the title.
MODEBAR = {"orientation": "v"}


def _layout(fig: go.Figure, height: int, title: str | None = None, **kw) -> go.Figure:
    # a constant uirevision keeps the student's zoom and hidden traces across live refreshes
    fig.update_layout(
        template=PROJECTOR,
        height=height,
        margin=dict(l=10, r=10, t=90 if title else 40, b=10),
        font=FONT,
        title=dict(text=title, font=dict(size=22), y=0.97, yanchor="top") if title else None,
        uirevision="keep",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        modebar=MODEBAR,
        **kw,
    )
    return fig


def downsample(xs, ys, max_points: int = MAX_LINE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Keep at most max_points evenly spaced points (always the last one), as float32 arrays (half the bytes
    sent to the browser of float64, and far more precision than a chart shows).

    Arrays, not lists: plotly validates a Python list element by element, and passes numpy arrays through.
    """
    xs, ys = np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)
    if len(xs) <= max_points:
        return xs, ys
    idx = np.unique(np.linspace(0, len(xs) - 1, max_points).round().astype(int))
    return xs[idx], ys[idx]


def ema(values, alpha: float = 0.1) -> np.ndarray:
    """Exponential moving average, the smoothing TensorBoard applies to noisy batch losses.

    s_0 = v_0, then s_t = (1 - alpha) s_(t-1) + alpha v_t, run as a linear filter: a live chart redraws it
    every second, and a Python loop would cost the server's interpreter more.
    """
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v
    out, _ = lfilter([alpha], [1.0, alpha - 1.0], v, zi=[(1 - alpha) * v[0]])
    return out


def _axes(x: dict, y: dict) -> dict:
    return {
        "xaxis": {"title": {"text": x.pop("title", None)}, **x},
        "yaxis": {"title": {"text": y.pop("title", None)}, **y},
    }


def _no_none(d: dict) -> dict:
    return {k: _no_none(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}


def _live_layout(height: int, title: str, **axes) -> dict:
    """The layout of a live chart as a plain dict, with the PROJECTOR look written out: plotly's empty
    "none" template is all a live figure needs (validating a template object costs time at each redraw)."""
    look = PROJECTOR.layout
    # Fixed margins that fit the 16 px tick labels and axis titles, in place of automargin: automargin makes
    # plotly measure the labels and draw the chart twice (bench/RESULTS.md, "The live view's cost").
    axes = {name: {**_AXIS, **axis, "automargin": False} for name, axis in axes.items()}
    return _no_none(
        {
            "height": height,
            "margin": {"l": 80, "r": 20, "t": 90, "b": 64},
            "font": {**look.font.to_plotly_json(), **FONT},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "uirevision": "keep",
            "title": {"text": title, "font": {"size": 22}, "y": 0.97, "yanchor": "top"},
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 14}},
            "modebar": MODEBAR,
            **axes,
        }
    )


def _validated(spec: dict) -> go.Figure:
    return go.Figure(spec["data"], {**spec["layout"], "template": "none"})


# The two live charts come as plain figure dicts (`*_spec`), which ui.feed serializes as they are: they are
# redrawn every second while the training thread needs the same interpreter, and a go.Figure validates every
# property (about ten times the cost). batch_loss() and epoch_curves() are the same figures, validated.
def batch_loss_spec(
    steps,
    losses,
    batches_per_epoch: int | None = None,
    smooth: bool = True,
    total_epochs: int | None = None,
    height: int = 380,
) -> dict:
    """Loss per batch against epochs (x = step / batches per epoch), raw and smoothed.

    With total_epochs the x axis spans the whole run from the first batch, as d2l's Animator sets its xlim:
    the student sees how far the run has got, and a live redraw keeps the same axis."""
    x = np.asarray(steps, dtype=float) / (batches_per_epoch or 1)
    xs, ys = downsample(x, losses)
    traces = [
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "lines",
            "name": tr("batch loss"),
            "line": {"color": "#9ecae1" if smooth else COLORS["train loss"], "width": 1.5},
        }
    ]
    if smooth:
        xs, ys = downsample(x, ema(losses))
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "name": tr("smoothed"),
                "line": {"color": COLORS["train loss"], "width": 3},
            }
        )
    span = {"range": [0, total_epochs]} if total_epochs and batches_per_epoch else {"rangemode": "tozero"}
    axes = _axes(
        {"title": tr("epoch") if batches_per_epoch else tr("batch"), **span},
        {"title": tr("cross-entropy loss"), "rangemode": "tozero"},
    )
    return {"data": traces, "layout": _live_layout(height, tr("Loss per batch"), **axes)}


def batch_loss(*args, **kwargs) -> go.Figure:
    return _validated(batch_loss_spec(*args, **kwargs))


def epoch_curves_spec(epochs: list[dict], total_epochs: int | None = None, height: int = 380) -> dict:
    """d2l's Animator picture: per-epoch train loss on the left axis; train, validation and test accuracy on
    the right one (0-100 %), so neither squashes the other."""
    xs = np.array([e["epoch"] for e in epochs], dtype=float)
    traces = []
    for key, label in (
        ("train_loss", N_("train loss")),
        ("train_acc", N_("train acc")),
        ("val_acc", N_("val acc")),
        ("test_acc", N_("test acc")),
    ):
        ys = [e.get(key) for e in epochs]
        if any(y is not None for y in ys):
            ys = np.array([np.nan if y is None else y for y in ys], dtype=float)
            loss = "loss" in key
            line = {"color": COLORS[label], "width": 3, **({"dash": "dash"} if loss else {})}
            trace = {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines+markers",
                "name": tr(label),  # the label stays the COLORS key
                "marker": {"size": 10},
                "line": line,
            }
            traces.append(trace if loss else {**trace, "yaxis": "y2"})
    last = total_epochs or int(xs.max(initial=1))
    axes = _axes(
        {"title": tr("epoch"), "range": [0.5, last + 0.5], "dtick": 1 if last <= 10 else None},
        {"title": tr("loss"), "rangemode": "tozero"},
    )
    axes["yaxis2"] = {
        **_AXIS,
        "title": {"text": tr("accuracy")},
        "overlaying": "y",
        "side": "right",
        "range": [0, 1.02],
        "dtick": 0.2,
        "tickformat": ".0%",
        "showgrid": False,
        "automargin": False,
    }
    layout = _live_layout(height, tr("Per epoch"), **axes)
    return {"data": traces, "layout": {**layout, "margin": {**layout["margin"], "r": 80}}}


def epoch_curves(*args, **kwargs) -> go.Figure:
    return _validated(epoch_curves_spec(*args, **kwargs))


def confusion_heatmap(cm: np.ndarray, classes, normalized: bool = False, height: int = 560) -> go.Figure:
    """Rows = true class, columns = predicted; counts or row fractions written in each cell."""
    text = [[f"{v:.2f}" if normalized else f"{int(v)}" for v in row] for row in cm]
    fig = go.Figure(
        go.Heatmap(
            z=cm,
            x=list(classes),
            y=list(classes),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            textfont=dict(size=13),
            hoverinfo="skip",  # the click layer above answers hovers and clicks
        )
    )
    # Heatmap clicks never reach Streamlit's on_select (streamlit#8760), scatter points do: one nearly
    # invisible marker per cell makes every cell clickable. Its hover shows the cell's text; "skip" would also
    # drop its clicks in plotly.js.
    k = len(classes)
    fig.add_trace(
        go.Scatter(
            x=[classes[j] for i in range(k) for j in range(k)],
            y=[classes[i] for i in range(k) for j in range(k)],
            customdata=[[i, j] for i in range(k) for j in range(k)],
            text=[text[i][j] for i in range(k) for j in range(k)],
            mode="markers",
            marker=dict(symbol="square", size=36, opacity=0.01, color="#000"),
            hovertemplate=tr("true %{y}<br>predicted %{x}") + "<br>%{text}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_yaxes(title=tr("true class"), autorange="reversed", type="category")
    long = max(len(str(c)) for c in classes) > 3  # garment names tilt to fit; digits stand upright
    fig.update_xaxes(title=tr("predicted class"), type="category", tickangle=-30 if long else 0)
    title = tr("Confusion matrix (row-normalized)") if normalized else tr("Confusion matrix (counts)")
    return _layout(fig, height, title)


def image_grid(
    images: np.ndarray, titles: list[str], wrong: list[bool] | None = None, cols: int = 8, tile: int = 130
) -> go.Figure:
    """A grid of grayscale uint8 images (N, H, W) with a caption each; wrong ones captioned in red."""
    n = len(images)
    rows = max(1, -(-n // cols))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[*titles, *[""] * (rows * cols - n)],
        horizontal_spacing=0.01,
        vertical_spacing=0.3 / rows,
    )
    for i, img in enumerate(images):
        rgb = np.repeat(img[..., None], 3, axis=2)  # as stored, white ink on black: as the model sees it, and as Inside
        fig.add_trace(go.Image(z=rgb, hoverinfo="skip"), row=i // cols + 1, col=i % cols + 1)
    for i, ann in enumerate(fig.layout.annotations[:n]):
        ann.font = dict(size=13, color="#c62828" if wrong and wrong[i] else "#222")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(template=PROJECTOR, height=rows * tile + 40, margin=dict(l=0, r=0, t=40, b=0), uirevision="keep")
    return fig


def class_balance(counts, classes, height: int = 320) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=list(classes),
            y=list(counts),
            text=[f"{c:,}" for c in counts],
            textposition="outside",
            marker_color="#1f77b4",
        )
    )
    fig.update_yaxes(title=tr("images"), rangemode="tozero")
    return _layout(fig, height, tr("Class balance (training set)"))


def pixel_heatmap(image: np.ndarray, scaled: bool, height: int = 520) -> go.Figure:
    """One image as numbers: 0-255 as stored, or 0-1 as the model sees it."""
    z = image.astype(float) / 255 if scaled else image.astype(int)
    small = image.shape[0] <= 16
    fmt = ".2f" if scaled else "d"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale="Greys",
            showscale=True,
            text=z if small else None,
            texttemplate=f"%{{text:{fmt}}}" if small else None,
            hovertemplate=tr("row %{y}, col %{x}: %{z}") + "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_xaxes(constrain="domain")
    title = tr("Pixel values 0-1 (as the model sees them)") if scaled else tr("Pixel values 0-255 (as stored)")
    return _layout(fig, height, title)


def weight_templates(W: np.ndarray, size: int, classes, cols: int = 5, height: int = 640) -> go.Figure:
    """The columns of a softmax W (inputs x classes) as size x size images, on one shared diverging scale."""
    k = len(classes)
    rows = -(-k // cols)
    lim = float(np.abs(W).max()) or 1.0
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[str(c) for c in classes], horizontal_spacing=0.02, vertical_spacing=0.08
    )
    for c in range(k):
        fig.add_trace(
            go.Heatmap(
                z=W[:, c].reshape(size, size),
                zmin=-lim,
                zmax=lim,
                colorscale="RdBu",
                zmid=0,
                showscale=c == k - 1,
                name=str(classes[c]),
                hovertemplate=f"{classes[c]}<br>" + tr("row %{y}, col %{x}") + "<br>w = %{z:.4f}<extra></extra>",
            ),
            row=c // cols + 1,
            col=c % cols + 1,
        )
    for ann in fig.layout.annotations:
        ann.font = dict(size=18)
    fig.update_yaxes(
        autorange="reversed",
        showticklabels=False,
        scaleanchor="x",
        constrain="domain",
        showline=False,
        ticks="",
        showgrid=False,
    )
    fig.update_xaxes(showticklabels=False, constrain="domain", showline=False, ticks="", showgrid=False)
    return _layout(fig, height, None)


def probability_bars(probs, classes, true_class: int | None = None, height: int = 320) -> go.Figure:
    probs = list(probs)
    best = int(np.argmax(probs))
    colors = ["#2e7d32" if i == best else "#90a4ae" for i in range(len(probs))]
    if true_class is not None and true_class != best:
        colors[best] = "#c62828"
    fig = go.Figure(
        go.Bar(
            x=list(classes),
            y=probs,
            marker_color=colors,
            text=[f"{p:.2f}" for p in probs],
            textposition="outside",
            cliponaxis=False,  # a 0.99's label stands above the axis's top, not cut off by it
        )
    )
    fig.update_yaxes(range=[0, 1.1], title=tr("probability"))
    fig.update_xaxes(type="category", dtick=1)  # every class labelled, digits' "0".."9" included
    return _layout(fig, height, tr("Class probabilities"))


def tile_grid(
    maps: np.ndarray,
    cols: int,
    labels: list[str] | None = None,
    diverging: bool = True,
    title: str | None = None,
    tile_px: int = 150,
) -> go.Figure:
    """Many small 2-D maps (N, h, w) tiled into one heatmap with gaps: fast even for 72 conv filters.

    The figure has its own width and height (each map tile_px wide, gaps a sixth of a map, the colour bar
    beside the last column): shown at its own size, not stretched to the page with the tiles lost in it."""
    n, h, w = maps.shape
    rows = -(-n // cols)
    gap = max(1, round(h / 6))
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[i]
    lim = float(np.nanmax(np.abs(maps))) or 1.0
    scale = dict(zmin=-lim, zmax=lim, zmid=0, colorscale="RdBu") if diverging else dict(colorscale="Greys")
    bar = dict(thickness=14, len=min(1.0, 0.5 + 0.1 * rows), x=1.0, xpad=8, tickfont=dict(size=12))
    if rows == 1:  # one row of small tiles: a bar beside them would be a few pixels tall, its ticks on each other
        bar = dict(orientation="h", thickness=10, len=0.6, x=0, xanchor="left", y=0, yanchor="top", ypad=6,
                   tickfont=dict(size=12), nticks=5)  # fmt: skip
    fig = go.Figure(go.Heatmap(z=grid, hovertemplate="%{z:.3f}<extra></extra>", showscale=True, colorbar=bar, **scale))
    if labels:
        for i, label in enumerate(labels[:n]):
            r, c = divmod(i, cols)
            fig.add_annotation(
                x=c * (w + gap) + (w - 1) / 2,
                y=r * (h + gap) - 0.6,
                text=label,
                showarrow=False,
                font=dict(size=13),
                yanchor="bottom",
            )
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(visible=False, constrain="domain")
    px_per_cell = tile_px / w
    top = 70 if title else 24
    top += 20 if labels else 0
    bottom, right = (56, 20) if rows == 1 else (16, 100)  # the colour bar: under one row, beside several
    width = int(grid.shape[1] * px_per_cell) + right + 10
    height = int(grid.shape[0] * px_per_cell) + top + bottom
    fig = _layout(fig, height, title)
    # the gaps (NaN) show the plot's background: grey lines that part maps whose edges are white (zero)
    fig.update_layout(width=width, margin=dict(l=10, r=right, t=top, b=bottom), plot_bgcolor="#c4c4c4")
    if title:
        fig.update_layout(title=dict(x=0, xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=14)))
    return fig


def bias_bars(b, classes, height: int = 260) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=list(classes),
            y=list(b),
            marker_color=["#c62828" if v < 0 else "#1565c0" for v in b],
            hovertemplate="%{x}: b = %{y:.4f}<extra></extra>",
        )
    )
    fig.update_yaxes(title="b", zeroline=True)
    fig.update_xaxes(type="category")
    return _layout(fig, height, tr("Bias b (one per class)"))


def plain(text: str) -> str:
    """A student's text (a nickname) as literal characters in plotly, which renders tags such as <a>, <b>, <br>
    in names, labels and hovers: escaped as HTML entities, which plotly shows as the characters."""
    return html.escape(str(text), quote=False)


def compare_curves(series: list[tuple[str, list[dict]]], metric: str, title: str, height: int = 380) -> go.Figure:
    """One line per run of a per-epoch metric (rows as stored: dicts with 'epoch' and the metric); the labels
    may hold a student's text."""
    fig = go.Figure()
    for i, (label, rows) in enumerate(series):
        pts = [(r["epoch"], r.get(metric)) for r in rows if r.get(metric) is not None]
        if pts:
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in pts],
                    y=[p[1] for p in pts],
                    mode="lines+markers",
                    name=plain(label),
                    line=dict(color=PALETTE[i % len(PALETTE)], width=3),
                )
            )
    fig.update_xaxes(title=tr("epoch"))
    if "acc" in metric:  # the whole 0-100 % scale, in % as everywhere else: a zoomed axis makes a 1 % gap look huge
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    else:
        fig.update_yaxes(rangemode="tozero")
    return _layout(fig, height, title)


def race_losses(series: list[tuple[str, list[float], list[float]]], height: int = 420) -> go.Figure:
    """Batch losses of racing runs on one shared x axis (epochs), smoothed, so they line up step for step."""
    fig = go.Figure()
    for i, (label, x, losses) in enumerate(series):
        xs, ys = downsample(list(x), ema(losses))
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", name=plain(label), line=dict(color=PALETTE[i % len(PALETTE)], width=3))
        )
    fig.update_xaxes(title=tr("epoch"), rangemode="tozero")
    fig.update_yaxes(title=tr("loss (smoothed)"), rangemode="tozero")
    return _layout(fig, height, tr("Loss per batch"))


def hyper_scatter(
    rows: list[dict], x: str, log_x: bool = False, height: int = 460, font: int = 16, x_title: str | None = None
) -> go.Figure:
    """Each run a dot: a hyperparameter against test accuracy, coloured by model, named by nickname.

    x is the rows' key; x_title the name shown for it (the caller's translated label; the key by default)."""
    x_title = x_title or x
    fig = go.Figure()
    models = sorted({r["model"] for r in rows})
    for i, m in enumerate(models):
        pts = [r for r in rows if r["model"] == m]
        fig.add_trace(
            go.Scatter(
                x=[r[x] for r in pts],
                y=[r["test acc"] for r in pts],
                mode="markers",
                name=m,
                text=[plain(r["nickname"] or tr("anonymous")) for r in pts],
                marker=dict(size=font, color=PALETTE[i % len(PALETTE)], line=dict(width=1)),
                hovertemplate="%{text}<br>" + x_title + " %{x}<br>" + tr("test acc %{y:.3f}") + "<extra></extra>",
            )
        )
    fig.update_xaxes(title=x_title, type="log" if log_x else None, dtick=1 if log_x else None)  # log: powers of 10
    fig.update_yaxes(title=tr("test accuracy"), range=[0, 1.04], tickformat=".0%")
    fig = _layout(fig, height, tr("{x} against test accuracy", x=x_title))
    fig.update_layout(font=dict(size=font))
    return fig


def small_multiples_spec(series: list[tuple[str, list[float]]], cols: int = 6, row_px: int = 110) -> dict:
    """One small loss curve per run (title, its losses), on a grid of `cols` columns: a class of thirty fits a
    1280x720 projector. Each panel has its own y range (a diverging run must not flatten everyone else's), no
    axes' numbers: what a teacher reads is the shape, and who is stuck. A plain figure dict, as the live charts
    (the console redraws it every two seconds, for every run of the class: validating 36 subplots cost 0.17 s)."""
    rows = max(1, -(-len(series) // cols))
    height = 30 + rows * row_px
    gap_x, title_px = 0.02, 22  # between panels; above each, its title
    width = (1 - gap_x * (cols - 1)) / cols
    cell = (height - 30) / height / rows  # a row's share of the height (30 px: the top margin)
    data, annotations, layout = [], [], {}
    for i, (title, losses) in enumerate(series):
        r, c = divmod(i, cols)
        n = "" if i == 0 else str(i + 1)
        x0 = c * (width + gap_x)
        top = 1 - r * cell
        y0, y1 = top - cell + 4 / height, top - title_px / height
        xs, ys = downsample(list(range(len(losses))), ema(losses) if len(losses) else [], max_points=120)
        data.append(
            {
                "type": "scatter",
                "x": np.asarray(xs, dtype=np.float32),  # typed arrays: a third of the bytes of JSON numbers
                "y": np.asarray(ys, dtype=np.float32),
                "xaxis": f"x{n}",
                "yaxis": f"y{n}",
                "name": plain(title),  # what the chart's text alternative says of this panel
                "mode": "lines",
                "line": {"width": 2, "color": PALETTE[0]},
                "hoverinfo": "skip",
            }
        )
        bare = {"showticklabels": False, "ticks": "", "showgrid": False, "zeroline": False, "fixedrange": True}
        layout[f"xaxis{n}"] = {**bare, "domain": [x0, x0 + width], "anchor": f"y{n}", "showline": True}
        layout[f"yaxis{n}"] = {**bare, "domain": [y0, y1], "anchor": f"x{n}", "showline": True, "rangemode": "tozero"}
        annotations.append(
            {
                "text": plain(title),
                "x": x0 + width / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
    return {
        "data": data,
        "layout": {
            "height": height,
            "margin": {"l": 4, "r": 4, "t": 8, "b": 4},
            "font": {**PROJECTOR.layout.font.to_plotly_json(), "size": 13},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "uirevision": "keep",
            "modebar": MODEBAR,
            "showlegend": False,
            "annotations": annotations,
            **layout,
        },
    }


def small_multiples(*args, **kwargs) -> go.Figure:
    return _validated(small_multiples_spec(*args, **kwargs))


def experiment_plot(points: list, spread: list[dict], values: tuple, sweep: str, height: int = 420) -> go.Figure:
    """A class experiment's answer: each student's final test accuracy (left) and loss (right) against the value
    they were handed, one dot each, with the median and the min-max range per value. The values are categories in
    the teacher's order: a learning rate, a batch size or a model name alike."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(tr("test accuracy"), tr("test loss")), horizontal_spacing=0.1)

    def label(v) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    labels = [label(s["value"]) for s in spread]

    for col, attr in ((1, "test_acc"), (2, "test_loss")):
        pts = [p for p in points if getattr(p, attr) is not None]
        fig.add_trace(
            go.Scatter(
                x=[label(p.value) for p in pts],
                y=[getattr(p, attr) for p in pts],
                mode="markers",
                name=tr("a student"),
                showlegend=col == 1,
                text=[plain(p.nickname or tr("anonymous")) for p in pts],
                marker=dict(size=12, color=PALETTE[0], opacity=0.7, line=dict(width=1, color="white")),
                hovertemplate="%{text}<br>%{x}: %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[s["median"] for s in spread],
            mode="lines+markers",
            name=tr("median, min to max"),
            line=dict(color=PALETTE[1], width=3),
            marker=dict(size=10, symbol="diamond"),
            error_y=dict(
                type="data",
                symmetric=False,
                array=[s["max"] - s["median"] for s in spread],
                arrayminus=[s["median"] - s["min"] for s in spread],
                color=PALETTE[1],
            ),
        ),
        row=1,
        col=1,
    )
    # every value the teacher sent, in their order, answered or not yet
    fig.update_xaxes(title=sweep, type="category", categoryorder="array", categoryarray=[label(v) for v in values])
    fig.update_yaxes(range=[0, 1.04], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    return _layout(fig, height, tr("The class's answer: {sweep}", sweep=sweep))


def template_animation(frames: list[tuple[str, np.ndarray]], size: int, classes, height: int = 640) -> go.Figure:
    """The softmax templates forming: weight_templates at each kept point of a run (label, W), played by the
    figure's own ▶ button in the browser (no rerun per frame). Each frame has its own colour scale: the first
    templates are faint, and a shared scale would show them blank."""
    first = weight_templates(frames[-1][1], size, classes, height=height)

    def data(W: np.ndarray) -> list[dict]:
        lim = float(np.abs(W).max()) or 1.0
        return [dict(type="heatmap", z=W[:, c].reshape(size, size), zmin=-lim, zmax=lim) for c in range(len(classes))]

    first.frames = [go.Frame(name=name, data=data(W)) for name, W in frames]
    for trace, frame_trace in zip(first.data, first.frames[0].data):
        trace.z, trace.zmin, trace.zmax = frame_trace.z, frame_trace.zmin, frame_trace.zmax
    play = dict(frame=dict(duration=500, redraw=True), transition=dict(duration=0), fromcurrent=True, mode="immediate")
    first.update_layout(
        margin=dict(l=10, r=10, t=40, b=110),
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                x=0,
                y=-0.04,
                xanchor="left",
                yanchor="top",
                showactive=False,
                buttons=[
                    dict(label=tr("▶ Play"), method="animate", args=[None, play]),
                    dict(label=tr("⏸ Pause"), method="animate", args=[[None], {**play, "mode": "immediate"}]),
                ],
            )
        ],
        sliders=[
            dict(
                active=0,
                x=0.3,
                len=0.7,
                y=-0.02,
                yanchor="top",
                currentvalue=dict(prefix=tr("Weights after ")),
                steps=[
                    dict(label=name, method="animate", args=[[name], {**play, "frame": dict(duration=0, redraw=True)}])
                    for name, _ in frames
                ],
            )
        ],
    )
    return first


# ------------------------------------------------------------------------------ as text, for everyone

MAX_TABLE_CELLS = 1_000  # a chart's data table is offered up to this size (a weight picture's 7,840 numbers are not)


def _title(layout: dict) -> str:
    title = layout.get("title") or {}
    text = title.get("text") if isinstance(title, dict) else title
    return str(text or "")


def _values(v) -> np.ndarray:
    """A trace's array: a list, a numpy array, or plotly's typed form {dtype, bdata, shape}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray([] if v is None else v)


def describe(fig, table: bool = True) -> tuple[str, list[dict]]:
    """A chart as text: one sentence that says what it shows (a screen reader's text alternative), and its data
    as rows for a table (empty when a picture's numbers would be too many to read, or `table` is False: the live
    feed sends the sentence alone, each second)."""
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    data, layout = spec.get("data", []), spec.get("layout", {})
    captions = [_plain_text(a.get("text", "")) for a in layout.get("annotations", []) or []]
    parts, rows = [], []
    maps = [(t, _values(t.get("z")).astype(float)) for t in data if t.get("type") == "heatmap"]
    maps = [(t, z) for t, z in maps if z.ndim == 2 and np.isfinite(z).any()]
    if len(maps) == 1:
        trace, z = maps[0]
        parts.append(
            tr(
                "a {rows} × {cols} grid of values from {low:.3g} to {high:.3g}",
                rows=z.shape[0],
                cols=z.shape[1],
                low=np.nanmin(z),
                high=np.nanmax(z),
            )  # fmt: skip
        )
        ys, xs = trace.get("y"), trace.get("x")
        if table and z.size <= MAX_TABLE_CELLS and ys is not None and xs is not None:
            rows += [{"": str(y), **{str(x): _num(z[i, j]) for j, x in enumerate(xs)}} for i, y in enumerate(ys)]
    elif maps:
        low, high = min(np.nanmin(z) for _, z in maps), max(np.nanmax(z) for _, z in maps)
        h, w = maps[0][1].shape
        parts.append(
            tr(
                "{n} pictures of {rows} × {cols} values, from {low:.3g} to {high:.3g}",
                n=len(maps),
                rows=h,
                cols=w,
                low=low,
                high=high,
            )  # fmt: skip
        )
        names = captions if len(captions) >= len(maps) else [str(i) for i in range(len(maps))]
        rows += [
            {"": name, tr("lowest"): _num(np.nanmin(z)), tr("highest"): _num(np.nanmax(z))}
            for name, (_, z) in zip(names, maps)
        ]
    for trace in data:
        if trace.get("type", "scatter") not in ("scatter", "bar") or trace.get("showlegend", True) is False:
            continue
        ys, xs, name = _values(trace.get("y")), _values(trace.get("x")), _plain_text(trace.get("name") or "")
        shown = [y for y in ys.tolist() if y is not None and y == y]  # NaN and None are gaps
        if not shown:
            continue
        said = ntr("{n} value, {last}", "{n} values, the last {last}", len(shown), last=_num(shown[-1]))
        parts.append(f"{name}: {said}" if name else said)
        if table and len(ys) * 2 <= MAX_TABLE_CELLS:
            rows += [{tr("series"): name, "x": _num(x), "y": _num(y)} for x, y in zip(xs.tolist(), ys.tolist())]
    images = sum(t.get("type") == "image" for t in data)
    if images:
        parts.append(ntr("{n} image", "{n} images", images))
        rows += [{"#": i, "": t} for i, t in enumerate(captions[:images], start=1) if t]
    title = _plain_text(_title(layout))
    summary = "; ".join(parts) if parts else tr("no data yet")
    return (f"{title}: {summary}." if title else f"{summary[:1].upper()}{summary[1:]}."), rows if table else []


def _plain_text(text: str) -> str:
    return html.unescape(str(text)).replace("<br>", " ")


def _num(v):
    """A number as a table shows it, to 4 significant digits; anything else (a class name) as text."""
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return float(f"{float(v):.4g}")
    return str(v)
