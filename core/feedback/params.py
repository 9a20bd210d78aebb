"""The Refine page's and the refine CLI's settings, with their defaults and accepted ranges
(core/ranges.py). Light on purpose: the CLI builds its parser from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class RefineParams:
    """``k``: results shown after each turn of feedback."""

    k: int = 8
    K: ClassVar[tuple] = (1, 50)
