"""Ranking that obeys the request: what the text asks for, resolved against the reference.

:func:`resolve` turns a parsed caption into wanted and avoided attribute values (comparatives
such as "darker" or "longer sleeves" become the reference colour's darker shades or longer
sleeve lengths). :func:`penalties` counts, per candidate, the requests it breaks; ranking by
``score - RULE_WEIGHT * penalty`` puts items that obey first and keeps the combiner's order
inside each group. The weight was chosen on development captions (docs/RESULTS.md, Refine).

What a negation means. "Not red" (also "no red", "less red", "anything but red"):

* no item whose colour is red ranks before an item that is not, whatever its pattern (a red
  check is a red item: its colour field is red);
* a request that only says what to avoid keeps the reference's look: the combiner model reads
  the text without the negations (trained on "is blue not red", "not red" alone pulls towards
  red), the reference itself is the query when nothing else is left, and its own values of
  what is negated rank first: "is not red" of a mint bag gives mint bags, then other bags,
  none red (docs/RESULTS.md, Refine: "only negating");
* when the text says nothing else, colours the vocabulary names as a shade of red ("dark
  red" is burgundy; "navy blue" and "light blue" are blues) rank after the other colours
  too, though before red itself, unless the reference has that colour (a shopper who says
  "not green" of a mint bag does not count mint as green). Other words may name the shade
  wanted ("wiine rather than red", misspelt), so then only red itself is avoided. Other
  near colours (orange, pink) are never pushed down: they are other colours.

Length and fit. "Shorter", "longer", "tighter", "looser" are resolved against the reference's
own length (fit) among the values its category can have (``core.taxonomy.allowed_values``): a
"shorter" knee-length dress wants mini dresses, a "shorter" shirt (shirts come in one length)
is left to the model rather than turned into a cropped top. A length named outright ("knee
length") is a rule when the reference's category has it, else the model reads it ("long" of a
dress: no dress is "full" length). A fit named outright or negated ("not tight") is a rule;
the combiner model still reads all of it. Colour shades: :mod:`core.feedback.shades`.

Requests that don't apply to the garment ("longer sleeves" for a bag, a length for sneakers,
a fit for a hat; :func:`core.taxonomy.applies`) are said so in the reading and left out of
both the ranking and the model's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.feedback.applies import not_applicable, only_straps, skirt_of_a_dress
from core.feedback.parse import ANY_PATTERN, ANY_SLEEVE, MODEL_KINDS, ParsedFeedback, parse_feedback
from core.feedback.shades import by_lightness, named_shades, shaded, shades
from core.taxonomy import (
    CATEGORIES,
    COLORS,
    FITS,
    LENGTHS,
    NA,
    PATTERNS,
    SLEEVES,
    allowed_values,
    family_of,
    plural,
)

RULE_ATTRS = ("color", "pattern", "sleeve", "length", "fit")
ORDERED = {"length": LENGTHS, "fit": FITS}  # what comparatives move along, shortest first
# asked past the end ("longer" of a maxi dress): the end itself, read as such
EXTREMES = {"longer": "longest", "shorter": "shortest", "tighter": "most fitted",
            "looser": "loosest"}
# A negated length ("not so long") says which way to go, not a value to avoid: left to the model.
NOT_AVOIDED = frozenset({"length"})
# A named category ("make it a dress") is a request like the others: items of other categories
# rank after every item of the asked one (rompers sit close to dresses in the embedding).
RANKED_ATTRS = (*RULE_ATTRS, "category")
# Cosine scores lie in [-1, 1]: a weight above 2 makes the groups strict (a filter falling back
# to the closest items when too few obey). On development captions the top-10 colour fraction
# was 0.67 / 0.83 / 0.90 / 0.94 / 0.94 at weights 0 / 0.1 / 0.2 / 0.5 / 4 (pattern 0.35 -> 0.79,
# sleeves 0.61 -> 0.92); R@10 on generated test captions moved only 0.997 -> 0.992.
RULE_WEIGHT = 4.0
NEAR_PENALTY = 0.5  # a shade of an avoided colour: after the clean items, before the colour
# Another category than the reference's, when the text names none: after the reference's own
# category among items that meet the same requests, before any item that breaks one. On
# development captions 0.25 kept the top 10 in the reference's category 0.43 -> 0.55 (length
# and fit requests 0.66 -> 0.85) with the requested-value rows even, weighted by captions
# (colour -1.5 points, the others +0.1 to +4.7); at 0.5 darker / lighter fell 17 points.
PREFER_PENALTY = 0.25
LABELS = {"color": "colour", "pattern": "pattern", "sleeve": "sleeves", "category": "category",
          "length": "length", "fit": "fit"}
DOMAINS = {"color": tuple(COLORS), "pattern": PATTERNS, "sleeve": SLEEVES,
           "length": LENGTHS, "fit": FITS, "category": tuple(CATEGORIES)}


@dataclass
class Constraints:
    want: dict[str, frozenset[str]] = field(default_factory=dict)
    avoid: dict[str, frozenset[str]] = field(default_factory=dict)
    # values that half meet a request: "darker" prefers the hue's own darker shades, then any
    # colour of lower lightness than the reference
    near: dict[str, frozenset[str]] = field(default_factory=dict)
    # values that half break a request: the named shades of an avoided colour ("not red":
    # burgundy, "dark red")
    avoid_near: dict[str, frozenset[str]] = field(default_factory=dict)
    explicit: frozenset[str] = frozenset()  # attributes named outright (not comparatives)
    labels: dict[str, str] = field(default_factory=dict)  # attr -> how the request reads
    notes: list[str] = field(default_factory=list)  # requests that could not be resolved
    category: str | None = None
    not_applicable: dict[str, str] = field(default_factory=dict)  # attr -> "bags"
    # length / fit words only the model reads, as the reading shows them
    by_model: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # compared with a value the reference lacks
    # values preferred without being asked for: the reference's own category when the text
    # names none (a "shorter" dress stays a dress before rompers, which are all mini)
    prefer: dict[str, frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.want or self.avoid)  # a preference alone does not reorder

    @property
    def only_avoids(self) -> bool:
        """The request only says what to avoid ("is not red")."""
        return bool(self.avoid) and not self.want

    def reading(self) -> str:
        """ "colour → red; sleeves → short; not: striped" (empty when nothing was read)."""
        bits = [f"{LABELS[a]} → {self.labels.get(a) or _join(self.want[a], a)}"
                for a in RULE_ATTRS if a in self.want]
        if self.category:
            bits.append(f"garment → {self.category}")
        avoided = [self._avoided(a, v) for a in RANKED_ATTRS if (v := self.avoid.get(a))]
        if avoided:
            bits.append("not: " + ", ".join(avoided))
        if kept := [_join(v, a) for a in RULE_ATTRS if (v := self.prefer.get(a))]:
            bits.append("keeping: " + ", ".join(kept))
        bits += self.by_model
        return "; ".join(bits + self.notes)

    def _avoided(self, attr: str, values: frozenset[str]) -> str:
        near = self.avoid_near.get(attr)
        if attr == "fit":  # "not: slim fit", not a bare "slim"
            return f"{_join(values, attr)} fit"
        if not near:
            return _join(values, attr)
        them = "it" if len(values) == 1 else "them"
        return f"{_join(values, attr)} or shades of {them} ({_join(near, attr)})"


def _join(values: frozenset[str], attr: str) -> str:
    if attr == "pattern" and values == ANY_PATTERN:
        return "any pattern"
    if attr == "sleeve" and values == ANY_SLEEVE:
        return "with sleeves"
    return "/".join(sorted(values, key=DOMAINS[attr].index)) if attr in DOMAINS else \
        "/".join(sorted(values))


def _short(ordered: list[str], n: int = 4) -> str:
    """ "navy/black" or "burgundy/navy/black/brown/… 6 colours": the nearest few by name."""
    if len(ordered) <= n:
        return "/".join(ordered)
    return "/".join(ordered[:n]) + f"/… {len(ordered)} colours"


def _colour(p: ParsedFeedback, ref: str | None, c: Constraints) -> None:
    named = p.requested("color")
    first = p.first("color")
    if named:
        c.explicit |= {"color"}
        c.want["color"] = shaded(named, first.shade, ref) if first.shade else named
        if first.shade:
            c.labels["color"] = f"{first.shade} {_join(named, 'color')} " \
                                f"({_join(c.want['color'], 'color')})"
        return
    rel = p.first("color_rel")
    if rel is None or first is not None:  # an off-palette colour word outranks a shade word
        return
    direction = min(rel.value)
    chain = shades(ref, direction) if ref else []
    other = [x for x in by_lightness(ref, direction) if x not in chain] if ref else []
    if chain or other:
        c.want["color"] = frozenset(chain or other)
        if chain and other:
            c.near["color"] = frozenset(other)
        then = f", then {_short(other)}" if chain and other else ""
        c.labels["color"] = f"{direction} than {ref} ({_short(chain or other)}{then})"
    elif ref:
        c.notes.append(f"no {direction} shade than {ref} in the palette")
    else:
        c.notes.append(f"{direction} (the reference's colour is unknown)")


def _sleeve(p: ParsedFeedback, ref: str | None, c: Constraints) -> None:
    named = p.requested("sleeve")
    if named:
        c.explicit |= {"sleeve"}
        c.want["sleeve"] = named
        return
    rel = p.first("sleeve_rel")
    if rel is None:
        return
    direction = min(rel.value)
    if ref not in SLEEVES:
        c.notes.append(f"{direction} sleeves (the reference's sleeves are unknown)")
        return
    i = SLEEVES.index(ref)
    chosen = SLEEVES[i + 1:] if direction == "longer" else SLEEVES[:i]
    if chosen:
        c.want["sleeve"] = frozenset(chosen)
        c.labels["sleeve"] = f"{direction} than {ref} ({_join(c.want['sleeve'], 'sleeve')})"
    else:
        c.notes.append(f"no {direction} sleeves than {ref}")


def _scope(attr: str, category: str | None, family: str | None) -> tuple[str, ...]:
    """The values of ``attr`` the reference's kind of garment can have, in order: its
    category's, else its family's categories', else all."""
    if category in CATEGORIES:
        values = set(allowed_values(category, attr))
    else:
        values = {v for c, info in CATEGORIES.items() if info.family == family
                  for v in allowed_values(c, attr)} or set(ORDERED[attr])
    return tuple(v for v in ORDERED[attr] if v in values)


