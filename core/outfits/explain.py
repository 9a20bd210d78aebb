"""Why a look does or does not go together, in words.

The compatibility network scores every pair of pieces; a look goes together when every pair
does (each at least :data:`GOES_TOGETHER`), which is what its score, the soft minimum of the
pair scores, expresses: one clashing pair is enough to break a look. The verdict names the
pairs the model scores below that line and, for each, the catalog facts that explain it, by
the same style rules the demo's broken outfits follow (women's and men's pieces, summer with
winter, two bottoms, clashing colours, two prints, casual with formal). A weak pair no rule
explains is said to be judged from the pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.taxonomy import CATEGORIES, COLORS, family_of, hue_distance

GOES_TOGETHER = 0.5  # a pair (and so a look) scoring at least this goes together
MAX_CLASHES_SHOWN = 3
SAME_HUE_DEGREES = 25  # accent colours closer than this count as shades of one colour
MAX_FORMALITY_SPREAD = 2
PRINTS = frozenset({"striped", "checked", "dotted", "floral", "graphic"})
TWO_OF = {"top": "two tops", "bottom": "two bottoms", "full": "two one-pieces",
          "outer": "two outer layers", "shoes": "two pairs of shoes", "bag": "two bags",
          "hat": "two hats"}
SCORE_HELP = (f"The soft minimum of the pair scores. A look goes together when every pair "
              f"scores {GOES_TOGETHER:.0%} or more: one clashing pair is enough to break it, "
              "and the verdict names that pair and why.")


@dataclass(frozen=True)
class Facts:
    """What the catalog (or the photo's owner) says about a piece; None when unknown."""

    category: str | None = None
    gender: str | None = None
    season: str | None = None
    colour: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Clash:
    """A pair the model scores below the line, with the facts that explain it."""

    i: int
    j: int
    p: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    kind: str  # "success", "warning", "error" or "info" (how a page shows it)
    text: str
    clashes: tuple[Clash, ...] = ()


def percent(p: float) -> str:
    """A probability as the page shows every score: "64%"."""
    return f"{p:.0%}"


def _accent(f: Facts) -> bool:
    colour = COLORS.get(f.colour or "")
    return colour is not None and not colour.neutral and f.pattern != "denim"


def _structure(a: Facts, b: Facts) -> str | None:
    fa, fb = family_of(a.category), family_of(b.category)
    if fa is None or fb is None:
        return None
    if fa == fb:
        return TWO_OF.get(fa)
    if "full" in (fa, fb) and {fa, fb} & {"top", "bottom"}:
        return "a one-piece with separates"
    return None


def _formality(a: Facts, b: Facts) -> str | None:
    ca, cb = CATEGORIES.get(a.category or ""), CATEGORIES.get(b.category or "")
    if ca is None or cb is None or {ca.family, cb.family} & {"bag", "hat"}:
        return None
    lo, hi = sorted((ca, cb), key=lambda c: c.formality)
    if hi.formality - lo.formality > MAX_FORMALITY_SPREAD:
        return f"casual with formal ({lo.name} with {hi.name})"
    return None


def pair_reasons(a: Facts, b: Facts) -> list[str]:
    """The style rules a pair breaks by the catalog facts (empty when none applies)."""
    out = []
    if {a.gender, b.gender} == {"women", "men"}:
        out.append("women's and men's pieces")
    if {a.season, b.season} == {"summer", "winter"}:
        out.append("summer with winter")
    out.append(_structure(a, b))
    if _accent(a) and _accent(b) and hue_distance(a.colour, b.colour) > SAME_HUE_DEGREES:
        out.append(f"clashing colours ({a.colour} with {b.colour})")
    if a.pattern in PRINTS and b.pattern in PRINTS:
        out.append(f"two prints ({a.pattern} with {b.pattern})")
    out.append(_formality(a, b))
    return [r for r in out if r]


def clashes(pairs: np.ndarray, facts: list[Facts]) -> list[Clash]:
    """Pairs scored below :data:`GOES_TOGETHER`, weakest first, with their reasons."""
    m = len(pairs)
    known = len(facts) == m
    out = [Clash(i, j, float(pairs[i, j]),
                 tuple(pair_reasons(facts[i], facts[j])) if known else ())
           for i in range(m) for j in range(i + 1, m) if pairs[i, j] < GOES_TOGETHER]
    return sorted(out, key=lambda c: c.p)


def numbered(labels: list[str]) -> list[str]:
    """Labels as the look shows them: numbered from 1 in the look's order (two pieces may
    share a label, "blue jumpsuit")."""
    return [f"{i + 1}. {name}" for i, name in enumerate(labels)]


def clash_text(c: Clash, labels: list[str]) -> str:
    why = "; ".join(c.reasons) if c.reasons else "no catalog rule explains it: judged from " \
                                                  "the pictures (shapes and colours)"
    return f"{labels[c.i]} with {labels[c.j]} ({percent(c.p)}): {why}"


def verdict(score: float | None, pairs: np.ndarray, labels: list[str],
            facts: list[Facts]) -> Verdict:
    """One sentence on the look that agrees with its score and names what breaks it."""
    if score is None:
        return Verdict("info", "Add a second piece to score the look.")
    if len(set(labels)) < len(labels):  # which "blue jumpsuit": the look's numbers say
        labels = numbered(labels)
    found = clashes(pairs, facts)
    if not found:
        m = np.where(np.isnan(pairs), np.inf, pairs)
        i, j = np.unravel_index(int(np.argmin(m)), m.shape)
        return Verdict("success", f"These go together ({percent(score)}): every pair scores "
                                  f"{percent(GOES_TOGETHER)} or more; the weakest is "
                                  f"{labels[min(i, j)]} + {labels[max(i, j)]} "
                                  f"({percent(float(m[i, j]))}).")
    head = (f"These don't go together ({percent(score)})" if score < GOES_TOGETHER else
            f"Not quite together ({percent(score)})")
    shown = found[:MAX_CLASHES_SHOWN]
    n = len(found)
    what = "one pair clashes" if n == 1 else f"{n} pairs clash"
    more = f" (and {n - len(shown)} more)" if n > len(shown) else ""
    text = f"{head}: {what}{more}. " + " · ".join(clash_text(c, labels) for c in shown) + "."
    return Verdict("error" if score < GOES_TOGETHER else "warning", text, tuple(found))
