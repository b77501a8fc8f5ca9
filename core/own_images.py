"""The class's own images: a dataset a class makes (draws, photographs or uploads) and trains on. Pure logic.

    names = check_class_names(["circle", "square"])              trimmed and checked, or OwnImagesError saying why
    x = prepare_example(png_bytes)   prepare_example(rgba)         (28, 28) uint8, white on black like MNIST
    folder = read_imagefolder("shapes.zip")                       class names, each class's image files, skipped files
    data = write_imagefolder_zip(folder.classes, folder.images)   the same as an ImageFolder zip (it round-trips)
    ds = build_dataset("shapes", names, examples, seed=0)         a core.data.Dataset with a stratified test split
    D.register(ds); TrainConfig(dataset=ds.info.name)             trained by name, "images:shapes" (core.data)
    ds = dataset_from_source("shapes.zip")                        read, prepare and build in one (--images)
    near_duplicates(arrays), advice(names, examples)              what a teacher may want to look at before training

The ImageFolder layout is torchvision's ImageFolder and Keras' image_dataset_from_directory's: one folder per class,
named after it, holding that class's pictures (sub-folders too). One wrapper folder around them is allowed. Classes
come in the order of an optional classes.txt (one name a line; what write_imagefolder_zip writes, which both
libraries ignore), then in sorted order as torchvision sorts them.

Class names (and a dataset's name) are plain text, kept as typed after trimming: they are data, never translated
(DatasetInfo.translate is False) and also folder names in an exported zip. Characters that are markup or that a
file name cannot hold are refused with a message (REFUSED_CHARS: `<b>x</b>` and `[a](javascript:...)` are refused);
what is accepted may still hold Markdown (`_x_`, `# x`, `1. x`), so a page escapes a name where it renders Markdown.

Every limit is a module constant below, named in the messages that enforce it.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core import preprocess as P
from core.data import Dataset, DatasetError, DatasetInfo
from core.i18n import tr

# ------------------------------------------------------------------------------------------- limits

MIN_CLASSES = 2  # a model learns to tell classes apart: one class is nothing to learn
MAX_CLASSES = 10
MAX_EXAMPLES_PER_CLASS = 500
MAX_DATASET_BYTES = 50 * 2**20  # every picture's file together (and an uploaded archive itself)
MAX_NAME_CHARS = 40  # a class's or a dataset's name
MAX_TOTAL_PIXELS = 250_000_000  # every picture together, read from their headers: bounds the time spent decoding
MAX_COMPRESSION_RATIO = 100  # an archive entry unpacking to over 100× its packed size...
RATIO_FLOOR_BYTES = 2**20  # ...and to over 1 MB is refused as a zip bomb (a small blank BMP may pack 100×)
MAX_ENTRIES = 2 * MAX_CLASSES * MAX_EXAMPLES_PER_CLASS  # files and folders in an archive (macOS adds a copy each)
CENTRAL_BYTES_PER_ENTRY = 512  # an archive's table of contents may take this much per entry, read before it is

SIZE = 28  # pictures become 28×28 like MNIST: the three models build for it
TEST_FRACTION = 0.2  # of each class, held out to test the model
SPLIT_SEED = 0  # the CLI's split: the same test pictures for every run on a dataset, whatever the run's seed
IMBALANCE_RATIO = 2.0  # largest class over smallest above this: a warning
NEAR_DUPLICATE_THRESHOLD = 6.0  # mean absolute difference of two prepared pictures, in 0-255 levels

PREFIX = "images:"  # a dataset built here is registered as PREFIX + its name: "images:shapes"
MANIFEST = "classes.txt"  # an archive's class order, one name a line
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
# markup (HTML, Markdown links and code, LaTeX, strike-through) and what Windows forbids in a file name
REFUSED_CHARS = '<>[]{}`$~*|\\/:?"'
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_JUNK_NAMES = {"__macosx", "thumbs.db", "desktop.ini"}  # with names starting with a dot: ignored, not counted


class OwnImagesError(DatasetError, ValueError):
    """The class's own images cannot be used as given; the message says why, for a student."""


def _mb(n: int) -> float:
    return n / 2**20


# -------------------------------------------------------------------------------------------- names


