import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core import preprocess as P


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_drawn_bar_becomes_the_expected_mnist_array():
    """A black 20x100 bar on white paper: inverted, cropped, scaled by 1/5 to 4x20, centred in 28x28."""
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).rectangle([90, 50, 109, 149], fill=0)  # 20 wide, 100 tall
    out = P.prepare(png(img), 28)
    expected = np.zeros((28, 28), np.float32)
    expected[4:24, 12:16] = 1.0
    np.testing.assert_array_equal(out.array, expected)
    assert out.inverted and [s for s, _ in out.steps][0] == "grayscale"
    assert out.tensor().shape == (1, 1, 28, 28)


def test_drawn_digit_is_centred_and_white_on_black():
    img = Image.new("RGB", (300, 240), "white")
    ImageDraw.Draw(img).line([(60, 40), (60, 200)], fill="black", width=18)  # a '1' off to the left
    arr = P.prepare(png(img), 28).array
    assert arr.shape == (28, 28) and arr.dtype == np.float32
    assert arr[0].max() == 0 and arr[:, 0].max() == 0  # black border like MNIST
    ys, xs = np.nonzero(arr > 0.5)
    assert abs(xs.mean() - 13.5) < 1.5 and abs(ys.mean() - 13.5) < 1.5  # moved to the centre
    assert ys.min() == 4 and ys.max() == 23  # the 20-pixel box


def test_dark_background_is_not_inverted_and_8x8_fills_the_frame():
    img = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(img).ellipse([8, 8, 56, 56], outline=255, width=6)
    out = P.prepare(png(img), 8)
    assert not out.inverted and out.array.shape == (8, 8)
    assert out.array[0].max() > 0  # fills the whole 8x8 frame, like sklearn's digits


def test_transparent_png_is_ink_on_paper():
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle([20, 5, 29, 44], fill=(0, 0, 0, 255))
    out = P.prepare(png(img), 28)
    assert out.inverted and out.array.max() == 1.0


@pytest.mark.parametrize(
    "data,needle",
    [
        (b"", "empty"),
        (b"hello, this is a text file\n" * 10, "not an image"),
        (b"%PDF-1.4 not a picture", "not an image"),
    ],
)
def test_bad_uploads_get_a_message(data, needle):
    with pytest.raises(P.ImageError, match=needle):
        P.prepare(data, 28)


def test_truncated_png_is_reported_as_damaged():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8))
    data = png(img)
    with pytest.raises(P.ImageError, match="damaged or truncated|not an image"):
        P.prepare(data[: len(data) // 2], 28)


def test_one_pixel_and_blank_images():
    with pytest.raises(P.ImageError, match="too small"):
        P.prepare(png(Image.new("L", (1, 1), 0)), 28)
    with pytest.raises(P.ImageError, match="blank"):
        P.prepare(png(Image.new("L", (40, 40), 255)), 28)


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims width x height: a decompression bomb's shape."""

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = b"\x00" + b"\x00" * (width // 8 + 1)
    body = zlib.compress(row * 10)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding():
    data = _bomb_png(100_000, 100_000)  # 10 gigapixels claimed, a few hundred bytes on disk
    assert len(data) < 2000
    with pytest.raises(P.ImageError, match="too large"):
        P.prepare(data, 28)


def test_oversized_file_is_refused(monkeypatch):
    monkeypatch.setattr(P, "MAX_BYTES", 1000)
    with pytest.raises(P.ImageError, match="limit is"):
        P.prepare(b"\x89PNG" + bytes(2000), 28)
