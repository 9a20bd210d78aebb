"""The Search page's and the search CLI's settings: how many results, and the weights of the
ensemble recommender, with their defaults and accepted ranges (core/ranges.py).

Light on purpose (no torch, no numpy): the CLI builds its parser from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class SearchParams:
    """``k``: results of a search or a recommender; the three weights: how much the ensemble
    recommender takes from visual similarity, shared attributes and the season."""

    k: int = 12
    similarity: float = 0.4
    attributes: float = 0.3
    seasonal: float = 0.3
    K: ClassVar[tuple] = (1, 100)
    SIMILARITY: ClassVar[tuple] = (0.0, 1.0)
    ATTRIBUTES: ClassVar[tuple] = (0.0, 1.0)
    SEASONAL: ClassVar[tuple] = (0.0, 1.0)

    def weights(self) -> dict[str, float]:
        """The ensemble recommender's weights by source."""
        return {"similarity": self.similarity, "attributes": self.attributes,
                "seasonal": self.seasonal}