def clean_name(name: str) -> str:
    """A class's or dataset's name trimmed and checked: plain text of 1 to MAX_NAME_CHARS characters that can also
    be a folder's name. Raises OwnImagesError saying what to change."""
    if not isinstance(name, str):
        raise TypeError(f"a name is a str, got {type(name).__name__}")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise OwnImagesError(tr("A name cannot be empty."))
    if len(name) > MAX_NAME_CHARS:
        raise OwnImagesError(
            tr(
                "{name!r} has {n} characters; a name may have at most {limit}.",
                name=name,
                n=len(name),
                limit=MAX_NAME_CHARS,
            )
        )
    if any(unicodedata.category(c)[0] == "C" or (c.isspace() and c != " ") for c in name):
        raise OwnImagesError(tr("{name!r} holds an invisible or control character: type the name again.", name=name))
    refused = "".join(sorted({c for c in name if c in REFUSED_CHARS}))
    if refused:
        raise OwnImagesError(
            tr(
                "{name!r} holds {chars}: a name is plain text, and also a folder's name in a zip, so it cannot "
                "hold any of {refused}.",
                name=name,
                chars=" ".join(refused),
                refused=" ".join(REFUSED_CHARS),
            )
        )
    if name.startswith("."):
        raise OwnImagesError(tr("{name!r} starts with a dot, which hides a folder: choose another name.", name=name))
    if name.split(".")[0].strip().lower() in _WINDOWS_RESERVED:
        raise OwnImagesError(tr("{name!r} is a name Windows keeps for itself: choose another.", name=name))
    return name


def check_class_names(names: Sequence[str]) -> tuple[str, ...]:
    """The class names trimmed and checked (clean_name), unique ignoring capitals, MIN_CLASSES to MAX_CLASSES of
    them; raises OwnImagesError saying what to change."""
    cleaned = tuple(clean_name(n) for n in names)
    if len(cleaned) < MIN_CLASSES:
        raise OwnImagesError(
            tr(
                "{n} class ({names}): a dataset needs at least {min} classes, since a model learns to tell them apart.",
                n=len(cleaned),
                names=", ".join(cleaned) or "-",
                min=MIN_CLASSES,
            )
        )
    if len(cleaned) > MAX_CLASSES:
        raise OwnImagesError(tr("{n} classes: a dataset may have at most {max}.", n=len(cleaned), max=MAX_CLASSES))
    seen: dict[str, str] = {}
    for name in cleaned:
        key = name.casefold()
        if key in seen:
            raise OwnImagesError(
                tr(
                    "{first!r} and {second!r} are the same name (capitals do not count): each class needs its own.",
                    first=seen[key],
                    second=name,
                )
            )
        seen[key] = name
    return cleaned


def dataset_name(name: str) -> str:
    """The name a dataset built here is registered and trained under: "images:" + its checked name."""
    return PREFIX + clean_name(name)


# ----------------------------------------------------------------------------------------- examples


