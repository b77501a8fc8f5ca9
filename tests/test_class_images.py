"""The class's own datasets in the run store (core.class_images, schema 9), on SQLite and PostgreSQL: students add
at once, each example remembers who added it, a run is pinned to the examples as they were, a version outlives
the server's memory and the examples' removal, and a zip round-trips through the store byte for byte."""

from __future__ import annotations

import io
import random
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from core import class_images as C
from core import data as D
from core import own_images as O
from core.config import TrainConfig
from core.jobs import JobManager, pinned
from core.store import RunStore, StoreFull
from tests.test_own_images import SHAPES, shape_png, shapes_files, zip_of


@pytest.fixture
def store(store_where):
    s = RunStore(store_where)
    source = C.install(s)
    yield s
    D.remove_source(source)
    for name in [n for n in D.IN_MEMORY if n.startswith(O.PREFIX)]:
        D.unregister(name)


def stroke(k: int, i: int) -> np.ndarray:
    """A prepared-looking 28×28 example: class 0 a vertical bar, 1 a horizontal one, 2 a diagonal, shifted by i."""
    a = np.zeros((28, 28), np.uint8)
    if k == 0:
        a[6:22, 10 + i % 6 : 14 + i % 6] = 255
    elif k == 1:
        a[10 + i % 6 : 14 + i % 6, 6:22] = 255
    else:
        for t in range(6, 22):
            a[t, t - 2 + i % 4 : t + 2 + i % 4] = 255
    return a


def test_examples_are_pooled_remember_who_added_them_and_are_removed_by_id(store):
    assert C.create(store, " shapes ", ["bar", "line"], by="tag-t", nickname="Ms T") == "shapes"
    with pytest.raises(O.OwnImagesError, match="exists already"):
        C.create(store, "shapes", ["a", "b"])
    assert C.add_arrays(store, "shapes", 0, [stroke(0, 0), stroke(0, 1)], by="tag-a", nickname="Ann") == 2
    assert C.add_arrays(store, "shapes", 1, [stroke(1, 0)], by="tag-b", nickname="Bo") == 1
    (row,) = store.datasets()
    assert row["classes"] == ["bar", "line"] and row["counts"] == [2, 1] and row["revision"] == 2
    classes, per_class = C.examples_by_class(store, "shapes")
    assert [[e["nickname"] for e in items] for items in per_class] == [["Ann", "Ann"], ["Bo"]]
    assert np.array_equal(per_class[0][1]["image"], O.prepare_example(stroke(0, 1)))  # in order, prepared
    ann = per_class[0][0]
    assert C.may_remove(ann, {"tag-a"}, teacher=False) and not C.may_remove(ann, {"tag-b"}, teacher=False)
    assert C.may_remove(ann, set(), teacher=True)
    assert store.remove_example(ann["id"]) and not store.remove_example(ann["id"])
    assert store.dataset("shapes")["counts"] == [1, 1]
    with pytest.raises(KeyError):
        store.add_examples("shapes", 2, [(bytes(784), None, "")])  # no third class
    store.delete_dataset("shapes")
    assert store.datasets() == [] and store.examples("shapes") == []


