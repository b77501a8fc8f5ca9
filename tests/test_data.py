import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from core import data as D


def _tiny_set(folder: Path, n_train=20, n_test=10, size=28, gz=True, seed=0):
    """Write four IDX files with a known pattern; return the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = [
        rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    ]
    for stem, a in zip(D.IDX_FILES, arrays):
        D.write_idx(folder / (stem + (".gz" if gz else "")), a)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / ("x.idx.gz" if gz else "x.idx")
    D.write_idx(p, a)
    t = D.read_idx(p, expect_dims=3)
    assert t.dtype == torch.uint8 and t.shape == (2, 3, 4)
    assert torch.equal(t, torch.from_numpy(a))


def test_idx_truncated_is_a_clear_error(tmp_path):
    p = tmp_path / "x.idx"
    D.write_idx(p, np.zeros((5, 28, 28), np.uint8))
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(D.IDXError, match="truncated"):
        D.read_idx(p)


def test_idx_truncated_gzip_is_a_clear_error(tmp_path):
    p = tmp_path / "x.idx.gz"
    D.write_idx(p, np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8))
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    with pytest.raises(D.IDXError, match="damaged or truncated"):
        D.read_idx(p)


def test_idx_bad_magic_and_wrong_dims(tmp_path):
    p = tmp_path / "x.idx"
    p.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(D.IDXError, match="magic"):
        D.read_idx(p)
    D.write_idx(p, np.zeros(10, np.uint8))
    with pytest.raises(D.IDXError, match="expected 3"):
        D.read_idx(p, expect_dims=3)
    p.write_bytes(b"\x00\x00")
    with pytest.raises(D.IDXError, match="not an IDX"):
        D.read_idx(p)


def test_resolution_prefers_data_dir_then_torchvision_layout(tmp_path):
    _tiny_set(tmp_path / "MNIST" / "raw", gz=False)
    found = D.find_files("mnist", tmp_path)
    assert found and found[0].parent == tmp_path / "MNIST" / "raw"
    arrays = _tiny_set(tmp_path / "mnist", seed=1)
    found = D.find_files("mnist", tmp_path)
    assert found[0].parent == tmp_path / "mnist"
    ds = D.load("mnist", tmp_path, allow_download=False)
    assert torch.equal(ds.train_x, torch.from_numpy(arrays[0]))
    assert ds.train_y.dtype == torch.int64 and ds.test_x.shape == (10, 28, 28)


def test_system_folder_is_used_when_data_dir_has_nothing(tmp_path, monkeypatch):
    """Debian's dataset-fashion-mnist puts the files in /usr/share/datasets/fashion-mnist/."""
    system = tmp_path / "usr-share-datasets" / "fashion-mnist"
    arrays = _tiny_set(system, seed=3)
    monkeypatch.setattr(D, "SYSTEM_DIRS", {"fashion-mnist": (str(system),)})
    assert D.find_files("fashion-mnist", tmp_path / "empty")[0].parent == system
    ds = D.load("fashion-mnist", tmp_path / "empty", allow_download=False)
    assert torch.equal(ds.train_y, torch.from_numpy(arrays[1]).long())


def test_missing_files_name_the_four_files_and_digits(tmp_path):
    with pytest.raises(D.DatasetMissing) as e:
        D.load("fashion-mnist", tmp_path, allow_download=False)
    msg = str(e.value)
    for stem in D.IDX_FILES:
        assert stem in msg
    assert str(tmp_path / "fashion-mnist") in msg and "digits" in msg


def test_reload_notices_truncated_file(tmp_path):
    _tiny_set(tmp_path / "mnist", gz=False)
    D.load("mnist", tmp_path, allow_download=False)
    p = tmp_path / "mnist" / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(D.IDXError, match="truncated"):
        D.load("mnist", tmp_path, allow_download=False)
    p.unlink()
    with pytest.raises(D.DatasetMissing):
        D.load("mnist", tmp_path, allow_download=False)