def prepare_example(image: bytes | np.ndarray, size: int = SIZE) -> np.ndarray:
    """One picture as the model sees it: (size, size) uint8, white ink on black, cropped to the ink, scaled into
    MNIST's 20×20 box and centred by mass, as core.preprocess does for an upload or a drawing.

    bytes: a picture file (PNG, JPEG...), with preprocess.decode's size and decompression-bomb checks; a light
    background is inverted. An (H, W, 4) uint8 array: a drawing's RGBA canvas, light strokes on a dark or
    transparent background (preprocess.prepare_drawing). An (H, W) uint8 array: a greyscale picture, inverted if its
    background is light. Raises preprocess.ImageError (a ValueError) saying why a picture cannot be used."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        prepared = P.prepare(bytes(image), size)
    else:
        array = np.asarray(image)
        if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 4)):
            raise TypeError(
                f"expected picture bytes, an (H, W, 4) or (H, W) uint8 array; got {array.dtype} {array.shape}"
            )
        h, w = array.shape[:2]
        if h * w > P.MAX_PIXELS:
            raise P.ImageError(
                tr(
                    "The picture is {w:,} × {h:,} pixels, too large to process safely (limit {limit:.0f} megapixels).",
                    w=w,
                    h=h,
                    limit=P.MAX_PIXELS / 1e6,
                )
            )
        if array.ndim == 3:
            prepared = P.prepare_drawing(array, size)
        else:
            if min(h, w) < 2:
                raise P.ImageError(tr("The picture is only {w} × {h} pixels: too small to hold a drawing.", w=w, h=h))
            prepared = P.finish(255 - array if P.light_background(array) else array, size, [])
    return np.rint(prepared.array * 255).astype(np.uint8)  # exact: the array is the uint8 canvas over 255


# ------------------------------------------------------------------------------------- ImageFolder


@dataclass(frozen=True)
class ImageFolder:
    """A class's pictures as files, in the ImageFolder layout: what read_imagefolder returns and
    write_imagefolder_zip writes."""

    classes: tuple[str, ...]
    images: tuple[tuple[bytes, ...], ...]  # each class's picture files, as they are, in file-name order
    filenames: tuple[tuple[str, ...], ...]  # their paths inside the class's folder: "a.png", "day2/b.jpg"
    skipped: tuple[str, ...] = ()  # files that are not pictures by their name ("notes.txt"), never read

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(len(files) for files in self.images)

    @property
    def nbytes(self) -> int:
        return sum(len(b) for files in self.images for b in files)


@dataclass
class _Entry:
    parts: tuple[str, ...]  # the path's folders and name, wrapper folder removed once found
    size: int  # bytes unpacked, as declared
    packed: int  # bytes in the archive (= size in a folder)
    read: Callable[[int], bytes] | None  # read at most n bytes; None for a folder


def is_image_name(name: str) -> bool:
    """True for a file name with one of IMAGE_EXTENSIONS (torchvision's and Keras' test: by the name alone)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _parts(path: str) -> tuple[str, ...]:
    """A path inside an archive as its parts; refuses one that could land outside the folder it is unpacked in."""
    if (
        "\\" in path
        or "\x00" in path
        or path.startswith("/")
        or re.match(r"^[A-Za-z]:", path)
        or ".." in path.split("/")
    ):
        raise OwnImagesError(
            tr(
                "{path}: a path that leaves its folder (.., an absolute path or a backslash): the archive is "
                "refused, nothing in it was read.",
                path=path,
            )
        )
    return tuple(p for p in path.split("/") if p not in ("", "."))


def _junk(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p.lower() in _JUNK_NAMES for p in parts)


def _zip_entries(zf: zipfile.ZipFile) -> list[_Entry]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise OwnImagesError(_too_many_entries(len(infos)))
    entries = []
    for info in infos:
        parts = _parts(info.orig_filename)
        if not parts:
            continue
        if info.is_dir():
            entries.append(_Entry(parts, 0, 0, None))
            continue
        entries.append(_Entry(parts, info.file_size, info.compress_size, _zip_reader(zf, info)))
    return entries


def _zip_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        if info.flag_bits & 0x1:
            raise OwnImagesError(
                tr("{path}: the archive is password-protected; zip the pictures again without one.", path=info.filename)
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise OwnImagesError(
                tr(
                    "{path}: packed with a compression method this app does not read; zip it again with the usual "
                    "one (Deflate).",
                    path=info.filename,
                )
            )
        try:  # zipfile stops at the declared size and checks the CRC: an entry cannot unpack to more than it says
            with zf.open(info) as f:
                return f.read(limit)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as e:
            raise OwnImagesError(tr("{path}: the archive is damaged ({error}).", path=info.filename, error=e)) from None

    return read


def _folder_entries(root: Path) -> list[_Entry]:
    """A folder's files and sub-folders (symbolic links are skipped, never followed), as archive entries."""
    entries: list[_Entry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).parts
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)) and not _junk((d,))]
        for d in dirnames:
            entries.append(_Entry((*rel, d), 0, 0, None))
        for f in filenames:
            path = os.path.join(dirpath, f)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            entries.append(_Entry((*rel, f), st.st_size, st.st_size, _file_reader(path)))
        if len(entries) > MAX_ENTRIES:
            raise OwnImagesError(_too_many_entries(len(entries)))
    return entries


def _file_reader(path: str) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        with open(path, "rb") as f:
            return f.read(limit)

    return read


def _too_many_entries(n: int) -> str:
    return tr(
        "{n:,} files and folders: at most {limit:,} are read ({max} classes of {per} pictures).",
        n=n,
        limit=MAX_ENTRIES,
        max=MAX_CLASSES,
        per=MAX_EXAMPLES_PER_CLASS,
    )


