"""The class's own datasets in the run store: every student adds to them at once (replicas too, through PostgreSQL),
and a run trains on them by name like on MNIST. Pure logic: core/own_images.py prepares and checks the pictures.

    install(store)                                      core.data finds "images:<name>" in this store from now on
    add_pictures(store, "shapes", 0, [png, ...], by=tag)  prepared, capped and pooled; what was refused, and why
    D.load("images:shapes")                             the examples as they are now, as "images:shapes@<hash>"
    D.pin("images:shapes")                              that version kept in the store: what a run's config names
    export_zip(store, "shapes"), import_zip(store, data, "shapes")  the ImageFolder layout, both ways

A dataset's content changes as students add to it; a run must train, and later show its results, on the examples
as they were when it started. So the live name "images:shapes" loads the current examples under a versioned name,
"images:shapes@<hash of their content>", and a run is pinned to that name as it is submitted (core.jobs): the
version is kept in the store (own_versions), so Results, Inside and Compare load the same test split after a
restart, on another replica, or once examples were added or removed. The split is test_indices(SPLIT_SEED):
stratified per class, the same for every run on the same examples.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from core import data as D
from core import own_images as O
from core import preprocess as P
from core.i18n import ntr, tr
from core.store import RunStore, StoreFull

MAX_ORIGINAL_BYTES = 2 * 2**20  # a picture larger than this keeps only its prepared form (an export has that)
# and a dataset keeps originals up to O.MAX_DATASET_BYTES together (what an export may hold); past it, prepared only
MAX_PICTURES_AT_ONCE = 100  # one upload of several pictures
VERSIONS_IN_MEMORY = 16  # versions a process keeps loaded (4 MB at most each); older ones are read back when asked
VERSION_SEP = "@"


def limits() -> dict[str, str]:
    """The limits a page prints, each worded with its value."""
    return {
        tr("Classes per dataset"): f"{O.MIN_CLASSES}–{O.MAX_CLASSES}",
        tr("Examples per class"): f"{O.MAX_EXAMPLES_PER_CLASS:,}",
        tr("Pictures in one upload"): f"{MAX_PICTURES_AT_ONCE:,}",
        tr("One picture"): tr("{mb} MB, {mp} megapixels", mb=P.MAX_BYTES // 2**20, mp=f"{P.MAX_PIXELS / 1e6:g}"),
        tr("A zip, and its pictures together"): tr("{mb} MB", mb=O.MAX_DATASET_BYTES // 2**20),
        tr("Files and folders in a zip"): f"{O.MAX_ENTRIES:,}",
        tr("Compression of a zip's entry"): tr("at most {ratio}×", ratio=O.MAX_COMPRESSION_RATIO),
        tr("A name"): tr("{n} characters", n=O.MAX_NAME_CHARS),
    }


# ------------------------------------------------------------------------------------------ adding


@dataclass
class Added:
    """What an add did: how many examples it added, and each refused picture's name and why."""

    added: int = 0
    refused: list[tuple[str, str]] | None = None

    def __post_init__(self):
        self.refused = self.refused or []


def _full(e: StoreFull, name: str) -> str:
    return tr(
        "Class {name!r} has {has:,} examples; {adding:,} more would pass the limit of {limit:,} a class. Nothing "
        "was added.",
        name=name,
        has=e.has,
        adding=e.adding,
        limit=e.limit,
    )


def _class_name(store: RunStore, dataset: str, label: int) -> str:
    row = store.dataset(dataset)
    if row is None or not 0 <= label < len(row["classes"]):
        raise O.OwnImagesError(tr("The dataset {name!r} or its class no longer exists.", name=dataset))
    return row["classes"][label]


def add_arrays(
    store: RunStore, dataset: str, label: int, arrays: Sequence[np.ndarray], by: str = "", nickname: str = ""
) -> int:
    """Add drawings (RGBA canvases, or (H, W) uint8 pictures) to a class, prepared; returns how many.
    Raises OwnImagesError (a class full, a dataset gone) or preprocess.ImageError (an empty drawing)."""
    name = _class_name(store, dataset, label)
    items = []
    for a in arrays:
        items.append((O.prepare_example(np.asarray(a)).tobytes(), None, ""))  # a prepared one stays as it is
    try:
        store.add_examples(dataset, label, items, by, nickname, O.MAX_EXAMPLES_PER_CLASS)
    except StoreFull as e:
        raise O.OwnImagesError(_full(e, name)) from None
    return len(items)


