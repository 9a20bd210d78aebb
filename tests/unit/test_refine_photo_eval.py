"""Refine-from-photos evaluation: which requests each photo is asked and what counts as met."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from core.feedback.photo_eval import _hit, _requests, baseline_reference
from core.feedback.service import Reference
from core.tagging.photo import PhotoReading


def _photo(cls: str, colour: str):
    return SimpleNamespace(path=Path(f"/x/{cls}/a.jpg"), color=colour)


def _item(**attrs):
    return SimpleNamespace(attrs=attrs, category=attrs.pop("category", "tee"))


def test_requests_follow_the_photo():
    assert [r for r, _ in _requests(_photo("t-shirt", "navy"))] == [
        "darker", "lighter", "other_colour", "sleeves"]
    assert dict(_requests(_photo("longsleeve", "red"))) == {
        "darker": "darker", "lighter": "lighter", "other_colour": "in blue",
        "sleeves": "with shorter sleeves"}
    rows = dict(_requests(_photo("dress", "black")))
    assert "darker" not in rows and "sleeves" not in rows and rows["other_colour"] == "in red"


def test_what_counts_as_met():
    tee, long_ = _photo("t-shirt", "grey"), _photo("longsleeve", "grey")
    assert _hit("darker", "darker", tee, _item(color="black"), set()) == {"hit": 1.0}
    assert _hit("lighter", "lighter", tee, _item(color="black"), set()) == {"hit": 0.0}
    assert _hit("other_colour", "in red", tee, _item(color="red", category="tee"),
                {"tee"}) == {"hit": 1.0, "same_class": 1.0}
    assert _hit("sleeves", "", tee, _item(sleeve="long"), set()) == {"hit": 1.0}
    assert _hit("sleeves", "", tee, _item(sleeve="short"), set()) == {"hit": 0.0}
    assert _hit("sleeves", "", long_, _item(sleeve="three-quarter"), set()) == {"hit": 1.0}
    assert _hit("sleeves", "", long_, _item(sleeve="n/a"), set()) == {"hit": 0.0}


def test_the_baseline_keeps_the_family_and_reads_colour_by_rule():
    from PIL import Image

    reading = PhotoReading("dress", "full", {"color": "navy", "sleeve": "long"})
    ref = Reference(np.ones(4, np.float32), "full", attrs=reading.attrs, category="dress",
                    reading=reading)
    base = baseline_reference(ref, Image.new("RGB", (48, 64), (200, 30, 40)))
    assert base.family == "full" and base.category is None and base.reading is None
    assert "sleeve" not in base.attrs and np.array_equal(base.vector, ref.vector)