def test_mismatched_label_count(tmp_path):
    arrays = _tiny_set(tmp_path / "mnist", gz=False)
    D.write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte", arrays[1][:5])
    with pytest.raises(D.IDXError, match="20 images but 5 labels"):
        D.load("mnist", tmp_path, allow_download=False)


def test_digits_is_embedded_and_uint8():
    ds = D.load("digits")
    assert ds.train_x.dtype == torch.uint8 and ds.train_x.shape[1:] == (8, 8)
    assert len(ds.train_y) == 1500 and len(ds.test_y) == 297
    assert int(ds.train_x.max()) == 255
    assert D.load("digits") is ds  # loaded once, shared


def test_fashion_class_names():
    assert D.info("fashion-mnist").classes[0] == "T-shirt/top"
    assert D.info("fashion-mnist").classes[9] == "Ankle boot"
    with pytest.raises(D.DatasetError, match="Unknown dataset"):
        D.info("cifar")


def test_split_is_seeded_disjoint_and_subsettable():
    a, b = D.split(100, 0.2, seed=3), D.split(100, 0.2, seed=3)
    assert torch.equal(a.train, b.train) and len(a.val) == 20 and len(a.train) == 80
    assert not set(a.train.tolist()) & set(a.val.tolist())
    assert not torch.equal(D.split(100, 0.2, seed=4).train, a.train)
    assert len(D.split(100, 0.0, seed=0).val) == 0
    assert len(D.split(100, 0.9, seed=0, subset=1).train) == 1


def test_batches_cover_every_index_once():
    g = torch.Generator().manual_seed(0)
    idx = torch.arange(10)
    got = list(D.batches(idx, 4, g))
    assert [len(b) for b in got] == [4, 4, 2]
    assert sorted(torch.cat(got).tolist()) == list(range(10))


def test_to_float_scales_and_adds_channel():
    x = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    f = D.to_float(x)
    assert f.shape == (1, 1, 1, 2) and f.dtype == torch.float32
    assert f.flatten().tolist() == [0.0, 1.0]


def _serve(folder: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_download_through_torchvision_from_a_local_mirror(tmp_path):
    """The real download path (torchvision's downloader, md5 check, gunzip) against 127.0.0.1."""
    import hashlib

    served = tmp_path / "mirror"
    arrays = _tiny_set(served, gz=True, seed=7)
    resources = [(f"{stem}.gz", hashlib.md5((served / f"{stem}.gz").read_bytes()).hexdigest()) for stem in D.IDX_FILES]
    server = _serve(served)
    try:
        root = tmp_path / "data"
        mirror = f"http://127.0.0.1:{server.server_address[1]}/"
        paths = D.download("fashion-mnist", root, mirrors=[mirror], resources=resources)
        assert paths[0].parent == root / "FashionMNIST" / "raw"
        ds = D.load("fashion-mnist", root, allow_download=False)
        assert torch.equal(ds.test_x, torch.from_numpy(arrays[2]))
        # a mirror serving a file whose checksum is wrong is refused with the clear message
        bad = [(n, "0" * 32) for n, _ in resources]
        with pytest.raises(D.DatasetMissing, match="Download failed"):
            D.download("mnist", tmp_path / "other", mirrors=[mirror], resources=bad)
    finally:
        server.shutdown()


def test_download_offline_gives_the_missing_message(tmp_path):
    with pytest.raises(D.DatasetMissing, match="could not be downloaded"):
        D.download("mnist", tmp_path, mirrors=["http://127.0.0.1:9/"])  # nothing listens on port 9


def test_real_files_load_with_expected_shapes(real_fashion, real_mnist):
    for ds in (real_fashion, real_mnist):
        assert ds.train_x.shape == (60000, 28, 28) and ds.test_x.shape == (10000, 28, 28)
        assert ds.train_x.dtype == torch.uint8 and ds.train_y.dtype == torch.int64
    assert torch.bincount(real_fashion.train_y).tolist() == [6000] * 10  # Fashion-MNIST is balanced
    assert int(torch.bincount(real_mnist.train_y)[1]) == 6742  # the well-known count of 1s in MNIST
