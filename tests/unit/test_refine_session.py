"""RefineSession without Streamlit: turns, the reference strip, choosing, stepping back, the
plain-dict round trip and the feedback length limit; the rules behind "make it a dress" and
"darker"."""

from __future__ import annotations

import numpy as np
import pytest

from core.feedback.parse import parse_feedback
from core.feedback.rules import penalty, rank, resolve
from core.feedback.service import Reference, RefineOutcome, obey
from core.feedback.session import (
    READ_AS_HELP,
    FeedbackRejected,
    RefineSession,
    check_text,
    short_text,
)
from core.search.pipeline import SearchResult
from core.storage import Item


def _item(sku: str, category: str = "dress", color: str = "red") -> Item:
    return Item(sku=sku, image_path=f"{sku}.jpg", hash=sku, category=category,
                attrs={"color": color})


class FakeRefiner:
    """Returns the next three skus of a fixed list, whatever the text."""

    def __init__(self):
        self.calls = []

    def item_reference(self, repo, sku):
        return Reference(np.zeros(4, np.float32), "full", sku, {"color": "red"})

    def refine(self, repo, ref, text, *, k, exclude, keep_family):
        self.calls.append((ref.sku, text, exclude))
        n = len(self.calls)
        results = [SearchResult(_item(f"R{n}{i}"), 0.9 - i / 10) for i in range(3)]
        return RefineOutcome(results, True, None, "colour → red", "m", "full", [])


def test_turns_strip_choose_step_back_and_round_trip():
    s, refiner = RefineSession(), FakeRefiner()
    s.start_item("S0")
    t1 = s.run_turn(refiner, None, "  darker and more casual ")
    assert t1.text == "darker and more casual" and t1.unread == ["casual"]
    assert t1.next == "R10" and refiner.calls[0] == ("S0", t1.text, ("S0",))
    assert s.choose("R12") and not s.choose("nope") and s.reference()["sku"] == "R12"
    s.run_turn(refiner, None, "in red")
    assert refiner.calls[1][0] == "R12"
    assert [label for label, _ in s.strip()] == ["Start", "After turn 1", "After turn 2"]
    assert s.strip()[0][1] == {"kind": "item", "sku": "S0"}  # the start stays in the strip
    again = RefineSession.from_dict(s.to_dict())
    assert again == s
    again.step_back()
    assert len(again.turns) == 1 and again.reference()["sku"] == "R12"


def test_an_empty_turn_is_refused_and_leaves_the_history_alone():
    s, refiner = RefineSession(), FakeRefiner()
    s.start_item("S0")
    s.run_turn(refiner, None, "in red")
    with pytest.raises(FeedbackRejected):
        s.run_turn(refiner, None, "   ")
    assert [t.text for t in s.turns] == ["in red"] and len(refiner.calls) == 1


def test_photo_start_keeps_its_vector():
    s = RefineSession()
    s.start_photo(Reference(np.ones(4, np.float32), "top", attrs={"color": "blue"}), b"x", "a.jpg")
    ref = RefineSession.from_dict(s.to_dict()).core_reference(FakeRefiner(), None)
    assert ref.family == "top" and ref.attrs == {"color": "blue"} and ref.vector.sum() == 4


def test_photo_start_keeps_what_it_was_read_as():
    from core.tagging.photo import PhotoReading

    reading = PhotoReading(None, "top", {"color": "navy"}, frozenset({"sweater", "hoodie"}))
    s = RefineSession()
    s.start_photo(Reference(np.ones(4, np.float32), "top", attrs=reading.attrs,
                            reading=reading), b"x", "a.jpg")
    ref = RefineSession.from_dict(s.to_dict()).core_reference(FakeRefiner(), None)
    assert ref.reading == reading and ref.category is None
    assert s.photo["read_as"] == "top · navy"


def test_long_feedback_is_refused_and_headings_are_short():
    assert check_text(" in red ") == "in red"
    with pytest.raises(FeedbackRejected, match="limited to 300 characters"):
        check_text("x" * 2000)
    for empty in ("", "  \n ", None):
        with pytest.raises(FeedbackRejected, match="Type what to change"):
            check_text(empty)
    assert len(short_text("word " * 100)) == 60 and short_text("a\nb") == "a b"


def test_a_named_category_outranks_closer_neighbours():
    rules = resolve(parse_feedback("make it a dress"), {})
    found = [SearchResult(_item(f"P{i}", "romper"), 0.9) for i in range(5)]
    found += [SearchResult(_item("D1"), 0.5), SearchResult(_item("D2"), 0.4)]
    results, notes = obey(found, rules, 4, "full")
    assert [r.item.sku for r in results[:2]] == ["D1", "D2"] and not notes
    assert "garment → dress" in rules.reading()


def test_darker_prefers_the_hue_then_lower_lightness():
    rules = resolve(parse_feedback("darker and more casual"), {"color": "red"})
    assert rules.want["color"] == {"burgundy"} and "navy" in rules.near["color"]
    assert penalty({"color": "burgundy"}, rules) == 0
    assert penalty({"color": "navy"}, rules) == 0.5 and penalty({"color": "red"}, rules) == 1
    order = rank(np.array([0.9, 0.5]), np.array([1.0, 0.5]))
    assert list(order) == [1, 0]  # a darker colour beats a closer red
    orange = resolve(parse_feedback("darker"), {"color": "orange"})  # no darker orange shade
    assert "red" in orange.want["color"] and "yellow" not in orange.want["color"]


def test_the_shopper_can_correct_the_photo_colour():
    from core.tagging.photo import PhotoReading

    reading = PhotoReading("tee", "top", {"color": "navy", "sleeve": "short"},
                           colours=("navy", "black", "blue"))
    s = RefineSession()
    s.start_photo(Reference(np.ones(4, np.float32), "top", attrs=reading.attrs,
                            category="tee", reading=reading), b"x", "a.jpg")
    widget = s.colour_widget()
    assert widget["options"] == [None, "navy", "black", "blue"] and widget["index"] == 1
    assert [widget["format_func"](c) for c in widget["options"]] == [
        "not sure", "navy (read)", "black", "blue"]
    assert s.photo_caption("Start") == {
        "body": "Start · read as: tee · navy · short sleeves",
        "help": f"Your photo a\\.jpg. {READ_AS_HELP}"}
    assert s.set_photo_colour("black") and not s.set_photo_colour("black")
    ref = RefineSession.from_dict(s.to_dict()).core_reference(FakeRefiner(), None)
    assert ref.attrs == {"sleeve": "short", "color": "black"} and ref.category == "tee"
    assert s.photo["read_as"] == "tee · black · short sleeves"
    assert s.set_photo_colour(None) and "color" not in s.photo["attrs"]
    assert s.colour_widget()["index"] == 0 and s.photo["read_as"] == "tee · short sleeves"
    with pytest.raises(ValueError, match="unknown colour"):
        s.set_photo_colour("plaid")
    assert not RefineSession().set_photo_colour("red")  # no photo start
    s.photo["name"] = "09cd8fdf-bbe9-4908-8f54-f399bc635c9b.jpg"
    assert "Your photo 09cd8fdf\\-bbe…5c9b\\.jpg." in s.photo_caption("Start")["help"]
