"""The Images page (pages/images.py) in AppTest: a class makes a dataset, adds pictures, trains on it from the Train
page, and Results and Inside show it with its own class names; every bad input gets a clear message and loses
nothing already added; a zip imported and exported comes back byte for byte."""

from __future__ import annotations

import io
import random
import zipfile

import numpy as np
import pytest
from PIL import Image

from core import class_images as C
from core import data as D
from core import own_images as O
from core.store import RunStore
from tests.conftest import app, start_job
from tests.test_own_images import SHAPES, shape_png, zip_of


@pytest.fixture(autouse=True)
def _forget_versions():
    yield
    for name in [n for n in D.IN_MEMORY if n.startswith(O.PREFIX)]:
        D.unregister(name)


def images_page():
    at = app(run=False).switch_page("pages/images.py").run()
    assert not at.exception, at.exception
    return at


def make(at, name: str, classes: str):
    at.text_input(key="img_new_name").set_value(name)
    at.text_area(key="img_new_classes").set_value(classes)
    return at.button(key="img_create").click().run()


def upload(at, files: list[tuple[str, bytes]], label: int = 0):
    at.radio(key="img_class").set_value(label)
    key = next(u.key for u in at.file_uploader if u.key and u.key.startswith("img_files_"))
    at.file_uploader(key=key).set_value([(n, b, "image/png") for n, b in files])
    return at.button(key="img_add_files").click().run()


def add_zip(at, data: bytes, name: str = "more.zip"):
    key = next(u.key for u in at.file_uploader if u.key and u.key.startswith("img_zip_"))
    at.file_uploader(key=key).set_value((name, data, "application/zip"))
    return at.button(key="img_add_zip").click().run()


def counts(at) -> dict[str, int]:
    return {m.label: int(m.value) for m in at.metric}


def errors(at) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error]  # as read: md() escapes . and _


def shapes_page(own_services, n: int = 5):
    at = images_page()
    make(at, "shapes", "\n".join(SHAPES))
    rng = random.Random(0)
    for k, kind in enumerate(SHAPES):
        upload(at, [(f"{kind}{i}.png", shape_png(kind, rng)) for i in range(n)], k)
    assert not errors(at) and counts(at) == dict.fromkeys(SHAPES, n)
    return at


def test_a_class_makes_a_dataset_trains_on_it_and_sees_it_on_results_and_inside(own_services):
    at = shapes_page(own_services)
    assert any("shapes" in o for o in at.selectbox(key="img_dataset").options)
    at.button(key="img_train").click().run()  # "Train on it": the Train page, with this dataset chosen
    assert not at.exception, at.exception
    assert at.selectbox(key="w_dataset").value == "images:shapes"
    at.switch_page("pages/train.py")  # AppTest stays on the page it was told (a browser's URL follows the switch)
    at.number_input(key="w_epochs").set_value(5).run()
    job = start_job(at)
    s = job.snapshot()
    assert s.state == "done", s.message
    assert s.config.dataset.startswith("images:shapes@")  # pinned to the examples as they were
    at.switch_page("pages/results.py").run()
    assert not at.exception and not errors(at), (at.exception, errors(at))
    assert list(at.selectbox(key="res_true").options) == list(SHAPES)  # the class's own names
    at.selectbox(key="res_true").select("square").run()
    at.selectbox(key="res_pred").select("square").run()
    assert any("test images of **square** predicted as **square**" in m.value for m in at.markdown)
    at.switch_page("pages/inside.py").run()
    assert not at.exception and not errors(at), (at.exception, errors(at))
    assert any("The model says" in m.value for m in at.markdown)
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not errors(at), (at.exception, errors(at))
    at.switch_page("pages/board.py").run()  # the class's dataset is the board's: its runs, on every version
    assert not at.exception and not errors(at), (at.exception, errors(at))
    assert at.selectbox(key="board_dataset").value == "images:shapes"
    assert "shapes" in at.selectbox(key="board_dataset").format_func("images:shapes")
    assert len(at.dataframe) and len(at.dataframe[0].value) == 1


def test_a_dataset_with_an_empty_class_cannot_start_and_the_train_page_says_why(own_services):
    at = images_page()
    make(at, "half", "left\nright")
    upload(at, [(f"{i}.png", shape_png("circle", random.Random(i))) for i in range(3)], 0)
    assert any("each class needs at least 2 examples" in i.value for i in at.info)
    at.button(key="img_train").click().run()
    at.switch_page("pages/train.py").run()
    assert "'right' has no pictures" in " ".join(errors(at)) and not at.exception  # the Train page says why
    assert not any("Start" in b.label for b in at.button)  # and offers digits, not a run that cannot start


