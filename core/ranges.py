"""Accepted ranges of settings, kept beside their defaults in the settings' dataclasses.

A dataclass states a field's range as a class constant named like the field in capitals:
``epochs: int = 3`` and ``EPOCHS: ClassVar[tuple] = (1, 200)``, or ``(low, high, step)``;
``high`` None means no upper limit (a setting without a widget). The pages build their sliders
and number inputs from it (:func:`widget`), the checks behind the CLI from it
(:func:`range_problems`), so both offer and accept the same values.

Light on purpose (no torch, no streamlit): the CLI builds its parser from these.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any


def ranges(cls) -> dict[str, tuple]:
    """{field name: (low, high, step)} of the fields of dataclass ``cls`` (or an instance)
    that state a range; step is None when the range gives none."""
    out = {}
    for f in fields(cls):
        bounds = getattr(cls, f.name.upper(), None)
        if isinstance(bounds, tuple) and len(bounds) in (2, 3):
            out[f.name] = (*bounds, None) if len(bounds) == 2 else bounds
    return out


def default_of(cls, name: str) -> Any:
    """The dataclass field's default value."""
    f = next(f for f in fields(cls) if f.name == name)
    return f.default if f.default is not MISSING else f.default_factory()


def widget(cls, name: str, value: Any = None) -> dict[str, Any]:
    """Keyword arguments of a Streamlit slider or number input for a field: its range and
    step, and its default as the value (or ``value``), of the range's type (a widget takes
    one number type: a float default 100.0 in an int range is shown as 100)."""
    low, high, step = ranges(cls)[name]
    if high is None:
        raise ValueError(f"{name} has no upper limit: no widget range")
    value = default_of(cls, name) if value is None else value
    out = {"min_value": low, "max_value": high, "value": type(low)(value)}
    if step is not None:
        out["step"] = step
    return out


def range_problem(cls, name: str, value: Any) -> str | None:
    """Why ``value`` is outside the field's range (None when it is inside)."""
    low, high, _ = ranges(cls)[name]
    if high is None:
        return None if value >= low else f"must be at least {low} (got {value})"
    return None if low <= value <= high else f"must be in [{low}, {high}] (got {value})"


def range_problems(obj) -> list[tuple[str, str]]:
    """(field, reason) for every field of ``obj`` outside its range (None values, meaning
    "the default of elsewhere", are not checked)."""
    out = []
    for name in ranges(obj):
        value = getattr(obj, name)
        if value is not None and (reason := range_problem(obj, name, value)):
            out.append((name, reason))
    return out
