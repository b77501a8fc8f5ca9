"""AppTest for the pages of issue 'Runs that last': compare, race, board, checkpoint download and upload."""

import time

from core.config import TrainConfig
from core.jobs import JobManager
from core.recorder import Recorder
from tests.conftest import app, live_charts, start_job, until
from ui.services import current


def train_from_page(at, lr, nick="ada"):
    at.switch_page("pages/train.py").run()
    at.text_input(key="w_nick").input(nick).run()
    at.number_input(key="w_epochs").set_value(2).run()
    at.select_slider(key="w_lr").set_value(lr).run()
    return start_job(at)


def test_same_seed_race_gives_identical_first_batch_losses():
    mgr = JobManager(cap=2)
    cfg = TrainConfig(dataset="digits", model="mlp", lr=0.1, batch_size=32, epochs=1, seed=5)
    a, b = mgr.submit(cfg), mgr.submit(cfg)
    c = mgr.submit(cfg.with_(lr=0.01))
    for j in (a, b, c):
        assert j.wait(60)
    la, lb, lc = (j.snapshot().losses for j in (a, b, c))
    assert la[0] == lb[0] == lc[0]  # same weights, same first batch, loss taken before the update
    assert la == lb  # identical configs race identically
    assert la[1] != lc[1]  # the lr changes the second step on
    mgr.close()


def test_race_page_runs_two_jobs_and_shows_both():
    at = app().switch_page("pages/race.py").run()
    assert not at.exception
    at.selectbox(key="race_field").select("lr").run()
    next(b for b in at.button if "race" in b.label).click().run()
    jobs = [current().jobs.get(i) for i in at.session_state["race_ids"]]
    for j in jobs:
        assert j.wait(60)
    at.run()
    assert not at.exception
    charts = live_charts(at)
    assert {"race_loss", "race_acc"} <= set(charts) and len(charts["race_loss"]["data"]) == 2
    first = next(m.value for m in at.markdown if m.value.startswith("First-batch loss"))
    la, lb = (j.snapshot().losses[0] for j in jobs)
    assert f"{la:.4f}" in first and la == lb


def test_the_race_pauses_and_steps_both_sides_together():
    at = app().switch_page("pages/race.py").run()
    next(b for b in at.button if "race" in b.label).click().run()
    jobs = [current().jobs.get(i) for i in at.session_state["race_ids"]]
    assert all(j.wait_first_batch(30) for j in jobs)
    next(b for b in at.button if b.label == "⏸ Pause both").click().run()
    assert all(j.snapshot().paused for j in jobs)
    time.sleep(0.3)
    held = [j.snapshot().last_batch.step for j in jobs]
    next(b for b in at.button if b.label == "⏭ Step both").click().run()
    until(lambda: all(j.snapshot().stepped for j in jobs), 10, 0.05)
    assert [j.snapshot().last_batch.step for j in jobs] == [h + 1 for h in held]
    at.run()
    assert not at.exception and sum(c.value.startswith("Step ") for c in at.caption) == 2
    next(b for b in at.button if b.label == "▶ Resume both").click().run()
    assert not any(j.snapshot().paused for j in jobs)
    next(b for b in at.button if b.label == "■ Stop both").click().run()
    assert all(j.wait(10) for j in jobs)


def test_compare_page_overlays_runs_and_states_the_difference():
    at = app()
    j1, j2 = train_from_page(at, 0.1), train_from_page(at, 1.0)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    at.multiselect(key="cmp_runs").set_value([j1.id, j2.id]).run()
    assert "What differs: lr" in at.caption[0].value
    assert {"cmp_loss", "cmp_tacc", "cmp_vacc"} <= {c.key for c in at.get("plotly_chart")}
    table = at.dataframe[0].value
    assert sorted(table["lr"]) == [0.1, 1.0] and table["state"].tolist() == ["done", "done"]
    at.checkbox(key="cmp_sure").check().run()
    next(b for b in at.button if b.label == "Delete selected").click().run()
    assert current().store().get(j1.id) is None and current().store().get(j2.id) is None


def test_board_lists_everyones_runs_and_has_a_presenter_view():
    other_session = app()
    train_from_page(other_session, 0.3, nick="grace")
    at = app().switch_page("pages/board.py").run()
    assert not at.exception
    assert "grace" in at.dataframe[0].value["nickname"].tolist()
    assert "board_scatter" in {c.key for c in at.get("plotly_chart")}
    at.toggle(key="presenter").set_value(True).run()
    assert not at.exception and "nickname" in at.table[0].value  # the ranking (then the scatter's data)


