"""Backbone registry: name -> builder, preprocessing spec, embedding size, weight file.

Builders are keyword-only and take ``weights``: None for random initialisation, or the path
of a weight file/folder already located by :func:`resolve_weights`. Nothing is downloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.models.preprocess import PreprocessCfg

log = logging.getLogger(__name__)


class MissingWeights(FileNotFoundError):
    """Pretrained weights are not on this machine; the message says what to put where."""


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    builder: Callable
    preprocess: PreprocessCfg
    embed_dim: int
    weights_file: str | None = None  # file (or folder) name of the pretrained weights
    weights_url: str | None = None  # where to get it on a machine with internet
    shipped: bool = False  # weights live directly in WEIGHTS_DIR (trained by this project)
    # finds weights an installed package carries (ImportError naming the package when absent)
    locate: Callable[[], Path] | None = None
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


_REGISTRY: dict[str, BackboneSpec] = {}


def register(name: str, **spec_fields) -> Callable[[Callable], Callable]:
    """Decorator registering a builder under ``name``; a second registration raises."""

    def deco(builder: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is already registered")
        _REGISTRY[name] = BackboneSpec(name=name, builder=builder, **spec_fields)
        return builder

    return deco


def _ensure_loaded() -> None:
    import core.models.backbones  # noqa: F401  (registers the built-in entries)


def list_backbones() -> list[str]:
    _ensure_loaded()
    return list(_REGISTRY)


def get_spec(name: str) -> BackboneSpec:
    _ensure_loaded()
    if name in _REGISTRY:
        return _REGISTRY[name]
    from core.modelhub.store import user_spec  # a model fine-tuned on the user's catalog

    spec = user_spec(name)
    if spec is None:
        raise KeyError(f"unknown backbone {name!r}; known: {', '.join(_REGISTRY)}")
    return spec


def candidate_paths(spec: BackboneSpec, weights_dir: Path) -> list[Path]:
    """Where the weights of ``spec`` are looked for, in order."""
    if spec.weights_file is None:
        return []
    if spec.shipped:
        return [Path(weights_dir) / spec.weights_file]
    import torch

    return [Path(weights_dir) / "pretrained" / spec.weights_file,
            Path(torch.hub.get_dir()) / "checkpoints" / spec.weights_file]


def resolve_weights(spec: BackboneSpec, weights_dir: Path) -> Path:
    """The first existing weights location, or MissingWeights naming file and places."""
    places = candidate_paths(spec, weights_dir)
    for p in places:
        if p.exists():
            return p
    if spec.locate is not None:
        try:
            return spec.locate()
        except ImportError as err:
            raise MissingWeights(f"{err} (or place '{spec.weights_file}' at {places[0]})") \
                from None
    if not places:
        raise MissingWeights(f"{spec.name}: has no pretrained weights; use weights=None")
    where = " or ".join(str(p) for p in places)
    source = f" (download: {spec.weights_url})" if spec.weights_url else ""
    hint = ("train it with `python -m core train encoder`" if spec.shipped
            else "this machine cannot download it")
    raise MissingWeights(
        f"{spec.name}: weights '{spec.weights_file}' not found; place it at {where}"
        f"{source}; {hint}, or use the random-init baseline")


def build_backbone(name: str, *, weights: str | Path | None = "default",
                   weights_dir: Path | None = None, **overrides):
    """Build a backbone in eval mode. weights: 'default' (look up the file), a path, or None."""
    spec = get_spec(name)
    if weights == "default":
        if weights_dir is None:
            raise ValueError("weights='default' needs weights_dir")
        path: Path | None = resolve_weights(spec, Path(weights_dir))
    else:
        path = Path(weights) if weights is not None else None
    log.debug("building %s from %s", name, path or "random init")
    return spec.builder(weights=path, **overrides).eval()


def available_backbones(weights_dir: Path) -> list[str]:
    """Backbones whose weights are present here (loadable without a download)."""
    out = []
    for name in list_backbones():
        try:
            resolve_weights(get_spec(name), weights_dir)
        except MissingWeights:
            continue
        out.append(name)
    return out
