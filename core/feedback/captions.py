"""Feedback caption generator: varied, shopper-style phrasing of a reference -> target change.

A change is ``{attr: (from, to)}`` over color, pattern, sleeve, length, fit and category. Each
attribute has clause templates; a fixed quarter of them (and of the joiners) is held out for
evaluation, so `eval feedback` reads phrasings the model never trained on. Captions mix absolute
("is navy") and relative ("is darker", "has longer sleeves") wording, negations ("not red"),
two clauses, optional lead-ins ("the dress is ..."), and typos like the ones people make.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from core.feedback import vocab
from core.taxonomy import CATEGORIES, COLORS, rank, shade_relation

Change = dict[str, tuple[str, str]]
PLURAL = frozenset({"trousers", "jeans", "shorts", "sneakers", "boots", "heels", "sandals"})
SPLITS = ("train", "eval")
HELD_OUT_EVERY = 4  # template i is held out when i % 4 == 3


def held_out(templates: tuple[str, ...], split: str) -> tuple[str, ...]:
    """The templates a split may use: eval gets every 4th one, train the rest."""
    if split not in SPLITS:
        raise ValueError(f"caption split must be one of {SPLITS}, got {split!r}")
    keep = [t for i, t in enumerate(templates)
            if (i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == (split == "eval")]
    return tuple(keep)


COLOR_T = ("is {c}", "is {c} in color", "in {c}", "is {c} instead of {f}", "is {c} colored",
           "make it {c}", "is solid {c}", "has a {c} color", "is {c} not {f}", "is more {c}",
           "comes in {c}", "would be {c}", "change the color to {c}", "is a {c} one",
           "needs to be {c}", "is {c} rather than {f}", "{c} color", "is all {c}",
           "is {c} and not {f}", "same but in {c}", "is a {c} shade", "is colored {c}",
           "i want it {c}", "prefer {c} over {f}")
SHADE_T = ("is {r}", "is {r} in color", "is a {r} {h}", "is {r} colored", "is slightly {r}",
           "make it {r}", "is much {r}", "is a bit {r}", "has a {r} color", "is {r} overall",
           "is {r} {h}", "should be {r}")
SHADE_PHRASE_T = ("is {p}", "has {p}", "{p}", "in {p}")
PATTERN_T = ("is {a}", "has {n}", "with {n}", "is {a} not {fa}", "is {a} instead",
             "is a {a} print", "has {n} instead of {fn}", "{a} pattern", "has {n} on it",
             "is {a} and not {fa}", "add {n}", "is covered in {n}", "has a {a} design",
             "comes with {n}", "is {a} patterned", "features {n}")
SOLID_T = ("is {a}", "has {n}", "is {a} without {fn}", "no {fn}", "is {a} instead of {fa}",
           "without the {fn}", "is {a} and has {n}", "lose the {fn}")
SLEEVE_T = ("has {n}", "is {a}", "with {n}", "has {n} instead", "is {a} instead of {fa}",
            "comes with {n}", "is a {a} one", "has {n} not {fn}")
SLEEVE_REL_T = ("has {r} sleeves", "is {r} sleeved", "{r} sleeves", "has sleeves that are {rr}",
                "has {r} sleeve", "sleeves are {rr}", "has {r} arms", "with {r} sleeves")
LENGTH_T = ("is {w}", "is {w} in length", "is a {w} one", "should be {w}", "is {w} instead",
            "make it {w}", "is cut {w}", "comes {w}")
LENGTH_REL_T = ("is {r}", "is {r} overall", "is a bit {r}", "should be {r}", "is much {r}",
                "make it {r}", "is slightly {r}", "comes {r}")
LENGTH_NOUN_T = ("has {n}", "with {n}", "{n}", "needs {n}")
FIT_T = ("is {w}", "has a {w} look", "is {w} instead", "should be {w}", "fits {w}",
         "is more {w}", "is cut {w}", "looks {w}")
FIT_REL_T = ("is {r}", "fits {r}", "is a bit {r}", "is {r} on the body", "is much {r}",
             "make it {r}", "should be {r}", "has a {r} fit")
CATEGORY_T = ("is {an}{c}", "is {an}{c} instead of {fan}{f}", "{an}{c} instead", "make it {an}{c}",
              "is {an}{c} not {fan}{f}", "as {an}{c}", "is more like {an}{c}",
              "change it to {an}{c}", "looks like {an}{c}", "is {an}{c} rather than {fan}{f}",
              "would be {an}{c}", "try {an}{c}")
STYLE_T = ("is {s}", "{s}", "looks {s}", "is a little {s}")
JOINERS = (" and ", ", ", " and also ", " with ", " plus ", " but also ", " & ", "; ")
LEAD_INS = ("the {g} ", "it ", "this one ", "the item ", "i'd like one that ", "same {g} but ")


def article(word: str) -> str:
    if word in PLURAL or word.endswith("s") and not word.endswith("ss"):
        return ""
    return "an " if word[0] in "aeiou" else "a "


@dataclass
class CaptionGenerator:
    """Captions for changes; ``split`` picks the training or the held-out template set."""

    split: str = "train"
    typo_rate: float = 0.12  # chance that one word of a caption carries a typo
    partial_rate: float = 0.1  # two changes, only one mentioned (people often leave one out)

    def __post_init__(self) -> None:
        pick = lambda t: held_out(t, self.split)  # noqa: E731
        self.t = {name: pick(t) for name, t in {
            "color": COLOR_T, "shade": SHADE_T, "shade_phrase": SHADE_PHRASE_T,
            "pattern": PATTERN_T, "solid": SOLID_T, "sleeve": SLEEVE_T,
            "sleeve_rel": SLEEVE_REL_T, "length": LENGTH_T, "length_rel": LENGTH_REL_T,
            "length_noun": LENGTH_NOUN_T,
            "fit": FIT_T, "fit_rel": FIT_REL_T, "category": CATEGORY_T, "style": STYLE_T,
            "joiner": JOINERS, "lead": LEAD_INS}.items()}
        self.clauses: dict[str, Callable[[str, str, random.Random], str]] = {
            "color": self._color, "pattern": self._pattern, "sleeve": self._sleeve,
            "length": self._length, "fit": self._fit, "category": self._category,
        }

    def caption(self, changes: Change, category: str, rng: random.Random) -> str:
        """One caption naming the changes (one or two clauses)."""
        attrs = [a for a in changes if a in self.clauses]
        rng.shuffle(attrs)
        if len(attrs) > 1 and self.split == "train" and rng.random() < self.partial_rate:
            attrs = attrs[:1]
        clauses = [self.clauses[a](*changes[a], rng) for a in attrs]
        if "category" in changes and rng.random() < 0.3:
            style = self._style(*changes["category"], rng)
            if style:
                clauses.append(style)
        text = clauses[0] if clauses else "is similar"
        for clause in clauses[1:]:
            text = self._join(text, clause, rng)
        if " one" in text and rng.random() < 0.4:  # "is a red one" -> "is a red dress"
            words = vocab.CATEGORY_WORDS.get(category, (category,))
            text = text.replace(" one", " " + rng.choice(words), 1)
        text = self._lead(text, category, rng)
        if rng.random() < self.typo_rate:
            text = typo(text, rng)
        return text

    def captions(self, changes: Change, category: str, n: int, rng: random.Random) -> list[str]:
        return [self.caption(changes, category, rng) for _ in range(n)]

    def _join(self, text: str, clause: str, rng: random.Random) -> str:
        joiner = rng.choice(self.t["joiner"])
        if joiner == " with ":
            if not clause.startswith("has "):
                joiner = " and "
            else:
                clause = clause[4:]
        if text.startswith("is ") and clause.startswith("is ") and rng.random() < 0.5:
            clause = clause[3:]
        return text + joiner + clause

    def _lead(self, text: str, category: str, rng: random.Random) -> str:
        if rng.random() < 0.2 and re.match(r"(is|has) ", text):
            words = vocab.CATEGORY_WORDS.get(category, (category,))
            return rng.choice(self.t["lead"]).format(g=rng.choice(words)) + text
        if rng.random() < 0.1:
            text = text[0].upper() + text[1:] + rng.choice((".", "", "!"))
        return text

    def _color(self, src: str, dst: str, rng: random.Random) -> str:
        relation = shade_relation(src, dst) if src in COLORS and dst in COLORS else None
        if relation and rng.random() < 0.5:
            if rng.random() < 0.7:
                hue = rng.choice(vocab.COLOR_WORDS[dst][:1] + ("color", "shade", "tone"))
                return rng.choice(self.t["shade"]).format(
                    r=rng.choice(vocab.RELATIVE_COLOR_ADJ[relation]), h=hue)
            return rng.choice(self.t["shade_phrase"]).format(
                p=rng.choice(vocab.RELATIVE_COLOR_PHRASE[relation]))
        return rng.choice(self.t["color"]).format(c=_word(vocab.COLOR_WORDS, dst, rng),
                                                   f=_word(vocab.COLOR_WORDS, src, rng))

    def _pattern(self, src: str, dst: str, rng: random.Random) -> str:
        templates = self.t["solid"] if dst == "solid" else self.t["pattern"]
        return rng.choice(templates).format(
            a=_word(vocab.PATTERN_ADJ, dst, rng), n=_word(vocab.PATTERN_NOUN, dst, rng),
            fa=_word(vocab.PATTERN_ADJ, src, rng),
            fn=_strip(_word(vocab.PATTERN_NOUN, src, rng) if src != "solid" else "pattern"))

    def _sleeve(self, src: str, dst: str, rng: random.Random) -> str:
        a, b = rank("sleeve", src), rank("sleeve", dst)
        if a is not None and b is not None and dst != "sleeveless" and rng.random() < 0.5:
            words = vocab.RELATIVE_SLEEVE["longer" if b > a else "shorter"]
            r = rng.choice(words)
            return rng.choice(self.t["sleeve_rel"]).format(r=r, rr=words[0])
        return rng.choice(self.t["sleeve"]).format(
            a=_word(vocab.SLEEVE_ADJ, dst, rng), n=_word(vocab.SLEEVE_NOUN, dst, rng),
            fa=_word(vocab.SLEEVE_ADJ, src, rng), fn=_word(vocab.SLEEVE_NOUN, src, rng))

    def _length(self, src: str, dst: str, rng: random.Random) -> str:
        a, b = rank("length", src), rank("length", dst)
        if a is not None and b is not None and a != b and rng.random() < 0.6:
            direction = "longer" if b > a else "shorter"
            if rng.random() < 0.25:
                n = rng.choice(vocab.RELATIVE_LENGTH_NOUN[direction])
                return rng.choice(self.t["length_noun"]).format(n=n)
            r = rng.choice(vocab.RELATIVE_LENGTH_ADJ[direction])
            return rng.choice(self.t["length_rel"]).format(r=r)
        return rng.choice(self.t["length"]).format(w=_word(vocab.LENGTH_WORDS, dst, rng))

    def _fit(self, src: str, dst: str, rng: random.Random) -> str:
        a, b = rank("fit", src), rank("fit", dst)
        if a is not None and b is not None and a != b and rng.random() < 0.6:
            r = rng.choice(vocab.RELATIVE_FIT["tighter" if b < a else "looser"])
            return rng.choice(self.t["fit_rel"]).format(r=r)
        return rng.choice(self.t["fit"]).format(w=_word(vocab.FIT_WORDS, dst, rng))

    def _category(self, src: str, dst: str, rng: random.Random) -> str:
        c, f = _word(vocab.CATEGORY_WORDS, dst, rng), _word(vocab.CATEGORY_WORDS, src, rng)
        return rng.choice(self.t["category"]).format(c=c, an=article(c), f=f, fan=article(f))

    def _style(self, src: str, dst: str, rng: random.Random) -> str | None:
        if src not in CATEGORIES or dst not in CATEGORIES:
            return None
        delta = CATEGORIES[dst].formality - CATEGORIES[src].formality
        if delta == 0:
            return None
        s = rng.choice(vocab.STYLE_WORDS["formal" if delta > 0 else "casual"])
        return rng.choice(self.t["style"]).format(s=s)


def _word(table: dict[str, tuple[str, ...]], value: str, rng: random.Random) -> str:
    """A word for a value: the canonical one half of the time, else a synonym."""
    words = table.get(value) or (value,)
    return words[0] if rng.random() < 0.5 else rng.choice(words)


def _strip(phrase: str) -> str:
    return re.sub(r"^(a|an|no) ", "", phrase)


def typo(text: str, rng: random.Random) -> str:
    """One human-like slip in a word of 4+ letters: drop, double, swap or replace a letter,
    or glue two words together."""
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    op = rng.randrange(5)
    if op == 0:
        w = w[:j] + w[j + 1:]
    elif op == 1:
        w = w[:j] + w[j] + w[j:]
    elif op == 2:
        w = w[:j - 1] + w[j] + w[j - 1] + w[j + 1:]
    elif op == 3:
        w = w[:j] + rng.choice("aeiousrtnl") + w[j + 1:]
    elif i > 0:
        words[i - 1] += w
        return " ".join(words[:i] + words[i + 1:])
    words[i] = w
    return " ".join(words)
