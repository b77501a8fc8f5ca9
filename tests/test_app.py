"""AppTest: every page renders on digits; a run started from the Train page finishes and fills Results."""

import json

import pytest

from tests.conftest import PAGES, app, live_charts, live_views, plotly_array, start_job, until


def button(at, text):
    return next(b for b in at.button if text in b.label)


def wait_for(at, state):
    """Start, then poll as the fragment would until the run ends; it must end in `state`."""
    job = start_job(at, follow=True)
    assert job.state == state, (job.state, job.snapshot().message)
    return job


def no_errors(at):
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page):
    at = app()
    no_errors(at.switch_page(page).run())
    assert at.title


def test_train_on_digits_then_results_show_grid_and_matrix():
    at = no_errors(app())
    at.number_input(key="w_epochs").set_value(3)
    job = wait_for(at, "done")
    no_errors(at)
    assert job.snapshot().done.test_acc > 0.5
    # the ended run keeps the running view's place: its heading and result line, then the figures below
    view = live_views(at)["live"]
    assert "Done" in view["head"] and "test accuracy" in view["progress"]["text"]
    assert [m.label for m in at.metric][:2] == ["Test accuracy", "Test loss"]
    charts = live_charts(at)
    assert set(charts) == {"chart_loss", "chart_epochs"}
    s = job.snapshot()
    loss_x = plotly_array(charts["chart_loss"]["data"][0]["x"])  # x = step / batches per epoch
    assert len(loss_x) == len(s.steps) and loss_x[-1] == pytest.approx(s.steps[-1] / s.started.batches_per_epoch)
    assert list(plotly_array(charts["chart_epochs"]["data"][0]["x"])) == [1, 2, 3]
    no_errors(at.switch_page("pages/results.py").run())
    assert [h.value for h in at.header] == ["Sample predictions", "Confusion matrix", "Per class"]
    assert {"res_grid", "res_cm"} <= {c.key for c in at.get("plotly_chart")}
    assert len(at.dataframe[0].value) == 10
    at.toggle(key="res_wrong").set_value(True).run()
    at.toggle(key="res_norm").set_value(True).run()
    no_errors(at)
    at.selectbox(key="res_true").select("3").run()
    at.selectbox(key="res_pred").select("8").run()
    no_errors(at)
    assert any("of **3** predicted as **8**" in m.value for m in at.markdown)
    at.toggle(key="res_wrong").set_value(False).run()
    at.selectbox(key="res_pred").select("3").run()  # the diagonal cell: the correctly classified 3s
    assert "res_cell_grid" in {c.key for c in at.get("plotly_chart")}


def test_stop_ends_a_running_job():
    at = no_errors(app())
    at.number_input(key="w_batch").set_value(1)
    at.number_input(key="w_epochs").set_value(20)
    job = start_job(at, wait=None)
    # the click's own run already shows the job (Start runs as a callback, before the page)
    assert button(at, "Start").disabled is True and button(at, "Stop").disabled is False
    head = live_views(at)["live"]["head"]  # running or queued: in the live view
    assert "Running" in head or "Queued" in head
    assert until(lambda: job.snapshot().last_batch is not None, 30, 0.05)
    at.run()
    assert button(at, "Stop").disabled is False and button(at, "Start").disabled is True
    # while it runs, everything that changes each second is in one live view: heading, bar and both charts
    view = live_views(at)["live"]
    assert view["head"].startswith("🏃 Running") and "epoch 1/20" in view["progress"]["text"]
    assert 0 < view["progress"]["value"] < 1 and list(view["figures"]) == ["chart_loss", "chart_epochs"]
    assert not at.subheader and not at.get("progress")
    button(at, "Stop").click().run()
    assert job.wait(5)
    at.run()
    assert job.state == "stopped" and live_views(at)["live"]["head"].startswith("⏹️ Stopped")
    assert "Stopped by request" in at.warning[0].value


@pytest.mark.parametrize(
    "optimizer, change, update",
    [("sgd", "− η·dW", r"\eta\,\mathrm{d}\mathbf{W}"), ("adam", "− η·m̂ / (√v̂ + ε)", r"\sqrt{\hat{\mathbf{v}}}")],
)
def test_pause_step_and_resume_from_the_train_page(optimizer, change, update):
    """Step lays open the update that ran: SGD's -η·dW, or Adam's own rule (its running moments), not SGD's."""
    at = no_errors(app())
    at.radio(key="w_optimizer").set_value(optimizer)
    at.select_slider(key="w_lr").set_value(0.01)
    at.number_input(key="w_batch").set_value(1)
    at.number_input(key="w_epochs").set_value(20)
    job = start_job(at, wait="first batch", timeout=30)
    assert button(at, "Step").disabled  # only a paused run steps
    button(at, "Pause").click().run()
    assert job.snapshot().paused and live_views(at)["live"]["head"].startswith("⏸️ Paused")
    assert not button(at, "Step").disabled and button(at, "Resume")
    held = job.snapshot().last_batch.step
    button(at, "Step").click().run()
    no_errors(at)
    assert job.snapshot().last_batch.step == held + 1
    shown = [m.label for m in at.metric]
    assert f"Loss on step {held + 1}'s batch, before" in shown and "After the step" in shown
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in at.get("plotly_chart")]
    assert [t.split(" · ")[0] for t in titles if t and " · " in t] == ["W before", f"{change}: the change", "W after"]
    assert any(update in m.value for m in at.latex)
    button(at, "Resume").click().run()
    assert not job.snapshot().paused and button(at, "Pause")
    button(at, "Stop").click().run()
    assert job.wait(5)