def _open_zip(data: bytes | Path) -> zipfile.ZipFile:
    """A ZipFile, once the archive's size and its table of contents' size are known to be within the limits."""
    size = len(data) if isinstance(data, bytes) else data.stat().st_size
    if size > MAX_DATASET_BYTES:
        raise OwnImagesError(
            tr(
                "The archive is {size:.1f} MB; the limit is {limit} MB.",
                size=_mb(size),
                limit=MAX_DATASET_BYTES // 2**20,
            )
        )
    try:
        with io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb") as f:
            end = zipfile._EndRecData(f)  # the end record alone: how many entries, and how long their table is
        if end is None:
            raise zipfile.BadZipFile
        if (
            end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ENTRIES
            or end[zipfile._ECD_SIZE] > MAX_ENTRIES * CENTRAL_BYTES_PER_ENTRY
        ):
            raise OwnImagesError(_too_many_entries(end[zipfile._ECD_ENTRIES_TOTAL]))
        return zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except OwnImagesError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error):
        raise OwnImagesError(
            tr(
                "This file is not a zip archive. Upload a .zip holding one folder per class, each folder named "
                "after its class and holding its pictures."
            )
        ) from None


def read_imagefolder(source: str | os.PathLike | bytes) -> ImageFolder:
    """Class names and each class's picture files from a folder, a .zip file or a .zip's bytes in the ImageFolder
    layout (one folder per class, one optional wrapper folder around them).

    Before a picture is read: every path is checked (.., absolute paths and backslashes refuse the archive), and the
    classes (MIN_CLASSES..MAX_CLASSES, names as clean_name checks them, none empty, at most MAX_EXAMPLES_PER_CLASS
    pictures each), the pictures' declared sizes together (MAX_DATASET_BYTES) and each one's compression ratio
    (MAX_COMPRESSION_RATIO) are checked. Files that are not pictures by their name are skipped and listed in
    `skipped`; hidden files and macOS' __MACOSX copies are ignored. The pictures are not decoded here
    (prepare_folder does). Raises OwnImagesError saying what is wrong."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        with _open_zip(bytes(source)) as zf:
            return _read(_zip_entries(zf))
    path = Path(source)
    if path.is_dir():
        return _read(_folder_entries(path))
    if not path.is_file():
        raise OwnImagesError(tr("{path}: no such file or folder.", path=path))
    with _open_zip(path) as zf:
        return _read(_zip_entries(zf))


def _read(entries: list[_Entry]) -> ImageFolder:
    entries = [e for e in entries if not _junk(e.parts)]
    files = [e for e in entries if e.read is not None]
    if (
        entries
        and len({e.parts[0] for e in entries}) == 1
        and not any(len(e.parts) == 1 or (len(e.parts) == 2 and is_image_name(e.parts[1])) for e in files)
    ):  # one wrapper folder, with no picture of its own: its folders are the classes
        entries = [_Entry(e.parts[1:], e.size, e.packed, e.read) for e in entries if len(e.parts) > 1]
        files = [e for e in entries if e.read is not None]

    manifest = next((e for e in files if e.parts == (MANIFEST,)), None)
    found = {e.parts[0] for e in entries if len(e.parts) > 1 or e.read is None}
    order = [n for n in _manifest(manifest) if n in found]
    folders = [*dict.fromkeys(order), *sorted(found - set(order))]
    skipped = [
        "/".join(e.parts) for e in files if e is not manifest and (len(e.parts) == 1 or not is_image_name(e.parts[-1]))
    ]
    if not folders:
        raise OwnImagesError(
            tr(
                "No class folders found: put each class's pictures in a folder named after the class, and zip "
                "those folders together ({n} other files were found).",
                n=len(skipped),
            )
        )
    classes = check_class_names(folders)  # a folder's name trimmed, in NFC (macOS zips may write NFD)

    per_folder: dict[str, list[_Entry]] = {f: [] for f in folders}
    for e in files:
        if len(e.parts) > 1 and is_image_name(e.parts[-1]):
            per_folder[e.parts[0]].append(e)
    for c, f in zip(classes, folders):
        per_folder[f].sort(key=lambda e: e.parts)
        _check_count(c, len(per_folder[f]))
    pictures = [e for f in folders for e in per_folder[f]]
    _check_bytes(sum(e.size for e in pictures))
    for e in pictures:
        if e.size > RATIO_FLOOR_BYTES and e.size > MAX_COMPRESSION_RATIO * max(e.packed, 1):
            raise OwnImagesError(
                tr(
                    "{path}: unpacks to {size:.1f} MB from {packed:,} bytes (over {ratio}× packed): refused as a "
                    "possible zip bomb.",
                    path="/".join(e.parts),
                    size=_mb(e.size),
                    packed=e.packed,
                    ratio=MAX_COMPRESSION_RATIO,
                )
            )

    images, left = [], MAX_DATASET_BYTES
    for f in folders:
        data = []
        for e in per_folder[f]:
            b = e.read(min(e.size, left) + 1)  # a file that grew, or an entry that lies, shows one byte too many
            if len(b) > e.size:
                raise OwnImagesError(
                    tr(
                        "{path}: holds more than the {size:,} bytes it declares: refused.",
                        path="/".join(e.parts),
                        size=e.size,
                    )
                )
            left -= len(b)
            data.append(b)
        images.append(tuple(data))
    return ImageFolder(
        classes,
        tuple(images),
        tuple(tuple("/".join(e.parts[1:]) for e in per_folder[f]) for f in folders),
        tuple(skipped),
    )


def _manifest(entry: _Entry | None) -> list[str]:
    """The class order a classes.txt gives (no manifest, an unreadable or an oversized one: none)."""
    if entry is None or entry.size > 64 * 1024:
        return []
    try:
        text = entry.read(64 * 1024).decode("utf-8-sig")
    except (UnicodeDecodeError, OwnImagesError):
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _check_count(name: str, n: int) -> None:
    if n == 0:
        raise OwnImagesError(tr("Class {name!r} has no pictures: add some, or remove the class.", name=name))
    if n > MAX_EXAMPLES_PER_CLASS:
        raise OwnImagesError(
            tr(
                "Class {name!r} has {n:,} pictures; a class may have at most {limit:,}.",
                name=name,
                n=n,
                limit=MAX_EXAMPLES_PER_CLASS,
            )
        )


def _check_bytes(total: int) -> None:
    if total > MAX_DATASET_BYTES:
        raise OwnImagesError(
            tr(
                "The pictures add up to {size:.1f} MB; the limit is {limit} MB. Use fewer or smaller pictures.",
                size=_mb(total),
                limit=MAX_DATASET_BYTES // 2**20,
            )
        )


_FORMATS = {
    "JPEG": ".jpg",
    "MPO": ".jpg",
    "PNG": ".png",
    "GIF": ".gif",
    "BMP": ".bmp",
    "WEBP": ".webp",
    "TIFF": ".tif",
    "PPM": ".ppm",
}


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _extension(data: bytes) -> str:
    """A picture file's extension by its format, read from its header."""
    try:
        fmt = Image.open(io.BytesIO(data)).format
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValueError("bytes that are not a picture PIL reads: name them (filenames=...)") from None
    return _FORMATS.get(fmt, f".{fmt.lower()}")


