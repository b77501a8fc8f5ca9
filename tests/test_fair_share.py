"""A busy class server is shared fairly: no student fills it, the queue takes turns, a short run does not wait
behind long ones, and a student who is refused is told why."""

import pytest

import core.jobs as J
from core.config import TrainConfig
from tests.conftest import app, start_job, until
from ui.services import current

CFG = TrainConfig(dataset="digits", model="softmax", lr=0.5, batch_size=64, epochs=2)
SLOW = CFG.with_(batch_size=1, epochs=5)  # ~7,500 steps: long enough to queue behind


def test_one_student_cannot_fill_the_server_and_is_told_why():
    mgr = J.JobManager(cap=2, per_student=3)
    try:
        mine = [mgr.submit(SLOW, student="tab-1") for _ in range(3)]
        with pytest.raises(J.LimitReached, match="stop one, or wait"):
            mgr.submit(SLOW, student="tab-1")
        with pytest.raises(J.LimitReached):  # the same nickname from another tab counts too
            other_tab = [mgr.submit(SLOW, student="tab-2", nickname="ada") for _ in range(3)]
            mgr.submit(SLOW, student="tab-3", nickname="ada")
        assert mgr.submit(SLOW, student="tab-9").state in ("queued", "running")  # another student still can
        mine[0].stop()
        assert mine[0].wait(5)
        assert mgr.submit(SLOW, student="tab-1")  # a place freed: the student may start again
        del other_tab
    finally:
        mgr.close()


def test_the_queue_serves_students_with_fewer_runs_first():
    mgr = J.JobManager(cap=1)
    try:
        ada = [mgr.submit(SLOW, student="ada") for _ in range(3)]  # one trains, two wait
        bob = mgr.submit(SLOW, student="bob")
        assert ada[0].state == "running"
        assert bob.snapshot().queue_position == 1  # ahead of ada's second and third
        assert [j.snapshot().queue_position for j in ada[1:]] == [2, 3]
        ada[0].stop()
        until(lambda: bob.state == "running", 10, 0.01)
        assert bob.state == "running" and ada[1].state == "queued"
    finally:
        mgr.close()


def test_a_short_run_does_not_wait_behind_long_ones():
    mgr = J.JobManager(cap=1)
    try:
        long = mgr.submit(SLOW, student="ada", estimate_s=600)
        short = mgr.submit(CFG, student="bob", estimate_s=1)  # takes the express slot at once
        second_short = mgr.submit(CFG, student="cy", estimate_s=1)  # one express slot: it waits its turn
        long_two = mgr.submit(SLOW, student="dee", estimate_s=600)
        assert (
            long.state == "running" and short.state in ("running", "done") and short.snapshot().queue_position is None
        )
        assert short.wait(60) and short.state == "done"
        assert second_short.wait(60) and second_short.state == "done"  # then it took the express slot
        assert long_two.state == "queued"  # the long one waits for a normal slot
    finally:
        mgr.close()


def test_the_train_page_says_why_a_start_was_refused(monkeypatch):
    monkeypatch.setattr(current().jobs, "per_student", 1)
    first = app()
    first.text_input(key="w_nick").input("ada").run()
    first.number_input(key="w_epochs").set_value(100).run()  # slow motion: it runs on while the second tab tries
    job = start_job(first, wait=None)
    second = app()  # ada's second tab
    second.text_input(key="w_nick").input("ada").run()
    next(b for b in second.button if "Start" in b.label).click().run()
    assert not second.exception and "stop one, or wait" in second.warning[-1].value
    assert "job_id" not in second.session_state  # nothing started
    job.stop()
