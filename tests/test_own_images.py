"""The class's own images (core.own_images): names, preparing pictures, ImageFolder zips in and out and the hostile
ones refused, the dataset and its split, the checks before training, and the CLI training on a zip."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core import data as D
from core import i18n
from core import own_images as O
from core.config import TrainConfig
from tests.conftest import ROOT

SHAPES = ("circle", "square", "triangle")


def shape_png(kind: str, rng: random.Random, size: int = 64) -> bytes:
    """Black outline of a circle, square or triangle on white, of a random size, place and stroke: a photo's look."""
    img = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(img)
    r, w = rng.randint(14, 26), rng.randint(3, 6)
    cx, cy = rng.randint(r + 2, size - r - 2), rng.randint(r + 2, size - r - 2)
    if kind == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=0, width=w)
    elif kind == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], outline=0, width=w)
    else:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], outline=0, width=w)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def zip_of(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def shapes_files(n: int = 3, seed: int = 0, top: str = "") -> dict[str, bytes]:
    rng = random.Random(seed)
    return {f"{top}{kind}/{i}.png": shape_png(kind, rng) for kind in SHAPES for i in range(n)}


# -------------------------------------------------------------------------------------------- names


def test_names_are_trimmed_and_kept_as_typed():
    assert O.check_class_names(["  cat ", "Dog", "猫咪", "T-shirt (long)", "salt & pepper"]) == (
        "cat",
        "Dog",
        "猫咪",
        "T-shirt (long)",
        "salt & pepper",
    )


@pytest.mark.parametrize("name", ["<b>x</b>", "[a](javascript:alert(1))", "`code`", "$x$", "a/b", "a\\b", "~~x~~"])
def test_a_name_that_is_markup_or_a_path_is_refused(name):
    with pytest.raises(O.OwnImagesError, match="plain text"):
        O.clean_name(name)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["cat", "  "], "empty"),
        (["cat", "x" * (O.MAX_NAME_CHARS + 1)], f"at most {O.MAX_NAME_CHARS}"),
        (["cat", "CAT"], "same name"),
        (["cat", "a\tb"], "control"),
        (["cat", "a\u200bb"], "control"),  # a zero-width space: two names would look the same
        (["cat", ".hidden"], "dot"),
        (["cat", "NUL"], "Windows"),
        (["cat"], f"at least {O.MIN_CLASSES}"),
        ([f"c{i}" for i in range(O.MAX_CLASSES + 1)], f"at most {O.MAX_CLASSES}"),
    ],
)
def test_class_names_that_cannot_be_used_are_refused_with_a_reason(names, message):
    with pytest.raises(O.OwnImagesError, match=message):
        O.check_class_names(names)


# ------------------------------------------------------------------------------------------ pictures


def test_a_photo_on_white_paper_becomes_white_on_black_28x28():
    x = O.prepare_example(shape_png("square", random.Random(0)))
    assert x.dtype == np.uint8 and x.shape == (28, 28)
    assert x[0].max() == 0 and x.max() == 255  # black border, white ink
    ys, xs = np.nonzero(x)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 == 20  # scaled into MNIST's 20×20 box


def test_a_drawing_canvas_uses_prepare_drawing():
    rgba = np.zeros((200, 200, 4), np.uint8)  # transparent canvas, a white stroke
    rgba[50:150, 95:105] = (255, 255, 255, 255)
    x = O.prepare_example(rgba)
    assert x.shape == (28, 28) and x.dtype == np.uint8
    assert x[:, 14].max() == 255 and x[:, 0].max() == 0  # a vertical bar, centred


def test_a_decompression_bomb_picture_is_refused_with_its_path():
    from tests.test_preprocess import _bomb_png

    files = shapes_files()
    files["circle/bomb.png"] = _bomb_png(100_000, 100_000)  # 10 gigapixels claimed, a few hundred bytes
    folder = O.read_imagefolder(zip_of(files))
    with pytest.raises(O.OwnImagesError, match="circle/bomb.png: .*too large"):
        O.prepare_folder(folder)