def test_a_class_never_passes_its_limit_even_when_thirty_students_add_at_once(store_where):
    """Thirty students, each on their own connection (a replica each, say), add 10 drawings each to a class limited
    to 250: exactly 250 are kept, and each refused add adds nothing."""
    s = RunStore(store_where)
    s.create_dataset("race", ["a", "b"])
    refused, errors = [], []

    def student(i: int) -> None:
        try:
            RunStore(store_where).add_examples("race", 0, [(bytes(784), None, "")] * 10, f"s{i}", max_per_class=250)
        except StoreFull:
            refused.append(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(refused) == 5 and s.dataset("race")["counts"] == [250, 0]


def test_a_run_trains_on_its_version_which_outlives_memory_and_later_changes(store):
    C.create(store, "bars", ["bar", "line", "slash"])
    for k in range(3):
        C.add_arrays(store, "bars", k, [stroke(k, i) for i in range(6)])
    cfg = TrainConfig(dataset="images:bars", model="softmax", epochs=3, lr=0.5)
    assert cfg.errors() == [] and D.info("images:bars").class_names == ("bar", "line", "slash")
    run_cfg = pinned(cfg)
    assert run_cfg.dataset.startswith("images:bars@") and run_cfg.errors() == []
    first = D.load(run_cfg.dataset)
    # stratified and reproducible: 20 % of each class held out, the same whatever the run's seed
    assert first.test_y.tolist() == [0, 1, 2] and len(first.train_y) == 15
    assert pinned(TrainConfig(dataset="images:bars", seed=7)).dataset == run_cfg.dataset

    C.add_arrays(store, "bars", 0, [stroke(0, 9)])  # a student adds one more: a new version for new runs
    assert pinned(cfg).dataset != run_cfg.dataset
    for name in [n for n in D.IN_MEMORY if n.startswith(O.PREFIX)]:
        D.unregister(name)  # a restarted server's memory
    store.remove_example(store.examples("bars")[0]["id"])
    again = D.load(run_cfg.dataset)  # read back from the store, as it was
    assert again.info.classes == ("bar", "line", "slash") and not again.info.translate
    assert all(np.array_equal(a, b) for a, b in zip(again.test_x.numpy(), first.test_x.numpy()))

    mgr = JobManager(cap=1)
    try:
        job = mgr.submit(cfg)
        assert job.config.dataset.startswith("images:bars@")
        assert job.wait(60) and job.snapshot().state == "done", job.snapshot().message
    finally:
        mgr.close()


def test_a_dataset_with_an_empty_class_is_refused_when_a_run_starts(store):
    C.create(store, "half", ["left", "right"])
    C.add_arrays(store, "half", 0, [stroke(0, i) for i in range(3)])
    assert D.known("images:half") and D.info("images:half").classes == ("left", "right")
    with pytest.raises(D.DatasetError, match="'right' has no pictures"):
        pinned(TrainConfig(dataset="images:half"))


def test_pictures_are_added_and_bad_ones_refused_with_their_name(store):
    C.create(store, "photos", list(SHAPES))
    rng = random.Random(1)
    done = C.add_pictures(store, "photos", 0, [("a.png", shape_png("circle", rng)), ("notes.txt", b"hello")])
    assert done.added == 1 and [name for name, _ in done.refused] == ["notes.txt"]
    with pytest.raises(O.OwnImagesError, match="at most 100"):
        C.add_pictures(store, "photos", 0, [("x.png", b"")] * (C.MAX_PICTURES_AT_ONCE + 1))
    assert store.dataset("photos")["counts"] == [1, 0, 0]


def test_an_imported_zip_exports_to_the_same_bytes(store):
    data = O.write_imagefolder_zip(SHAPES, [[shape_png(k, random.Random(i)) for i in range(3)] for k in SHAPES])
    name, added = C.import_zip(store, data, name="from zip", by="tag-a")
    assert (name, added) == ("from zip", 9)
    assert C.export_zip(store, "from zip") == data
    # a zip into an existing dataset: its folders must be its classes
    more = zip_of(shapes_files(2, seed=3))
    assert C.import_zip(store, more, into="from zip")[1] == 6
    with pytest.raises(O.OwnImagesError, match="not classes of"):
        C.import_zip(
            store, zip_of({"dog/1.png": shape_png("circle", random.Random(0)), **shapes_files(1)}), into="from zip"
        )
    assert store.dataset("from zip")["counts"] == [5, 5, 5]
    # drawings, which keep no original, export as their prepared 28×28 PNGs and import back to the same arrays
    C.create(store, "drawn", ["bar", "line"])
    for k in range(2):
        C.add_arrays(store, "drawn", k, [stroke(k, i) for i in range(2)])
    back, _ = C.import_zip(store, C.export_zip(store, "drawn"), name="drawn again")
    assert [e["pixels"] for e in store.examples("drawn again")] == [e["pixels"] for e in store.examples("drawn")]


def test_a_process_keeps_a_few_versions_loaded_and_reads_older_ones_back(store, monkeypatch):
    monkeypatch.setattr(C, "VERSIONS_IN_MEMORY", 2)
    C.create(store, "grow", ["bar", "line"])
    names = []
    for i in range(4):  # a student adds, a run starts: a new version each time
        C.add_arrays(store, "grow", i % 2, [stroke(i % 2, i), stroke(i % 2, i + 1)])
        if i:
            names.append(pinned(TrainConfig(dataset="images:grow")).dataset)
    assert len(set(names)) == 3 and [n in D.IN_MEMORY for n in names] == [False, True, True]
    assert D.load(names[0]).info.name == names[0]  # read back from the store


@pytest.mark.parametrize("model", ["softmax", "mlp", "cnn"])
def test_every_model_trains_on_a_class_dataset(model, tmp_path):
    from core import models as M
    from core.events import Done
    from core.train import train

    assert model in M.REGISTRY
    s = RunStore(tmp_path / "runs.db")
    source = C.install(s)
    try:
        C.create(s, "three", ["bar", "line", "slash"])
        for k in range(3):
            C.add_arrays(s, "three", k, [stroke(k, i) for i in range(5)])
        cfg = pinned(TrainConfig(dataset="images:three", model=model, epochs=2, batch_size=4))
        done = [e for e in train(cfg) if isinstance(e, Done)]
        assert done and done[0].probs.shape == (3, 3)  # one test example of each class, three classes
    finally:
        D.remove_source(source)


def test_originals_are_kept_within_a_datasets_budget_and_the_rest_export_prepared(store, monkeypatch):
    monkeypatch.setattr(O, "MAX_DATASET_BYTES", 600)  # room for two of these pictures' files (about 260 bytes each)
    C.create(store, "budget", list(SHAPES))
    pictures = [(f"{i}.png", shape_png("circle", random.Random(i))) for i in range(4)]
    assert C.add_pictures(store, "budget", 0, pictures).added == 4
    kept = [e["original"] is not None for e in store.examples("budget", originals=True)]
    assert kept == [True, True, False, False] and store.originals_bytes("budget") <= 600
    for k in (1, 2):
        C.add_arrays(store, "budget", k, [stroke(k, 0)])
    monkeypatch.undo()  # the export's own limit as the server has it
    with zipfile.ZipFile(io.BytesIO(C.export_zip(store, "budget"))) as zf:
        circle = [zf.read(n) for n in sorted(zf.namelist()) if n.startswith("circle/") and n != "circle/"]
    assert circle[:2] == [b for _, b in pictures[:2]] and len(circle) == 4  # two originals, two 28×28 PNGs
    assert all(Image.open(io.BytesIO(b)).size == (28, 28) for b in circle[2:])
