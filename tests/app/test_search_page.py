"""AppTest of the Search page: upload, pick from the catalog, filters, more like this, bad files.

Streamlit 1.67's AppTest drives st.file_uploader (set_value with file bytes), so uploads are
tested here; the browser e2e suite covers the real upload widget.
"""

from __future__ import annotations

import pytest

from core.models.embed import Embedder, embed_catalog
from core.models.studio import load_checkpoint, new_encoder, save_checkpoint
from core.storage import ItemUpdate
from tests.fixtures_bad import BAD_CASES, REJECTED, bad_image_files
from tests.integration.test_search_pipeline import distinct_catalog


@pytest.fixture
def seeded(app_env, repo, small_catalog):
    """12 items with distinct pictures, embedded by a tiny encoder saved as the studio weights."""
    distinct_catalog(app_env, small_catalog, 12)
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    app_env.weights_dir / "studio_encoder.pt")
    embed_catalog(repo, app_env, "studio_encoder", embedder=Embedder("studio_encoder", app_env),
                  workers=0)
    return app_env


UPLOADER_CASES = ("1x1-png", "thin-jpeg", "ico-named-png")


def _photo(settings, i: int) -> tuple[str, bytes, str]:
    return (f"t{i:03d}.jpg", (settings.data_dir / "images" / f"t{i:03d}.jpg").read_bytes(),
            "image/jpeg")


def _captions(at) -> str:
    return "\n".join(str(c.value) for c in at.caption)


def _upload(at, *files):
    at.file_uploader(key="search_upload").set_value(list(files) if len(files) > 1 else files[0])
    return at.run()


def test_empty_catalog_explains(app_env):
    # Through app.py's navigation: require_catalog links to the Home page, which st.page_link
    # can only resolve when the page is registered with st.navigation.
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90).run()
    at.switch_page("pages/search.py").run()
    assert not at.exception
    assert any("catalog is empty" in i.value for i in at.info)


@pytest.mark.parametrize("page", ["search.py", "refine.py", "explore.py"])
def test_empty_catalog_explains_without_navigation(app_test, page):
    # A page run on its own (no st.navigation): st.page_link cannot resolve the Home page, so
    # require_catalog falls back to a plain link instead of failing.
    at = app_test(page).run()
    assert not at.exception, at.exception
    assert any("catalog is empty" in i.value for i in at.info)
    assert any("[Go to Home](/)" in m.value for m in at.markdown)


def test_asks_for_a_query(app_test, seeded):
    at = app_test("search.py").run()
    assert not at.exception
    assert any("Upload a garment photo" in i.value for i in at.info)
    assert len(at.button) >= 10  # the pick-from-catalog grid offers "Search with this"


def test_upload_shows_results_and_recommendations(app_test, seeded):
    at = _upload(app_test("search.py").run(), _photo(seeded, 3))
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][:2] == ["Query", "Similar items"]
    text = _captions(at)
    assert "12 best matches among the whole catalog" in text
    assert "jacket · green · solid · 100\u00a0% match" in text  # the item itself, first
    cards = "\n".join(str(m.value) for m in at.markdown)
    assert "**green item 3**" in cards and "€23\\.00" in cards  # its name and price
    assert "Recommendations" in [s.value for s in at.subheader]
    assert len(at.dataframe) >= 1  # reasons of the recommendations
    assert not at.error


def test_exact_item_mode(app_test, seeded, repo):
    at = app_test("search.py").run()
    assert at.radio(key="search_match").disabled  # this checkpoint has no exact-item weights
    path = seeded.weights_dir / "studio_encoder.pt"
    model, _ = load_checkpoint(path)
    model.item_weights = (0.1, 0.1, 0.8)
    save_checkpoint(model, path)  # as `train tune` adds them: the stored vectors stay valid
    at = app_test("search.py").run()  # the app loads the new file, no restart needed
    radio = at.radio(key="search_match")
    assert not radio.disabled and radio.options == ["Similar style", "This exact item"]
    radio.set_value("item")
    at = _upload(at, _photo(seeded, 3))
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][:2] == ["Query", "Is it one of these?"]
    text = _captions(at)
    assert "exact-item match" in text
    assert "jacket · green · solid · 100\u00a0% match" in text  # the item itself, weighted cosine 1


