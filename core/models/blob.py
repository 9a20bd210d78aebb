"""Weights files of the small models trained on top of the image vectors (the feedback
combiner, the outfit model): one dict saved atomically with a format tag, read back safely."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch


class WeightsError(RuntimeError):
    """A weights file that is missing, unreadable or not of the expected kind."""


def state_of(module: torch.nn.Module, half: bool = False) -> dict[str, torch.Tensor]:
    """A module's weights on the CPU, detached (``half``: floats as float16)."""
    return {k: (v.half() if half and v.is_floating_point() else v).detach().cpu()
            for k, v in module.state_dict().items()}


def save_blob(path: Path, blob: dict[str, Any]) -> str:
    """Write ``blob`` (next to the file, then renamed over it); returns the file's sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_blob(path: Path, fmt: str, *, kind: str, missing: str) -> dict[str, Any]:
    """The dict saved in ``path`` (tensors only, no code) if its format tag is ``fmt``.

    ``kind`` names the file in errors ("an outfit compatibility file"), ``missing`` is the
    message when there is no file (it should say how to make one)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(missing)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise WeightsError(f"{path}: not a readable weights file ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != fmt:
        raise WeightsError(f"{path}: not {kind} (format {fmt})")
    return blob