def test_a_picture_that_is_not_one_is_refused_with_its_path_and_other_files_are_skipped():
    files = shapes_files()
    files["square/notes.txt"] = b"not a picture"
    files["README.md"] = b"# shapes"
    folder = O.read_imagefolder(zip_of(files))
    assert sorted(folder.skipped) == ["README.md", "square/notes.txt"] and folder.counts == (3, 3, 3)
    files["square/broken.png"] = b"\x89PNG but not really"
    with pytest.raises(O.OwnImagesError, match="square/broken.png: This file is not an image"):
        O.prepare_folder(O.read_imagefolder(zip_of(files)))


def test_too_many_pixels_together_are_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(O, "MAX_TOTAL_PIXELS", 5 * 64 * 64)
    with pytest.raises(O.OwnImagesError, match="megapixels together"):
        O.prepare_folder(O.read_imagefolder(zip_of(shapes_files())))


# ----------------------------------------------------------------------------------- ImageFolder zips


def test_export_then_import_gives_the_same_classes_and_bytes():
    rng = random.Random(1)
    classes = ("triangle", "Kreis", "正方形")  # not in sorted order: classes.txt keeps it
    images = [[shape_png(k, rng) for _ in range(3)] for k in SHAPES]
    data = O.write_imagefolder_zip(classes, images)
    back = O.read_imagefolder(data)
    assert back.classes == classes and back.images == tuple(map(tuple, images)) and back.skipped == ()
    assert back.filenames[0] == ("0001.png", "0002.png", "0003.png")
    assert O.write_imagefolder_zip(back.classes, back.images, back.filenames) == data  # the same bytes again


def test_export_writes_prepared_arrays_as_png():
    arrays = [[np.full((28, 28), v, np.uint8)] for v in (10, 200)]
    back = O.read_imagefolder(O.write_imagefolder_zip(["a", "b"], arrays))
    assert [np.asarray(Image.open(io.BytesIO(f[0]))).tolist() for f in back.images] == [a[0].tolist() for a in arrays]


def test_imagefolder_layouts_torchvision_and_keras_read():
    plain = O.read_imagefolder(zip_of(shapes_files()))
    wrapped = O.read_imagefolder(zip_of({**shapes_files(top="shapes/"), "__MACOSX/shapes/._x.png": b"junk"}))
    assert plain.classes == wrapped.classes == SHAPES and plain.images == wrapped.images  # sorted, as torchvision
    nested = O.read_imagefolder(zip_of({"a/day1/x.png": shape_png("circle", random.Random(0)), "b/y.png": b"y"}))
    assert nested.classes == ("a", "b") and nested.filenames == (("day1/x.png",), ("y.png",))


def test_a_folder_reads_like_its_zip(tmp_path):
    for name, data in {**shapes_files(), ".DS_Store": b"junk", "circle/.hidden.png": b"junk"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    assert O.read_imagefolder(tmp_path) == O.read_imagefolder(zip_of(shapes_files()))


def test_an_upload_that_is_not_a_zip_says_so():
    with pytest.raises(O.OwnImagesError, match="not a zip archive"):
        O.read_imagefolder(shape_png("circle", random.Random(0)))


@pytest.mark.parametrize("path", ["../evil.png", "circle/../../evil.png", "/etc/evil.png", "C:/evil.png", "a\\b.png"])
def test_a_path_that_climbs_out_is_refused(path):
    files = {**shapes_files(), path: shape_png("circle", random.Random(0))}
    with pytest.raises(O.OwnImagesError, match="leaves its folder"):
        O.read_imagefolder(zip_of(files))


def test_a_zip_bomb_is_refused_from_its_declared_size_before_reading():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("circle/a.png", shape_png("circle", random.Random(0)))
        with zf.open("square/bomb.png", "w", force_zip64=True) as f:  # 200 MB of zeros, streamed
            chunk = bytes(2**20)
            for _ in range(200):
                f.write(chunk)
    assert len(buf.getvalue()) < 1_000_000
    with pytest.raises(O.OwnImagesError, match=f"add up to 200.0 MB; the limit is {O.MAX_DATASET_BYTES // 2**20} MB"):
        O.read_imagefolder(buf.getvalue())


def test_an_entry_packed_over_the_ratio_cap_is_refused():
    files = {**shapes_files(), "square/zeros.png": bytes(5 * 2**20)}  # 5 MB, under the limit, packs ~1000×
    with pytest.raises(O.OwnImagesError, match="square/zeros.png: unpacks to 5.0 MB .*zip bomb"):
        O.read_imagefolder(zip_of(files))


def test_an_entry_that_lies_about_its_size_is_not_read_past_it():
    data = bytearray(zip_of({**shapes_files(), "square/big.png": bytes(300_000)}))
    # declare 1,000 bytes unpacked for square/big.png, in its local header and in the table of contents
    name = b"square/big.png"
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(sig, start)) >= 0:
            n = 30 if sig == b"PK\x03\x04" else 46
            if data[start + n : start + n + len(name)] == name:
                struct.pack_into("<I", data, start + offset, 1000)
            start += 4
    with pytest.raises(O.OwnImagesError, match="damaged"):
        O.read_imagefolder(bytes(data))


