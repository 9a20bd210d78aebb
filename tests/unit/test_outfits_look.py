"""The look's state (core.outfits.look) and the verdict's explanation (core.outfits.explain),
without Streamlit: de-duplication, the six-piece limit, offers instead of silent replacement,
the plain-dict round trip, held-out examples, pair reasons and the threshold rule."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.images import ImageRejected
from core.outfits.explain import (
    GOES_TOGETHER,
    SCORE_HELP,
    Facts,
    clashes,
    pair_reasons,
    verdict,
)
from core.outfits.look import (
    MAX_PIECES,
    Look,
    category_choices,
    completion,
    held_out_examples,
    offer_question,
    photo_questions,
)
from core.outfits.service import OutfitScore, Piece

DIM = 4
CATS = {"T1": "tee", "T2": "skirt", "T3": "trousers", "S1": "sneakers", "D1": "dress",
        "J1": "jacket", "H1": "hat", "B1": "bag"}


class FakeStylist:
    """item_piece / photo_piece / score as the look needs them; scores every pair at ``p``."""

    def __init__(self, p: float = 0.9, genders: dict | None = None):
        self.p, self.genders = p, genders or {}
        self.model = SimpleNamespace(cfg=SimpleNamespace(img_dim=DIM, meta_dim=0))

    def item_piece(self, repo, sku: str) -> Piece:
        if sku not in CATS:
            raise KeyError(f"no item {sku!r} in the catalog")
        return Piece(np.ones(DIM, np.float32), np.zeros(31, np.float32), CATS[sku], sku,
                     f"navy {CATS[sku]}", self.genders.get(sku))

    def photo_piece(self, data: bytes, *, name: str) -> Piece:
        if data.startswith(b"bad"):
            raise ImageRejected(name, "not an image")
        return Piece(np.full(DIM, 0.5, np.float32), np.zeros(31, np.float32), None, None, name,
                     guesses=[("hoodie", 0.62), ("jacket", 0.3)]).as_category("hoodie")

    def score(self, pieces: list[Piece]) -> OutfitScore:
        m = len(pieces)
        pairs = np.full((m, m), self.p)
        np.fill_diagonal(pairs, np.nan)
        return OutfitScore(self.p if m > 1 else None, pairs, [p.label for p in pieces], [],
                           [p.facts for p in pieces])


def _look(*skus: str) -> Look:
    return Look([{"kind": "item", "sku": s} for s in skus])


def test_items_are_added_once_and_a_look_holds_six():
    look, st = Look(), FakeStylist()
    assert look.add_item(st, None, "T1")
    assert not look.add_item(st, None, "T1")
    assert look.take_notes("add")[-1] == ("add", "info", "**T1** is already in your look.")
    assert not look.add_item(st, None, "XX")
    assert "no item 'XX'" in look.take_notes("add")[-1][2]
    for sku in ("T2", "S1", "J1", "H1", "B1"):
        look.add_item(st, None, sku)
    assert len(look) == MAX_PIECES and look.full
    assert not look.add_item(st, None, "D1")
    assert f"at most {MAX_PIECES} pieces" in look.take_notes("add")[-1][2]
    assert look.skus == ["T1", "T2", "S1", "J1", "H1", "B1"]


def test_photos_are_deduplicated_and_bad_files_named():
    look, st = Look(), FakeStylist()
    assert look.add_photos(st, [("a.jpg", b"one"), ("x.jpg", b"bad bytes")]) == 1
    assert look.add_photos(st, [("a-again.jpg", b"one")]) == 0
    kinds = [(k, t) for _, k, t in look.take_notes("add")]
    assert ("error", "**Could not use x.jpg**: not an image") in kinds
    assert ("info", "Photos already in your look were skipped.") in kinds
    (photo,) = look.entries
    assert photo["category"] == "hoodie" and photo["guesses"] == [["hoodie", 0.62],
                                                                  ["jacket", 0.3]]


def test_state_round_trip_and_pieces_with_a_corrected_category():
    look, st = _look("T2"), FakeStylist()
    look.add_photos(st, [("bomber.jpg", b"photo")])
    digest = look.ids[1]
    assert look.set_photo(digest, "category", "jacket")
    assert not look.set_photo(digest, "category", "jacket")  # unchanged
    again = Look.from_state(look.to_state())
    assert again.entries == look.entries
    pieces = again.pieces(st, None)
    assert [p.category for p in pieces] == ["skirt", "jacket"]
    assert pieces[1].label == "bomber.jpg (jacket)"
    assert pieces[1].family == "outer"


def test_unusable_entries_are_dropped_with_a_note():
    look = Look([{"kind": "item", "sku": "GONE"}, {"kind": "item", "sku": "T1"},
                 {"kind": "photo", "digest": "d", "name": "old.jpg", "vector": [0.0] * 3,
                  "side": [0.0] * 31, "category": None}])
    pieces = look.pieces(FakeStylist(), None)
    assert [p.sku for p in pieces] == ["T1"] and look.skus == ["T1"]
    texts = [t for _, _, t in look.take_notes("look")]
    assert any("Removed GONE" in t for t in texts)
    assert any("old.jpg" in t and "Upload it again" in t for t in texts)


def test_an_empty_look_loads_directly_a_full_one_is_asked():
    st = FakeStylist()
    look = Look()
    look.propose(st, None, ["T1", "T2", "S1"], "outfit O1")
    assert look.skus == ["T1", "T2", "S1"] and look.offer is None
    assert look.take_notes("look") == [("look", "success", "Started a new look with outfit O1.")]
    look = _look("D1", "J1", "H1", "B1")
    look.propose(st, None, ["T1", "T2", "S1"], "outfit O1")
    assert look.skus == ["D1", "J1", "H1", "B1"]  # nothing replaced silently
    assert look.offer == {"skus": ["T1", "T2", "S1"], "source": "outfit O1"}
    kept = Look.from_state(look.to_state())
    kept.answer(st, None, "replace")
    assert kept.skus == ["T1", "T2", "S1"] and kept.offer is None
    added = Look.from_state(look.to_state())
    added.answer(st, None, "add")
    assert added.skus == ["D1", "J1", "H1", "B1", "T1", "T2"]  # stops at six pieces
    cancelled = Look.from_state(look.to_state())
    cancelled.answer(st, None, "cancel")
    assert cancelled.skus == ["D1", "J1", "H1", "B1"] and cancelled.offer is None


def test_the_offer_previews_the_clash_it_would_make():
    st = FakeStylist(p=0.05, genders={"T1": "women", "T3": "men"})
    look = _look("T1")
    look.propose(st, None, ["T3"], "T3")
    text = offer_question(look, look.preview(st, None, look.pieces(st, None)))
    assert "your look already has 1 piece." in text
    assert "Added to your look: These don't go together (5%)" in text
    assert "women's and men's pieces" in text and "two bottoms" not in text


def test_held_out_examples_take_embedded_test_outfits_of_both_labels():
    docs = [{"outfit_id": f"G{i}", "items": ["T1", "T2"], "compatible": True, "rule": "ok",
             "split": "test"} for i in range(5)]
    docs += [{"outfit_id": "B1", "items": ["T1", "T3"], "compatible": False,
              "rule": "two bottoms", "split": "test"},
             {"outfit_id": "X", "items": ["T1", "ZZ"], "compatible": False, "split": "test"}]
    repo = SimpleNamespace(find_docs=lambda coll, query, limit: docs)
    got = held_out_examples(repo, {"T1", "T2", "T3"}, seed=1, n=4)
    assert len(got) == 4 and sorted(e["compatible"] for e in got) == [False, True, True, True]
    assert "X" not in [e["outfit_id"] for e in got]  # an item without a vector
    assert got == held_out_examples(repo, {"T1", "T2", "T3"}, seed=1, n=4)  # deterministic


def test_pair_reasons_name_the_catalog_facts():
    tee = Facts("tee", "women", "summer", "red", "striped")
    assert pair_reasons(tee, Facts("trousers", "men", "winter", "green", "floral")) == [
        "women's and men's pieces", "summer with winter",
        "clashing colours (red with green)", "two prints (striped with floral)"]
    assert pair_reasons(Facts("jeans"), Facts("skirt")) == ["two bottoms"]
    assert pair_reasons(Facts("dress"), Facts("tee")) == ["a one-piece with separates"]
    assert pair_reasons(Facts("hoodie"), Facts("blazer")) == [
        "casual with formal (hoodie with blazer)"]
    assert pair_reasons(Facts("tee", colour="navy"), Facts("jeans", colour="red")) == []
    assert pair_reasons(Facts(), Facts("mystery-cat")) == []  # nothing known: nothing said


def _pairs(values: dict[tuple[int, int], float], m: int) -> np.ndarray:
    pairs = np.full((m, m), np.nan)
    for (i, j), p in values.items():
        pairs[i, j] = pairs[j, i] = p
    return pairs


def test_one_clashing_pair_is_enough_even_when_the_score_is_above_the_line():
    """A look at 64 % with one pair at 27 % does not "go together": the rule the help states."""
    pairs = _pairs({(0, 1): 0.9, (0, 2): 0.85, (1, 2): 0.27}, 3)
    labels = ["navy tee", "red skirt", "green sneakers"]
    facts = [Facts("tee"), Facts("skirt", colour="red"), Facts("sneakers", colour="green")]
    v = verdict(0.64, pairs, labels, facts)
    assert v.kind == "warning" and "go together" not in v.text.replace("Not quite together", "")
    assert v.text.startswith("Not quite together (64%): one pair clashes.")
    assert "red skirt with green sneakers (27%): clashing colours (red with green)" in v.text
    result = OutfitScore(0.64, pairs, labels, [], facts)
    assert result.goes_together is False and result.verdict() == v.text
    assert f"{GOES_TOGETHER:.0%} or more" in SCORE_HELP and "one clashing pair" in SCORE_HELP


def test_verdicts_agree_with_the_score():
    pairs = _pairs({(0, 1): 0.8, (0, 2): 0.6, (1, 2): 0.7}, 3)
    ok = verdict(0.66, pairs, ["a", "b", "c"], [Facts()] * 3)
    assert ok.kind == "success" and ok.text.startswith("These go together (66%)")
    assert "the weakest is a + c (60%)" in ok.text
    bad = verdict(0.1, _pairs({(0, 1): 0.1}, 2), ["a", "b"], [Facts()] * 2)
    assert bad.kind == "error" and bad.text.startswith("These don't go together (10%)")
    assert "judged from the pictures" in bad.text  # no catalog rule applies
    assert verdict(None, np.full((1, 1), np.nan), ["a"], [Facts()]).kind == "info"
    weak = clashes(_pairs({(0, 1): 0.4, (0, 2): 0.2, (1, 2): 0.9}, 3), [Facts()] * 3)
    assert [(c.i, c.j) for c in weak] == [(0, 2), (0, 1)]  # weakest first


def test_category_choices_put_the_guesses_first():
    choices = category_choices([("hoodie", 0.62), ("jacket", 0.3), ("nonsense", 0.08)])
    assert choices[:3] == [None, "hoodie", "jacket"]
    assert "nonsense" not in choices and len(choices) == len(set(choices))
    entry = {"guesses": [["hoodie", 0.62], ["jacket", 0.3]], "category": "hoodie"}
    (what, label, shown, now), = photo_questions(entry, reads_facts=False)
    assert (what, label, now) == ("category", "What is it?", "hoodie · 62%")
    assert list(shown)[:3] == ["What is it?", "hoodie · 62%", "jacket · 30%"]
    assert shown["blazer"] == "blazer"
    assert [q[0] for q in photo_questions(entry, reads_facts=True)] == [
        "category", "season", "gender"]


def test_suggestions_are_captioned_with_the_looks_score_as_a_percentage():
    from core.storage import Item

    item = Item(sku="S1", image_path="s1.jpg", hash="h", category="sneakers",
                attrs={"color": "navy", "pattern": "solid"})
    stylist = SimpleNamespace(
        look_gender=lambda repo, pieces: "women",
        complete=lambda repo, pieces, k, gender: {"shoes": [SimpleNamespace(item=item,
                                                                            score=0.734)],
                                                  "hat": []})
    caption, slots = completion(stylist, None, [], k=4, whom="auto", missing=["shoes"])
    assert "for women (and unisex)" in caption
    (title, slot, found), (hat_title, _, none) = slots
    assert title == "**Shoes · missing**" and found[0][1].endswith("· look 73%")
    assert hat_title == "**Hat** · no hat items in the catalog" and none == []


@pytest.mark.parametrize("data", [None, [], {"entries": []}])
def test_an_empty_state_is_an_empty_look(data):
    look = Look.from_state(data)
    assert look.entries == [] and look.offer is None and look.title == "Your look"


def test_two_pieces_sharing_a_label_are_told_apart_by_their_number():
    pairs = _pairs({(0, 1): 0.02, (0, 2): 0.0, (1, 2): 0.0}, 3)
    labels = ["blue jumpsuit", "blue jumpsuit", "navy hoodie"]
    v = verdict(0.0, pairs, labels, [Facts("jumpsuit"), Facts("jumpsuit"), Facts("hoodie")])
    assert "1. blue jumpsuit with 3. navy hoodie (0%)" in v.text
    assert "2. blue jumpsuit with 3. navy hoodie (0%)" in v.text
    plain = verdict(0.9, _pairs({(0, 1): 0.9}, 2), ["navy tee", "red skirt"], [Facts()] * 2)
    assert "navy tee + red skirt" in plain.text  # distinct labels stay as they are


class RemovalStylist:
    """Scores a look by its worst piece: 'clash' pieces sink it."""

    def score(self, pieces):
        return SimpleNamespace(score=None if len(pieces) < 2 else
                               min(0.05 if p.label.startswith("clash") else 0.8 for p in pieces))


def _pieces(*labels):
    return [Piece(np.ones(DIM, np.float32), np.zeros(31, np.float32), "tee", None, label)
            for label in labels]


def test_the_piece_that_sinks_a_look_is_offered_for_removal():
    from core.outfits.removal import best_removal, removal_text

    stylist = RemovalStylist()
    pieces = _pieces("navy tee", "clash jumpsuit", "white sneakers")
    assert best_removal(stylist, pieces, 0.05) == (1, 0.8)
    assert removal_text(["navy tee", "clash jumpsuit", "white sneakers"], 1, 0.8) == \
        "Without **2. clash jumpsuit** the look scores **80%**."
    assert best_removal(stylist, pieces, 0.8) is None  # it goes together already
    assert best_removal(stylist, pieces[:2], 0.05) is None  # two pieces: nothing to keep
    two_bad = _pieces("navy tee", "clash jumpsuit", "clash hoodie")
    assert best_removal(stylist, two_bad, 0.05) is None  # no single removal helps


def test_a_photo_the_model_could_not_name_may_be_the_missing_piece():
    from core.outfits.look import missing_text

    assert missing_text(["shoes"]).endswith("See *Complete the look* below.")
    assert "Your photo may be that piece: say what it shows under it." in missing_text(
        ["top"], 1)
    assert "Your photos may be those pieces" in missing_text(["top", "shoes"], 2)


def test_the_model_is_described_in_words_with_the_details_in_a_tooltip():
    from types import SimpleNamespace

    from core.outfits.look import model_caption

    cfg = SimpleNamespace(kind="siamese", meta_dim=4)
    stylist = SimpleNamespace(meta={"metrics": {"auc": 0.979}}, model=SimpleNamespace(cfg=cfg),
                              model_id="studio_lite")
    out = model_caption(stylist)
    assert "season and gender" in out["body"] and "98% of the time" in out["body"]
    assert "`" not in out["body"]  # no identifiers in the sentence
    assert out["help"] == "Model `siamese` on `studio_lite` vectors + season and gender; " \
                          "held-out AUC 0.979."
    cfg.meta_dim, stylist.meta = 0, {}
    assert model_caption(stylist)["body"] == ("Scores come from the outfit model: it reads "
                                              "what the pieces look like.")
