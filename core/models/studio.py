"""The studio encoder's checkpoint format: weights plus everything needed to rebuild and use it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from core.models.encoder import StudioEncoder
from core.models.labels import ATTR_DIM, CATEGORY_NAMES, COLOR_NAMES, HEAD_ATTRS, head_sizes
from core.models.lite import LITE_VARIANTS, LiteTrunk, lite_preprocess, package_weights
from core.models.preprocess import PreprocessCfg
from core.models.train import WeightAverage

STUDIO_FILE = "studio_encoder.pt"
STUDIO_PREPROCESS = PreprocessCfg(size=128, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25),
                                  pad="edge")
SCRATCH_TRUNK = "studio"  # the from-scratch residual CNN
LITE_TRUNK = "efficientnet_lite1"  # the default encoder's pretrained trunk
LITE_FILE = "studio_lite.pt"


def trunk_of(model: StudioEncoder) -> str:
    """The trunk a studio encoder is built on: "studio" or an EfficientNet-Lite name."""
    return getattr(model.trunk, "name", SCRATCH_TRUNK)


def preprocess_of(model: StudioEncoder) -> PreprocessCfg:
    """The preprocessing a studio encoder was trained for (its trunk's, at its own side)."""
    size = int(getattr(model, "image_size", STUDIO_PREPROCESS.size))
    trunk = trunk_of(model)
    return replace(STUDIO_PREPROCESS, size=size) if trunk == SCRATCH_TRUNK else \
        lite_preprocess(trunk, size)


def new_encoder(*, widths: tuple[int, ...] | None = None, blocks: tuple[int, ...] | None = None,
                embed_dim: int = 128, with_attrs: bool = True,
                attr_heads: bool | Sequence[str] = False,
                chunk_weights: tuple[float, float, float] | None = None,
                trunk: str = SCRATCH_TRUNK, cut: int | None = None,
                pretrained: bool = False) -> StudioEncoder:
    """An encoder sized for the catalog's categories, colours and attributes: randomly
    initialised, or on an EfficientNet-Lite trunk (ImageNet weights when ``pretrained``)."""
    kw: dict[str, Any] = {}
    if trunk != SCRATCH_TRUNK:
        weights = package_weights(trunk) if pretrained else None
        kw["trunk"] = LiteTrunk(trunk, weights=weights, cut=cut)
    if widths:
        kw["widths"] = tuple(widths)
    if blocks:
        kw["blocks"] = tuple(blocks)
    if chunk_weights:
        kw["chunk_weights"] = tuple(chunk_weights)
    model = StudioEncoder(embed_dim=embed_dim, n_categories=len(CATEGORY_NAMES),
                          n_colors=len(COLOR_NAMES), attr_dim=ATTR_DIM if with_attrs else 0, **kw)
    if trunk != SCRATCH_TRUNK:
        model.image_size = LITE_VARIANTS[trunk].size
    if attr_heads:
        add_attr_heads(model, HEAD_ATTRS if attr_heads is True else tuple(attr_heads))
    return model


def add_attr_heads(model: StudioEncoder, names: Sequence[str] = HEAD_ATTRS) -> None:
    """Give ``model`` heads for the attributes the renderer draws (``HEAD_ATTRS``) or its
    discrete shape details (``DETAIL_NAMES``); heads it has are kept."""
    model.add_attr_heads(head_sizes(names))


def arch_of(model: StudioEncoder) -> dict[str, Any]:
    """Constructor arguments that rebuild ``model``."""
    common = {"embed_dim": model.embed_dim, "with_attrs": model.attr_mlp is not None,
              **({"attr_heads": list(model.attr_heads)} if model.attr_heads is not None else {}),
              "chunk_weights": [round(float(w) ** 2, 6) for w in model.chunk_scale]}
    if trunk_of(model) != SCRATCH_TRUNK:
        return {"trunk": trunk_of(model), "cut": model.trunk.cut, **common}
    widths, blocks = [], []
    for blk in model.trunk.stages:
        if blocks and blk.conv1.stride[0] == 1:  # stages start with a stride-2 block
            blocks[-1] += 1
        else:
            widths.append(blk.conv1.out_channels)
            blocks.append(1)
    return {"widths": widths, "blocks": blocks, **common}


def save_checkpoint(model: StudioEncoder, path: Path, *, metrics: dict | None = None,
                    half: bool = False, extra: dict | None = None) -> Path:
    """Write weights (optionally float16 to halve the file) with architecture and label spaces."""
    state = {k: (v.half() if half and v.is_floating_point() else v).cpu()
             for k, v in model.state_dict().items()}
    payload = {"format": "studio_encoder/1", "arch": arch_of(model), "state_dict": state,
               "categories": list(CATEGORY_NAMES), "colors": list(COLOR_NAMES),
               "preprocess": preprocess_of(model).to_dict(), "metrics": metrics or {},
               "views": [[float(z), bool(f)] for z, f in model.views],
               **({"item_weights": list(model.item_weights)} if model.item_weights else {}),
               **(extra or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


# payload keys save_checkpoint writes from the model itself
_REBUILT = frozenset({"format", "arch", "state_dict", "categories", "colors", "preprocess",
                      "metrics", "views", "item_weights"})


def training_record(payload: dict) -> dict:
    """What a checkpoint says beyond what ``save_checkpoint`` writes from the model (training
    config, data, selections): carried over when a derived checkpoint is written."""
    return {k: v for k, v in payload.items() if k not in _REBUILT}


def load_checkpoint(path: Path) -> tuple[StudioEncoder, dict]:
    """Rebuild an encoder from a checkpoint file; returns (model in eval mode, payload)."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    if payload.get("format") != "studio_encoder/1":
        raise ValueError(f"{path}: not a studio encoder checkpoint")
    if list(payload["categories"]) != list(CATEGORY_NAMES):
        raise ValueError(f"{path}: trained for other categories than the catalog's taxonomy")
    model = new_encoder(**payload["arch"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in payload["state_dict"].items()})
    model.views = tuple((float(z), bool(f)) for z, f in payload.get("views", [[1.0, False]]))
    model.image_size = int(payload.get("preprocess", {}).get("size", STUDIO_PREPROCESS.size))
    if payload.get("item_weights"):
        model.item_weights = tuple(float(w) for w in payload["item_weights"])
    # trained with colour labels of real photos: its colour head reads photos (not only renders)
    model.reads_photo_colour = bool((payload.get("data") or {}).get("real_labels"))
    return model.eval(), payload


def average_checkpoints(paths: Sequence[Path], out: Path) -> dict[str, Any]:
    """Average the weights of checkpoints of one architecture (e.g. a run's best and last
    epochs: a "model soup" / stochastic weight averaging); BatchNorm running statistics are
    averaged too. Heads only some files have are averaged over those files. The result keeps the
    first file's training record and should be re-tuned (``train tune``) before use."""
    if len(paths) < 2:
        raise ValueError("give at least two checkpoints to average")
    loaded = [load_checkpoint(p) for p in paths]
    trunk_keys = ("trunk", "widths", "blocks", "embed_dim", "with_attrs")
    first = {k: loaded[0][1]["arch"].get(k) for k in trunk_keys}
    for path, (_, payload) in zip(paths[1:], loaded[1:], strict=True):
        arch = {k: payload["arch"].get(k) for k in trunk_keys}
        if arch != first:
            raise ValueError(f"{path}: another architecture ({arch}) than {paths[0]} ({first})")
    states = [m.state_dict() for m, _ in loaded]  # before the first model gains heads
    model, payload = loaded[0]
    for other, _ in loaded[1:]:
        if other.attr_heads is not None:
            add_attr_heads(model, list(other.attr_heads))
    mean = WeightAverage()
    for state in states:
        mean.add(state)
    model.load_state_dict({**model.state_dict(), **mean.state()})
    sources = [{"file": Path(p).name, "sha256": sha256_of(p),
                "epoch": (pl.get("metrics") or {}).get("epoch")} for p, (_, pl) in
               zip(paths, loaded, strict=True)]
    save_checkpoint(model, out, metrics=payload.get("metrics"), half=True,
                    extra={**training_record(payload), "averaged_from": sources})
    return {"file": str(out), "averaged_from": sources}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