def _ordered(attr: str, p: ParsedFeedback, ref: str | None, c: Constraints,
             category: str | None, family: str | None) -> None:
    """A length (fit) named outright or compared with the reference's ("shorter",
    "looser"), within the values its garment can have; asked past the last one ("longer" of
    a maxi dress), the last one. What this cannot resolve (the reference's value unknown, a
    length its garment lacks) is left to the model, and the reading says so."""
    scope = _scope(attr, category, family)
    named = p.requested(attr)
    if named:
        if ok := frozenset(named & set(scope)):
            c.want[attr], c.explicit = ok, c.explicit | {attr}
        elif category in CATEGORIES and scope:  # "knee length" of a jumpsuit
            c.notes.append(f"{LABELS[attr]}: {plural(category)} come {'/'.join(scope)}")
        return
    rel = p.first(f"{attr}_rel")
    if rel is None:
        return
    direction = min(rel.value)
    if ref not in scope:
        c.unknown.append(attr)
        return
    i = scope.index(ref)
    chosen = scope[i + 1:] if direction in ("longer", "looser") else scope[:i]
    c.want[attr] = frozenset(chosen or (ref,))
    where = f" for {plural(category)}" if category else ""
    c.labels[attr] = (f"{direction} than {ref} ({_join(c.want[attr], attr)})" if chosen else
                      f"{ref} (the {EXTREMES[direction]}{where})")