def test_presets_fill_the_controls():
    at = no_errors(app())
    assert at.selectbox(key="w_preset").value == "custom"  # the defaults are no recipe
    at.selectbox(key="w_preset").select("seed-cnn").run()  # choosing a recipe sets the controls at once
    assert at.selectbox(key="w_dataset").value == "fashion-mnist"
    assert at.selectbox(key="w_model").value == "cnn"
    assert at.radio(key="w_optimizer").value == "adam"
    assert at.select_slider(key="w_lr").value == 0.01
    assert at.number_input(key="w_batch").value == 100 and at.number_input(key="w_epochs").value == 2
    assert at.selectbox(key="w_preset").value == "seed-cnn"
    at.selectbox(key="w_preset").select("mnist-logreg").run()
    assert at.slider(key="w_val").value == 0.2 and at.select_slider(key="w_lr").value == 0.001
    at.radio(key="w_pace").set_value("slow").run()
    assert at.selectbox(key="w_preset").value == "mnist-logreg"  # slow motion is still the recipe
    at.number_input(key="w_epochs").set_value(6).run()
    assert at.selectbox(key="w_preset").value == "custom"  # the box says what the controls hold


def test_controls_survive_a_page_switch():
    at = no_errors(app())
    at.number_input(key="w_epochs").set_value(7).run()
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="w_epochs").value == 7


def test_missing_dataset_offers_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setattr("core.data.SYSTEM_DIRS", {})
    monkeypatch.setattr(
        "core.data.download",
        lambda name, root=None, **k: (_ for _ in ()).throw(
            __import__("core.data").data.DatasetMissing(__import__("core.data").data.missing_message(name, root))
        ),
    )
    at = app().switch_page("pages/data.py").run()
    at.selectbox(key="w_dataset").select("fashion-mnist").run()
    assert "train-images-idx3-ubyte" in at.error[0].value
    button(at, "digits").click().run()
    no_errors(at)
    assert at.selectbox(key="w_dataset").value == "digits" and not at.error


def test_diverging_run_explains_itself_and_keeps_the_curve():
    at = no_errors(app())
    at.selectbox(key="w_model").select("mlp").run()
    at.radio(key="w_optimizer").set_value("adam").run()
    at.select_slider(key="w_lr").set_value(3.0).run()
    at.number_input(key="w_epochs").set_value(5).run()
    job = wait_for(at, "failed")
    assert "learning rate (3) is probably too high" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert len(job.snapshot().losses) > 0 and set(live_charts(at)) == {"chart_loss", "chart_epochs"}


def test_the_slow_run_warning_shows_only_for_a_slow_run(monkeypatch):
    at = no_errors(app())
    assert not at.warning  # the default digits run takes well under a second
    monkeypatch.setattr("core.train.estimate_seconds", lambda cfg, ds, threads=None: 600.0)
    at.number_input(key="w_epochs").set_value(77).run()  # a config the estimate cache has not seen
    assert "about 10 min" in at.warning[0].value


def test_a_run_with_too_high_a_rate_ends_with_an_explanation_and_a_slow_one_with_a_hint():
    at = no_errors(app())
    at.radio(key="w_pace").set_value("full").run()
    at.selectbox(key="w_model").select("mlp").run()
    at.radio(key="w_optimizer").set_value("adam").run()
    at.select_slider(key="w_lr").set_value(0.3).run()
    at.number_input(key="w_epochs").set_value(3).run()
    wait_for(at, "done")
    assert "Done" in live_views(at)["live"]["head"]
    assert "learning rate (0.3) is too high" in at.warning[0].value
    at.selectbox(key="w_model").select("softmax").run()
    at.radio(key="w_optimizer").set_value("sgd").run()
    at.select_slider(key="w_lr").set_value(0.0001).run()
    wait_for(at, "done")
    assert "probably too low" in at.info[0].value and not at.warning


def test_settings_live_in_the_url_and_a_link_brings_them_back():
    at = no_errors(app(model="mlp", lr="0.01", epochs="7", batch_size="oops", dataset="nope"))
    assert at.selectbox(key="w_model").value == "mlp" and at.select_slider(key="w_lr").value == 0.01
    assert at.number_input(key="w_epochs").value == 7
    assert at.number_input(key="w_batch").value == 32 and at.selectbox(key="w_dataset").value == "digits"  # bad: left
    at.number_input(key="w_batch").set_value(64).run()
    assert at.query_params["batch_size"] == "64" and at.query_params["model"] == "mlp"
    assert "dataset" not in at.query_params  # defaults stay out of the link
