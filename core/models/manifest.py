"""weights/manifest.json: how each shipped weight file was made, what it saw, how it scores."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from core.models.studio import sha256_of

MANIFEST = "manifest.json"


def read_manifest(weights_dir: Path) -> dict:
    path = Path(weights_dir) / MANIFEST
    if not path.is_file():
        return {"files": {}}
    return json.loads(path.read_text())


def record_weights(weights_dir: Path, file: str, *, command: str | None = None,
                   data: dict | None = None, metrics: dict | None = None,
                   notes: str | None = None) -> dict:
    """Create or update the entry of ``file``: sha256 and created are recomputed from the file."""
    weights_dir = Path(weights_dir)
    manifest = read_manifest(weights_dir)
    entry = manifest["files"].get(file, {"file": file})
    path = weights_dir / file
    entry["sha256"] = sha256_of(path)
    entry["bytes"] = path.stat().st_size
    entry["created"] = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
        timespec="seconds")
    if command is not None:
        entry["command"] = command
    if data is not None:
        entry["data"] = data
    if metrics:
        entry.setdefault("metrics", {}).update(metrics)
    if notes is not None:
        entry["notes"] = notes
    manifest["files"][file] = entry
    tmp = weights_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    tmp.replace(weights_dir / MANIFEST)
    return entry


def image_weights_sha256(weights_dir: Path, model_id: str) -> str | None:
    """The manifest's sha256 of the weights behind an image model id (``backbone[+mask]``),
    or None when the manifest has none or cannot be read."""
    backbone = model_id.partition("+")[0]
    try:
        files = read_manifest(weights_dir)["files"]
    except (OSError, ValueError):
        files = {}
    if f"{backbone}.pt" in files:
        return files[f"{backbone}.pt"].get("sha256")
    from core.modelhub.store import user_manifest  # a model fine-tuned on the user's catalog

    return (user_manifest(backbone) or {}).get("sha256")


def stale_warning(weights_dir: Path, model_id: str, meta: dict, model: str,
                  retrain: str) -> str | None:
    """A message when the image weights installed now are not those a model on top of them
    (the feedback combiner, the outfit model) was trained on; ``meta`` is that model's meta
    with ``data.image_weights_sha256``, ``retrain`` the CLI command that retrains it."""
    trained = (meta.get("data") or {}).get("image_weights_sha256")
    current = image_weights_sha256(weights_dir, model_id)
    if trained and current and current != trained:
        backbone = model_id.partition("+")[0]
        return (f"The {model} was trained on other {backbone} weights than the ones installed "
                f"now: retrain it with `python -m core {retrain}` for reliable results.")
    return None


def weights_stamp(weights_dir: Path) -> tuple:
    """(name, size, mtime) of the weight files: changes whenever one is written (a cache key
    for models loaded from them)."""
    root = Path(weights_dir)
    stamp = []
    for p in (*root.glob("*"), *root.glob("pretrained/*")):
        try:  # a file being written (save to .tmp, then rename) may vanish meanwhile
            st_ = p.stat()
        except FileNotFoundError:
            continue
        if p.is_file() and p.suffix != ".tmp":
            stamp.append((str(p.relative_to(root)), st_.st_size, st_.st_mtime_ns))
    return tuple(sorted(stamp))
