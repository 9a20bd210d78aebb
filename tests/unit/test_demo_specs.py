"""Demo catalog specs: product names of a line's variants."""

from __future__ import annotations


def test_variants_of_a_line_never_share_a_name():
    import collections

    from core.demo.specs import line_names, sample_catalog

    coat = {"category": "coat", "attrs": {"color": "navy", "pattern": "solid", "fit": "loose",
                                          "length": "midi", "sleeve": "long"}}
    knee = {**coat, "attrs": {**coat["attrs"], "length": "knee"}}
    other = {**coat, "attrs": {**coat["attrs"], "color": "red"}}
    assert line_names([coat, knee, other]) == ["Navy loose midi coat",
                                               "Navy loose knee-length coat", "Red loose coat"]
    items = sample_catalog(600, 3)
    by_line = collections.Counter((i["line"], i["name"]) for i in items)
    assert max(by_line.values()) == 1
