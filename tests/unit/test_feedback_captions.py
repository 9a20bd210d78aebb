"""Caption generator (held-out templates, phrasing variety) and the feedback parser."""

from __future__ import annotations

import random

import pytest

from core.feedback import captions as cap
from core.feedback.captions import CaptionGenerator, held_out, typo
from core.feedback.parse import describe, parse_feedback
from core.feedback.vocab import COLOR_WORDS


def test_train_and_eval_templates_are_disjoint_and_cover_all():
    for templates in (cap.COLOR_T, cap.PATTERN_T, cap.SLEEVE_T, cap.FIT_REL_T, cap.JOINERS):
        train, ev = held_out(templates, "train"), held_out(templates, "eval")
        assert not set(train) & set(ev)
        assert set(train) | set(ev) == set(templates)
        assert ev  # every family keeps some phrasings for evaluation
    with pytest.raises(ValueError, match="caption split"):
        held_out(cap.COLOR_T, "test")


def test_colour_captions_name_the_target_colour_or_its_shade():
    gen = CaptionGenerator("train", typo_rate=0.0)
    rng = random.Random(3)
    texts = gen.captions({"color": ("black", "pink")}, "dress", 40, rng)
    assert len(set(texts)) > 15  # varied phrasing
    assert all(any(w in t for w in COLOR_WORDS["pink"]) for t in texts)
    assert all(parse_feedback(t).requested("color") and "pink" in parse_feedback(t)
               .requested("color") for t in texts)


def test_shade_changes_use_relative_words_sometimes():
    gen = CaptionGenerator("train", typo_rate=0.0)
    texts = gen.captions({"color": ("red", "burgundy")}, "dress", 60, random.Random(1))
    assert any("darker" in t or "deeper" in t or "dark" in t for t in texts)


def test_two_changes_give_two_clauses_in_eval():
    gen = CaptionGenerator("eval", typo_rate=0.0)
    texts = gen.captions({"pattern": ("solid", "striped"), "sleeve": ("short", "long")}, "tee",
                         30, random.Random(0))
    for t in texts:
        kinds = {m.kind for m in parse_feedback(t).mentions}
        assert "pattern" in kinds or "stripe" in t or "lines" in t
        assert kinds & {"sleeve", "sleeve_rel"} or "sleeve" in t


def test_eval_captions_never_use_training_templates():
    train_gen, eval_gen = CaptionGenerator("train"), CaptionGenerator("eval")
    assert not set(train_gen.t["color"]) & set(eval_gen.t["color"])
    assert not set(train_gen.t["category"]) & set(eval_gen.t["category"])


def test_typo_changes_one_word_only():
    rng = random.Random(5)
    text = "is darker with longer sleeves"
    for _ in range(20):
        out = typo(text, rng)
        assert out != text
        assert abs(len(out) - len(text)) <= 1


def test_parser_reads_colours_shades_and_negation():
    p = parse_feedback("is navy blue instead of red and has no sleeves")
    assert p.requested("color") == frozenset({"navy"})
    assert [m.negated for m in p.mentions if m.kind == "color"] == [False, True]
    assert p.requested("sleeve") == frozenset({"sleeveless"})
    assert parse_feedback("not black but maroon").requested("color") == frozenset({"burgundy"})
    assert parse_feedback("a cream colour").requested("color") == frozenset({"white", "beige"})


def test_parser_unmapped_colour_counts_but_maps_to_nothing():
    p = parse_feedback("is multicolored and white")
    assert p.first("color") is not None and p.requested("color") is None


def test_parser_patterns_sleeves_and_nonsense():
    assert parse_feedback("has polka dots").requested("pattern") == frozenset({"dotted"})
    assert parse_feedback("is a plaid shirt").requested("pattern") == frozenset({"checked"})
    assert parse_feedback("long sleeved").requested("sleeve") == frozenset({"long"})
    assert parse_feedback("has longer sleeves").requested("sleeve_rel") == frozenset({"longer"})
    assert not parse_feedback("asdf qwerty zxcv").understood
    assert not parse_feedback("").understood
    assert parse_feedback("is more casual").understood
    assert parse_feedback("has shorter sleves").understood  # typo still recognised
    assert describe(parse_feedback("in red")) == "colour → red"
