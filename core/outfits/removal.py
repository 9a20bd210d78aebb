"""A look that does not go together: the piece whose removal helps it most, worded for the
Outfits page."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.outfits.explain import GOES_TOGETHER, numbered, percent
from core.outfits.service import Piece

REMOVAL_GAIN = 0.2  # a removal is offered when it lifts the look this much (or makes it go)


def best_removal(stylist, pieces: list[Piece], score: float | None
                 ) -> tuple[int, float] | None:
    """(index, the look's score without it) of the piece whose removal helps a look that does
    not go together most, when the look has three or more pieces and that removal makes it go
    together or lifts it by ``REMOVAL_GAIN``; else None."""
    if score is None or score >= GOES_TOGETHER or len(pieces) < 3:
        return None
    without = [stylist.score(pieces[:i] + pieces[i + 1:]).score for i in range(len(pieces))]
    i = int(np.argmax(without))
    best = float(without[i])
    return (i, best) if best >= GOES_TOGETHER or best - score >= REMOVAL_GAIN else None


def removal_text(labels: list[str], i: int, score: float) -> str:
    return f"Without **{numbered(labels)[i]}** the look scores **{percent(score)}**."


@dataclass(frozen=True)
class Removal:
    """The removal a page offers: which piece, the sentence, the button's label."""

    index: int
    text: str
    button: str


def removal_offer(stylist, pieces: list[Piece], result) -> Removal | None:
    """best_removal of a scored look, worded for the page (None when none helps)."""
    drop = best_removal(stylist, pieces, result.score)
    if drop is None:
        return None
    i, score = drop
    return Removal(i, removal_text(result.labels, i, score),
                   f"Remove {numbered(result.labels)[i]}")