def test_a_loaded_checkpoint_shows_on_results_and_inside_with_the_same_accuracy():
    from core import data as D
    from core.checkpoint import checkpoint_bytes, load_checkpoint
    from ui.loading import snapshot_from_checkpoint

    at = app()
    job = train_from_page(at, 0.3)
    at.switch_page("pages/results.py").run()
    assert len(at.get("download_button")) == 1  # the weights can be downloaded
    done = job.snapshot().done
    blob = checkpoint_bytes(job.config.to_dict(), done.weights, done.test_acc)  # what the button serves
    fresh = app()  # another student's session uploads it
    fresh.session_state["loaded_snapshot"] = snapshot_from_checkpoint(load_checkpoint(blob), D.load("digits"), "ada.pt")
    fresh.switch_page("pages/results.py").run()
    assert not fresh.exception
    assert fresh.metric[0].value == f"{done.test_acc:.1%}"
    assert {"res_grid", "res_cm"} <= {c.key for c in fresh.get("plotly_chart")}
    fresh.switch_page("pages/inside.py").run()
    assert not fresh.exception and "in_templates" in {c.key for c in fresh.get("plotly_chart")}


def test_runs_are_persisted_while_training():
    at = app()
    job = train_from_page(at, 0.1, nick="linus")
    run = current().store().get(job.id)
    assert run["nickname"] == "linus" and run["state"] == "done" and len(current().store().epochs(job.id)) == 2


def test_board_ranks_the_students_leaves_races_out_and_opens_on_the_class_dataset(own_services):
    store = own_services.store()  # a store of this class alone
    fashion = TrainConfig(dataset="fashion-mnist")
    for run_id, nick, cfg, acc, tag in (
        ("r1", "ada", fashion, 0.81, ""),
        ("r2", "bob", fashion, 0.84, ""),
        ("r3", "cy", fashion, None, ""),  # still training
        ("r4", "race A", fashion, 0.99, "race"),
        ("r5", "dee", TrainConfig(), 0.95, ""),
        ("r6", "eve", fashion.with_(lr=0.01), 0.84, ""),  # as good as bob: they share a rank
    ):
        store.start(run_id, cfg, nick, tag=tag)
        if acc is not None:
            store._write("UPDATE runs SET state='done', test_acc=? WHERE id=?", (acc, run_id))
    at = app().switch_page("pages/board.py").run()
    assert not at.exception
    assert at.selectbox(key="board_dataset").value == "fashion-mnist"  # where most runs are
    table = at.dataframe[0].value
    assert set(table["nickname"][:2]) == {"bob", "eve"} and table["nickname"].tolist()[2:] == ["ada", "cy"]
    assert table["rank"].tolist() == ["1", "1", "3", "—"]  # ties share a rank; a run training has none yet
    assert table["s/epoch"].tolist() == ["—"] * 4  # no "None" in a table
    assert list(table.columns) == ["rank", "nickname", "model", "lr", "test acc", "state", "s/epoch"]  # what varies
    at.toggle(key="presenter").set_value(True).run()
    assert not at.exception and "Fashion-MNIST" in at.title[0].value
    top = at.table[0].value
    assert list(top.index) == [1, 1, 3] and top["nickname"].tolist()[2] == "ada"


def test_a_link_to_a_run_opens_it_from_the_store_after_the_server_forgot_the_job():
    """?run=<id> on Results and Inside: any run the store keeps, its model from its checkpoint; Compare links it."""
    elsewhere = JobManager(listeners=(Recorder(current().store()),))  # another server process, long gone
    job = elsewhere.submit(TrainConfig(epochs=2, lr=1.0))
    assert job.wait(60) and current().jobs.get(job.id) is None
    acc = job.snapshot().done.test_acc
    at = app()
    at.query_params["run"] = job.id
    at.switch_page("pages/results.py").run()
    assert not at.exception
    assert at.metric[0].value == f"{acc:.1%}" and "res_cm" in {c.key for c in at.get("plotly_chart")}
    at.switch_page("pages/inside.py").run()
    assert not at.exception and "in_templates" in {c.key for c in at.get("plotly_chart")}
    at.query_params.clear()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="cmp_runs").set_value([job.id]).run()
    links = [link.proto for link in at.get("page_link")]
    assert any(job.id in link.query_string and "results" in link.page for link in links), links
    elsewhere.close()
