"""User models on disk: DATA_DIR/models/<id>/ holds model.pt and manifest.json (and the
held-out skus); a model folder appears whole (written aside, then renamed) or not at all."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

MODEL_FILE = "model.pt"
MANIFEST_FILE = "manifest.json"
HOLDOUT_FILE = "holdout.json"
_ID = re.compile(r"^[a-z0-9_]+-ft\d+$")
_ROOTS: list[Path] = []  # data dirs whose models the registry resolves (see user_spec)


class ModelError(ValueError):
    """A model operation that cannot be done; the message says why."""


def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def attach(data_dir: Path) -> Path:
    """Make the user models under ``data_dir`` resolvable by name in the backbone registry."""
    root = models_dir(data_dir).resolve()
    if root not in _ROOTS:
        _ROOTS.insert(0, root)
    return root


def _roots() -> list[Path]:
    from core.config import load_settings

    try:
        default = models_dir(load_settings().data_dir).resolve()
    except Exception:  # a broken configuration only hides the default folder
        default = None
    return _ROOTS + ([default] if default and default not in _ROOTS else [])


def is_user_id(name: str) -> bool:
    return bool(_ID.match(name))


def find_model_dir(model_id: str) -> Path | None:
    """The folder of a user model among the attached data dirs."""
    if not is_user_id(model_id):
        return None
    for root in _roots():
        if (root / model_id / MODEL_FILE).is_file():
            return root / model_id
    return None


def user_manifest(model_id: str) -> dict | None:
    folder = find_model_dir(model_id)
    return read_json(folder / MANIFEST_FILE) if folder else None


def user_spec(name: str):
    """A registry entry for a user model: its base family's builder and preprocessing, with
    the weights file in its folder; None when no such model exists."""
    from core.models.registry import get_spec

    manifest = user_manifest(name)
    if manifest is None:
        return None
    base = get_spec(manifest["family"])
    return replace(base, name=name, weights_file=str(find_model_dir(name) / MODEL_FILE),
                   shipped=True, locate=None,
                   description=f"fine-tuned from {manifest.get('base')} on the catalog")


def list_user_models(data_dir: Path) -> list[dict]:
    """Manifests of the user models under ``data_dir``, oldest first."""
    root = models_dir(data_dir)
    out = []
    for folder in sorted(root.glob("*-ft*")) if root.is_dir() else []:
        manifest = read_json(folder / MANIFEST_FILE)
        if manifest and (folder / MODEL_FILE).is_file():
            out.append(manifest)
    return sorted(out, key=lambda m: m.get("created", ""))


def next_model_id(data_dir: Path, family: str) -> str:
    """``<family>-ft<N>``, N one more than any model or staging folder of that family."""
    root = models_dir(data_dir)
    taken = [int(m.group(1)) for p in (root.glob(f"{family}-ft*") if root.is_dir() else [])
             if (m := re.match(rf"^{re.escape(family)}-ft(\d+)", p.name))]
    return f"{family}-ft{max(taken, default=0) + 1}"


def publish_model(data_dir: Path, model_id: str, checkpoint: Path, manifest: dict,
                  holdout: list[str]) -> Path:
    """Write a model folder aside (``.<id>.partial``), then rename it into place."""
    from core.models.studio import sha256_of

    root = models_dir(data_dir)
    final, staging = root / model_id, root / f".{model_id}.partial"
    if final.exists():
        raise ModelError(f"model {model_id} exists already")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(checkpoint, staging / MODEL_FILE)
    manifest = {**manifest, "id": model_id, "file": MODEL_FILE,
                "sha256": sha256_of(staging / MODEL_FILE),
                "bytes": (staging / MODEL_FILE).stat().st_size}
    write_json(staging / MANIFEST_FILE, manifest)
    write_json(staging / HOLDOUT_FILE, {"skus": holdout})
    os.replace(staging, final)
    return final


def delete_model(data_dir: Path, model_id: str, active: str) -> None:
    folder = models_dir(data_dir) / model_id
    if not is_user_id(model_id) or not (folder / MODEL_FILE).is_file():
        raise ModelError(f"{model_id!r} is not a user model here (shipped weights and "
                         "registered backbones cannot be deleted)")
    if model_id == active:
        raise ModelError(f"{model_id} is the active encoder: activate another one first")
    trash = folder.with_name(f".{model_id}.deleted")
    os.replace(folder, trash)  # gone from listings at once, then removed
    shutil.rmtree(trash, ignore_errors=True)


def holdout_skus(data_dir: Path, model_id: str) -> list[str]:
    doc = read_json(models_dir(data_dir) / model_id / HOLDOUT_FILE) or {}
    return list(doc.get("skus") or [])


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, doc: dict) -> None:
    """Write JSON atomically: a temp file in the same folder, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
