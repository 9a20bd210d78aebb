"""The demo catalog's size and seed, with their defaults and accepted ranges (core/ranges.py):
the Home page's form and `demo build` read both from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class DemoParams:
    """``items``: garments rendered; ``seed``: the random seed (the same seed and size give
    the same catalog)."""

    items: int = 2000
    seed: int = 0
    ITEMS: ClassVar[tuple] = (1, 50_000, 50)
    SEED: ClassVar[tuple] = (0, 1_000_000)