def test_too_many_entries_are_refused_before_the_table_of_contents_is_read(monkeypatch):
    data = zip_of(shapes_files())
    monkeypatch.setattr(O, "MAX_ENTRIES", 5)
    monkeypatch.setattr(zipfile, "ZipFile", None)  # the end record alone tells: no ZipFile lists the entries
    with pytest.raises(O.OwnImagesError, match="9 files and folders: at most 5 are read"):
        O.read_imagefolder(data)


def test_more_examples_than_the_limit_are_refused(monkeypatch):
    monkeypatch.setattr(O, "MAX_EXAMPLES_PER_CLASS", 2)
    with pytest.raises(O.OwnImagesError, match="'circle' has 3 pictures; a class may have at most 2"):
        O.read_imagefolder(zip_of(shapes_files()))


def test_an_empty_a_single_and_too_many_classes_are_refused():
    files = shapes_files()
    with pytest.raises(O.OwnImagesError, match="'empty' has no pictures"):
        O.read_imagefolder(zip_of({**files, "empty/": b""}))
    with pytest.raises(O.OwnImagesError, match="'docs' has no pictures"):
        O.read_imagefolder(zip_of({**files, "docs/readme.txt": b"x"}))
    with pytest.raises(O.OwnImagesError, match=r"1 class \(circle\): a dataset needs at least 2"):
        O.read_imagefolder(zip_of({k: v for k, v in files.items() if k.startswith("circle/")}))
    many = {f"c{i}/x.png": files["circle/0.png"] for i in range(O.MAX_CLASSES + 1)}
    with pytest.raises(O.OwnImagesError, match=f"at most {O.MAX_CLASSES}"):
        O.read_imagefolder(zip_of(many))
    with pytest.raises(O.OwnImagesError, match="No class folders"):
        O.read_imagefolder(zip_of({"a.png": files["circle/0.png"]}))


def test_a_markup_folder_name_is_refused():
    files = {**shapes_files(), "<b>x<\u2044b>/a.png": shape_png("circle", random.Random(0))}
    with pytest.raises(O.OwnImagesError, match="plain text"):
        O.read_imagefolder(zip_of(files))


# -------------------------------------------------------------------------------------------- dataset


def examples(counts, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.integers(0, 256, (28, 28), dtype=np.uint8) for _ in range(n)] for n in counts]


def test_the_split_is_stratified_and_reproducible_by_seed():
    ex = examples((10, 5, 2, 1))
    names = ("a", "b", "c", "d")
    ds = O.build_dataset("mine", names, ex, seed=3)
    assert ds.test_y.tolist().count(0) == 2 and ds.test_y.tolist().count(1) == 1 and ds.test_y.tolist().count(2) == 1
    assert 3 not in ds.test_y.tolist() and ds.train_y.tolist().count(3) == 1  # one example: trained on, never tested
    assert len(ds.train_y) + len(ds.test_y) == 18 and ds.train_x.dtype == ds.test_x.dtype == torch.uint8
    again = O.build_dataset("mine", names, ex, seed=3)
    assert all(torch.equal(getattr(ds, k), getattr(again, k)) for k in ("train_x", "train_y", "test_x", "test_y"))
    picks = {tuple(map(tuple, O.test_indices((10, 5), seed))) for seed in range(10)}
    assert len(picks) > 1  # another seed, another choice
    for seed in range(20):  # every class with 2 or more examples is tested, and trained on
        held = O.test_indices((2, 3, 7, 40), seed)
        assert [len(h) for h in held] == [1, 1, 1, 8]


