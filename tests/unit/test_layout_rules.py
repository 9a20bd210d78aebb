"""Repository-wide rules: one progress-callback type and one list of image formats."""

from __future__ import annotations

import re
from pathlib import Path

from core.images import IMAGE_EXTS

ROOT = Path(__file__).resolve().parents[2]


def test_progress_callback_types_are_defined_once():
    pattern = re.compile(r"^\w*Progress = Callable\[", re.M)
    defining = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py")
                      if pattern.search(p.read_text()))
    assert defining == ["core/progress.py"]


def test_photo_uploaders_accept_the_formats_ingest_takes():
    from pages.cards import IMAGE_TYPES

    assert [f".{t}" for t in IMAGE_TYPES] == list(IMAGE_EXTS)
    assert "jfif" in IMAGE_TYPES
