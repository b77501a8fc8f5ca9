"""Turn a photo or drawing of a digit or garment into what the model expects, one visible step at a time."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from core.i18n import tr

MAX_BYTES = 10 * 1024 * 1024  # a phone photo fits; anything larger is refused before decoding
MAX_PIXELS = 25_000_000  # checked from the header, before decoding: stops decompression bombs
INK_THRESHOLD = 40  # after inversion, pixels above this count as ink when cropping


class ImageError(ValueError):
    """An upload that cannot be used; the message says why, for a student."""


@dataclass(frozen=True)
class Prepared:
    steps: list[tuple[str, np.ndarray]]  # (caption, uint8 image) in the order applied
    array: np.ndarray  # (size, size) float32 in [0, 1], what the model sees
    inverted: bool

    def tensor(self) -> torch.Tensor:
        return torch.from_numpy(self.array).reshape(1, 1, *self.array.shape)


def decode(data: bytes) -> Image.Image:
    """Open PNG/JPEG/... bytes safely: size caps first, then a full decode that must succeed."""
    if not data:
        raise ImageError(tr("The file is empty. Upload a PNG or JPEG picture."))
    if len(data) > MAX_BYTES:
        raise ImageError(
            tr(
                "The file is {size:.1f} MB; the limit is {limit} MB. Upload a smaller picture.",
                size=len(data) / 2**20,
                limit=MAX_BYTES // 2**20,
            )
        )
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # PIL's own guard fires on headers claiming > 179 megapixels
        raise ImageError(
            tr(
                "The picture claims to be enormous (a 'decompression bomb'): too large to process "
                "safely (limit {limit:.0f} megapixels).",
                limit=MAX_PIXELS / 1e6,
            )
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ImageError(tr("This file is not an image this page can read. Upload a PNG or JPEG picture.")) from None
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ImageError(
            tr(
                "The picture is {w:,} × {h:,} pixels, too large to process safely (limit {limit:.0f} megapixels).",
                w=w,
                h=h,
                limit=MAX_PIXELS / 1e6,
            )
        )
    try:
        img.load()
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ImageError(
            tr(
                "The picture could not be decoded ({error}): the file is damaged or truncated.",
                error=type(e).__name__,
            )
        ) from None
    return img


def to_gray(img: Image.Image) -> np.ndarray:
    """Grayscale uint8; transparent areas become white paper."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, img.convert("RGBA"))
    return np.asarray(img.convert("L"), dtype=np.uint8)


def light_background(gray: np.ndarray) -> bool:
    """True when the border is mostly light: dark ink on paper, unlike MNIST's white ink on black."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 127


def crop_to_ink(gray: np.ndarray) -> np.ndarray:
    """The smallest box holding every ink pixel (light-on-dark image expected)."""
    rows, cols = np.nonzero(gray > INK_THRESHOLD)
    if len(rows) == 0:
        raise ImageError(tr("The picture looks blank: no strokes were found. Draw darker or larger."))
    return gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def inner_box(size: int) -> int:
    """The side of the box a digit is scaled into: MNIST's 20 inside 28x28; the 8x8 digits fill their frame."""
    return 20 if size == 28 else size


def scale_to_box(crop: np.ndarray, size: int) -> np.ndarray:
    """Resize the crop so its longest side fits the dataset's inner box, keeping its aspect ratio."""
    inner = inner_box(size)
    h, w = crop.shape
    scale = inner / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    return np.asarray(Image.fromarray(crop).resize((nw, nh), Image.Resampling.BOX), dtype=np.uint8)


def centre_by_mass(small: np.ndarray, size: int) -> np.ndarray:
    """Place the scaled digit on a black size x size canvas with its centre of mass at the centre, as MNIST did
    (as far as the frame allows: an 8x8 digit filling its frame moves only along its short side)."""
    nh, nw = small.shape
    ink = small.astype(np.float64)
    total = ink.sum() or 1.0
    cy = (ink.sum(axis=1) @ np.arange(nh)) / total  # centre of mass, in the small image's rows and columns
    cx = (ink.sum(axis=0) @ np.arange(nw)) / total
    mid = (size - 1) / 2
    top = min(max(round(mid - cy), 0), size - nh)
    left = min(max(round(mid - cx), 0), size - nw)
    canvas = np.zeros((size, size), np.uint8)
    canvas[top : top + nh, left : left + nw] = small
    return canvas


def finish(gray: np.ndarray, size: int, steps: list, inverted: bool = False) -> Prepared:
    """Light-on-dark grayscale -> crop to the ink, scale into the inner box, centre by mass, scale to 0-1."""
    crop = crop_to_ink(gray)
    steps.append((tr("cropped to the ink"), crop))
    small = scale_to_box(crop, size)
    inner = inner_box(size)
    steps.append((tr("scaled to fit {inner}×{inner}", inner=inner), small))
    canvas = centre_by_mass(small, size)
    steps.append((tr("centred by mass, {size}×{size}", size=size), canvas))
    array = canvas.astype(np.float32) / 255.0
    steps.append((tr("scaled to 0–1"), canvas))
    return Prepared(steps, array, inverted)


def prepare_drawing(rgba: np.ndarray, size: int) -> Prepared:
    """A canvas drawing, (H, W, 4) uint8 with light strokes on a dark or transparent background -> the steps and
    the (size, size) array in [0, 1]."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0  # transparent canvas = black, like MNIST's background
    gray = (rgba[..., :3].max(axis=-1, keepdims=True) * alpha)[..., 0].round().astype(np.uint8)
    return finish(gray, size, [(tr("your drawing, grayscale"), gray)])


def prepare(data: bytes, size: int) -> Prepared:
    """Bytes of an uploaded picture -> the steps a student sees and the (size, size) array in [0, 1]."""
    gray = to_gray(decode(data))
    if min(gray.shape) < 2:
        raise ImageError(
            tr(
                "The picture is only {w} × {h} pixels: too small to hold a drawing.",
                w=gray.shape[1],
                h=gray.shape[0],
            )
        )
    steps = [(tr("grayscale"), gray)]
    inverted = light_background(gray)
    if inverted:
        gray = 255 - gray
        steps.append((tr("inverted (light background)"), gray))
    return finish(gray, size, steps, inverted)