def add_pictures(
    store: RunStore,
    dataset: str,
    label: int,
    pictures: Sequence[tuple[str, bytes]],
    by: str = "",
    nickname: str = "",
) -> Added:
    """Add picture files (name, bytes) to a class: each prepared (prepare_example, with its size and decompression
    checks). A picture that cannot be used is refused, with its name and why; the others are added. Raises
    OwnImagesError when the lot is refused (too many at once, the class would be full: nothing is added)."""
    name = _class_name(store, dataset, label)
    if len(pictures) > MAX_PICTURES_AT_ONCE:
        raise O.OwnImagesError(
            tr(
                "{n:,} pictures at once: add at most {limit:,} at a time (or a zip). Nothing was added.",
                n=len(pictures),
                limit=MAX_PICTURES_AT_ONCE,
            )
        )
    items, refused = [], []
    for filename, data in pictures:
        try:
            x = O.prepare_example(data)
        except (P.ImageError, OSError, ValueError) as e:
            refused.append((filename, str(e)))
            continue
        items.append((x.tobytes(), data, ""))
    items = _originals_within(store, dataset, items)
    if items:
        try:
            store.add_examples(dataset, label, items, by, nickname, O.MAX_EXAMPLES_PER_CLASS)
        except StoreFull as e:
            raise O.OwnImagesError(_full(e, name)) from None
    return Added(len(items), refused)


def create(store: RunStore, name: str, classes: Sequence[str], by: str = "", nickname: str = "") -> str:
    """A new, empty dataset: its name and class names checked (OwnImagesError says what to change). Returns the
    name as kept."""
    name = O.clean_name(name)
    classes = O.check_class_names(classes)
    if not store.create_dataset(name, list(classes), by, nickname):
        raise O.OwnImagesError(tr("A dataset named {name!r} exists already: choose another name.", name=name))
    return name


def import_zip(
    store: RunStore, data: bytes, name: str | None = None, into: str | None = None, by: str = "", nickname: str = ""
) -> tuple[str, int]:
    """An ImageFolder zip, read and prepared whole before anything is kept (a bad picture refuses the lot, its
    path named): as a new dataset `name`, or added to the dataset `into`, whose class names its folders must be.
    Returns the dataset's name and how many examples were added."""
    folder = O.read_imagefolder(data)
    if into is None:
        O.clean_name(name or "images")
        if store.dataset(O.clean_name(name or "images")) is not None:
            raise O.OwnImagesError(tr("A dataset named {name!r} exists already: choose another name.", name=name))
        labels = list(range(len(folder.classes)))
    else:
        row = store.dataset(into)
        if row is None:
            raise O.OwnImagesError(tr("The dataset {name!r} no longer exists.", name=into))
        keys = {c.casefold(): k for k, c in enumerate(row["classes"])}
        unknown = [c for c in folder.classes if c.casefold() not in keys]
        if unknown:
            raise O.OwnImagesError(
                tr(
                    "The zip's folders {unknown} are not classes of {name!r} ({classes}): name each folder after a "
                    "class. Nothing was added.",
                    unknown=", ".join(repr(c) for c in unknown),
                    name=into,
                    classes=", ".join(row["classes"]),
                )
            )
        target, labels = into, [keys[c.casefold()] for c in folder.classes]
        for label, files in zip(labels, folder.images):  # all or nothing: check every class has room first
            has = row["counts"][label]
            if has + len(files) > O.MAX_EXAMPLES_PER_CLASS:
                full = StoreFull(has, len(files), O.MAX_EXAMPLES_PER_CLASS)
                raise O.OwnImagesError(_full(full, row["classes"][label]))
    prepared = O.prepare_folder(folder)
    if into is None:
        target = create(store, name or "images", folder.classes, by, nickname)
    added = 0
    for label, arrays, files, filenames in zip(labels, prepared, folder.images, folder.filenames):
        items = _originals_within(store, target, [(x.tobytes(), b, f) for x, b, f in zip(arrays, files, filenames)])
        try:
            store.add_examples(target, label, items, by, nickname, O.MAX_EXAMPLES_PER_CLASS)
        except StoreFull as e:
            raise O.OwnImagesError(_full(e, store.dataset(target)["classes"][label])) from None
        added += len(items)
    return target, added


