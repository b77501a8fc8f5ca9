"""The checkpoint format, in one place: what a run's weights look like as bytes (a Download, a file beside the
run store, a rewind point), and the checks that make loading one safe against a hostile upload: a size cap, the
zip archive's table of contents read before torch inflates anything, weights_only unpickling, and every shape
checked against the model its config names."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

import torch

from core import data as D
from core import models as M
from core.config import TrainConfig
from core.i18n import tr
from core.train import restore

MAX_CHECKPOINT_BYTES = 20 * 1024 * 1024  # the seed CNN is ~0.2 MB, an MLP-1024 ~3.3 MB
CHECKPOINT_FORMAT = "image-classification-dashboard/1"
MAX_ARCHIVE_ENTRIES = 64  # torch.save writes a few per tensor: these models have at most 10 tensors


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why, for a student."""


def checkpoint_bytes(config: dict, weights: dict, test_acc: float | None = None) -> bytes:
    """A checkpoint as bytes: the state_dict plus the config as JSON (only tensors, strings and numbers)."""
    buf = io.BytesIO()
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": json.dumps(config),
            "state_dict": weights,
            "test_acc": float(test_acc) if test_acc is not None else -1.0,
        },
        buf,
    )
    return buf.getvalue()


@dataclass(frozen=True)
class Checkpoint:
    config: TrainConfig
    model: torch.nn.Module
    test_acc: float | None


def check_archive(data: bytes) -> None:
    """Refuse an archive before torch inflates it: torch.save stores its entries uncompressed, so a compressed
    entry, or sizes that add up to more than the file could hold, is not a checkpoint of this app (a 2 MB file
    can inflate to gigabytes)."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise CheckpointError(tr("This is not a checkpoint file (or it is truncated or damaged).")) from None
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise CheckpointError(
            tr(
                "Refused: the file is a compressed archive, which this app never writes. Only "
                "checkpoints saved by this app can be loaded."
            )
        )
    if len(entries) > MAX_ARCHIVE_ENTRIES or sum(e.file_size for e in entries) > len(data):
        raise CheckpointError(
            tr(
                "Refused: the archive's table of contents does not match its size (damaged or "
                "crafted). Only checkpoints saved by this app can be loaded."
            )
        )


def load_checkpoint(data: bytes) -> Checkpoint:
    """Parse checkpoint bytes safely: size cap, weights_only unpickling, and shapes checked against the config."""
    if not data:
        raise CheckpointError(tr("The file is empty."))
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            tr(
                "The file is {size:.1f} MB; checkpoints of these models are under {limit} MB. Refused.",
                size=len(data) / 2**20,
                limit=MAX_CHECKPOINT_BYTES // 2**20,
            )
        )
    if not data.startswith(b"PK\x03\x04"):  # torch.save always writes a zip archive
        raise CheckpointError(
            tr("This is not a checkpoint file saved by this app (a .pt file from its Download button).")
        )
    check_archive(data)
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - every failure here means "not a usable checkpoint"
        text = str(e).lower()
        # torch names what it blocked: "unsupported GLOBAL posix.system", "Unsupported operand", ...
        if "global" in text or "unsupported operand" in text or "reduce" in text:
            raise CheckpointError(
                tr(
                    "Refused: the file contains Python objects or code, not just weights. "
                    "Only checkpoints saved by this app can be loaded."
                )
            ) from None
        raise CheckpointError(tr("This is not a checkpoint file (or it is truncated or damaged).")) from None
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(tr("This file is a PyTorch file but not a checkpoint saved by this app."))
    try:
        cfg = TrainConfig.from_dict(json.loads(obj["config"]))
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(tr("The checkpoint's config is unreadable ({error}).", error=e)) from None
    if cfg.errors():
        raise CheckpointError(tr("The checkpoint's config is invalid: {problems}", problems=" ".join(cfg.errors())))
    weights = obj.get("state_dict")
    info = D.info(cfg.dataset)
    fresh = M.build(cfg.model, info.size, len(info.classes), cfg.hidden).state_dict()
    if not isinstance(weights, dict) or set(weights) != set(fresh):
        raise CheckpointError(
            tr(
                "The weights do not belong to a {model} model: expected layers {layers}.",
                model=cfg.model,
                layers=", ".join(fresh),
            )
        )
    for name, tensor in fresh.items():
        got = weights[name]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(tensor.shape):
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            raise CheckpointError(
                tr(
                    "Layer {layer} has shape {shape}, but a {model} model for {dataset} "
                    "needs {needed}: the checkpoint is for another model or dataset.",
                    layer=name,
                    shape=shape,
                    model=cfg.model,
                    dataset=cfg.dataset,
                    needed=tuple(tensor.shape),
                )
            )
        if not torch.isfinite(got).all():
            raise CheckpointError(tr("Layer {layer} holds NaN or infinite values: this run had diverged.", layer=name))
    acc = float(obj.get("test_acc", -1))
    return Checkpoint(cfg, restore(cfg.to_dict(), weights), acc if acc >= 0 else None)


def load_weights(data: bytes) -> dict:
    """The state_dict in checkpoint bytes (a rewind point's, say), checked as load_checkpoint checks them."""
    return load_checkpoint(data).model.state_dict()