def test_filters_narrow_results(app_test, seeded):
    at = app_test("search.py").run()
    at.multiselect(key="search_f_color").set_value(["red"])
    at = _upload(at, _photo(seeded, 0))
    assert not at.exception
    text = _captions(at)
    assert "3 best matches among 3 items passing the filters" in text
    result_caps = [c.value for c in at.caption if c.value.endswith("% match")]
    assert result_caps and all("red" in c for c in result_caps[:3])


def test_a_link_names_the_item_to_search_with(app_test, seeded, repo):
    sku = sorted(it.sku for it in repo.find_items({}))[3]
    at = app_test("search.py")
    at.query_params["item"] = sku
    at = at.run()
    assert not at.exception and at.session_state["search_sku"] == sku
    assert "Similar items" in [s.value for s in at.subheader]
    at = app_test("search.py")
    at.query_params["item"] = "NOPE123"
    at = at.run()
    assert not at.exception and "search_sku" not in at.session_state
    assert any("item 'NOPE123', which is not in the catalog" in w.value for w in at.warning)


def test_pick_from_catalog_then_more_like_this(app_test, seeded):
    at = app_test("search.py").run()
    pick = next(b for b in at.button if b.label == "Search with this")
    at = pick.click().run()
    assert not at.exception
    picked = at.session_state["search_sku"]
    assert "Similar items" in [s.value for s in at.subheader]
    assert at.radio(key="search_match").disabled  # photo modes do not apply to a catalog item
    more = next(b for b in at.button if b.label == "🔍 Similar"
                and b.key.startswith("search_results-"))
    target = more.key.split("-")[1]
    at = more.click().run()
    assert not at.exception
    assert at.session_state["search_sku"] == target != picked
    assert at.query_params["item"] == target  # the address now links to this search
    assert "11 best matches" in _captions(at)  # the query item itself is left out


def test_category_aware_shows_prediction(app_test, seeded):
    at = app_test("search.py").run()
    at.toggle(key="search_category_aware").set_value(True)
    at = _upload(at, _photo(seeded, 1))
    assert not at.exception
    metric = at.metric[0]
    assert metric.label == "Predicted category" and not metric.delta  # no rising arrow
    assert "sure" in metric.help
    assert all("%" in b.label for b in at.button if b.key.startswith("search_cat-"))


def test_several_photos_show_top_categories(app_test, seeded):
    at = _upload(app_test("search.py").run(), ("zero.jpg", b"", "image/jpeg"),
                 _photo(seeded, 1), _photo(seeded, 2))
    assert not at.exception
    # counted over the photos that could be read; a refused one is not searched with first
    assert any(s.value.startswith("Most common categories in 2 photos") for s in at.subheader)
    assert sum(int(m.value.split()[0]) for m in at.metric) == 2
    assert any("zero.jpg: empty file" in e.value for e in at.error)
    assert at.selectbox(key="search_which").options == ["t001.jpg", "t002.jpg", "zero.jpg"]
    assert at.selectbox(key="search_which").value == "t001.jpg"
    assert not any("Could not use" in e.value for e in at.error)  # results of t001.jpg


def test_a_file_that_is_not_an_image_is_refused_with_its_reason(app_test, seeded):
    at = _upload(app_test("search.py").run(), ("notes.txt", b"longer sleeves", "text/plain"))
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Could not use notes.txt" in errors and "unsupported format .txt" in errors


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_bad_files_give_their_reason(app_test, seeded, name):
    at = _upload(app_test("search.py").run(), (name, bad_image_files()[name], "image/png"))
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert f"Could not use {name}" in errors and REJECTED[name] in errors


@pytest.mark.parametrize("case", [c for c in BAD_CASES if c.id in UPLOADER_CASES],
                         ids=lambda c: c.id)
def test_uploads_refused_under_ingest_rules(app_test, seeded, repo, case, tmp_path):
    path = case.build(tmp_path)
    count = repo.count_items()
    at = _upload(app_test("search.py").run(), (path.name, path.read_bytes(), "image/png"))
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    name, _, reason = case.message.partition(": ")
    assert f"Could not use {name}" in errors and reason in errors
    assert repo.count_items() == count


def test_missing_vectors_explained(app_test, app_env, small_catalog):
    small_catalog(4)
    at = _upload(app_test("search.py").run(), _photo(app_env, 0))
    assert not at.exception
    assert any("Search is not ready" in e.value for e in at.error)


def test_bad_index_kind_is_explained(app_test, monkeypatch):
    monkeypatch.setenv("INDEX_KIND", "flat")
    at = app_test("search.py").run()
    assert not at.exception
    assert any("Configuration error" in e.value and "INDEX_KIND='flat'" in e.value
               for e in at.error)


