"""Background imports at app start: once per process, failures logged, not raised."""

from __future__ import annotations

import sys

from core.warmup import warm_imports


def test_imports_once_in_the_background(caplog):
    sys.modules.pop("colorsys", None)
    thread = warm_imports(("colorsys", "no_such_module_xyz"))
    assert thread is not None and thread.daemon
    thread.join(timeout=30)
    assert "colorsys" in sys.modules
    assert "could not import no_such_module_xyz" in caplog.text
    assert warm_imports(("colorsys", "no_such_module_xyz")) is None  # already started
