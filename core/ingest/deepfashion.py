"""DeepFashion importer: annotation list files, segmentation masks, file-name metadata.

Two layouts are understood:
* Category and Attribute Prediction: ``list_category_img.txt`` / ``list_category_cloth.txt`` /
  ``list_attr_img.txt`` / ``list_attr_cloth.txt`` / ``list_eval_partition.txt`` (in the root or
  in ``Anno/``, ``Eval/``), image paths relative to the root (``img/...``).
* DeepFashion-MultiModal / In-shop: images whose name or path carries gender, category and
  item id (``MEN-Denim-id_00000080-01_7_additional.jpg``, ``img/WOMEN/Dresses/id_00000002/..``),
  colour-coded masks in ``segm/`` named ``<stem>_segm.png``.

``deepfashion_items(root)`` returns plain dicts for the ingest pipeline (hashes are computed
there); categories are mapped onto the catalog taxonomy, the original kept in ``extra``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from core.images import IMAGE_EXTS

log = logging.getLogger(__name__)

NAME_RE = re.compile(
    r"(?P<gender>MEN|WOMEN)[-/](?P<category>[A-Za-z_]+)[-/]id_(?P<item_id>\d+)"
    r"(?:[-/](?P<pose>\d+)_(?P<view>\d+)(?:_(?P<kind>[a-z]+))?)?")
CATEGORY_MAP = {
    # In-shop / MultiModal folder names
    "denim": "jeans", "tees_tanks": "tee", "graphic_tees": "tee", "blouses_shirts": "shirt",
    "shirts_polos": "shirt", "dresses": "dress", "jackets_coats": "jacket",
    "jackets_vests": "jacket", "sweaters": "sweater", "sweatshirts_hoodies": "hoodie",
    "shorts": "shorts", "skirts": "skirt", "pants": "trousers", "leggings": "trousers",
    "rompers_jumpsuits": "romper", "cardigans": "cardigan", "suiting": "blazer",
    # Category and Attribute Prediction's 50 categories
    "anorak": "jacket", "blazer": "blazer", "blouse": "top", "bomber": "jacket",
    "button-down": "shirt", "cardigan": "cardigan", "flannel": "shirt", "halter": "top",
    "henley": "tee", "hoodie": "hoodie", "jacket": "jacket", "jersey": "tee", "parka": "coat",
    "peacoat": "coat", "poncho": "coat", "sweater": "sweater", "tank": "tank", "tee": "tee",
    "top": "top", "turtleneck": "sweater", "capris": "trousers", "chinos": "trousers",
    "culottes": "trousers", "cutoffs": "shorts", "gauchos": "trousers", "jeans": "jeans",
    "jeggings": "jeans", "jodhpurs": "trousers", "joggers": "trousers", "sarong": "skirt",
    "skirt": "skirt", "sweatpants": "trousers", "sweatshorts": "shorts", "trunks": "shorts",
    "caftan": "dress", "cape": "coat", "coat": "coat", "coverup": "dress", "dress": "dress",
    "jumpsuit": "jumpsuit", "kaftan": "dress", "kimono": "jacket", "nightdress": "dress",
    "onesie": "jumpsuit", "robe": "coat", "romper": "romper", "shirtdress": "dress",
    "sundress": "dress",
}
ATTR_KEYWORDS = {  # DeepFashion attribute words -> catalog attribute values
    "pattern": {"floral": "floral", "stripe": "striped", "striped": "striped", "dot": "dotted",
                "polka": "dotted", "plaid": "checked", "check": "checked", "gingham": "checked",
                "denim": "denim", "graphic": "graphic"},
    "sleeve": {"sleeveless": "sleeveless", "long-sleeve": "long", "long sleeve": "long",
               "short-sleeve": "short", "short sleeve": "short"},
    "length": {"maxi": "maxi", "midi": "midi", "mini": "mini", "cropped": "cropped"},
    "fit": {"fitted": "slim", "skinny": "slim", "slim": "slim", "loose": "loose",
            "oversized": "loose", "boxy": "loose"},
}


def map_category(name: str) -> str:
    """Catalog category for a DeepFashion category name (lower-cased original when unknown)."""
    key = name.strip().lower().replace(" ", "_")
    return CATEGORY_MAP.get(key, CATEGORY_MAP.get(key.replace("_", "-"), key))


def parse_name(path: str) -> dict | None:
    """Gender, category and item id from a DeepFashion file name or path (None if absent)."""
    m = NAME_RE.search(path)
    if not m:
        return None
    out = {k: v for k, v in m.groupdict().items() if v is not None}
    out["gender"] = "men" if out["gender"] == "MEN" else "women"
    return out


def attrs_from_names(names: list[str]) -> dict[str, str]:
    """Catalog attributes implied by DeepFashion attribute names (first match wins)."""
    attrs: dict[str, str] = {}
    for key, words in ATTR_KEYWORDS.items():
        for name in names:
            hit = next((v for w, v in words.items() if w in name.lower()), None)
            if hit:
                attrs[key] = hit
                break
    return attrs


def read_list(path: Path) -> list[list[str]]:
    """Rows of a DeepFashion list file (count line and header line skipped)."""
    lines = Path(path).read_text().splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise ValueError(f"{path}: expected a count on line 1 and a header on line 2")
    return [line.split() for line in lines[2:] if line.strip()]


def _find(root: Path, name: str) -> Path | None:
    for sub in ("", "Anno", "Anno_coarse", "Eval", "anno"):
        if (root / sub / name).is_file():
            return root / sub / name
    return None


def _names_with_types(path: Path) -> list[str]:
    """Names from list_*_cloth.txt, where names may contain spaces before the type column."""
    lines = Path(path).read_text().splitlines()[2:]
    return [line.rsplit(maxsplit=1)[0].strip() for line in lines if line.strip()]


def benchmark_items(root: Path) -> list[dict]:
    """Items from the Category and Attribute Prediction list files."""
    cat_img = _find(root, "list_category_img.txt")
    cat_names = _names_with_types(_find(root, "list_category_cloth.txt"))
    attr_img, attr_cloth = _find(root, "list_attr_img.txt"), _find(root, "list_attr_cloth.txt")
    attr_names = _names_with_types(attr_cloth) if attr_cloth else []
    attrs_by_img = {}
    if attr_img and attr_names:
        for row in read_list(attr_img):
            attrs_by_img[row[0]] = [attr_names[i] for i, v in enumerate(row[1:]) if v == "1"]
    part = _find(root, "list_eval_partition.txt")
    split = {r[0]: r[1] for r in read_list(part)} if part else {}
    items = []
    for image, label in read_list(cat_img):
        original = cat_names[int(label) - 1]
        found = attrs_by_img.get(image, [])
        items.append(_item(root, image, original, attrs_from_names(found), split.get(image),
                           {"attributes": found}))
    return items


def named_items(root: Path, masks_dir: Path | None = None) -> list[dict]:
    """Items from images whose names or paths carry the metadata; masks matched by stem."""
    masks_dir = masks_dir or next((root / d for d in ("segm", "segmentation", "masks")
                                   if (root / d).is_dir()), None)
    items = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTS):
        if masks_dir is not None and masks_dir in path.parents:
            continue
        meta = parse_name(str(path.relative_to(root)))
        if meta is None:
            continue
        mask = None
        if masks_dir is not None:
            cand = masks_dir / f"{path.stem}_segm.png"
            mask = cand if cand.is_file() else None
        item = _item(root, str(path.relative_to(root)), meta["category"], {}, None,
                     {k: meta[k] for k in ("item_id", "pose", "view", "kind") if k in meta})
        item.update(gender=meta["gender"], mask_path=str(mask) if mask else None)
        items.append(item)
    return items


def _item(root: Path, rel: str, original: str, attrs: dict, split: str | None,
          extra: dict) -> dict:
    sku = "df-" + re.sub(r"[^A-Za-z0-9]+", "-", rel.rsplit(".", 1)[0]).strip("-")
    return {"sku": sku, "image_path": str(Path(root) / rel), "mask_path": None,
            "category": map_category(original), "attrs": attrs, "gender": None,
            "split": {"val": "val", "train": "train", "test": "test"}.get(split or "", None),
            "source": "deepfashion", "name": original.replace("_", " "),
            "extra": {"deepfashion_category": original, **extra}}


def deepfashion_items(root: str | Path, masks_dir: str | Path | None = None) -> list[dict]:
    """Every DeepFashion item under ``root`` as a dict ready for the ingest pipeline."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    if _find(root, "list_category_img.txt") and _find(root, "list_category_cloth.txt"):
        items = benchmark_items(root)
    else:
        items = named_items(root, Path(masks_dir) if masks_dir else None)
    log.info("deepfashion: %d items under %s", len(items), root)
    return items
