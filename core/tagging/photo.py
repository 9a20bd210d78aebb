"""What a shopper's photo shows, as Refine starts from it: its likely category and garment
family, its colour, pattern and sleeves, each kept only when read surely enough.

Category, family, pattern and sleeves come from the image encoder's heads (one forward pass,
the one that also gives the photo's vector); colour from the colour reader that photo search
uses (the encoder's colour head and the pixel colour classifier combined). A value read less
surely than its threshold is left out, so the request it would anchor ("darker", "longer
sleeves") is left to the model and the reading says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.taxonomy import CATEGORIES, applies

# The top category's probability. On the labelled clothing-small validation photos the
# category read this surely is of the photo's class for 0.959 of the 52 % that reach it
# (docs/RESULTS.md, Auto-tagging).
MIN_CATEGORY = 0.5
# A garment family's probability, summed over the likeliest categories of that family.
MIN_FAMILY = 0.5
# An outfit piece's category: the top guess, when it is MIN_CATEGORY sure or its family holds
# this much of the top three. On the clothing-small validation photos a category is then given
# to 89 % of them (53 % by the top guess alone), of the right family for 0.977 (0.984) and
# in the photo's class for 0.964 (0.962); docs/RESULTS.md, Outfit compatibility.
MIN_PIECE_FAMILY = 0.7
# An unsure photo's likely categories (of its family, this probable): Refine prefers them as
# it prefers a sure photo's own category.
MIN_LIKELY = 0.1
MIN_COLOUR = 0.5  # the combined colour reading: right for 0.665 of the 98 % read this surely
# Pattern and sleeve heads. On the labelled validation photos (`eval tags`): pattern right for
# 0.850 of the 76 % read this surely; sleeves (short for t-shirt photos, long for long-sleeve
# and outerwear ones) for 0.944 of the 97 %.
MIN_HEAD = 0.7
HEAD_ATTRS = ("pattern", "sleeve")


@dataclass(frozen=True)
class PhotoReading:
    category: str | None = None
    family: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)  # color / pattern / sleeve read surely
    likely: frozenset[str] = frozenset()  # the categories an unsure photo may be
    colours: tuple[str, ...] = ()  # every palette colour, likeliest first (to correct it to)

    def caption(self) -> str:
        """"dress · navy · solid · long sleeves"; "" when nothing was read surely."""
        sleeve = self.attrs.get("sleeve")
        if sleeve and sleeve != "sleeveless":
            sleeve = f"{sleeve} sleeves"
        parts = [self.category or self.family, self.attrs.get("color"),
                 self.attrs.get("pattern"), sleeve]
        return " · ".join(p for p in parts if p)


def family_of_guess(guess: Sequence[tuple[str, float]] | None) -> str | None:
    """The garment family holding at least ``MIN_FAMILY`` of the likeliest categories'
    probability (a photo unsure between a sweater and a hoodie is still a top)."""
    mass = _family_mass(guess)
    best = max(mass, key=mass.__getitem__, default=None)
    return best if best is not None and mass[best] >= MIN_FAMILY else None


def piece_category(guess: Sequence[tuple[str, float]] | None) -> str | None:
    """The category an outfit piece's photo counts as: its top guess when that is
    ``MIN_CATEGORY`` sure or its family holds ``MIN_PIECE_FAMILY`` of ``guess`` (jeans 0.48,
    trousers 0.4: a bottom, so jeans), else None (the owner is asked)."""
    if not guess or guess[0][0] not in CATEGORIES:
        return None
    top, p = guess[0]
    mass = _family_mass(guess)[CATEGORIES[top].family]
    return top if p >= MIN_CATEGORY or mass >= MIN_PIECE_FAMILY else None


def _family_mass(guess: Sequence[tuple[str, float]] | None) -> dict[str, float]:
    """Garment family -> the summed probability of its categories in ``guess``."""
    mass: dict[str, float] = {}
    for category, p in guess or ():
        if category in CATEGORIES:
            fam = CATEGORIES[category].family
            mass[fam] = mass.get(fam, 0.0) + float(p)
    return mass


def read_photo(guess: Sequence[tuple[str, float]] | None, heads: Mapping[str, Any],
               colour=None) -> PhotoReading:
    """A photo's reading from the encoder's top categories ``guess`` ([(category, p)], best
    first), its attribute heads' readings ``heads`` ({attr: (value, p)}) and its colour
    reading (a ColourReading or None)."""
    category = None
    if guess and guess[0][0] in CATEGORIES and guess[0][1] >= MIN_CATEGORY:
        category = guess[0][0]
    family = CATEGORIES[category].family if category else family_of_guess(guess)
    attrs: dict[str, str] = {}
    if colour is not None and colour.confidence >= MIN_COLOUR:
        attrs["color"] = colour.name
    for attr in HEAD_ATTRS:
        value, p = heads.get(attr) or (None, 0.0)
        if value is None or p < MIN_HEAD or value == "n/a":
            continue
        if attr == "sleeve" and applies("sleeve", category, family) is False:
            continue  # sleeves of shoes or trousers: nothing to anchor
        attrs[attr] = str(value)
    likely = frozenset() if category or not family else frozenset(
        c for c, p in guess or () if c in CATEGORIES and CATEGORIES[c].family == family
        and p >= MIN_LIKELY)
    return PhotoReading(category, family, attrs, likely,
                        tuple(colour.choices()) if colour is not None else ())