def _originals_within(store: RunStore, dataset: str, items: list[tuple]) -> list[tuple]:
    """The items with their original pictures kept while each is under MAX_ORIGINAL_BYTES and the dataset's
    originals together stay under O.MAX_DATASET_BYTES; the others keep their prepared form alone (a class of phone
    photos does not fill the database; an export then holds their 28×28 versions)."""
    left = O.MAX_DATASET_BYTES - store.originals_bytes(dataset)
    out = []
    for pixels, original, filename in items:
        keep = original is not None and len(original) <= min(MAX_ORIGINAL_BYTES, left)
        left -= len(original) if keep else 0
        out.append((pixels, original if keep else None, filename))
    return out


def export_zip(store: RunStore, name: str) -> bytes:
    """The dataset as an ImageFolder zip: each example's original picture under its own file name where it has
    one, its prepared 28×28 picture as a PNG otherwise (drawings). An imported zip exports to the same bytes."""
    row = store.dataset(name)
    if row is None:
        raise O.OwnImagesError(tr("The dataset {name!r} no longer exists.", name=name))
    images: list[list[bytes]] = [[] for _ in row["classes"]]
    filenames: list[list[str]] = [[] for _ in row["classes"]]
    for ex in store.examples(name, originals=True):
        data = ex["original"] if ex["original"] is not None else O._png(_pixels(ex["pixels"]))
        images[ex["label"]].append(data)
        filenames[ex["label"]].append(ex["filename"])
    for files, names in zip(images, filenames):
        taken = set(names)
        for i, (data, fname) in enumerate(zip(files, names)):
            if fname:
                continue
            n, ext = i + 1, O._extension(data)
            while f"{n:04d}{ext}" in taken:
                n += 1
            names[i] = f"{n:04d}{ext}"
            taken.add(names[i])
    return O.write_imagefolder_zip(row["classes"], images, filenames)


def _pixels(b: bytes) -> np.ndarray:
    side = int(round(len(b) ** 0.5))
    return np.frombuffer(b, dtype=np.uint8).reshape(side, side)


def examples_by_class(store: RunStore, name: str) -> tuple[list[str], list[list[dict]]]:
    """The class names, and each class's examples (id, image: its prepared array, added_by, nickname...)."""
    row = store.dataset(name)
    if row is None:
        return [], []
    out: list[list[dict]] = [[] for _ in row["classes"]]
    for ex in store.examples(name):
        if 0 <= ex["label"] < len(out):
            out[ex["label"]].append({**ex, "image": _pixels(ex["pixels"])})
    return row["classes"], out


def may_remove(example: dict, tags: set[str], teacher: bool) -> bool:
    """Its owner (who added it: their owner tag) or the teacher may remove an example."""
    return teacher or (bool(example.get("added_by")) and example["added_by"] in tags)


# ----------------------------------------------------------------------------- a dataset by name


def _encode(ds: D.Dataset) -> bytes:
    """A dataset's content as bytes (a JSON line, then the raw arrays): no pickle, the same content the same bytes."""
    arrays = (ds.train_x, ds.train_y, ds.test_x, ds.test_y)
    head = {
        "title": ds.info.title,
        "classes": list(ds.info.classes),
        "size": ds.info.size,
        "shapes": [list(a.shape) for a in arrays],
    }
    return json.dumps(head, sort_keys=True).encode() + b"\n" + b"".join(a.numpy().tobytes() for a in arrays)


def _decode(name: str, data: bytes) -> D.Dataset:
    head_bytes, _, body = data.partition(b"\n")
    head = json.loads(head_bytes)
    out, at = [], 0
    for shape, dtype in zip(head["shapes"], (np.uint8, np.int64, np.uint8, np.int64)):
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        out.append(torch.from_numpy(np.frombuffer(body[at : at + n], dtype=dtype).reshape(shape).copy()))
        at += n
    info = D.DatasetInfo(name, head["title"], tuple(head["classes"]), head["size"], None, translate=False)
    return D.Dataset(info, *out)


