def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in [*at.markdown, *at.success, *at.info, *at.caption])


def test_home_on_empty_catalog_offers_demo_build(app_test, app_env):
    at = app_test("home.py").run()
    assert not at.exception
    text = _markdown(at)
    assert "external MongoDB" in text and app_env.db_name in text
    assert any(b.label == "Build and load demo catalog" for b in at.button)
    assert "catalog is empty" in text
    assert at.metric[0].value == "0"


def test_home_shows_counts_chart_and_sample_grid(app_test, small_catalog):
    small_catalog(12)
    at = app_test("home.py").run()
    assert not at.exception
    assert at.metric[0].value == "12" and at.metric[1].value == "4"
    assert len(at.get("plotly_chart")) == 1
    assert len(at.get("imgs")) >= 1 or len(at.get("image")) >= 1
    captions = " ".join(c.value for c in at.caption)
    assert "dress" in captions and "red" in captions


def test_home_ingest_reports_missing_path(app_test):
    at = app_test("home.py").run()
    at.text_input(key="home_ingest_path").set_value("/no/such/folder")
    at.button(key="home_ingest_go").click().run()
    assert not at.exception
    assert any("Path not found: /no/such/folder" in e.value for e in at.error)


def test_home_explains_unreachable_database(app_test, monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://u:secret@127.0.0.1:9/?serverSelectionTimeoutMS=300")
    at = app_test("home.py").run()
    assert not at.exception
    err = " ".join(e.value for e in at.error)
    assert "Database unavailable" in err and "u:***@127.0.0.1:9" in err and "secret" not in err
