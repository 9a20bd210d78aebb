"""Worker pools survive a host that replaced __main__ (as Streamlit does for page scripts)."""

import sys
import types
from contextlib import contextmanager

from core.parallel import spawn_pool


@contextmanager
def streamlit_like_main(tmp_path):
    """Install a page script as __main__, the way Streamlit's script runner does."""
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a worker must never run the page script')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    real = sys.modules["__main__"]
    sys.modules["__main__"] = fake
    try:
        yield fake
    finally:
        sys.modules["__main__"] = real


def test_spawn_pool_ignores_a_fake_main(tmp_path):
    with streamlit_like_main(tmp_path) as fake:
        with spawn_pool(2) as pool:
            assert pool.map(abs, [-1, -2, 3], chunksize=1) == [1, 2, 3]
        assert sys.modules["__main__"] is fake  # the host's __main__ is restored


def test_demo_build_from_a_streamlit_like_host(tmp_path):
    from core.demo.build import build_catalog

    with streamlit_like_main(tmp_path):
        manifest = build_catalog(tmp_path / "demo", 40, 3, size=48, workers=2)
    assert manifest["items"] == 40
    assert len(list((tmp_path / "demo" / "images").glob("*.jpg"))) == 40
