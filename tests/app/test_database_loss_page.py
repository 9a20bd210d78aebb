"""Pages explain an unreachable or lost database in one line: masked URI and a short cause."""

from pathlib import Path

import pytest
from pymongo.errors import AutoReconnect
from streamlit.testing.v1 import AppTest

from core.storage.embedded import _free_port

ROOT = Path(__file__).resolve().parents[2]


def _errors(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.slow
@pytest.mark.parametrize("page", ["search.py", "explore.py"])
def test_unreachable_database_box_names_masked_uri_and_cause(app_test, monkeypatch, page):
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("MONGO_URI", f"mongodb://u:secret@127.0.0.1:{port}/"
                                    "?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
    at = app_test(page).run()
    assert not at.exception
    err = _errors(at)
    assert "Database unavailable" in err and f"u:***@127.0.0.1:{port}" in err
    assert "(connection refused)" in err
    assert "secret" not in err and "Topology" not in err and "\n" not in err


def test_database_lost_mid_page_is_one_line(app_env, monkeypatch):
    import core.catalog_info

    def lost(*_args, **_kwargs):
        raise AutoReconnect("127.0.0.1:1: connection closed (configured timeouts: "
                            "connectTimeoutMS: 4000.0ms)")

    monkeypatch.setattr(core.catalog_info, "catalog_summary", lost)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()  # Home, via app.py
    assert not at.exception
    err = _errors(at)
    assert "stopped answering (connection closed)" in err
    assert app_env.mongo_uri in err and "Reload the page" in err
    assert "configured timeouts" not in err