def resolve(parsed: ParsedFeedback, ref_attrs: Mapping[str, str | None], *,
            category: str | None = None, family: str | None = None,
            likely: frozenset[str] = frozenset()) -> Constraints:
    """Wanted and avoided colour / pattern / sleeve / length / fit values (and category) for a
    caption and a reference of ``category`` / ``family`` when known ("longer sleeves" does not
    apply to a bag); ``likely``: an unsure photo's categories, preferred as its own would be."""
    c, category_of_ref = Constraints(), category
    c.not_applicable = not_applicable(parsed, ref_attrs, category, family)
    _colour(parsed, ref_attrs.get("color"), c)
    named = parsed.values("pattern")  # a specific pattern outranks "printed" / "patterned"
    pattern = next((v for v in named if v != ANY_PATTERN), named[0] if named else None)
    if pattern:
        c.want["pattern"], c.explicit = pattern, c.explicit | {"pattern"}
    if "sleeve" not in c.not_applicable:
        _sleeve(parsed, ref_attrs.get("sleeve"), c)
    for attr in ORDERED:
        if attr not in c.not_applicable:
            _ordered(attr, parsed, ref_attrs.get(attr), c, category_of_ref, family)
    category = parsed.requested("category")
    if category and not skirt_of_a_dress(parsed, family or family_of(category_of_ref)):
        c.want["category"], c.explicit = category, c.explicit | {"category"}
        c.category = min(category)
    for attr in RANKED_ATTRS:
        if attr in c.not_applicable or attr in NOT_AVOIDED:
            continue
        avoid = parsed.negated(attr) - c.want.get(attr, frozenset())
        if attr == "pattern" and avoid >= ANY_PATTERN and "pattern" not in c.want:
            c.want["pattern"], avoid = frozenset({"solid"}), frozenset()  # "less busy"
        if attr == "sleeve" and avoid >= ANY_SLEEVE and "sleeve" not in c.want:
            c.want["sleeve"], avoid = frozenset({"sleeveless"}), frozenset()
        if avoid:
            c.avoid[attr] = avoid
    if "color" in c.avoid and model_text(parsed, c) is None:  # "is not red", nothing else
        near = frozenset().union(*(named_shades(v) for v in c.avoid["color"]))
        near -= c.avoid["color"] | c.want.get("color", frozenset()) | {ref_attrs.get("color")}
        if near:
            c.avoid_near["color"] = near
    c.by_model = [f"{LABELS[m.attr]} → {parsed.words(m)} (by the model" + (
        f": the reference's {LABELS[m.attr]} is unknown)" if m.attr in c.unknown else ")")
        for m in parsed.mentions if m.kind in MODEL_KINDS and m.attr not in c.not_applicable
        and m.attr not in c.want and m.attr not in c.avoid]
    own = frozenset({category_of_ref}) if category_of_ref in CATEGORIES else likely
    if "category" not in c.want and own:
        c.prefer["category"] = own
    if c.only_avoids:
        _keep_own(ref_attrs, c)
    c.notes += [f"{LABELS[a]}: doesn't apply to {where}"
                for a, where in c.not_applicable.items() if not only_straps(parsed, a)]
    return c


