"""Test data builders shared by the suites (importable as ``tests.helpers``)."""

from __future__ import annotations

from pathlib import Path

COLORS = {"red": (200, 30, 40), "navy": (20, 30, 90), "white": (240, 240, 235),
          "green": (40, 140, 60), "yellow": (230, 200, 40)}
CATEGORIES = ["dress", "tee", "skirt", "jacket"]


def make_small_catalog(repo, data_dir: Path, n: int = 12, size: int = 64) -> list:
    """n items with small real JPEGs under data_dir/images, upserted into repo."""
    from PIL import Image, ImageDraw

    from core.storage import Item

    img_dir = Path(data_dir) / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    names = list(COLORS)
    items = []
    for i in range(n):
        color = names[i % len(names)]
        img = Image.new("RGB", (size, size), (250, 250, 250))
        ImageDraw.Draw(img).rectangle(
            [size // 5, size // 6 + i % 5, 4 * size // 5, 5 * size // 6], fill=COLORS[color])
        img.save(img_dir / f"t{i:03d}.jpg", quality=90)
        items.append(Item(
            sku=f"T{i:03d}", image_path=f"images/t{i:03d}.jpg", hash=f"hash{i:03d}",
            category=CATEGORIES[i % len(CATEGORIES)], name=f"{color} item {i}",
            attrs={"color": color, "pattern": "solid", "season": "summer"},
            price=20.0 + i, split=["train", "val", "test"][i % 3], source="test",
        ))
    repo.upsert_items(items)
    return items
