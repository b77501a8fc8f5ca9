"""The lesson a teacher leads (core/classroom.py, the store's class tables): the experiment's values parsed and
handed out evenly and once, on both backends and from many threads at once; its points; the CSV's safe cells."""

from __future__ import annotations

import csv
import io
import threading

import pytest

from core import store as S
from core.classroom import Exercise, csv_text, experiment_csv, parse_values, points, runs_csv, safe_cell, spread
from core.config import TrainConfig
from core.store import RunStore

CFG = TrainConfig(epochs=1)


def test_values_are_parsed_as_the_field_is_typed():
    assert parse_values("lr", "0.01, 0.1, 0.3, 1, 3, 10") == ((0.01, 0.1, 0.3, 1.0, 3.0, 10.0), [])
    assert parse_values("batch_size", "8; 32，128") == ((8, 32, 128), [])  # ; and the Chinese comma too
    assert parse_values("model", "softmax, mlp, cnn") == (("softmax", "mlp", "cnn"), [])


@pytest.mark.parametrize(
    "sweep, text, says",
    [
        ("lr", "0.1, 0.2", "not on the slider"),  # a student's slider cannot show 0.2
        ("lr", "0.1, fast", "not a number"),
        ("batch_size", "32, 1.5", "whole number"),
        ("batch_size", "32, 0", "whole number"),
        ("model", "softmax, resnet", "not one of"),
        ("lr", "0.1, 0.1", "listed twice"),
        ("lr", "0.1", "at least two values"),
        ("seed", "1, 2", "sweeps one of"),
    ],
)
def test_impossible_values_say_why(sweep, text, says):
    values, problems = parse_values(sweep, text)
    assert problems and any(says in p for p in problems), problems


def test_an_exercise_round_trips_and_hands_each_value_its_config():
    ex = Exercise("LR", CFG, ("batch_size",), "lr", (0.01, 0.1, 1.0))
    back = Exercise.from_dict(ex.to_dict())
    assert back == ex
    assert back.frozen == ("batch_size", "lr") and back.tag == "experiment:" + ex.id
    assert back.config_for(2).lr == 1.0 and back.config_for(2).batch_size == CFG.batch_size
    assert Exercise("plain", CFG).tag == "" and Exercise("plain", CFG).config_for(None) == CFG


def test_the_store_keeps_the_exercise_and_hands_values_out_evenly_and_once(store_where):
    store = RunStore(store_where)
    assert store.class_value("exercise") is None
    ex = Exercise("LR", CFG, (), "lr", (0.01, 0.1, 1.0))
    store.set_class_value("exercise", ex.to_dict())
    assert Exercise.from_dict(store.class_value("exercise")) == ex
    handed = [store.hand_out(ex.id, f"name:s{i}", 3) for i in range(7)]
    assert handed == [0, 1, 2, 0, 1, 2, 0]  # in turn, whatever the arrival order
    assert store.hand_out(ex.id, "name:s1", 3) == 1  # the same student keeps their value
    assert store.handed(ex.id) == {f"name:s{i}": v for i, v in enumerate(handed)}
    store.set_class_value("exercise", None)
    assert store.class_value("exercise") is None


def test_values_are_handed_out_once_when_thirty_students_ask_at_once(store_where):
    """Thirty threads, each a student on some replica, each with its own connection: every student gets one value,
    and the values are spread exactly evenly (the table is held while counting)."""
    RunStore(store_where)  # the schema, once
    got: dict[str, int] = {}
    errors = []

    def ask(i: int) -> None:
        try:
            got[f"s{i}"] = RunStore(store_where).hand_out("ex1", f"s{i}", 3)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(got.values()).count(0) == sorted(got.values()).count(1) == sorted(got.values()).count(2) == 10
    assert RunStore(store_where).handed("ex1") == got


