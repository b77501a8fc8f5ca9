"""Datasets by name: IDX parsing, file resolution or download, splits and batches over uint8 tensors.

Images live in memory once per process as read-only uint8 tensors (N, H, W). Batches are index slices of
those tensors, converted to float per batch: no per-item PIL/ToTensor path, which is far slower (bench/RESULTS.md).
"""

from __future__ import annotations

import gzip
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from core.i18n import N_, tr

FASHION_CLASSES = (
    N_("T-shirt/top"),
    N_("Trouser"),
    N_("Pullover"),
    N_("Dress"),
    N_("Coat"),
    N_("Sandal"),
    N_("Shirt"),
    N_("Sneaker"),
    N_("Bag"),
    N_("Ankle boot"),
)
DIGIT_CLASSES = tuple(str(i) for i in range(10))

# The four IDX files every file-backed set needs, in a fixed order.
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# Debian's dataset-fashion-mnist package and similar system-wide installs.
SYSTEM_DIRS = {"fashion-mnist": ("/usr/share/datasets/fashion-mnist",), "mnist": ("/usr/share/datasets/mnist",)}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    classes: tuple[str, ...]
    size: int  # images are size x size
    torchvision_name: str | None  # folder torchvision uses under the root, None for embedded sets
    # False for a set a class made itself (core.own_images): its title and class names are data, shown as typed
    translate: bool = True

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names as a student reads them, in the current language (`classes` stays English: data);
        a class's own names as typed."""
        return tuple(tr(c) for c in self.classes) if self.translate else self.classes

    @property
    def display_title(self) -> str:
        """The title in the current language (a class's own title as typed)."""
        return tr(self.title) if self.translate else self.title


REGISTRY: dict[str, DatasetInfo] = {
    "digits": DatasetInfo("digits", N_("Digits 8x8 (embedded)"), DIGIT_CLASSES, 8, None),
    "mnist": DatasetInfo("mnist", N_("MNIST handwritten digits"), DIGIT_CLASSES, 28, "MNIST"),
    "fashion-mnist": DatasetInfo("fashion-mnist", N_("Fashion-MNIST clothing"), FASHION_CLASSES, 28, "FashionMNIST"),
}


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    train_x: torch.Tensor  # (N, H, W) uint8
    train_y: torch.Tensor  # (N,) int64
    test_x: torch.Tensor
    test_y: torch.Tensor


class DatasetError(Exception):
    """A dataset cannot be loaded; the message says what to do."""


# Datasets built in memory, by name: a class's own images (core.own_images names them "images:<name>"). info() and
# load() find them as they find the sets on disk; they are not in REGISTRY, whose three sets the pages list. They
# live as long as this process, until unregister(): a worker in another process has not got them.
IN_MEMORY: dict[str, Dataset] = {}


def register(ds: Dataset) -> None:
    """Make a dataset built in memory loadable by its name (a newer one of the same name replaces it)."""
    if ds.info.name in REGISTRY:
        raise DatasetError(tr("{name!r} is a built-in dataset's name; choose another.", name=ds.info.name))
    IN_MEMORY[ds.info.name] = ds


def unregister(name: str) -> None:
    """Forget a dataset built in memory (nothing happens if there is none of that name)."""
    IN_MEMORY.pop(name, None)


class Source(Protocol):
    """Where datasets of other names are found (core.class_images: the class's own, in the run store). Each
    method answers None for a name it does not know."""

    def info(self, name: str) -> DatasetInfo | None: ...

    def load(self, name: str) -> Dataset | None: ...

    def pin(self, name: str) -> str | None:
        """The name of what `name` holds now, kept as it is now: what a run that starts now trains on and is
        later shown with (a dataset students are still adding to has a new version at each change)."""


# searched, in order, for a name neither REGISTRY nor IN_MEMORY has
SOURCES: list[Source] = []


def add_source(source: Source) -> None:
    SOURCES.append(source)


def remove_source(source: Source) -> None:
    if source in SOURCES:
        SOURCES.remove(source)


def known(name: str) -> bool:
    """Can a dataset of this name be trained on here (built in, built in memory, or found by a source)?"""
    try:
        info(name)
    except DatasetError:
        return False
    return True


def pin(name: str) -> str:
    """The name a run that starts now should record: `name` itself, or a source's version of it as it is now."""
    if name in REGISTRY or name in IN_MEMORY:
        return name
    for source in list(SOURCES):
        pinned = source.pin(name)
        if pinned is not None:
            return pinned
    return name


class DatasetMissing(DatasetError):
    pass


class IDXError(DatasetError):
    pass


