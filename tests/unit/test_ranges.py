"""Settings ranges live beside their defaults: every range holds its default, every value in
it passes the settings' own checks, and the pages and the CLI read them from there."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from core.customers.params import FusionConfig, SimulationConfig
from core.demo.params import DemoParams
from core.explore.params import MapParams, ProjectionParams
from core.feedback.params import RefineParams
from core.modelhub.params import DataError, FineTuneParams
from core.outfits.params import SuggestParams
from core.outfits.train_config import CompatibilityTrainConfig
from core.ranges import range_problem, range_problems, ranges, widget
from core.search.params import SearchParams

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = [SimulationConfig, FusionConfig, FineTuneParams, CompatibilityTrainConfig,
            MapParams, ProjectionParams, SearchParams, RefineParams, SuggestParams, DemoParams]


def _classes_with_ranges() -> set[str]:
    """Names of the core classes that declare a range (an upper-case tuple class constant
    named after one of their fields)."""
    found = set()
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            names = {s.target.id for s in node.body
                     if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
            if any(n.isupper() and n.lower() in names for n in names):
                found.add(node.name)
    return found


def test_every_class_with_ranges_is_checked_here():
    assert _classes_with_ranges() == {cls.__name__ for cls in SETTINGS}


@pytest.mark.parametrize("cls", SETTINGS, ids=lambda c: c.__name__)
def test_every_range_holds_its_default(cls):
    assert ranges(cls)
    defaults = cls()
    for name, (low, high, step) in ranges(cls).items():
        value = getattr(defaults, name)
        if value is None:  # "the default of elsewhere" (e.g. the encoder's own image size)
            continue
        assert low <= value and (high is None or value <= high), (cls.__name__, name)
        assert step is None or step > 0
        assert range_problem(cls, name, value) is None
    assert range_problems(defaults) == []


def _valid(obj) -> bool:
    if hasattr(obj, "problems"):
        return obj.problems() == []
    try:
        (obj.check if hasattr(obj, "check") else obj.validate)()
    except (DataError, ValueError):
        return False
    return True


@pytest.mark.parametrize("cls", [SimulationConfig, FusionConfig, FineTuneParams, MapParams],
                         ids=lambda c: c.__name__)
def test_both_ends_of_every_range_pass_the_checks(cls):
    """A page can offer nothing the CLI's checks refuse."""
    for name, (low, high, _) in ranges(cls).items():
        for end in (low, high):
            assert _valid(replace(cls(), **{name: end})), (cls.__name__, name, end)


def test_fine_tune_check_refuses_what_is_outside_its_ranges():
    low, high, _ = ranges(FineTuneParams)["epochs"]
    for bad in (low - 1, high + 1):
        with pytest.raises(DataError, match=r"epochs must be in \[1, 200\]"):
            FineTuneParams(epochs=bad).check()
    with pytest.raises(DataError, match="learning rate"):
        FineTuneParams(lr=float("nan")).check()
    FineTuneParams(image_size=None).check()  # None: the encoder's own side


def test_widget_arguments_follow_the_range_and_the_default():
    assert widget(SimulationConfig, "top_k") == {"min_value": 4, "max_value": 24, "value": 10,
                                                  "step": 2}
    scale = widget(SimulationConfig, "distance_scale_km")  # an int range: an int value
    assert scale["value"] == 100 and isinstance(scale["value"], int)
    assert widget(FineTuneParams, "image_size", 0)["value"] == 0
    with pytest.raises(ValueError, match="no upper limit"):
        widget(CompatibilityTrainConfig, "epochs")
    assert range_problem(CompatibilityTrainConfig, "epochs", 0) == "must be at least 1 (got 0)"


@pytest.mark.parametrize("page,cls", [("customers.py", "SimulationConfig"),
                                      ("models.py", "FineTuneParams"),
                                      ("search_widgets.py", "SearchParams"),
                                      ("refine.py", "RefineParams"),
                                      ("outfits.py", "SuggestParams"),
                                      ("home.py", "DemoParams"),
                                      ("explore.py", "MapParams")])
def test_pages_take_their_widget_ranges_from_core(page, cls):
    """No literal number as a slider's or number input's bounds on these pages."""
    tree = ast.parse((ROOT / "pages" / page).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", "") in ("slider", "number_input")]
    assert calls
    for call in calls:
        literal = [a for a in call.args[1:] if isinstance(a, ast.Constant)]
        literal += [k for k in call.keywords
                    if k.arg in ("min_value", "max_value") and isinstance(k.value, ast.Constant)]
        assert not literal, ast.unparse(call)
    assert cls in (ROOT / "pages" / page).read_text()
