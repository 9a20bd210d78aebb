"""What shapes a map: the projection's settings and the number of clusters, with their
defaults and accepted ranges (the CLI's flags and the page's widgets read both from here).

Light on purpose (no scikit-learn): the CLI builds its parser from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

METHODS = ("tsne", "pca")


class ExploreError(ValueError):
    """The map cannot be drawn as asked (no vectors, bad parameters); the message says why."""


@dataclass(frozen=True)
class ProjectionParams:
    """How to project: ``pca`` ignores perplexity, iterations and seed. The defaults and the
    accepted ranges here are the CLI's and the page's."""

    method: str = "tsne"
    perplexity: float = 30.0
    iterations: int = 750
    seed: int = 0
    PERPLEXITY: ClassVar[tuple[int, int]] = (2, 100)
    ITERATIONS: ClassVar[tuple[int, int]] = (250, 5000)
    SEED: ClassVar[tuple[int, int]] = (0, 10_000)

    def validate(self) -> None:
        """Raise ValueError naming the bad field."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method == "tsne":
            for name, (low, high) in (("perplexity", self.PERPLEXITY),
                                      ("iterations", self.ITERATIONS), ("seed", self.SEED)):
                if not low <= getattr(self, name) <= high:
                    raise ValueError(f"{name} must be in [{low}, {high}], "
                                     f"got {getattr(self, name)}")

    def as_dict(self) -> dict[str, object]:
        """The parameters that change the result (the cache key is built from these)."""
        if self.method == "pca":
            return {"method": "pca"}
        return {"method": "tsne", "perplexity": float(self.perplexity),
                "iterations": int(self.iterations), "seed": int(self.seed)}


@dataclass(frozen=True)
class MapParams(ProjectionParams):
    """Everything that shapes a map: the projection's settings, the number of clusters (the
    seed is also k-means' and the sample's) and the most items it shows. Give ``clusters``
    and ``sample`` by name."""

    clusters: int = 8
    # A catalog with more vectors is mapped through a category-stratified sample of this size
    # (core/explore/sample.py).
    sample: int = 20_000
    CLUSTERS: ClassVar[tuple[int, int]] = (1, 100)
    SAMPLE: ClassVar[tuple[int, int]] = (10, 200_000)

    @property
    def projection(self) -> ProjectionParams:
        return ProjectionParams(self.method, self.perplexity, self.iterations, self.seed)

    def validate(self) -> None:
        try:
            self.projection.validate()
        except ValueError as exc:
            raise ExploreError(str(exc)) from None
        low, high = self.CLUSTERS
        if not low <= self.clusters <= high:
            raise ExploreError(f"clusters must be in [{low}, {high}], got {self.clusters}")
        low, high = self.SAMPLE
        if not low <= self.sample <= high:
            raise ExploreError(f"sample must be in [{low}, {high}], got {self.sample}")
