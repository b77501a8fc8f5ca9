"""Compare with runs that look alike: two runs of the same settings by the same (anonymous) student."""

from core.config import TrainConfig
from core.jobs import JobManager
from core.recorder import Recorder
from tests.conftest import app


def test_two_identical_runs_can_be_compared_and_deleted(own_services):
    store = own_services.store()
    mgr = JobManager(listeners=(Recorder(store),))
    a, b = mgr.submit(TrainConfig(epochs=1)), mgr.submit(TrainConfig(epochs=1))
    assert a.wait(60) and b.wait(60)
    at = app()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="cmp_runs").set_value([a.id, b.id]).run()
    assert not at.exception
    assert at.multiselect(key="cmp_runs").value == [a.id, b.id]  # both, not one twice
    assert "nothing but the run" in at.caption[0].value and len(at.dataframe[0].value) == 2
    at.checkbox(key="cmp_sure").check().run()
    next(b for b in at.button if b.label == "Delete selected").click().run()
    assert not at.exception and store.get(a.id) is None and store.get(b.id) is None
    mgr.close()
