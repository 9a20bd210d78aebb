"""AppTest fixtures: point the pages at the test database and reset Streamlit caches."""

import pytest
import streamlit as st


@pytest.fixture
def app_env(settings, repo, monkeypatch):
    """Environment for AppTest runs: the test DB, data dir and weights dir; fresh caches."""
    monkeypatch.setenv("MONGO_URI", settings.mongo_uri)
    monkeypatch.setenv("DB_NAME", settings.db_name)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("WEIGHTS_DIR", str(settings.weights_dir))
    monkeypatch.setenv("DEVICE", "cpu")
    monkeypatch.setenv("BACKBONE", settings.backbone)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield settings
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_test(app_env):
    """Factory: an AppTest for a page script by name, e.g. app_test("home.py").run()."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    pages = Path(__file__).resolve().parents[2] / "pages"
    return lambda name, timeout=90: AppTest.from_file(str(pages / name), default_timeout=timeout)