@pytest.mark.parametrize(
    "name, classes, says",
    [
        ("markup", "<b>bold</b>\nplain", "cannot hold any of"),
        ("single", "only", "at least 2 classes"),
        ("twice", "cat\nCat", "same name"),
        ("<script>", "a\nb", "cannot hold any of"),
    ],
)
def test_bad_names_are_refused_with_a_message(own_services, name, classes, says):
    at = images_page()
    make(at, name, classes)
    assert any(says in e for e in errors(at)), errors(at)
    assert C.dataset_names(own_services.store()) == []


def test_bad_pictures_and_zips_are_refused_and_nothing_added_is_lost(own_services, monkeypatch):
    at = shapes_page(own_services, n=3)
    before = counts(at)
    upload(at, [("notes.txt", b"not a picture"), ("ok.png", shape_png("circle", random.Random(9)))], 0)
    assert any("notes.txt" in e and "was not added" in e for e in errors(at)), errors(at)
    assert counts(at)["circle"] == before["circle"] + 1  # the good one is added, the bad one said
    before = counts(at)

    huge = io.BytesIO()  # a decompression bomb: 20,000 × 20,000 pixels of one colour packs into a few kB
    Image.new("1", (20_000, 20_000)).save(huge, "PNG")
    upload(at, [("bomb.png", huge.getvalue())], 1)
    assert any("bomb.png" in e and "too large" in e for e in errors(at)), errors(at)

    add_zip(at, zip_of({"circle/1.png": shape_png("circle", random.Random(1)), "../evil.png": b"x"}))
    assert any("leaves its folder" in e for e in errors(at)), errors(at)

    monkeypatch.setattr(O, "RATIO_FLOOR_BYTES", 1000)  # a small zip bomb: 200 kB of zeros packs into 200 bytes
    add_zip(at, zip_of({"circle/zeros.png": bytes(200_000), "square/1.png": shape_png("square", random.Random(2))}))
    assert any("zip bomb" in e for e in errors(at)), errors(at)

    add_zip(at, zip_of({"dog/1.png": shape_png("circle", random.Random(3)), "cat/1.png": b"x"}))
    assert any("not classes of" in e for e in errors(at)), errors(at)

    add_zip(at, b"this is not a zip at all")
    assert any("not a zip archive" in e for e in errors(at)), errors(at)

    add_zip(at, zip_of({"circle/": b"", "square/1.png": shape_png("square", random.Random(4))}))
    assert any("'circle' has no pictures" in e for e in errors(at)), errors(at)

    monkeypatch.setattr(O, "MAX_EXAMPLES_PER_CLASS", 4)  # the server's limit on a class
    upload(at, [(f"{i}.png", shape_png("square", random.Random(i))) for i in range(3)], 1)
    assert any("limit of 4" in e for e in errors(at)), errors(at)
    assert counts(at) == before and not at.exception


def test_only_its_owner_or_the_teacher_removes_an_example(own_services, monkeypatch):
    at = shapes_page(own_services, n=2)
    store = own_services.store()
    other = C.add_arrays(store, "shapes", 0, [np.eye(28, dtype=np.uint8) * 255], by="someone-else", nickname="Bo")
    assert other == 1
    monkeypatch.setenv("TEACHER_PASSCODE", "secret")  # a class: this tab is a student's now
    at.run()
    mine = at.multiselect(key="img_remove_circle")
    assert len(mine.options) == 2  # Bo's drawing is not this student's to remove
    first = next(e["id"] for e in store.examples("shapes") if e["label"] == 0)
    mine.set_value([first]).run()
    at.button(key="img_remove_btn_circle").click().run()
    assert counts(at)["circle"] == 2 and any("1 removed" in s.value for s in at.success)
    assert [e["nickname"] for e in store.examples("shapes") if e["label"] == 0][-1] == "Bo"