def write_imagefolder_zip(
    classes: Sequence[str],
    images: Sequence[Sequence[bytes | np.ndarray]],
    filenames: Sequence[Sequence[str]] | None = None,
) -> bytes:
    """A zip in the ImageFolder layout: classes.txt (the class order), then one folder per class holding its
    pictures. Bytes are written as they are; an array (a prepared 28×28 example, uint8) as a PNG. Files are named
    `filenames` (read_imagefolder's, for a round trip) or 0001.png, 0002.jpg... by their format. Stored, not
    compressed (pictures are compressed already), with fixed dates: the same pictures give the same bytes.

    read_imagefolder of the result gives the same classes, in the same order, and the same bytes. The same limits
    apply as to an upload (what is written here can be read back); raises OwnImagesError otherwise."""
    classes = check_class_names(classes)
    if len(images) != len(classes) or (filenames is not None and len(filenames) != len(classes)):
        raise ValueError("one list of images (and of file names) per class")
    files: list[list[tuple[str, bytes]]] = []
    for k, (name, items) in enumerate(zip(classes, images)):
        _check_count(name, len(items))
        data = [b if isinstance(b, (bytes, bytearray, memoryview)) else _png(b) for b in items]
        names = (
            list(filenames[k]) if filenames is not None else [f"{i:04d}{_extension(b)}" for i, b in enumerate(data, 1)]
        )
        if len(names) != len(data) or len(set(names)) != len(names):
            raise ValueError(f"class {name!r}: one distinct file name per image")
        for n in names:
            if not _parts(n) or _junk(_parts(n)) or not is_image_name(n):
                raise ValueError(f"class {name!r}: {n!r} is not a picture's file name read_imagefolder would read")
        files.append(list(zip(names, (bytes(b) for b in data))))
    _check_bytes(sum(len(b) for class_files in files for _, b in class_files))

    def info(path: str) -> zipfile.ZipInfo:
        zi = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
        zi.external_attr = (0o40755 << 16 | 0x10) if path.endswith("/") else 0o644 << 16
        return zi

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(info(MANIFEST), "".join(f"{c}\n" for c in classes).encode())
        for name, class_files in zip(classes, files):
            zf.writestr(info(f"{name}/"), b"")
            for filename, data in class_files:
                zf.writestr(info(f"{name}/{filename}"), data)
    return buf.getvalue()


