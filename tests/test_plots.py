"""The live charts' figures: what a student sees while a run trains, and what keeps each redraw cheap."""

import numpy as np

from core import plots
from tests.conftest import plotly_array


def test_batch_loss_spans_the_whole_run_and_keeps_its_margins():
    steps, losses = np.arange(50), np.linspace(2.3, 0.5, 50)
    fig = plots.batch_loss(steps, losses, batches_per_epoch=10, total_epochs=8).to_plotly_json()
    layout = fig["layout"]
    # like d2l's Animator: the x axis is the whole run from the first batch, so the curve shows how far it got
    assert list(layout["xaxis"]["range"]) == [0, 8]
    assert plotly_array(fig["data"][0]["x"])[-1] == np.float32(4.9)
    # fixed margins, no automargin: plotly would measure the labels and draw each refresh twice
    assert layout["xaxis"]["automargin"] is False and layout["yaxis"]["automargin"] is False
    assert layout["margin"]["l"] >= 60 and layout["margin"]["b"] >= 50
    assert layout["uirevision"] == "keep"


def test_batch_loss_without_a_run_length_grows_from_zero():
    fig = plots.batch_loss([0, 1, 2], [1.0, 0.9, 0.8], batches_per_epoch=None).to_plotly_json()
    assert "range" not in fig["layout"]["xaxis"] and fig["layout"]["xaxis"]["rangemode"] == "tozero"
    assert fig["layout"]["xaxis"]["title"]["text"] == "batch"


def test_epoch_curves_fixed_margins_too():
    rows = [{"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "val_acc": None, "test_acc": 0.79}]
    layout = plots.epoch_curves(rows, 10).to_plotly_json()["layout"]
    assert list(layout["xaxis"]["range"]) == [0.5, 10.5] and layout["yaxis"]["automargin"] is False


def test_live_specs_are_valid_plotly_figures_sent_as_they_are():
    """The Train page sends the plain `*_spec` dicts unvalidated (a go.Figure costs the server ~10x more per
    redraw): plotly must accept every property in them, and the browser get the same traces as a go.Figure."""
    import json

    import plotly.graph_objects as go

    from ui.feed import figure_json

    rows = [{"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "val_acc": 0.4, "test_acc": None} for e in (1, 2)]
    for spec in (
        plots.batch_loss_spec(np.arange(3000), np.random.rand(3000), 300, total_epochs=10),
        plots.batch_loss_spec([], [], 1, smooth=False),
        plots.epoch_curves_spec(rows, 5),
        plots.epoch_curves_spec([], None),
    ):
        fig = go.Figure(spec["data"], spec["layout"])  # raises on any property plotly does not know
        sent = json.loads(figure_json(spec))
        assert sent["data"] == json.loads(fig.to_json())["data"]
        for trace in sent["data"]:
            assert len(plotly_array(trace["x"])) <= plots.MAX_LINE_POINTS


def test_per_epoch_chart_gives_loss_and_accuracy_their_own_labelled_axes():
    rows = [{"epoch": 1, "train_loss": 2.3, "train_acc": 0.8, "val_acc": None, "test_acc": 0.79}]
    spec = plots.epoch_curves_spec(rows, 1)
    axis_of = {t["name"]: t.get("yaxis", "y") for t in spec["data"]}
    assert axis_of == {"train loss": "y", "train acc": "y2", "test acc": "y2"}
    layout = spec["layout"]
    assert layout["yaxis"]["title"]["text"] == "loss" and layout["yaxis2"]["title"]["text"] == "accuracy"
    assert layout["yaxis2"]["range"] == [0, 1.02] and layout["yaxis2"]["side"] == "right"
    # a one-epoch run: its point is drawn as a marker inside the x range
    assert all(t["mode"] == "lines+markers" for t in spec["data"]) and layout["xaxis"]["range"] == [0.5, 1.5]


def test_hyper_scatter_shows_the_callers_name_for_the_axis_and_keeps_the_key_by_default():
    rows = [{"model": "mlp", "batch_size": 64, "test acc": 0.9, "nickname": None}]
    fig = plots.hyper_scatter(rows, "batch_size")
    assert fig.layout.xaxis.title.text == "batch_size" and fig.layout.title.text == "batch_size against test accuracy"
    assert list(fig.data[0].text) == ["anonymous"]
    fig = plots.hyper_scatter(rows, "batch_size", x_title="Batch size")
    assert fig.layout.xaxis.title.text == "Batch size" and "Batch size %{x}" in fig.data[0].hovertemplate
    assert list(fig.data[0].x) == [64]