def _refine_buttons(at, prefix: str) -> list:
    return [b for b in at.button if b.label in ("Refine with text", "✏️ Refine")
            and b.key.startswith(prefix)]


def test_refine_with_text_hands_over_under_navigation(app_env, seeded):
    # Through app.py (st.navigation): the button switches to the Refine page, which starts
    # from the chosen result.
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90).run()
    at.switch_page("pages/search.py").run()
    at = next(b for b in at.button if b.label == "Search with this").click().run()
    assert not at.exception and "Similar items" in [s.value for s in at.subheader]
    assert len(_refine_buttons(at, "search_query_item-")) == 1  # the picked query item
    results = _refine_buttons(at, "search_results-")
    assert len(results) == 11  # one per result
    target = results[2].key.split("-")[2]
    at = results[2].click().run()
    assert not at.exception, at.exception
    assert at.session_state["search_selected_sku"] == target
    assert at.session_state["refine"]["start"] == {"kind": "item", "sku": target}
    assert "refine_handoff" not in at.session_state  # consumed by the Refine page
    assert [t.value for t in at.title] == ["💬 Refine"]


def test_refine_with_text_without_navigation_says_where_to_go(app_test, seeded):
    # A page run on its own cannot switch pages: the selection is kept and the page says so.
    at = app_test("search.py").run()
    at = next(b for b in at.button if b.label == "Search with this").click().run()
    query = _refine_buttons(at, "search_query_item-")[0]
    sku = query.key.split("-")[2]
    at = query.click().run()
    assert not at.exception, at.exception
    assert at.session_state["search_selected_sku"] == sku == at.session_state["refine_handoff"]
    assert any(f"{sku}** is ready to refine" in i.value for i in at.info)
    assert [t.value for t in at.title] == ["🔎 Search"]


def test_complete_the_look_hands_the_item_to_outfits(app_env, seeded, repo):
    # Through app.py: the button switches to the Outfits page, whose look starts with the item.
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from core.outfits.model import CompatConfig, CompatNet, save_compat

    dim = repo.vectors("studio_encoder")[1].shape[1]
    save_compat(app_env.weights_dir / "compat.pt", CompatNet(CompatConfig(img_dim=dim)).eval())
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90).run()
    at.switch_page("pages/search.py").run()
    at = next(b for b in at.button if b.label == "Search with this").click().run()
    sku = at.session_state["search_sku"]
    at = at.button(key="search_to_outfits").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["🧥 Outfits"]
    assert at.session_state["outfits_look"]["entries"] == [{"kind": "item", "sku": sku}]
    assert "outfits_handoff" not in at.session_state  # consumed by the Outfits page


def test_weights_stamp_follows_writes_and_ignores_partial_files(tmp_path):
    from core.models.manifest import weights_stamp

    (tmp_path / "studio_encoder.pt").write_bytes(b"a")
    before = weights_stamp(tmp_path)
    (tmp_path / "studio_encoder.tmp").write_bytes(b"half-written")
    assert weights_stamp(tmp_path) == before
    (tmp_path / "studio_encoder.pt").write_bytes(b"ab")
    assert weights_stamp(tmp_path) != before
    assert weights_stamp(tmp_path / "missing") == ()


def test_upload_shows_the_colour_read_off_the_photo(app_test, seeded):
    import io

    from PIL import Image

    from core.tagging.colour import read_colour

    photo = _photo(seeded, 5)
    at = app_test("search.py").run()
    assert at.toggle(key="search_colour_rank").value is True  # on by default
    at = _upload(at, photo)
    assert not at.exception, at.exception
    want = read_colour(Image.open(io.BytesIO(photo[1]))).name
    assert f"read as: {want}" in _captions(at)
    # the order is explained: that colour first, so a lower percentage can come first
    assert f"**{want}** first among near-equals" in _captions(at)
    assert any(f"colour is {want} come first" in str(c.help) for c in at.caption)
    at.toggle(key="search_colour_rank").set_value(False).run()
    assert not at.exception and f"read as: {want}" in _captions(at)
    assert "12 best matches" in _captions(at) and "first among near-equals" not in _captions(at)


