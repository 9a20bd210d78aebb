"""Read what a feedback caption asks for: colours, shades, patterns, sleeves, categories.

Negations ("no stripes", "is not red", "less busy", "without a print"), comparatives ("darker",
"a lighter blue", "longer sleeves", "not so dark"), several requests in one sentence and colour
words the palette lacks ("maroon", "teal") are read here; :mod:`core.feedback.rules` resolves
comparatives against the reference and ranks by the result. Length and fit words ("knee
length", "shorter", "looser") are read too, in words no other request took: the rules rank by
them where the reference's garment can have the value (a shorter knee-length dress), the model
reads them in any case, and the rules say when they don't apply to the garment (length of a
bag).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from core.feedback import vocab
from core.taxonomy import PATTERNS, SLEEVES

NEGATORS = frozenset({"no", "not", "without", "instead", "than", "non", "less", "nor", "isnt",
                      "from", "never", "lose", "remove", "doesnt", "dont", "arent", "minus",
                      "except", "drop", "rid"})
# Words that may stand between a negator and what it negates ("without a print").
NEGATION_FILLER = frozenset({"a", "an", "the", "so", "as", "too", "any", "have", "has", "be",
                             "in", "of", "very", "more", "much", "colored", "color", "with",
                             "being", "quite", "all", "that"})
# Words that may stand between a shade word and its colour ("a darker shade of blue").
SHADE_FILLER = frozenset({"a", "an", "shade", "of", "tone", "more", "much", "slightly", "bit",
                          "in", "color", "colored", "and"})
COORDINATORS = frozenset({"and", "or", "nor", "/", "&"})
BREAK = "|"  # punctuation: negation and phrases never reach across it
MAX_PHRASE = 4
NEGATION_REACH = 3  # tokens a negator reaches back over (fillers only)
SHADE_REACH = 3
ANY_PATTERN = frozenset(PATTERNS) - {"solid"}
ANY_SLEEVE = frozenset(SLEEVES) - {"sleeveless"}
SLEEVE_NOUNS = ("sleeves", "sleeved", "sleeve", "arms")
# Length and fit kinds: read only in words no colour, pattern, sleeve or category took.
MODEL_KINDS = ("length", "length_rel", "fit", "fit_rel")
# Words after a length or fit word that make it the size of a part ("a longer strap"), not of
# the garment.
PART_NOUNS = vocab.DETAIL_NOUNS | {"handle", "handles", "chain", "heel", "heels", "laces",
                                   "shaft", "neck", "neckline", "slit"}
# The attribute's own noun after a length or fit word belongs to it ("a tighter fit").
ATTRIBUTE_NOUNS = {"length": ("length", "hem", "hemline"), "fit": ("fit", "cut")}
# Words that carry no request of their own ("make it a bit more ..."): never reported as unread.
GLUE = frozenset({"make", "it", "its", "is", "be", "to", "me", "my", "i", "id", "like", "want",
                  "would", "should", "could", "please", "bit", "little", "lot", "slightly",
                  "something", "same", "but", "and", "or", "one", "go", "get", "give", "show",
                  "try", "need", "maybe", "just", "also", "now", "this", "that", "them", "color",
                  "colour", "colors", "shade", "tone", "version", "kind", "similar", "change",
                  "yes"})


@dataclass
class Mention:
    kind: str  # color | color_rel | pattern | sleeve | sleeve_rel | category, or MODEL_KINDS
    value: frozenset[str]  # acceptable catalog values (empty: a colour with no catalog match)
    negated: bool
    start: int
    end: int = -1  # one past the last token
    detail: bool = False  # a colour of a detail ("white lettering"), not of the garment
    shade: str | None = None  # "darker" / "lighter" bound to a colour ("a darker blue")
    bound: bool = False  # a shade word that qualifies a colour, not a request on its own
    lead: int = -1  # first token with its negator ("not" of "not red"); start when none

    @property
    def attr(self) -> str:
        """The item attribute it is about: "sleeve" for "longer sleeves" (sleeve_rel)."""
        return self.kind.removesuffix("_rel")


@dataclass
class ParsedFeedback:
    tokens: list[str]
    mentions: list[Mention] = field(default_factory=list)
    known: int = 0  # tokens found in (or close to) the feedback vocabulary
    text: str = ""  # as typed

    def active(self, kind: str) -> list[Mention]:
        """Non-negated mentions of a kind that ask for the garment itself."""
        return [m for m in self.mentions if m.kind == kind and not m.negated
                and not m.detail and not m.bound]

    def first(self, kind: str) -> Mention | None:
        """The first non-negated mention of a kind."""
        found = self.active(kind)
        return found[0] if found else None

    def requested(self, kind: str) -> frozenset[str] | None:
        """Values acceptable for the first requested ``kind`` (None: not named or unmapped);
        colours joined by "and" / "or" ("black and white") are all acceptable."""
        found = self.active(kind)
        if not found or not found[0].value:
            return None
        values = set(found[0].value)
        for prev, m in zip(found, found[1:], strict=False):
            if kind != "color" or m.start != prev.end + 1 or \
                    self.tokens[prev.end] not in COORDINATORS:
                break
            values |= m.value
        return frozenset(values)

    def negated(self, kind: str) -> frozenset[str]:
        """Every value of a kind the text asks to avoid."""
        return frozenset(v for m in self.mentions if m.kind == kind and m.negated
                         and not m.detail for v in m.value)

    def values(self, kind: str) -> list[frozenset[str]]:
        return [m.value for m in self.active(kind) if m.value]

    def unread(self) -> list[str]:
        """Words no request was read from ("casual" in "darker and more casual"), in order."""
        used = {i for m in self.mentions for i in range(m.start, max(m.end, m.start + 1))}
        skip = GLUE | NEGATORS | NEGATION_FILLER | SHADE_FILLER | COORDINATORS | vocab.STOP_WORDS
        out: list[str] = []
        for i, t in enumerate(self.tokens):
            if i not in used and t not in skip and t != BREAK and not t.isdigit() \
                    and t not in out:
                out.append(t)
        return out

    def words(self, m: Mention) -> str:
        """What the shopper typed for a mention, with its negator ("not so tight")."""
        return " ".join(self.tokens[max(m.lead, 0):m.end])

    def without(self, drop: Iterable[Mention]) -> str:
        """The text minus the words of ``drop`` and their negators ("has no red in it, more
        fitted" without the red: "has in it, more fitted")."""
        gone = {i for m in drop for i in range(max(m.lead, 0), m.end)}
        words = ["," if t == BREAK else t for i, t in enumerate(self.tokens) if i not in gone]
        return " ".join(words).replace(" ,", ",").strip(" ,")

    @property
    def understood(self) -> bool:
        return bool(self.mentions) or self.known > 0


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens with spelling variants folded ("colour" -> "color")."""
    text = str(text).lower().replace("-", " ").replace("'", "")
    for src, dst in vocab.SPELLING.items():
        if " " in dst or "-" in src:
            text = text.replace(src.replace("-", " "), dst)
    text = re.sub(r"(?<!\d)/|/(?!\d)", " / ", text)  # "white/red", but "3/4" stays
    text = re.sub(r"[;:.!?,()]+", f" {BREAK} ", text)
    return [vocab.SPELLING.get(t, t) for t in re.findall(r"[a-z0-9/|]+", text)]


def _strip_article(phrase: str) -> str:
    return re.sub(r"^(a|an|the) ", "", phrase)


def _sources() -> list[tuple[str, dict[str | None, tuple[str, ...]]]]:
    """(kind, {value: phrases}) in priority order: an earlier kind keeps a shared phrase."""
    off_palette: dict[str | None, tuple[str, ...]] = {}
    pairs = [(c, w) for w, cs in vocab.OFF_PALETTE.items() for c in cs]
    for colour, word in pairs:
        off_palette[colour] = (*off_palette.get(colour, ()), word)
    rel_colour = {d: vocab.RELATIVE_COLOR_ADJ[d] + vocab.RELATIVE_COLOR_PHRASE[d]
                  + vocab.NEGATED_SHADE[d] for d in ("darker", "lighter")}
    rel_sleeve = {d: tuple(f"{w} {n}" for w in words for n in SLEEVE_NOUNS)
                  + tuple(f"{n} {v} {w}" for w in words for n in SLEEVE_NOUNS[:1]
                          for v in ("are", "that are", "is"))
                  for d, words in vocab.RELATIVE_SLEEVE.items()}
    return [("color", dict(vocab.COLOR_WORDS)), ("color", off_palette),
            ("color", {None: tuple(vocab.UNMAPPED_COLOR_WORDS)}),
            ("color_rel", rel_colour), ("sleeve", dict(vocab.SLEEVE_ADJ)),
            ("sleeve", dict(vocab.SLEEVE_NOUN)), ("sleeve_rel", rel_sleeve),
            ("pattern", dict(vocab.PATTERN_ADJ)), ("pattern", dict(vocab.PATTERN_NOUN)),
            ("pattern", dict(vocab.PATTERN_EXTRA)),
            ("pattern", dict.fromkeys(ANY_PATTERN, vocab.ANY_PATTERN)),
            ("sleeve", dict.fromkeys(ANY_SLEEVE, vocab.ANY_SLEEVE)),
            ("category", dict(vocab.CATEGORY_WORDS))]


def _model_sources() -> list[tuple[str, dict[str | None, tuple[str, ...]]]]:
    """Length and fit words (MODEL_KINDS), like ``_sources``; not the ones that also name a
    style ("more relaxed" is casual as often as loose: of shoes, only casual)."""
    style = {w for words in vocab.STYLE_WORDS.values() for w in words}
    rel_length = {d: vocab.RELATIVE_LENGTH_ADJ[d] + vocab.RELATIVE_LENGTH_NOUN[d]
                  + vocab.NEGATED_LENGTH[d] for d in ("longer", "shorter")}
    rel_fit = {d: vocab.RELATIVE_FIT[d] + vocab.NEGATED_FIT[d] for d in ("tighter", "looser")}
    sources = [("length", dict(vocab.LENGTH_WORDS)), ("length_rel", rel_length),
               ("fit", dict(vocab.FIT_WORDS)), ("fit_rel", rel_fit)]
    return [(kind, {v: tuple(w for w in words if w not in style) for v, words in src.items()})
            for kind, src in sources]


@lru_cache(maxsize=2)
def phrase_table(model_kinds: bool = False
                 ) -> dict[tuple[str, ...], tuple[str, frozenset[str]]]:
    """Phrase (token tuple) -> (kind, acceptable values); shared phrases merge their values.
    ``model_kinds``: the length and fit words instead of the rules' attributes."""
    table: dict[tuple[str, ...], tuple[str, set[str]]] = {}
    for kind, source in _model_sources() if model_kinds else _sources():
        for value, words in source.items():
            for w in words:
                key = tuple(tokenize(_strip_article(w)))
                if not key:
                    continue
                old_kind, values = table.setdefault(key, (kind, set()))
                if old_kind == kind and value is not None:
                    values.add(value)
    return {k: (kind, frozenset(v)) for k, (kind, v) in table.items()}


@lru_cache(maxsize=1)
def _known_words() -> tuple[frozenset[str], tuple[str, ...]]:
    words = frozenset(vocab.vocabulary())
    return words, tuple(sorted(w for w in words if len(w) >= 4))


@lru_cache(maxsize=65536)
def _is_known(token: str) -> bool:
    words, long_words = _known_words()
    if token in words:
        return True
    return len(token) >= 4 and bool(difflib.get_close_matches(token, long_words, 1, 0.85))


def _negator(tokens: list[str], start: int) -> int | None:
    """Where the negation of the phrase at ``start`` begins: a negator before it with only
    filler words between (None: not negated)."""
    for j in range(start - 1, max(-1, start - 1 - NEGATION_REACH), -1):
        if tokens[j] in NEGATORS:
            return j
        if tokens[j] == "but" and j and tokens[j - 1] == "anything":
            return j - 1
        if tokens[j] == "over" and "prefer" in tokens[:j]:  # "prefer red over blue"
            return j
        if tokens[j] not in NEGATION_FILLER:
            return None
    return None


def _scan(tokens: list[str], model_kinds: bool = False,
          taken: frozenset[int] = frozenset()) -> list[Mention]:
    """Longest-phrase-first matches, each with its own negation, in tokens not ``taken``."""
    table, out, i = phrase_table(model_kinds), [], 0
    while i < len(tokens):
        for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
            hit = table.get(tuple(tokens[i:i + n]))
            if hit is None or taken.intersection(range(i, i + n)):
                continue
            if model_kinds and i + n < len(tokens) and tokens[i + n] in PART_NOUNS:
                continue  # "a longer strap": the size of a part, not of the garment
            neg = _negator(tokens, i)
            m = Mention(hit[0], hit[1], neg is not None, i, i + n, lead=i if neg is None else neg)
            if model_kinds and m.end < len(tokens) and m.end not in taken \
                    and tokens[m.end] in ATTRIBUTE_NOUNS[m.attr]:
                m.end += 1
            out.append(m)
            i = m.end
            break
        else:
            i += 1
    return out


def _link(tokens: list[str], mentions: list[Mention]) -> None:
    """Negation carried over "or" ("no stripes or dots"), detail colours, bound shade words."""
    for prev, m in zip(mentions, mentions[1:], strict=False):
        if (prev.negated and m.kind == prev.kind and m.start == prev.end + 1
                and tokens[prev.end] in ("or", "nor")):
            m.negated = True
        if prev.kind == "color_rel" and m.kind == "color" and not prev.negated:
            gap = tokens[prev.end:m.start]
            if len(gap) <= SHADE_REACH and all(t in SHADE_FILLER for t in gap):
                m.shade, prev.bound = min(prev.value), True
    colours = [m for m in mentions if m.kind == "color"]
    for m in reversed(colours):
        after = tokens[m.end] if m.end < len(tokens) else ""
        nxt = next((c for c in colours if c.start == m.end + 1), None)
        m.detail = after in vocab.DETAIL_NOUNS or (
            after in COORDINATORS and nxt is not None and nxt.detail)


def parse_feedback(text: str) -> ParsedFeedback:
    """Find colour / shade / pattern / sleeve / category mentions, longest phrase first."""
    tokens = tokenize(text)
    out = ParsedFeedback(tokens=tokens, mentions=_scan(tokens), text=str(text))
    _link(tokens, out.mentions)
    taken = frozenset(i for m in out.mentions for i in range(m.start, m.end))
    out.mentions = sorted(out.mentions + _scan(tokens, True, taken), key=lambda m: m.start)
    out.known = sum(_is_known(t) for t in tokens if len(t) > 1 and t not in vocab.STOP_WORDS)
    return out


def describe(parsed: ParsedFeedback) -> str:
    """What was read, before the reference is known ("colour → red; not: striped")."""
    from core.feedback.rules import resolve

    return resolve(parsed, {}).reading()
