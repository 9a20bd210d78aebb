"""Worker pools survive a host that replaced __main__ (as Streamlit does for page scripts)."""

import sys
import types

from core.parallel import spawn_pool


def test_spawn_pool_ignores_a_fake_main(tmp_path):
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a worker must never run the page script')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    real = sys.modules["__main__"]
    sys.modules["__main__"] = fake
    try:
        with spawn_pool(2) as pool:
            assert pool.map(abs, [-1, -2, 3], chunksize=1) == [1, 2, 3]
        assert sys.modules["__main__"] is fake  # the host's __main__ is restored
    finally:
        sys.modules["__main__"] = real


def test_demo_build_from_a_streamlit_like_host(tmp_path):
    from core.demo.build import build_catalog

    script = tmp_path / "home.py"
    script.write_text("raise SystemExit('never')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    real = sys.modules["__main__"]
    sys.modules["__main__"] = fake
    try:
        manifest = build_catalog(tmp_path / "demo", 40, 3, size=48, workers=2)
    finally:
        sys.modules["__main__"] = real
    assert manifest["items"] == 40
    assert len(list((tmp_path / "demo" / "images").glob("*.jpg"))) == 40
