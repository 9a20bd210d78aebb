"""Read what a feedback caption asks for: named colours, patterns, sleeves (with negation).

Used to score whether retrieved items carry the requested attribute (``attr_hit_at_10``) and to
tell a real request from empty or nonsense text on the page.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from core.feedback import vocab

NEGATORS = frozenset({"no", "not", "without", "instead", "than", "non", "less", "nor", "isnt",
                      "from", "never", "lose", "remove"})
MAX_PHRASE = 4


@dataclass
class Mention:
    kind: str  # color | pattern | sleeve | sleeve_rel | category
    value: frozenset[str]  # acceptable catalog values (empty: a colour with no catalog match)
    negated: bool
    start: int


@dataclass
class ParsedFeedback:
    tokens: list[str]
    mentions: list[Mention] = field(default_factory=list)
    known: int = 0  # tokens found in (or close to) the feedback vocabulary

    def first(self, kind: str) -> Mention | None:
        """The first non-negated mention of a kind."""
        return next((m for m in self.mentions if m.kind == kind and not m.negated), None)

    def requested(self, kind: str) -> frozenset[str] | None:
        """Values acceptable for the first requested ``kind`` (None: not named or unmapped)."""
        m = self.first(kind)
        return m.value if m is not None and m.value else None

    def values(self, kind: str) -> list[frozenset[str]]:
        return [m.value for m in self.mentions if m.kind == kind and not m.negated and m.value]

    @property
    def understood(self) -> bool:
        return bool(self.mentions) or self.known > 0


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens with spelling variants folded ("colour" -> "color")."""
    text = str(text).lower().replace("-", " ").replace("'", "")
    for src, dst in vocab.SPELLING.items():
        if " " in dst or "-" in src:
            text = text.replace(src.replace("-", " "), dst)
    return [vocab.SPELLING.get(t, t) for t in re.findall(r"[a-z0-9/]+", text)]


def _strip_article(phrase: str) -> str:
    return re.sub(r"^(a|an|the) ", "", phrase)


@lru_cache(maxsize=1)
def phrase_table() -> dict[tuple[str, ...], tuple[str, frozenset[str]]]:
    """Phrase (token tuple) -> (kind, acceptable values); shared phrases merge their values."""
    table: dict[tuple[str, ...], tuple[str, set[str]]] = {}

    def add(kind: str, value: str | None, phrase: str) -> None:
        key = tuple(tokenize(_strip_article(phrase)))
        if not key:
            return
        old_kind, values = table.setdefault(key, (kind, set()))
        if old_kind == kind and value is not None:
            values.add(value)

    for colour, words in vocab.COLOR_WORDS.items():
        for w in words:
            add("color", colour, w)
    for w in vocab.UNMAPPED_COLOR_WORDS:
        add("color", None, w)
    for tables, kind in (((vocab.PATTERN_ADJ, vocab.PATTERN_NOUN), "pattern"),
                         ((vocab.SLEEVE_ADJ, vocab.SLEEVE_NOUN), "sleeve"),
                         ((vocab.CATEGORY_WORDS,), "category")):
        for t in tables:
            for value, words in t.items():
                for w in words:
                    add(kind, value, w)
    for direction, words in vocab.RELATIVE_SLEEVE.items():
        for w in words:
            for noun in ("sleeves", "sleeved", "sleeve"):
                add("sleeve_rel", direction, f"{w} {noun}")
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


def parse_feedback(text: str) -> ParsedFeedback:
    """Find colour / pattern / sleeve / category mentions, longest phrase first."""
    tokens = tokenize(text)
    table = phrase_table()
    out = ParsedFeedback(tokens=tokens)
    i = 0
    while i < len(tokens):
        for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
            hit = table.get(tuple(tokens[i:i + n]))
            if hit is not None:
                negated = bool(NEGATORS & set(tokens[max(0, i - 2):i]))
                out.mentions.append(Mention(hit[0], hit[1], negated, i))
                i += n
                break
        else:
            i += 1
    out.known = sum(_is_known(t) for t in tokens if len(t) > 1 and t not in vocab.STOP_WORDS)
    return out


def describe(parsed: ParsedFeedback) -> str:
    """A short human summary of what was understood ("color: red; sleeve: long")."""
    bits = []
    for m in parsed.mentions:
        if m.value:
            label = "/".join(sorted(m.value))
            bits.append(f"{m.kind.replace('_rel', '')}: {'not ' if m.negated else ''}{label}")
    return "; ".join(dict.fromkeys(bits))