def _keep_own(ref_attrs: Mapping[str, str | None], c: Constraints) -> None:
    """A request that only says what to avoid keeps the rest of the reference's look: "is
    not red" of a mint bag prefers mint bags among the ones that are not red."""
    for attr in c.avoid:
        own = ref_attrs.get(attr)
        if attr in RULE_ATTRS and own not in (None, NA) and own not in c.avoid[attr]:
            c.prefer[attr] = frozenset({own})


def model_text(parsed: ParsedFeedback, c: Constraints) -> str | None:
    """The words the combiner model reads: the text as typed, less what does not apply to the
    garment and, when the text only says what to avoid, less its negations ("is not red,
    more fitted": "is, more fitted"); None when nothing is left ("is not red": the reference
    itself is the query, the rules keep red out)."""
    drop = [m for m in parsed.mentions if m.attr in c.not_applicable]
    if c.only_avoids:
        drop += [m for m in parsed.mentions if m.negated and m.attr in RANKED_ATTRS]
    if not drop:
        return parsed.text
    rest = parse_feedback(parsed.without(drop))
    return rest.text if rest.mentions or rest.unread() else None


def penalty(attrs: Mapping[str, str | None], c: Constraints) -> float:
    """How many requests an item breaks (a wanted value missing, an avoided value present;
    a half for a value that half meets a request or is a shade of an avoided colour). A
    length or a fit counts as much as a colour: on development captions, counting them half
    gave up more of the length and fit fractions than it gained of colour's (docs/RESULTS.md,
    Refine)."""
    n = 0.0
    for attr, values in c.want.items():
        value = attrs.get(attr)
        n += 0.0 if value in values else 0.5 if value in c.near.get(attr, ()) else 1.0
    for attr, values in c.avoid.items():
        n += attrs.get(attr) in values
    for attr, values in c.avoid_near.items():
        n += NEAR_PENALTY * (attrs.get(attr) in values)
    if c:
        for attr, values in c.prefer.items():
            n += PREFER_PENALTY * (attrs.get(attr) not in values | {None})
    return n


def penalty_matrix(cs: Sequence[Constraints], rows: Sequence[Mapping[str, str | None]]
                   ) -> np.ndarray:
    """``penalty`` of every candidate (columns) for every request (rows), as float32."""
    vals = {a: np.array([str(r.get(a)) for r in rows], dtype=object) for a in RANKED_ATTRS}
    out = np.zeros((len(cs), len(rows)), dtype=np.float32)
    for i, c in enumerate(cs):
        for attr, values in c.want.items():
            out[i] += ~np.isin(vals[attr], list(values))
            if attr in c.near:
                out[i] -= 0.5 * np.isin(vals[attr], list(c.near[attr]))
        for attr, values in c.avoid.items():
            out[i] += np.isin(vals[attr], list(values))
        for attr, values in c.avoid_near.items():
            out[i] += NEAR_PENALTY * np.isin(vals[attr], list(values))
        for attr, values in c.prefer.items() if c else ():
            out[i] += PREFER_PENALTY * ~np.isin(vals[attr], [*values, "None"])
    return out


def rank(scores: np.ndarray, pens: np.ndarray, weight: float = RULE_WEIGHT) -> np.ndarray:
    """Candidate order: fewest broken requests first, the combiner's score within (stable)."""
    adjusted = np.asarray(scores, dtype=np.float64) - weight * np.asarray(pens, np.float64)
    return np.argsort(-adjusted, kind="stable")


def unmet(rows: Sequence[Mapping[str, str | None]], c: Constraints) -> list[tuple[str, str]]:
    """(attribute, requested values) of the requests none of ``rows`` meets."""
    return [(attr, _join(values, attr)) for attr, values in c.want.items()
            if not any(r.get(attr) in values | c.near.get(attr, frozenset()) for r in rows)]
