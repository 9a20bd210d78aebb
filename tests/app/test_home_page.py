"""The Home page: catalog summary, the demo catalog form, database problems."""

import pytest


def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in [*at.markdown, *at.success, *at.info, *at.caption])


def test_home_on_empty_catalog_offers_demo_build(app_test, app_env):
    at = app_test("home.py").run()
    assert not at.exception
    text = _markdown(at)
    assert "Connected to **MongoDB** at `mongodb://" in text and app_env.db_name in text
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


def test_predicted_tags_are_checked_least_sure_first_and_saved_as_given(app_test, small_catalog,
                                                                        repo):
    from core.storage import ItemUpdate
    from core.tagging.merge import state

    small_catalog(12)
    skus = sorted(it.sku for it in repo.iter_items())
    sure = {sku: 0.5 + i / 40 for i, sku in enumerate(skus[:10])}  # two stay as given
    repo.apply_item_updates([ItemUpdate(sku, {"tags.color": {
        "source": "predicted", "confidence": c, "model": "m"}}) for sku, c in sure.items()])
    at = app_test("home.py").run()
    assert not at.exception, at.exception
    assert at.radio(key="review_field").value == "color"
    shown = [s.key.split("-", 2)[2] for s in at.selectbox if s.key.startswith("review-color-")]
    assert sorted(shown) == skus[:8]  # least sure first, eight at a time (four columns)
    assert any("10 items have a predicted colour" in c.value for c in at.caption)
    first = at.selectbox(key=f"review-color-{skus[0]}")
    fixed = next(c for c in ("olive", "mint") if c != first.value)
    first.set_value(fixed)
    at = at.button(key="FormSubmitter:review-color-Save these 8").click().run()
    assert not at.exception, at.exception
    assert any("Saved the colour of 8 items" in s.value for s in at.success)
    assert repo.get_item(skus[0]).attrs["color"] == fixed
    assert all(state(repo.get_item(s), "color") == "supplied" for s in skus[:8])
    shown = [s.key.split("-", 2)[2] for s in at.selectbox if s.key.startswith("review-color-")]
    assert sorted(shown) == skus[8:10]  # the next least sure
    at.radio(key="review_field").set_value("pattern").run()
    assert any("No item has a predicted pattern" in c.value for c in at.caption)


def test_tag_review_refuses_unknown_fields_and_values(repo, small_catalog):
    from core.tagging.catalog import correct_many, least_sure

    small_catalog(2)
    sku = next(iter(repo.iter_items())).sku
    with pytest.raises(ValueError, match="no tagged field 'size'"):
        least_sure(repo, "size")
    before = repo.get_item(sku)
    with pytest.raises(ValueError, match="is not one of the catalog's"):
        correct_many(repo, {sku: {"color": "red"}, "X": {"color": "teal"}})
    with pytest.raises(KeyError, match="no item 'NOPE'"):
        correct_many(repo, {sku: {"color": "red"}, "NOPE": {"color": "red"}})
    assert repo.get_item(sku) == before  # nothing written


def test_the_tag_review_can_check_one_predicted_value(app_test, small_catalog, repo):
    from core.storage import ItemUpdate
    from core.tagging.catalog import predicted_values

    small_catalog(12)
    items = sorted(repo.iter_items(), key=lambda it: it.sku)
    repo.apply_item_updates([ItemUpdate(it.sku, {"tags.color": {
        "source": "predicted", "confidence": 0.5, "model": "m"}}) for it in items])
    counts = predicted_values(repo, "color")
    assert sum(counts.values()) == 12 and list(counts.values()) == sorted(counts.values(),
                                                                          reverse=True)
    colour, n = next((c, k) for c, k in counts.items() if k <= 8)
    at = app_test("home.py").run()
    at.selectbox(key="review_value-color").set_value(colour).run()
    assert not at.exception, at.exception
    shown = [s.key.split("-", 2)[2] for s in at.selectbox if s.key.startswith("review-color-")]
    assert sorted(shown) == sorted(it.sku for it in items if it.attrs["color"] == colour)
    assert any(f"{n} items have a predicted colour of {colour}" in c.value for c in at.caption)
    at = at.button(key=f"FormSubmitter:review-color-Save these {n}").click().run()
    assert not at.exception, at.exception  # that value is all checked: the filter resets
    assert at.selectbox(key="review_value-color").value is None
    assert colour not in predicted_values(repo, "color")


def test_the_tag_review_skips_a_page_and_shows_more_per_page(app_test, small_catalog, repo):
    from core.storage import ItemUpdate
    from core.tagging.merge import state

    small_catalog(12)
    skus = sorted(it.sku for it in repo.iter_items())
    # equal confidences: the sku breaks the tie, so pages neither repeat nor miss an item
    repo.apply_item_updates([ItemUpdate(sku, {"tags.color": {
        "source": "predicted", "confidence": 0.5, "model": "m"}}) for sku in skus[:10]])

    def shown(at):
        return sorted(s.key.split("-", 2)[2] for s in at.selectbox
                      if s.key.startswith("review-color-"))  # laid out in four columns

    at = app_test("home.py").run()
    assert shown(at) == skus[:8]
    at = at.button(key="FormSubmitter:review-color-Skip these 8").click().run()
    assert not at.exception, at.exception
    assert shown(at) == skus[8:10]
    assert any("these are 9–10" in c.value for c in at.caption)
    assert all(state(repo.get_item(s), "color") == "predicted" for s in skus[:10])  # unsaved
    at = at.button(key="FormSubmitter:review-color-Skip these 2").click().run()
    assert shown(at) == skus[:8]  # past the end: back to the least sure
    at.selectbox(key="review_per_page").set_value(16).run()
    assert not at.exception, at.exception
    assert shown(at) == skus[:10]
    assert any("these are 1–10" in c.value for c in at.caption)


def test_building_the_demo_over_a_catalog_says_what_happens(app_test, small_catalog,
                                                           monkeypatch):
    import core.bootstrap as bootstrap

    small_catalog(3)
    calls = []

    def already_there(repo, cfg, *, n_items, seed, progress, force):
        calls.append((n_items, seed, force))
        progress("map", 36, 100)
        return bootstrap.BootstrapReport(embedded=2)

    monkeypatch.setattr(bootstrap, "ensure_demo_catalog", already_there)
    at = app_test("home.py").run()
    assert any("already holds 3 items" in c.value for c in at.caption)
    at = at.button(key="home_demo_build").click().run()
    assert not at.exception, at.exception
    assert calls and calls[0][2] is True
    assert any("already in the catalog: nothing was added; embedded 2" in i.value
               for i in at.info), [i.value for i in at.info]
    assert not any("Added 0 items" in s.value for s in at.success)
