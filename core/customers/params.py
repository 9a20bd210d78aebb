"""Settings of a simulation run and of the fused score, with their checks.

The defaults are the reference simulation's: 15 customers, up to 3 purchases each, initial
popularity counts up to P_max = 100, popularity threshold 0.15 with penalty exponent 4,
10 recommendations. Beside each default, the range the Customers page offers (see
``core.ranges``); every value in it passes the checks the CLI applies (``problems``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import ClassVar

PARTS = ("visual", "popularity", "category", "proximity")
DISTANCE_SCALE_KM = 100.0  # proximity = exp(-distance / scale): 0.37 at 100 km, ~0 abroad
# (low, high, step) ranges shared by the simulation and the fused score
P_THRESHOLD = (0.0, 0.9, 0.05)
PENALTY_EXPONENT = (0.0, 8.0, 0.5)
DISTANCE_SCALE = (10, 2000, 10)  # km
WEIGHT = (0.0, 3.0, 0.25)  # exponent of a score part


class SimulationError(ValueError):
    """A simulation that cannot run or be used (empty catalog, no customers, bad setting)."""


def _raise_first(problems: list[tuple[str, str]]) -> None:
    """SimulationError naming the first unusable value, if any."""
    if problems:
        name, reason = problems[0]
        raise SimulationError(f"{name} {reason}")


@dataclass(frozen=True)
class FusionConfig:
    """How the four parts of the score combine: ``score = Π part ** weight``.

    A weight of 0 drops a part (its factor becomes 1), 1 keeps it as is, 2 makes the ranking
    twice as sensitive to it. ``p_threshold`` and ``penalty_exponent`` shape the popularity
    part for trend-seekers, ``distance_scale_km`` the proximity part.
    """

    visual: float = 1.0
    popularity: float = 1.0
    category: float = 1.0
    proximity: float = 1.0
    p_threshold: float = 0.15
    penalty_exponent: float = 4.0
    distance_scale_km: float = DISTANCE_SCALE_KM
    VISUAL: ClassVar[tuple] = WEIGHT
    POPULARITY: ClassVar[tuple] = WEIGHT
    CATEGORY: ClassVar[tuple] = WEIGHT
    PROXIMITY: ClassVar[tuple] = WEIGHT
    P_THRESHOLD: ClassVar[tuple] = P_THRESHOLD
    PENALTY_EXPONENT: ClassVar[tuple] = PENALTY_EXPONENT
    DISTANCE_SCALE_KM: ClassVar[tuple] = DISTANCE_SCALE

    @property
    def weights(self) -> dict[str, float]:
        return {part: float(getattr(self, part)) for part in PARTS}

    def only(self, part: str) -> FusionConfig:
        """This configuration with every other part dropped."""
        return replace(self, **{p: (1.0 if p == part else 0.0) for p in PARTS})

    def without(self, part: str) -> FusionConfig:
        """This configuration with one part dropped (ablation)."""
        return replace(self, **{part: 0.0})

    def with_weights(self, weights: dict[str, float]) -> FusionConfig:
        unknown = set(weights) - set(PARTS)
        if unknown:
            raise SimulationError(f"unknown score part(s) {sorted(unknown)}; use "
                                  f"{', '.join(PARTS)}")
        return replace(self, **{k: float(v) for k, v in weights.items()})

    def problems(self) -> list[tuple[str, str]]:
        """(field, reason) for every unusable value; empty when all is well."""
        out = [(p, f"must be 0 or more (got {w})") for p, w in self.weights.items() if w < 0]
        if not 0 <= self.p_threshold < 1:
            out.append(("p_threshold", f"must be in [0, 1) (got {self.p_threshold})"))
        if self.penalty_exponent < 0:
            out.append(("penalty_exponent", f"must be 0 or more (got {self.penalty_exponent})"))
        if self.distance_scale_km <= 0:
            out.append(("distance_scale_km", f"must be above 0 (got {self.distance_scale_km})"))
        return out

    def check(self) -> FusionConfig:
        """Raise SimulationError naming the first unusable value."""
        _raise_first(self.problems())
        return self


@dataclass(frozen=True)
class SimulationConfig:
    """One simulation: who the customers are and how they shop (deterministic in ``seed``)."""

    seed: int = 42
    num_customers: int = 15
    max_purchases: int = 3  # per customer, drawn uniformly from 1..max_purchases
    top_k: int = 10  # recommendations per customer (the default k of recommend and eval)
    p_max: int = 100  # initial popularity counts are drawn from 0..p_max
    p_threshold: float = 0.15
    penalty_exponent: float = 4.0
    days: int = 90  # purchases are spread over this many days from ``start``
    start: str = "2025-01-01"
    distance_scale_km: float = DISTANCE_SCALE_KM
    SEED: ClassVar[tuple] = (0, 1_000_000)
    NUM_CUSTOMERS: ClassVar[tuple] = (1, 300)
    MAX_PURCHASES: ClassVar[tuple] = (1, 10)
    TOP_K: ClassVar[tuple] = (4, 24, 2)
    P_MAX: ClassVar[tuple] = (1, 100_000)
    P_THRESHOLD: ClassVar[tuple] = P_THRESHOLD
    PENALTY_EXPONENT: ClassVar[tuple] = PENALTY_EXPONENT
    DAYS: ClassVar[tuple] = (7, 365)
    DISTANCE_SCALE_KM: ClassVar[tuple] = DISTANCE_SCALE

    def fusion(self) -> FusionConfig:
        """The score settings that match how this simulation's customers shop."""
        return FusionConfig(p_threshold=self.p_threshold, penalty_exponent=self.penalty_exponent,
                            distance_scale_km=self.distance_scale_km)

    def start_date(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.start)

    def to_json(self) -> dict:
        return asdict(self)

    def problems(self) -> list[tuple[str, str]]:
        """(field, reason) for every unusable value; empty when all is well."""
        out = [(name, f"must be at least 1 (got {getattr(self, name)})")
               for name in ("num_customers", "max_purchases", "top_k", "p_max", "days")
               if getattr(self, name) < 1]
        try:
            self.start_date()
        except ValueError:
            out.append(("start", f"must be a date like 2025-01-01 (got {self.start!r})"))
        fusion = [(f, r) for f, r in self.fusion().problems() if f not in PARTS]
        return out + fusion

    def check(self) -> SimulationConfig:
        """Raise SimulationError naming the first unusable value."""
        _raise_first(self.problems())
        return self
