"""The Outfits page's and the outfit CLI's settings, with their defaults and accepted ranges
(core/ranges.py). Light on purpose: the CLI builds its parser from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class SuggestParams:
    """``k``: catalog items suggested for each missing or optional piece of a look."""

    k: int = 4
    K: ClassVar[tuple] = (1, 50)
