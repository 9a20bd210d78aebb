"""The Home page: catalog summary, the demo catalog form, database problems."""

import pytest


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


@pytest.mark.slow
def test_home_explains_unreachable_database(app_test, monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://u:secret@127.0.0.1:9/?serverSelectionTimeoutMS=300")
    at = app_test("home.py").run()
    assert not at.exception
    err = " ".join(e.value for e in at.error)
    assert "Database unavailable" in err and "u:***@127.0.0.1:9" in err and "secret" not in err


def test_home_ingest_embeds_the_new_items_and_refreshes_counts(app_test, app_env, repo,
                                                              tmp_path):
    from PIL import Image

    from core.models.studio import new_encoder, save_checkpoint

    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    app_env.weights_dir / "studio_encoder.pt")
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, rgb in enumerate([(200, 30, 30), (30, 30, 200), (30, 160, 30)]):
        Image.new("RGB", (64, 64), rgb).save(folder / f"p{i}.jpg")
    at = app_test("home.py").run()
    assert at.metric[0].value == "0"
    at.text_input(key="home_ingest_path").set_value(str(folder))
    at.button(key="home_ingest_go").click().run()
    assert not at.exception, at.exception
    assert any("Added 3 items; embedded 3; they now appear in Search and Explore" in s.value
               for s in at.success), [s.value for s in at.success]
    assert at.metric[0].value == "3"  # the counts above include the new items at once
    assert at.metric[2].value == "3"
    assert repo.vector_count("studio_encoder") == 3