def prepare_folder(folder: ImageFolder, size: int = SIZE) -> list[list[np.ndarray]]:
    """Each class's pictures prepared (prepare_example): (size, size) uint8 arrays, class by class. A picture that
    cannot be used refuses the lot, its path in the message; so do pictures of more than MAX_TOTAL_PIXELS
    together (from their headers, before decoding)."""
    pixels = 0
    out: list[list[np.ndarray]] = []
    for name, files, filenames in zip(folder.classes, folder.images, folder.filenames):
        arrays = []
        for data, filename in zip(files, filenames):
            path = f"{name}/{filename}"
            pixels += _header_pixels(data)
            if pixels > MAX_TOTAL_PIXELS:
                raise OwnImagesError(
                    tr(
                        "{path}: the pictures so far hold over {limit:,} megapixels together, more than this app "
                        "decodes for one dataset. Use smaller pictures.",
                        path=path,
                        limit=MAX_TOTAL_PIXELS // 1_000_000,
                    )
                )
            try:
                arrays.append(prepare_example(data, size))
            except P.ImageError as e:
                raise OwnImagesError(tr("{path}: {problem}", path=path, problem=e)) from None
        out.append(arrays)
    return out


def _header_pixels(data: bytes) -> int:
    try:
        w, h = Image.open(io.BytesIO(data)).size  # the header alone; a file that fails here fails in decode()
    except (OSError, ValueError, Image.DecompressionBombError):
        return 0
    return w * h


# ------------------------------------------------------------------------------------------ dataset


