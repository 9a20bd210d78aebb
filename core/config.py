"""Settings: built in one place from the environment and `.env` (python-dotenv).

Nothing else in the project reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, str] = {
    "MONGO_URI": "",
    "DB_NAME": "fashion_studio",
    "COLLECTION_NAME": "items",
    "DATA_DIR": "data",
    "WEIGHTS_DIR": "weights",
    "DEVICE": "auto",
    "BACKBONE": "studio_lite",
    "EMBEDDED_PORT": "0",
    "INDEX_KIND": "auto",
}

# Vector index kinds: auto (the server's $vectorSearch index when it has a queryable one, else
# exact up to core.index.ANN_MIN_ROWS vectors, then IVF), exact (torch brute force), hnsw / ivf
# (FAISS approximate), mongo ($vectorSearch; in-process with a warning when the server has none).
INDEX_KINDS = ("auto", "exact", "hnsw", "ivf", "mongo")


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Paths are absolute."""

    mongo_uri: str
    db_name: str
    collection_name: str
    data_dir: Path
    weights_dir: Path
    device_setting: str  # as configured: auto | cpu | cuda | cuda:N
    backbone: str
    embedded_port: int = 0
    index_kind: str = "auto"  # one of INDEX_KINDS

    @property
    def device(self) -> str:
        """The torch device to use; 'auto' is resolved here, lazily (importing torch is slow)."""
        return resolve_device(self.device_setting)

    @property
    def embedded(self) -> bool:
        """True when no MONGO_URI is set and the app runs its own embedded server."""
        return not self.mongo_uri

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def with_active_model(self) -> Settings:
        """These settings with the image encoder activated on the Models page (the pointer
        DATA_DIR/models/active.json, swapped atomically), which overrides BACKBONE."""
        active = read_active_pointer(self.data_dir)
        return replace(self, backbone=active) if active and active != self.backbone else self


ACTIVE_POINTER = Path("models") / "active.json"


def read_active_pointer(data_dir: Path) -> str | None:
    """The model id DATA_DIR/models/active.json names; None without one, when it cannot be
    read, or when it names a user model whose folder is gone."""
    import json

    try:
        doc = json.loads((Path(data_dir) / ACTIVE_POINTER).read_text())
        model_id = str(doc["model_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if doc.get("user") and not (Path(data_dir) / "models" / model_id / "model.pt").is_file():
        return None
    return model_id


def _resolve_path(value: str, root: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (root / p).resolve()


def resolve_device(requested: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'. Explicit values pass through."""
    requested = (requested or "auto").strip().lower()
    if requested != "auto":
        return requested
    return _auto_device()


@functools.cache
def _auto_device() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # torch is optional for storage-only tools
        return "cpu"


def load_settings(env_file: str | Path | None = None, **overrides: str) -> Settings:
    """Merge defaults < .env file < process environment < explicit overrides."""
    env_path = Path(env_file) if env_file else PROJECT_ROOT / ".env"
    values = dict(DEFAULTS)
    if env_path.is_file():
        values.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
    values.update({k: os.environ[k] for k in DEFAULTS if k in os.environ})
    values.update({k.upper(): v for k, v in overrides.items()})
    return Settings(
        mongo_uri=values["MONGO_URI"].strip(),
        db_name=values["DB_NAME"].strip() or DEFAULTS["DB_NAME"],
        collection_name=values["COLLECTION_NAME"].strip() or DEFAULTS["COLLECTION_NAME"],
        data_dir=_resolve_path(values["DATA_DIR"] or "data", PROJECT_ROOT),
        weights_dir=_resolve_path(values["WEIGHTS_DIR"] or "weights", PROJECT_ROOT),
        device_setting=values["DEVICE"].strip().lower() or "auto",
        backbone=values["BACKBONE"].strip() or DEFAULTS["BACKBONE"],
        embedded_port=int(values["EMBEDDED_PORT"] or 0),
        index_kind=index_kind(values["INDEX_KIND"]),
    ).with_active_model()


def index_kind(value: str) -> str:
    """A validated INDEX_KIND (case-insensitive; empty means auto)."""
    kind = (value or "auto").strip().lower() or "auto"
    if kind not in INDEX_KINDS:
        raise SettingsError(f"INDEX_KIND={value!r} is not a vector index kind: use one of "
                            f"{', '.join(INDEX_KINDS)} (set in .env or the environment)")
    return kind