def test_a_schema_7_store_gains_the_class_tables(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    store.start("old-run", CFG, "ada")
    with store._transaction() as cur:  # the store as schema 7 left it
        cur.execute("DROP TABLE class_state")
        cur.execute("DROP TABLE handed_out")
        cur.execute("UPDATE meta SET value='7' WHERE key='schema_version'")
    reopened = RunStore(tmp_path / "runs.db")
    assert reopened.schema_version() == S.SCHEMA_VERSION == 9
    assert reopened.get("old-run")["nickname"] == "ada"
    assert reopened.hand_out("ex", "ada", 2) == 0


def run(i: int, ex: Exercise, value, acc: float, nickname: str, started: float = 0.0) -> dict:
    return {
        "id": f"r{i}",
        "nickname": nickname,
        "config": ex.config.with_(**{ex.sweep: value}).to_dict(),
        "state": "done",
        "started_at": 1_700_000_000.0 + started,
        "ended_at": 1_700_000_030.0 + started,
        "test_acc": acc,
        "test_loss": None if acc is None else 1 - acc,
        "train_s_per_epoch": 1.5,
        "tag": ex.tag,
    }


def test_points_take_each_students_newest_run_of_the_experiment():
    ex = Exercise("LR", CFG, (), "lr", (0.01, 0.1, 1.0))
    runs = [
        run(1, ex, 0.1, 0.80, "ada", started=0),
        run(2, ex, 0.1, 0.90, "ada", started=10),  # ada's newer run on the same value replaces her first
        run(3, ex, 1.0, 0.40, "bo"),
        run(4, ex, 0.01, 0.60, "cy"),
        dict(run(5, ex, 0.1, 0.99, "dee"), tag=""),  # not a run of the experiment
        dict(run(6, ex, 0.1, None, "eve"), state="running"),  # not finished
    ]
    pts = points(ex, runs)
    assert [(p.value, p.nickname, p.test_acc) for p in pts] == [(0.01, "cy", 0.6), (0.1, "ada", 0.9), (1.0, "bo", 0.4)]
    assert [(s["value"], s["n"], s["median"]) for s in spread(pts)] == [(0.01, 1, 0.6), (0.1, 1, 0.9), (1.0, 1, 0.4)]


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"])
def test_a_nickname_is_never_a_formula_in_the_csv(text):
    assert safe_cell(text) == "'" + text
    rows = list(csv.reader(io.StringIO(csv_text(["nickname", "acc"], [[text, 0.5]]), newline="")))
    assert rows[1][0] == "'" + text and rows[1][1] == "0.5"


def test_the_class_csv_has_every_setting_and_reads_back():
    ex = Exercise("LR", CFG, (), "lr", (0.01, 0.1))
    runs = [run(1, ex, 0.1, 0.9, "=1+1"), run(2, ex, 0.01, 0.7, "bo")]
    table = list(csv.DictReader(io.StringIO(runs_csv(runs))))
    assert [r["nickname"] for r in table] == ["'=1+1", "bo"]
    assert table[0]["lr"] == "0.1" and table[0]["test_acc"] == "0.9" and table[0]["seconds"] == "30.0"
    assert table[0]["model"] == CFG.model and table[0]["tag"] == ex.tag
    exp = list(csv.DictReader(io.StringIO(experiment_csv(ex, points(ex, runs)))))
    assert [(r["nickname"], r["lr"]) for r in exp] == [("bo", "0.01"), ("'=1+1", "0.1")]


def test_only_a_server_students_can_reach_makes_a_passcode(monkeypatch):
    """Secure by default, as Jupyter's token: 127.0.0.1 (the laptop, .streamlit/config.toml) is one user's; bound
    beyond loopback (or unset: every interface) with no TEACHER_PASSCODE, the server makes one and prints it."""
    from ui import roles

    monkeypatch.delenv("TEACHER_PASSCODE", raising=False)
    monkeypatch.setattr(roles, "_made", None)
    for address in ("127.0.0.1", "127.0.1.1", "localhost", "::1"):
        assert roles.serve(address, 8501) is None and roles.passcode() is None
    notice = roles.serve("0.0.0.0", 8501)
    code = roles.passcode()
    assert code and len(code) >= 12 and f"Teacher passcode: {code}" in notice and f"?passcode={code}" in notice
    monkeypatch.setattr(roles, "_made", None)
    assert roles.serve("", 8501) is not None  # unset: Streamlit binds every interface
    monkeypatch.setattr(roles, "_made", None)
    monkeypatch.setenv("TEACHER_PASSCODE", "owl-42")
    assert roles.serve("0.0.0.0", 8501) is None and roles.passcode() == "owl-42"  # the teacher's own is kept


def console():
    from tests.conftest import app

    at = app(run=False)
    at.switch_page("pages/teacher.py")
    return at.run()


def test_the_console_pauses_and_resumes_the_whole_class(own_services):
    from tests.conftest import until

    jobs = [own_services.jobs.submit(TrainConfig(pace="slow", epochs=30), f"s{i}", student=f"s{i}") for i in range(2)]
    try:
        assert until(lambda: all(j.snapshot(light=True).losses for j in jobs), 60)
        at = console()
        assert not at.exception
        at.button(key="t_pause").click().run()
        assert until(lambda: all(j.snapshot(light=True).paused for j in jobs), 10)
        at.button(key="t_resume").click().run()
        assert until(lambda: not any(j.snapshot(light=True).paused for j in jobs), 10)
        at.button(key="t_stop_all").click().run()
        assert until(lambda: all(j.state == "stopped" for j in jobs), 30)
        assert "Stopped by the teacher" in jobs[0].snapshot(light=True).message
    finally:
        for j in jobs:
            j.stop()


def test_locks_are_released_and_the_exercise_ends_but_its_plot_stays(own_services):
    from ui import lesson

    sent = Exercise("LR", CFG, ("batch_size",), "lr", (0.1, 1.0))
    lesson.send(own_services, sent)
    at = console()
    assert any("On now: LR" in m.value for m in at.markdown)
    at.button(key="t_release").click().run()
    store = own_services.store()
    assert store.class_value("exercise")["locked"] == [] and store.class_value("exercise")["id"] == sent.id
    at.button(key="t_end").click().run()
    assert store.class_value("exercise") is None
    assert Exercise.from_dict(store.class_value("experiment")).id == sent.id  # the class plot's question stays
    assert any("No exercise on now" in c.value for c in at.caption)


def test_a_student_cannot_open_the_console_of_a_class(own_services, monkeypatch):
    monkeypatch.setenv("TEACHER_PASSCODE", "owl-42")
    at = console()
    assert any("type the passcode above" in i.value for i in at.info)
    assert not [b for b in at.button if b.key in ("t_pause", "t_stop_all")]
    at.text_input(key="_teacher_passcode").set_value("owl-42").run()
    assert [b for b in at.button if b.key == "t_pause"]


def test_a_locked_field_holds_on_the_students_page_whatever_they_do(own_services):
    """The lock is applied at every page run: a recipe chosen, or a value typed, goes back to the exercise's."""
    from tests.conftest import app
    from ui import lesson

    lesson.send(own_services, Exercise("Batch", CFG.with_(batch_size=64), ("batch_size",)))
    at = app()
    assert at.number_input(key="w_batch").value == 64 and at.number_input(key="w_batch").disabled
    at.selectbox(key="w_preset").set_value("d2l-softmax").run()  # a recipe with batch 256
    assert at.number_input(key="w_batch").value == 64
    assert any("Locked by your teacher: Batch size" in c.value for c in at.caption)


def test_the_console_deletes_one_students_finished_run(own_services):
    from tests.conftest import until

    jobs = [own_services.jobs.submit(CFG.with_(pace="full"), nick, student=nick) for nick in ("ada", "bo")]
    assert until(lambda: all(j.state == "done" for j in jobs), 60)
    store = own_services.store()
    assert until(lambda: all((store.get(j.id) or {}).get("state") == "done" for j in jobs), 10)
    at = console()
    at.selectbox(key="t_run").set_value(jobs[0].id).run()
    at.button(key="t_delete").click().run()
    assert store.get(jobs[0].id) is None and store.get(jobs[1].id) is not None  # that one, and only that one