def info(name: str) -> DatasetInfo:
    """Registry entry for a dataset name, or a clear error listing the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        if name in IN_MEMORY:
            return IN_MEMORY[name].info
        for source in list(SOURCES):
            found = source.info(name)
            if found is not None:
                return found
        raise DatasetError(
            tr("Unknown dataset {name!r}; choose one of {names}.", name=name, names=", ".join(REGISTRY))
        ) from None


def data_dir() -> Path:
    """Root for dataset files: $DATA_DIR, default data/ (git-ignored)."""
    return Path(os.environ.get("DATA_DIR") or "data")


# ---------------------------------------------------------------------------------------------- IDX

_IDX_DTYPES = {0x08: np.uint8}


def read_idx(path: str | os.PathLike, expect_dims: int | None = None) -> torch.Tensor:
    """Parse an IDX file (plain or .gz) into a uint8 tensor, checking magic, dimensions and length."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise IDXError(
            tr(
                "{path}: cannot read ({error}). The file is damaged or truncated: delete it and download it again.",
                path=path,
                error=e,
            )
        ) from None
    if len(raw) < 4:
        raise IDXError(tr("{path}: only {n} bytes, not an IDX file (truncated?).", path=path, n=len(raw)))
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code not in _IDX_DTYPES or not 1 <= ndim <= 4:
        raise IDXError(
            tr("{path}: bad magic number {magic}, not an unsigned-byte IDX file.", path=path, magic=raw[:4].hex())
        )
    if expect_dims is not None and ndim != expect_dims:
        raise IDXError(
            tr(
                "{path}: has {ndim} dimensions, expected {expected} (images and labels swapped?).",
                path=path,
                ndim=ndim,
                expected=expect_dims,
            )
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(tr("{path}: header cut short (truncated file).", path=path))
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape))
    got = len(raw) - header
    if got != expected:
        raise IDXError(
            tr(
                "{path}: header promises {expected:,} bytes of data for shape {shape}, "
                "file has {got:,} (truncated or corrupt).",
                path=path,
                expected=expected,
                shape=shape,
                got=got,
            )
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
    return torch.from_numpy(array.copy())


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as IDX (gzip when the name ends in .gz); used by tests and tools."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += array.tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload)


# ------------------------------------------------------------------------------------ resolution


def candidate_dirs(name: str, root: Path | None = None) -> list[Path]:
    """Folders searched for the four IDX files, in order."""
    root = data_dir() if root is None else Path(root)
    dirs = [root / name]
    tv = info(name).torchvision_name
    if tv:
        dirs.append(root / tv / "raw")
    dirs += [Path(d) for d in SYSTEM_DIRS.get(name, ())]
    return dirs


def _find_in(folder: Path) -> list[Path] | None:
    found = []
    for stem in IDX_FILES:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def find_files(name: str, root: Path | None = None) -> list[Path] | None:
    """Paths of the four IDX files for a file-backed set, or None when no folder has all four."""
    for folder in candidate_dirs(name, root):
        found = _find_in(folder)
        if found:
            return found
    return None


def missing_message(name: str, root: Path | None = None) -> str:
    """What to do when a dataset's files are nowhere to be found."""
    dirs = candidate_dirs(name, root)
    return tr(
        "The {title} files were not found and could not be downloaded "
        "(offline?). Put these four files (plain or .gz): {files} "
        "into {folder}/ (or set DATA_DIR to a folder holding {name}/), "
        "or choose the embedded 'digits' dataset, which needs no files.",
        title=info(name).display_title,
        files=", ".join(IDX_FILES),
        folder=dirs[0],
        name=name,
    )


def download(
    name: str,
    root: Path | None = None,
    mirrors: list[str] | None = None,
    resources: list[tuple[str, str]] | None = None,
) -> list[Path]:
    """Fetch the four files with torchvision into <root>/<TorchvisionName>/raw/ and return their paths.

    mirrors/resources override torchvision's lists (tests serve files from 127.0.0.1).
    """
    from torchvision import datasets as tvd

    root = data_dir() if root is None else Path(root)
    base = getattr(tvd, info(name).torchvision_name)
    overrides = {}
    if mirrors is not None:
        overrides["mirrors"] = list(mirrors)
    if resources is not None:
        overrides["resources"] = list(resources)
    # A subclass keeps the override local: torchvision's own class attributes stay untouched.
    # Its folder name comes from the class name, so keep that.
    cls = type(base.__name__, (base,), overrides)
    try:
        cls(str(root), train=True, download=True)
    except Exception as e:  # URLError, RuntimeError (md5), OSError (disk): all mean "not downloaded"
        # the whole reason, not its first line: torchvision's first ends "Error downloading ....gz:" and says why below
        first = " ".join(line.strip() for line in str(e).splitlines() if line.strip())[:300] or type(e).__name__
        raise DatasetMissing(missing_message(name, root) + tr(" Download failed: {error}", error=first)) from None
    found = _find_in(root / info(name).torchvision_name / "raw")
    if not found:
        raise DatasetMissing(missing_message(name, root))
    return found


def resolve(name: str, root: Path | None = None, allow_download: bool = True) -> list[Path]:
    """The four IDX paths: local folders first, then a download, else DatasetMissing."""
    found = find_files(name, root)
    if found:
        return found
    if allow_download:
        return download(name, root)
    raise DatasetMissing(missing_message(name, root))


# ---------------------------------------------------------------------------------------- loading


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # 0..16 ink levels scaled to 0..255 so every set looks and normalises the same way.
    x = torch.from_numpy(np.rint(bunch.images * (255 / 16)).astype(np.uint8))
    y = torch.from_numpy(bunch.target.astype(np.int64))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    test, train = order[:297], order[297:]  # fixed 1500 / 297 split, the same on every machine
    return Dataset(
        REGISTRY["digits"], x[train].contiguous(), y[train].contiguous(), x[test].contiguous(), y[test].contiguous()
    )


def _load_files(name: str, paths: list[Path]) -> Dataset:
    train_x, train_y, test_x, test_y = (read_idx(p, dims) for p, dims in zip(paths, (3, 1, 3, 1)))
    for x, y, split in ((train_x, train_y, N_("train")), (test_x, test_y, N_("test"))):
        if len(x) != len(y):
            raise IDXError(
                tr(
                    "{name} {split}: {images:,} images but {labels:,} labels (mismatched files).",
                    name=name,
                    split=tr(split),
                    images=len(x),
                    labels=len(y),
                )
            )
        if int(y.max()) >= len(info(name).classes):
            raise IDXError(
                tr(
                    "{name} {split}: label {label} out of range (wrong file?).",
                    name=name,
                    split=tr(split),
                    label=int(y.max()),
                )
            )
    size = info(name).size
    if tuple(train_x.shape[1:]) != (size, size) or tuple(test_x.shape[1:]) != (size, size):
        raise IDXError(
            tr(
                "{name}: images are {shape}, expected ({size}, {size}).",
                name=name,
                shape=tuple(train_x.shape[1:]),
                size=size,
            )
        )
    return Dataset(info(name), train_x, train_y.long(), test_x, test_y.long())


_cache: dict[tuple, Dataset] = {}
_cache_lock = threading.Lock()


def _fingerprint(paths: list[Path]) -> tuple:
    out = []
    for p in paths:
        st = p.stat()
        out.append((str(p.resolve()), st.st_size, st.st_mtime_ns))
    return tuple(out)


def load(name: str, root: Path | None = None, allow_download: bool = True) -> Dataset:
    """The dataset, loaded once per process and shared; reloaded if its files change on disk. A dataset built in
    memory (register()) is returned as it is."""
    if name in IN_MEMORY:
        return IN_MEMORY[name]
    if name not in REGISTRY:
        for source in list(SOURCES):
            found = source.load(name)
            if found is not None:
                return found
    info(name)
    if name == "digits":
        key: tuple = ("digits",)
    else:
        try:
            key = (name, _fingerprint(resolve(name, root, allow_download)))
        except FileNotFoundError:  # a file vanished between finding and stat
            raise DatasetMissing(missing_message(name, root)) from None
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        ds = _load_digits() if name == "digits" else _load_files(name, [Path(p) for p, *_ in key[1]])
        for stale in [k for k in _cache if k[0] == name]:
            del _cache[stale]  # keep one copy per dataset name
        _cache[key] = ds
        return ds


# ------------------------------------------------------------------------------- splits, batches


@dataclass(frozen=True)
class Split:
    train: torch.Tensor  # indices into Dataset.train_x
    val: torch.Tensor


def split(n: int, val_fraction: float, seed: int, subset: int = 0) -> Split:
    """Seeded train/validation index split; subset > 0 keeps only that many training images."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(tr("val_fraction must be in [0, 1), got {value}", value=val_fraction))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * val_fraction))
    if val_fraction > 0 and n_val == 0:
        n_val = 1
    val, train = order[:n_val], order[n_val:]
    if subset:
        train = train[:subset]
    if len(train) == 0:
        raise ValueError(tr("No training images left: lower the validation fraction or raise the subset."))
    return Split(train, val)


def batches(indices: torch.Tensor, batch_size: int, generator: torch.Generator):
    """Yield shuffled index slices of at most batch_size (the last may be smaller)."""
    order = indices[torch.randperm(len(indices), generator=generator)]
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 (B, H, W) -> float32 (B, 1, H, W) in [0, 1], as the models see it."""
    return x.unsqueeze(1).float().div_(255.0)
