"""Photo search prefers the photo's colour: near-ties in visual similarity go to items of the
colour read off the query photo, while a clearly more similar item of another colour still wins.

A candidate pool (the top ``POOL`` by visual score) is re-ranked by visual score plus
``COLOUR_BONUS`` x the probability the reading gives the item's catalog colour (its whole
distribution when a learnt reader gave one, so that an unsure navy-or-black reading favours
both; else its confidence for the read colour alone), times how likely the item's category is
the photo's: the probability the encoder's category head gives it relative to the top
category's (``category_weight``). A near-equal is an item that could be the same kind of
garment: a burgundy coat does not jump ahead of the dresses for a photo of a burgundy dress.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.tagging.colour import ColourReading

# Cosine units, times the reading's probability of the item's colour and the item's category
# weight. Chosen on the labelled clothing-small train photos (the development set; their colour
# read out-of-fold by the pixel classifier) searching the 2,000-item evaluation catalog: the
# bonus with the largest top-5 colour share whose top-5 class share stays within 3 points of
# plain search. Top-5 colour / class there: plain 0.604 / 0.958; 0.08 0.663 / 0.978; 0.16
# 0.682 / 0.987; 0.2 0.681 / 0.990; 0.3 0.672 / 0.991. (Without the category weight: 0.16 gave
# 0.704 / 0.934, other garments of the photo's colour counted as colour hits.)
COLOUR_BONUS = 0.16
POOL = 100  # visual candidates re-ranked


def colour_bonus(colour: str | None, reading: ColourReading | None, *,
                 bonus: float = COLOUR_BONUS) -> float:
    """The score added to an item of catalog colour ``colour`` for a query read as ``reading``."""
    if reading is None:
        return 0.0
    return bonus * reading.probability(colour)


def category_weight(category: str | None, guess: Sequence[tuple[str, float]] | None) -> float:
    """The share of the colour bonus an item of ``category`` gets for a photo whose likeliest
    categories are ``guess`` ([(category, p)], best first): its probability over the top
    one's; 0 outside the guess; 1 when there is no guess (no category head, or the search is
    limited to one category)."""
    if not guess:
        return 1.0
    top = max(p for _, p in guess)
    return next((p / top for c, p in guess if c == category), 0.0) if top > 0 else 1.0


def rerank(scores: Sequence[float], colours: Sequence[str | None],
           reading: ColourReading | None, *, bonus: float = COLOUR_BONUS,
           categories: Sequence[str | None] | None = None,
           guess: Sequence[tuple[str, float]] | None = None) -> list[int]:
    """Candidate indices ordered by visual score + colour bonus (times ``category_weight`` of
    each candidate's category, when ``categories`` are given), best first; ties keep the
    visual order."""
    weights = [category_weight(c, guess) for c in categories] if categories is not None \
        else [1.0] * len(scores)
    adjusted = [s + w * colour_bonus(c, reading, bonus=bonus)
                for s, c, w in zip(scores, colours, weights, strict=True)]
    return sorted(range(len(adjusted)), key=lambda i: (-adjusted[i], i))