def test_indices(counts: Sequence[int], seed: int, test_fraction: float = TEST_FRACTION) -> list[np.ndarray]:
    """Which examples of each class are held out for testing, sorted: about test_fraction of each, drawn by seed
    (the same seed, the same choice). A class with 2 or more examples has at least one held out and at least one
    left to train on; a class with a single example has it trained on and never tested."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    g = torch.Generator().manual_seed(seed)
    out = []
    for n in counts:
        order = torch.randperm(n, generator=g).numpy()
        k = 0 if n < 2 else min(max(int(n * test_fraction + 0.5), 1), n - 1)
        out.append(np.sort(order[:k]))
    return out


def build_dataset(
    name: str,
    class_names: Sequence[str],
    examples_per_class: Sequence[Sequence[np.ndarray]],
    seed: int = SPLIT_SEED,
    test_fraction: float = TEST_FRACTION,
) -> Dataset:
    """A core.data.Dataset of the class's own examples: prepared (size, size) uint8 arrays (prepare_example), one
    list per class. Its test set holds test_indices(...) of each class, the rest trains, each in the order given.
    Its info is named dataset_name(name) ("images:<name>"), titled `name`, with the class names as typed
    (translate=False). Register it (core.data.register) to train on it by name."""
    title = clean_name(name)
    classes = check_class_names(class_names)
    if len(examples_per_class) != len(classes):
        raise ValueError(f"{len(classes)} class names but {len(examples_per_class)} lists of examples")
    arrays = [[np.asarray(a) for a in items] for items in examples_per_class]
    for c, items in zip(classes, arrays):
        _check_count(c, len(items))
    size = arrays[0][0].shape[0] if arrays[0][0].ndim == 2 else -1
    for items in arrays:
        for a in items:
            if a.dtype != np.uint8 or a.shape != (size, size):
                raise ValueError(f"examples must be square uint8 arrays of one size (got {a.dtype} {a.shape})")
    held = test_indices([len(items) for items in arrays], seed, test_fraction)
    if not any(len(h) for h in held):
        raise OwnImagesError(
            tr("No class has 2 examples, so none can be held out to test the model: give each class at least 2.")
        )
    train_x, train_y, test_x, test_y = [], [], [], []
    for label, (items, test) in enumerate(zip(arrays, held)):
        is_test = np.zeros(len(items), bool)
        is_test[test] = True
        for a, t in zip(items, is_test):
            (test_x if t else train_x).append(a)
            (test_y if t else train_y).append(label)
    info = DatasetInfo(PREFIX + title, title, classes, size, None, translate=False)
    return Dataset(
        info,
        torch.from_numpy(np.stack(train_x)),
        torch.tensor(train_y, dtype=torch.int64),
        torch.from_numpy(np.stack(test_x)),
        torch.tensor(test_y, dtype=torch.int64),
    )


def dataset_from_source(
    source: str | os.PathLike | bytes,
    name: str | None = None,
    seed: int = SPLIT_SEED,
    test_fraction: float = TEST_FRACTION,
    size: int = SIZE,
) -> Dataset:
    """read_imagefolder, prepare_folder and build_dataset in one: a folder or zip in the ImageFolder layout as a
    Dataset (not registered), named `name` or after the folder or zip ("shapes.zip": "shapes")."""
    folder = read_imagefolder(source)
    if name is None:
        name = "images"
        if not isinstance(source, (bytes, bytearray, memoryview)):
            try:
                name = clean_name(Path(source).stem)
            except OwnImagesError:  # a file name that is no dataset name ("my<shapes>.zip"): the default one
                pass
    return build_dataset(name, folder.classes, prepare_folder(folder, size), seed, test_fraction)


# ------------------------------------------------------------------------------------ what to check


def near_duplicates(arrays: Sequence[np.ndarray], threshold: float = NEAR_DUPLICATE_THRESHOLD) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of prepared examples whose mean absolute pixel difference is below `threshold` (0-255
    levels): the same picture twice, or nearly. O(n²) but cheap: each pair is first compared at 7×7 (4×4 means, whose
    difference is never more than the full one's), and only close pairs at full size; 300 examples take
    milliseconds, 5,000 about a second."""
    if len(arrays) < 2:
        return []
    full = np.stack([np.asarray(a, dtype=np.float32) for a in arrays])
    n, h, w = full.shape
    bh, bw = max(h // 7, 1), max(w // 7, 1)
    small = full[:, : h - h % bh, : w - w % bw].reshape(n, h // bh, bh, w // bw, bw).mean(axis=(2, 4)).reshape(n, -1)
    # the 7×7 difference times the cells' share of the image bounds the full one from below (cells cut off: 0)
    share = (h - h % bh) * (w - w % bw) / (h * w)
    flat = full.reshape(n, -1)
    pairs = []
    for i in range(n - 1):
        coarse = np.abs(small[i + 1 :] - small[i]).mean(axis=1) * share
        for j in np.nonzero(coarse < threshold)[0] + i + 1:
            if float(np.abs(flat[j] - flat[i]).mean()) < threshold:
                pairs.append((i, int(j)))
    return pairs


def class_counts(class_names: Sequence[str], examples_per_class: Sequence[Sequence]) -> dict[str, int]:
    """How many examples each class has, by name, in class order."""
    return {name: len(items) for name, items in zip(class_names, examples_per_class)}


def imbalance(counts: Mapping[str, int]) -> str | None:
    """A warning when the largest class has over IMBALANCE_RATIO times the examples of the smallest, else None."""
    if len(counts) < 2:
        return None
    big = max(counts, key=counts.get)
    small = min(counts, key=counts.get)
    if 0 < counts[small] and counts[big] <= IMBALANCE_RATIO * counts[small]:
        return None
    return tr(
        "Class {big!r} has {n_big} examples but {small!r} only {n_small}: a model may learn to guess {big!r} "
        "more often. Add examples to the smaller class, or use fewer of the larger one.",
        big=big,
        n_big=counts[big],
        small=small,
        n_small=counts[small],
    )


def advice(class_names: Sequence[str], examples_per_class: Sequence[Sequence]) -> list[str]:
    """Warnings to show before training (nothing here refuses a dataset): an imbalance, classes with a single
    example (trained on, never tested)."""
    counts = class_counts(class_names, examples_per_class)
    out = [w for w in (imbalance(counts),) if w]
    for name, n in counts.items():
        if n == 1:
            out.append(
                tr(
                    "Class {name!r} has a single example: the model trains on it but is never tested on it. Add at "
                    "least one more.",
                    name=name,
                )
            )
    return out
