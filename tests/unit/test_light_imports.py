"""The Home page's modules load without torch (seconds on a first visit); the index names
still import on demand."""

from __future__ import annotations

import subprocess
import sys


def test_home_modules_do_not_import_torch():
    code = ("import sys, core.catalog_info, core.index.mongo, core.storage; "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "from core.index import NoVectors, ExactIndex; "
            "assert 'torch' in sys.modules and ExactIndex.__name__ == 'ExactIndex'")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr


def test_unknown_index_names_fail_as_attributes_do():
    import pytest

    import core.index

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        core.index.Nope  # noqa: B018
    assert "IndexManager" in dir(core.index)