def test_a_dataset_with_nothing_to_test_is_refused():
    with pytest.raises(O.OwnImagesError, match="at least 2"):
        O.build_dataset("mine", ("a", "b"), examples((1, 1)))


def test_own_class_names_are_shown_as_typed_in_every_language():
    ds = O.build_dataset(" Our clothes ", ("Coat", "Bag"), examples((3, 3)))
    assert ds.info.name == "images:Our clothes" and ds.info.size == 28 and not ds.info.translate
    with i18n.using("zh_CN"):
        assert D.info("fashion-mnist").class_names[4] != "Coat"  # a built-in set's names are translated...
        assert ds.info.class_names == ("Coat", "Bag") and ds.info.display_title == "Our clothes"  # ...own ones not


def test_a_registered_dataset_loads_and_configures_by_name():
    ds = O.build_dataset("reg-test", ("a", "b"), examples((4, 4)))
    try:
        assert TrainConfig(dataset=ds.info.name).errors()  # not yet registered
        D.register(ds)
        assert D.load(ds.info.name) is ds and D.info(ds.info.name) is ds.info
        assert not TrainConfig(dataset=ds.info.name).errors() and ds.info.name not in D.REGISTRY
    finally:
        D.unregister(ds.info.name)
    with pytest.raises(D.DatasetError):
        D.info(ds.info.name)


# ------------------------------------------------------------------------------------ before training


def test_near_duplicates_are_found_and_distinct_pictures_are_not():
    rng = random.Random(0)
    pngs = [shape_png(k, rng) for k in ("circle", "square", "triangle")]
    sheet = Image.new("RGB", (200, 120), "white")  # the square again, on a larger sheet, as a JPEG
    sheet.paste(Image.open(io.BytesIO(pngs[1])), (90, 30))
    buf = io.BytesIO()
    sheet.save(buf, "JPEG", quality=70)
    arrays = [O.prepare_example(b) for b in (*pngs, buf.getvalue())]
    assert O.near_duplicates(arrays) == [(1, 3)]
    assert O.near_duplicates([arrays[0], arrays[2], arrays[0]], threshold=0.5) == [(0, 2)]  # the same picture twice
    assert O.near_duplicates(arrays, threshold=100) == [(i, j) for i in range(4) for j in range(i + 1, 4)]


def test_an_imbalance_is_warned_about():
    assert O.imbalance({"a": 10, "b": 5}) is None
    warning = O.imbalance({"a": 11, "b": 5, "c": 7})
    assert "'a' has 11" in warning and "'b' only 5" in warning
    assert O.class_counts(("a", "b"), examples((3, 1))) == {"a": 3, "b": 1}
    assert len(O.advice(("a", "b"), examples((3, 1)))) == 2  # imbalanced, and 'b' is never tested


# ----------------------------------------------------------------------------------------------- CLI


def test_the_cli_trains_on_an_imagefolder_zip(tmp_path):
    (tmp_path / "shapes.zip").write_bytes(zip_of(shapes_files(n=8, seed=4)))
    r = subprocess.run(
        [sys.executable, "-m", "core.train", "--images", str(tmp_path / "shapes.zip"), "--epochs", "3", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    final = lines[-1]
    assert final["done"] and final["classes"] == list(SHAPES) and final["config"]["dataset"] == "images:shapes"
    # 18 train, 6 test pictures; softmax regression got all 6 right on each of 5 sets of shapes tried: chance is 1/3
    assert isinstance(final["test_acc"], float) and final["test_acc"] > 0.5


def test_the_cli_says_what_is_wrong_with_the_images(tmp_path):
    (tmp_path / "one.zip").write_bytes(zip_of({"cat/a.png": shape_png("circle", random.Random(0))}))
    from core import train as T

    with pytest.raises(SystemExit) as e:
        T._parse(["--images", str(tmp_path / "one.zip")])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        T._parse(["--images", str(tmp_path / "one.zip"), "--dataset", "digits"])
