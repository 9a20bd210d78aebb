"""Colour comparatives on the catalog palette: a colour's chain of darker (lighter) shades,
palette colours darker or lighter by CIE lightness, and the shades the vocabulary names as
a colour's own ("dark red" is burgundy). The rule ranking (:mod:`core.feedback.rules`)
resolves "darker", "a lighter blue" and "not red" with them."""

from __future__ import annotations

from core.feedback import vocab
from core.taxonomy import COLORS

MIN_LIGHTNESS_STEP = 8.0  # CIE L*: "darker" / "lighter" than the reference by at least this


def shades(colour: str, direction: str) -> list[str]:
    """The palette's chain of darker (lighter) shades from ``colour``, nearest first."""
    out, seen = [], {colour}
    nxt = getattr(COLORS[colour], direction) if colour in COLORS else None
    while nxt and nxt not in seen:
        out.append(nxt)
        seen.add(nxt)
        nxt = getattr(COLORS[nxt], direction)
    return out


def lightness(colour: str) -> float:
    """CIE L* (0 black .. 100 white) of a palette colour."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in COLORS[colour].rgb)
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 116 * y ** (1 / 3) - 16 if y > 0.008856 else 903.3 * y


def by_lightness(colour: str, direction: str) -> list[str]:
    """Palette colours darker (lighter) than ``colour`` by at least MIN_LIGHTNESS_STEP in
    L*, nearest first: "darker" where the palette has no darker shade of the same hue."""
    if colour not in COLORS:
        return []
    ref, sign = lightness(colour), (-1 if direction == "darker" else 1)
    found = [c for c in COLORS if sign * (lightness(c) - ref) >= MIN_LIGHTNESS_STEP]
    return sorted(found, key=lambda c: abs(lightness(c) - ref))


def shaded(named: frozenset[str], direction: str, ref: str | None) -> frozenset[str]:
    """ "a darker blue": blue and its darker shades, beyond the reference's own colour."""
    out: set[str] = set()
    for c in named:
        chain = [c, *shades(c, direction)]
        out |= set(chain[chain.index(ref) + 1:] if ref in chain else chain)
    return frozenset(out) or named


def named_shades(colour: str) -> frozenset[str]:
    """Palette colours the vocabulary names as a shade of ``colour`` ("dark red": burgundy;
    "navy blue", "light blue": navy and light blue are blues)."""
    return frozenset(c for c, words in vocab.COLOR_WORDS.items()
                     if c != colour and any(w.endswith(f" {colour}") for w in words))
