"""Feedback captions describing how a target garment differs from a reference.

Shoppers phrase the same wish in many ways ("is red", "make it darker and striped", "same
but sleeveless", "less fitted, in navy"); these templates are the project's own and vary
wording, order, joiners, casing and punctuation so that a feedback model learns the meaning,
not one sentence shape.
"""

from __future__ import annotations

from core.demo.specs import PLURAL
from core.taxonomy import NA, rank, shade_relation

# Each template: (text, bare). Bare phrases can follow "same but ...".
COLOUR = (("is {new}", False), ("{new}", True), ("in {new}", True), ("make it {new}", False),
          ("{new} instead of {old}", True), ("not {old}, more {new}", True),
          ("change the colour to {new}", False), ("a {new} one", True),
          ("{new} coloured", True), ("swap {old} for {new}", False),
          ("should be {new}", False), ("{new} not {old}", True))
SHADE = (("is {rel}", False), ("{rel}", True), ("make it {rel}", False),
         ("a {rel} shade", True), ("{rel} colour", True), ("a bit {rel}", True),
         ("{rel}, more of a {new}", True), ("{rel} {new}", True), ("is a {rel} {new}", False))
PATTERN_WORDS = {
    "solid": ("solid", "plain with no print", "no pattern", "a solid colour",
              "without the {old_word}"),
    "striped": ("striped", "has stripes", "with stripes", "stripy", "add stripes"),
    "checked": ("checked", "plaid", "has a check pattern", "checkered", "with checks"),
    "dotted": ("polka dot", "has dots", "with polka dots", "dotted", "spotty"),
    "floral": ("floral", "has flowers", "with a flower print", "a floral print", "flowery"),
    "denim": ("denim", "made of denim", "in denim", "jean fabric", "a denim one"),
    "graphic": ("has a graphic", "with a logo print", "graphic print on the front",
                "printed graphic", "has a picture on it"),
}
OLD_PATTERN = {"striped": "stripes", "checked": "checks", "dotted": "dots", "floral": "flowers",
               "denim": "denim", "graphic": "graphic", "solid": "plain look"}
SLEEVE_WORDS = {
    "sleeveless": ("sleeveless", "no sleeves", "without sleeves", "is sleeveless",
                   "remove the sleeves"),
    "short": ("short sleeves", "has short sleeves", "short sleeved", "with short sleeves"),
    "three-quarter": ("three quarter sleeves", "3/4 sleeves", "mid length sleeves",
                      "has three quarter length sleeves"),
    "long": ("long sleeves", "has long sleeves", "long sleeved", "with full length sleeves"),
}
LONGER_SLEEVES = ("longer sleeves", "has longer sleeves", "more sleeve", "sleeves should be longer")
SHORTER_SLEEVES = ("shorter sleeves", "has shorter sleeves", "less sleeve",
                   "cut the sleeves shorter")
LENGTH_WORDS = {
    "cropped": ("cropped", "a cropped cut", "is cropped"), "mini": ("mini", "mini length"),
    "ankle": ("ankle height", "ankle length"), "hip": ("hip length", "regular length"),
    "knee": ("knee length", "to the knee", "knee high"), "midi": ("midi", "midi length"),
    "maxi": ("maxi", "maxi length", "floor length"), "full": ("full length", "long legs"),
}
LONGER = ("longer", "is longer", "more length", "a longer cut", "should be longer")
SHORTER = ("shorter", "is shorter", "less long", "a shorter cut", "should be shorter")
LOOSER = ("looser", "less fitted", "more relaxed", "baggier", "a looser fit", "roomier")
TIGHTER = ("tighter", "more fitted", "slimmer fit", "form fitting", "a slim cut", "more tailored")
FIT_WORDS = {"slim": ("slim fit", "skinny"), "regular": ("regular fit", "standard fit"),
             "loose": ("oversized", "loose fit", "relaxed fit")}
CATEGORY = ("is {art}{new}", "{art}{new} instead of {art_old}{old}", "make it {art}{new}",
            "{art}{new} not {art_old}{old}", "change to {art}{new}", "should be {art}{new}",
            "{art}{new}")
JOINERS = (" and ", ", ", " and also ", "; ", " plus ", " & ", " and ")


def _article(category: str) -> str:
    if category in PLURAL:
        return ""
    return "an " if category[0] in "aeiou" else "a "


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def clause(attr: str, old: str, new: str, rng) -> tuple[str, bool]:
    """One phrase for one change; returns (text, bare)."""
    if attr == "color":
        rel = shade_relation(old, new)
        text, bare = _pick(rng, SHADE if rel and rng.random() < 0.6 else COLOUR)
        return text.format(old=old, new=new, rel=rel), bare
    if attr == "pattern":
        return _pick(rng, PATTERN_WORDS[new]).format(old_word=OLD_PATTERN[old]), True
    if attr == "category":
        text = _pick(rng, CATEGORY).format(art=_article(new), new=new, art_old=_article(old),
                                           old=old)
        if new in PLURAL and text.startswith("is "):
            text = "are " + text[3:]
        return text, not text.startswith(("is ", "are ", "make", "change", "should"))
    scale = {"sleeve": (SHORTER_SLEEVES, LONGER_SLEEVES, SLEEVE_WORDS),
             "length": (SHORTER, LONGER, LENGTH_WORDS), "fit": (TIGHTER, LOOSER, FIT_WORDS)}
    down, up, named = scale[attr]
    r_old, r_new = rank(attr, old), rank(attr, new)
    if r_old is not None and r_new is not None and rng.random() < 0.55:
        text = _pick(rng, up if r_new > r_old else down)
    else:
        text = _pick(rng, named[new])
    return text, not text.startswith(("is ", "has ", "should", "cut", "remove", "add"))


def _style(text: str, rng) -> str:
    roll = rng.random()
    if roll < 0.5:
        return text.lower()
    if roll < 0.8:
        return text[0].upper() + text[1:] + "."
    return text[0].upper() + text[1:]


def caption(changes: dict[str, list[str]], rng) -> str:
    """One caption covering every change (one or two clauses)."""
    # A change to "n/a" (e.g. boots' length when they become sneakers) is implied by the
    # category change; it gets no clause of its own.
    attrs = [a for a in changes if changes[a][1] != NA] or list(changes)[:1]
    if len(attrs) > 1 and rng.random() < 0.5:
        attrs.reverse()
    parts = [clause(a, *changes[a], rng) for a in attrs]
    if len(parts) == 1:
        text, bare = parts[0]
        if bare and rng.random() < 0.25:
            text = _pick(rng, ("same but ", "same thing but ", "like this but ")) + text
        return _style(text, rng)
    joiner = _pick(rng, JOINERS)
    return _style(parts[0][0] + joiner + parts[1][0], rng)


def captions_for(changes: dict[str, list[str]], rng, k: int = 3) -> list[str]:
    """``k`` different captions for one reference→target difference."""
    out: list[str] = []
    for _ in range(k * 8):
        text = caption(changes, rng)
        if text.lower().rstrip(".") not in {o.lower().rstrip(".") for o in out}:
            out.append(text)
        if len(out) == k:
            break
    return out
