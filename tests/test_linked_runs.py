"""A link to a run (Compare's Open: ?run=<id>) opens that run on Results and Inside, says whose it is, and says
when it cannot be shown yet: never the viewer's own run in its place."""

from core.config import TrainConfig
from tests.conftest import app, start_job


def test_open_shows_the_named_run_and_whose_it_is_or_that_it_is_still_training(own_services):
    at = app()  # this student's own run, which a link must not replace
    at.number_input(key="w_epochs").set_value(1).run()
    start_job(at)
    store = own_services.store()  # another student's runs, as the class's store keeps them
    store.start("ada-1", TrainConfig(lr=0.1), "ada")
    store.finish("ada-1", "stopped", None)
    store.start("ada-2", TrainConfig(model="mlp"), "ada")  # still training
    for page in ("pages/results.py", "pages/inside.py"):
        at.query_params["run"] = "ada-1"
        at.switch_page(page).run()
        assert not at.exception
        assert any("Showing ada's run" in c.value and "lr 0.1" in c.value for c in at.caption), page
        at.query_params["run"] = "ada-2"
        at.switch_page(page).run()
        assert not at.exception
        assert any("ada's run" in i.value and "still training" in i.value for i in at.info), page
        assert not at.get("plotly_chart")  # nothing of this student's own run in its place
        at.query_params["run"] = "gone-0"
        at.switch_page(page).run()
        assert any("There is no run gone" in w.value for w in at.warning), page
    store.finish("ada-2", "done", None, test_acc=0.9)  # it ended: now it opens
    at.query_params["run"] = "ada-2"
    at.switch_page("pages/results.py").run()
    assert any("Showing ada's run" in c.value and "MLP" in c.value for c in at.caption)
