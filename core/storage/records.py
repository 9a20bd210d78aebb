"""Plain dataclasses that go in and out of the storage layer (never raw BSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

# Attribute keys the product understands; ingest may add others under `attrs`.
ATTR_KEYS = ("color", "pattern", "season", "sleeve", "length", "fit")


@dataclass
class Item:
    """One catalog item. ``sku`` is the item's key; ``hash`` the sha256 of its image bytes."""

    sku: str
    image_path: str  # relative to DATA_DIR (images/…) or absolute
    hash: str
    category: str = "unknown"
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    price: float | None = None
    brand: str | None = None
    gender: str | None = None
    store_id: str | None = None
    split: str | None = None  # train | val | test
    mask_path: str | None = None
    popularity: float = 0.0
    source: str = ""
    width: int = 0
    height: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # How a field's value came to be, by field (category, color, pattern): {"source":
    # "predicted", "confidence": 0.91, ...}. A field without a tag was supplied.
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = self.sku
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Item:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


@dataclass
class Store:
    store_id: str
    name: str
    city: str
    lat: float
    lon: float

    def to_doc(self) -> dict[str, Any]:
        return {"_id": self.store_id, **asdict(self)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Store:
        return cls(**{k: doc[k] for k in ("store_id", "name", "city", "lat", "lon")})


@dataclass(frozen=True)
class ItemUpdate:
    """Field changes of one item: dotted paths to set and dotted paths to remove."""

    sku: str
    set_values: dict[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()


@dataclass
class UpsertResult:
    added: int = 0
    duplicates: int = 0  # same sku or same content hash already stored
    added_skus: list[str] = field(default_factory=list)


def data_file(data_dir: Path, path: str) -> Path:
    """A stored image or mask path (relative to DATA_DIR unless absolute) as a file path."""
    p = Path(path)
    return p if p.is_absolute() else Path(data_dir) / p