def version_name(ds: D.Dataset) -> str:
    """ "images:<name>@<12 hex digits of the content's hash>"."""
    return f"{O.PREFIX}{ds.info.title}{VERSION_SEP}{hashlib.sha256(_encode(ds)).hexdigest()[:12]}"


def split_name(name: str) -> tuple[str, str] | None:
    """("shapes", "") for "images:shapes", ("shapes", "1a2b...") for a version; None for another dataset's name."""
    if not name.startswith(O.PREFIX):
        return None
    base, _, version = name[len(O.PREFIX) :].partition(VERSION_SEP)
    return base, version


class StoreSource:
    """core.data's source for the class's datasets in one run store (D.add_source): live names load the current
    examples, versions what a run trained on."""

    def __init__(self, store: RunStore):
        self.store = store
        self._lock = threading.Lock()
        self._live: dict[str, tuple[int, D.Dataset]] = {}  # name -> (revision, its dataset then)
        self._loaded: list[str] = []  # the versions this source registered, oldest first

    def info(self, name: str) -> D.DatasetInfo | None:
        parts = split_name(name)
        if parts is None:
            return None
        base, version = parts
        if version:
            ds = self.load(name)
            return None if ds is None else ds.info
        row = self.store.dataset(base)
        if row is None:
            return None
        return D.DatasetInfo(name, base, tuple(row["classes"]), O.SIZE, None, translate=False)

    def load(self, name: str) -> D.Dataset | None:
        parts = split_name(name)
        if parts is None:
            return None
        base, version = parts
        if version:
            data = self.store.version(name)
            if data is None:
                return None
            ds = _decode(name, data)
            self._register(ds)
            return ds
        revision = self.store.revision(base)
        if revision is None:
            return None
        with self._lock:
            cached = self._live.get(base)
        if cached and cached[0] == revision:
            return cached[1]
        classes, per_class = examples_by_class(self.store, base)
        built = O.build_dataset(base, classes, [[e["image"] for e in items] for items in per_class], O.SPLIT_SEED)
        ds = replace(built, info=replace(built.info, name=version_name(built)))
        with self._lock:
            self._live[base] = (revision, ds)
        return ds

    def pin(self, name: str) -> str | None:
        parts = split_name(name)
        if parts is None or parts[1]:
            return None if parts is None else name
        ds = self.load(name)
        if ds is None:
            return None
        self.store.save_version(ds.info.name, _encode(ds))
        self._register(ds)
        return ds.info.name

    def _register(self, ds: D.Dataset) -> None:
        """Keep a version loaded (core.data.register), and forget the oldest past VERSIONS_IN_MEMORY: a run holds
        its own dataset while it trains, and a page that asks again reads it back from the store."""
        D.register(ds)
        with self._lock:
            if ds.info.name in self._loaded:
                self._loaded.remove(ds.info.name)
            self._loaded.append(ds.info.name)
            old, self._loaded = self._loaded[:-VERSIONS_IN_MEMORY], self._loaded[-VERSIONS_IN_MEMORY:]
        for name in old:
            D.unregister(name)


def install(store: RunStore) -> StoreSource:
    """Make this store's datasets loadable by name in this process (replacing a source of another store)."""
    source = StoreSource(store)
    for old in [s for s in D.SOURCES if isinstance(s, StoreSource)]:
        D.remove_source(old)
    D.add_source(source)
    return source


def dataset_names(store: RunStore) -> list[str]:
    """The live names ("images:<name>") of the store's datasets, oldest first."""
    return [O.PREFIX + d["name"] for d in store.datasets()]


def summary(counts: Sequence[int]) -> str:
    """ "3 classes, 42 examples"."""
    n = sum(counts)
    return tr(
        "{classes}, {examples}",
        classes=ntr("{n} class", "{n} classes", len(counts)),
        examples=ntr("{n} example", "{n} examples", n),
    )


def png(array: np.ndarray) -> bytes:
    """A prepared example as PNG bytes."""
    buf = io.BytesIO()
    from PIL import Image

    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