def test_an_imported_zip_exports_the_same_bytes_from_the_page(own_services, monkeypatch):
    """Import a zip as a new dataset, then call what the Export button would serve (the page's deferred callable,
    as Streamlit's media manager calls it on a click): the same bytes."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    served = {}
    add_deferred = MediaFileManager.add_deferred

    def spy(self, callable, *args, **kwargs):
        file_id = add_deferred(self, callable, *args, **kwargs)
        served[file_id] = callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    data = O.write_imagefolder_zip(SHAPES, [[shape_png(k, random.Random(i)) for i in range(3)] for k in SHAPES])
    at = images_page()
    at.text_input(key="img_new_name").set_value("from home")
    at.file_uploader(key="img_new_zip").set_value(("from home.zip", data, "application/zip"))
    at.button(key="img_import_new").click().run()
    assert any("9 examples" in s.value for s in at.success), (errors(at), at.success)
    assert counts(at) == dict.fromkeys(SHAPES, 3)
    exported = served[at.get("download_button")[0].proto.deferred_file_id]()
    assert exported == data
    with zipfile.ZipFile(io.BytesIO(exported)) as zf:
        assert zf.read("classes.txt").decode().split() == list(SHAPES)


def test_a_link_to_the_train_page_with_a_class_dataset_opens_it(own_services):
    C.create(RunStore(own_services.where), "linked", ["a", "b"])  # made by another replica, say
    for source in [s for s in D.SOURCES if isinstance(s, C.StoreSource)]:
        D.remove_source(source)  # a server just started: its store not opened yet, no page has asked
    at = app(dataset="images:linked")  # a shared link, or a reload: a new session
    assert not at.exception, at.exception
    assert at.selectbox(key="w_dataset").value == "images:linked"
    assert at.selectbox(key="w_dataset").format_func("images:linked") == "linked"


def test_the_page_warns_of_an_imbalance_and_shows_near_duplicates(own_services):
    at = images_page()
    make(at, "lopsided", "big\nsmall")
    rng = random.Random(5)
    same = shape_png("circle", rng)
    upload(at, [("a.png", same), ("b.png", same)] + [(f"{i}.png", shape_png("circle", rng)) for i in range(5)], 0)
    upload(at, [("s.png", shape_png("square", rng))], 1)
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert any("'big' has 7 examples but 'small' only 1" in w for w in warnings), warnings
    assert any("'small' has a single example" in w for w in warnings), warnings
    assert any(s.value.startswith("Near-duplicates: ") for s in at.subheader)  # a.png and b.png at least
    assert any("each class needs at least 2 examples" in i.value for i in at.info)


def test_a_cnn_race_data_and_every_inside_view_work_on_the_class_dataset(own_services):
    """Inside draws every view of a CNN (filters, feature maps, saliency, rewind) in one page run; the race starts two
    runs on the dataset; the Data page shows its images and class balance."""
    at = shapes_page(own_services, n=4)
    at.button(key="img_train").click().run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="w_model").select("cnn").run()
    at.number_input(key="w_epochs").set_value(2).run()
    job = start_job(at)
    assert job.snapshot().state == "done", job.snapshot().message
    for page in ("pages/inside.py", "pages/data.py"):
        at.switch_page(page).run()
        assert not at.exception and not errors(at), (page, at.exception, errors(at))
    assert any("Label: **" in m.value for m in at.markdown)  # the Data page's one image, labelled
    at.switch_page("pages/race.py").run()
    next(b for b in at.button if "race" in b.label).click().run()
    assert not at.exception and not errors(at), (at.exception, errors(at))
    from ui.services import current

    race = [current().jobs.get(i) for i in at.session_state["race_ids"]]
    for j in race:
        assert j.wait(120) and j.snapshot().state == "done", j.snapshot().message
        assert j.config.dataset == job.config.dataset  # the same examples, pinned once more


def test_a_photo_is_added_and_names_with_markdown_are_shown_as_typed(own_services):
    at = images_page()
    make(at, "marks", "_under_\n# hash")
    assert [m.label for m in at.metric] == ["\\_under\\_", "\\# hash"]  # escaped: shown as typed, not as markup
    photo = io.BytesIO()
    Image.open(io.BytesIO(shape_png("circle", random.Random(0)))).convert("RGB").save(photo, "JPEG")
    at.radio(key="img_class").set_value(1)
    at.camera_input(key="img_camera_0").set_value(("photo.jpg", photo.getvalue(), "image/jpeg"))
    at.button(key="img_add_photo").click().run()
    assert not errors(at) and counts(at) == {"\\_under\\_": 0, "\\# hash": 1}
    assert any("1 added" in s.value for s in at.success)


def test_its_maker_or_the_teacher_deletes_a_dataset_for_everyone(own_services):
    at = shapes_page(own_services, n=1)
    at.button(key="img_delete").click().run()
    assert not at.exception and C.dataset_names(own_services.store()) == []
    assert at.expander  # the form for a new one, open again


def test_a_run_is_still_shown_after_its_dataset_is_deleted_and_the_choice_falls_back(own_services):
    at = shapes_page(own_services, n=3)
    at.button(key="img_train").click().run()
    at.switch_page("pages/train.py").run()
    assert start_job(at).snapshot().state == "done"
    own_services.store().delete_dataset("shapes")
    for name in [n for n in D.IN_MEMORY if n.startswith(O.PREFIX)]:
        D.unregister(name)  # and the server restarted: the run's version is read from the store
    at.run()
    assert not at.exception and at.selectbox(key="w_dataset").value == "digits"  # the choice falls back
    at.switch_page("pages/results.py").run()
    assert not at.exception and not errors(at), (at.exception, errors(at))
    assert list(at.selectbox(key="res_true").options) == list(SHAPES)