def test_a_category_guess_can_be_switched(app_test, seeded):
    at = app_test("search.py").run()
    at.toggle(key="search_category_aware").set_value(True)
    at = _upload(at, _photo(seeded, 1))
    chips = [b for b in at.button if b.key.startswith("search_cat-")]
    assert len(chips) == 3 and "%" in chips[0].label
    other = chips[1].key.split("-", 1)[1]
    at = chips[1].click().run()
    assert not at.exception
    text = _captions(at)  # searched within it, or said that the catalog has none
    assert f"within **{other}**" in text or f"no {other} items match" in text, text
    assert at.session_state["search_cat_pick"] == other


def test_colour_recommendations_are_ranked_by_likeness(app_test, seeded):
    at = _upload(app_test("search.py").run(), _photo(seeded, 3))
    tables = [t.value for t in at.dataframe]
    ranked = [t for t in tables if len(t) >= 2 and "looks" in " ".join(t["why"])]
    assert ranked, tables
    assert all(list(t["rank"]) == list(range(1, len(t) + 1)) for t in ranked)
    assert any(t["score"].nunique() > 1 for t in ranked)  # not one score for a whole group


def test_the_catalog_picker_follows_a_new_filter(app_test, seeded, repo):
    at = app_test("search.py").run()
    at.multiselect(key="search_f_color").set_value(["red"]).run()
    shown = [b.key.split("-")[1] for b in at.button if b.key.startswith("search_pick-")]
    assert shown and {it.attrs["color"] for it in repo.get_items(shown)} == {"red"}


def test_a_filter_matching_only_unembedded_items_says_so(app_test, seeded, repo):
    from core.storage import Item

    repo.upsert_items([Item(sku="NEW1", image_path="images/t001.jpg", hash="new1",
                            category="hat", name="new hat", attrs={"color": "red"})])
    at = app_test("search.py").run()
    at.multiselect(key="search_f_category").set_value(["hat"])
    at = _upload(at, _photo(seeded, 1))
    warn = " ".join(w.value for w in at.warning)
    assert "1 items match these filters but none has vectors for `studio_encoder`" in warn
    at = at.button(key="search_embed_missing").click().run()
    assert not at.exception and "1 best matches" in _captions(at)


def test_background_removal_embeds_its_vectors_on_first_use(app_test, seeded, repo):
    at = app_test("search.py").run()
    at.toggle(key="search_mask").set_value(True)
    at = _upload(at, _photo(seeded, 3))
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert repo.vector_count("studio_encoder+mask") == 12
    assert "studio_encoder+mask" in _captions(at)


def test_a_misread_colour_can_be_corrected(app_test, seeded):
    at = _upload(app_test("search.py").run(), _photo(seeded, 5))
    assert not at.exception, at.exception
    pick = next(s for s in at.selectbox if s.key.startswith("search_colour_pick:"))
    read = pick.options[0]
    assert read.endswith("(as read)") and len(pick.options) == 19
    other = next(s for s in ("red", "navy", "green") if not read.startswith(s))
    at = pick.set_value(other).run()
    assert not at.exception, at.exception
    assert at.session_state[pick.key] == other
    assert f"read as: {read.removesuffix(' (as read)')}" in _captions(at)  # still shown
    at.toggle(key="search_colour_rank").set_value(False).run()  # no ranking, no choice
    assert not at.exception
    assert not [s for s in at.selectbox if s.key.startswith("search_colour_pick:")]


def test_a_catalog_items_tags_can_be_corrected_and_stay(app_test, seeded, repo):
    from core.tagging.merge import state

    at = app_test("search.py").run()
    at = next(b for b in at.button if b.label == "Search with this").click().run()
    sku = at.session_state["search_sku"]
    # make its colour a prediction first, as auto-tagging would
    repo.apply_item_updates([ItemUpdate(sku, {"tags.color": {
        "source": "predicted", "confidence": 0.6, "model": "m"}})])
    at = at.run()
    colour = at.selectbox(key=f"search_tag_color-{sku}")
    assert colour.value == repo.get_item(sku).attrs["color"]
    assert "predicted, 60 %" in colour.help
    other = next(c for c in ("olive", "mint", "lavender") if c != colour.value)
    colour.set_value(other)
    at = at.button(key=f"FormSubmitter:search_tags-{sku}-Save").click().run()
    assert not at.exception, at.exception
    item = repo.get_item(sku)
    assert item.attrs["color"] == other and state(item, "color") == "supplied"
    assert "color" not in item.tags
    assert any(f"Saved {sku}" in s.value for s in at.success)
