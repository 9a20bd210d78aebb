"""AppTest of the explorer page: the map, a chart selection, a cluster pick, k suggestion, upload.

AppTest cannot drag a lasso, so the selection tests set the chart's own widget state
(``st.session_state["explore_chart"]``, the value ``st.plotly_chart(on_select="rerun")``
returns), exactly what the browser sends after a box/lasso/click selection.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from core.explore.bench import synthetic_vectors
from tests.helpers import CATEGORIES, make_small_catalog

MODEL = "toy_encoder"
PAGE = "explore.py"
N = 40


@pytest.fixture
def catalog(app_env, repo):
    """40 small items (tests.helpers) whose vectors cluster by category."""
    items = make_small_catalog(repo, app_env.data_dir, n=N)
    centres, _ = synthetic_vectors(len(CATEGORIES), 16, centers=len(CATEGORIES), seed=0)
    rng = np.random.default_rng(0)
    vectors = np.stack([centres[CATEGORIES.index(it.category)] + rng.normal(size=16) * 0.05
                        for it in items])
    repo.put_vectors(MODEL, [it.sku for it in items], vectors)
    return items


def _texts(at) -> str:
    parts = [*at.markdown, *at.caption, *at.subheader, *at.info, *at.error]
    return "\n".join(str(p.value) for p in parts)


def _open(app_test, **state):
    at = app_test(PAGE)
    for key, value in {"explore_method": "pca", "explore_k": 4, **state}.items():
        at.session_state[key] = value
    return at.run()


def test_page_draws_the_map_and_cluster_table(app_test, catalog):
    at = _open(app_test)
    assert not at.exception
    (chart,) = at.get("plotly_chart")
    assert chart.key == "explore_chart"
    (table,) = at.dataframe  # no selection yet: only the cluster table
    frame = table.value
    assert len(frame) == 4 and frame["size"].sum() == N
    assert sorted(frame["category"].str.split(" ").str[0]) == sorted(CATEGORIES)
    assert all(frame["category"].str.endswith("(100%)"))
    assert frame["example"].str.startswith("data:image/jpeg;base64,").all()
    assert f"{N} items · model `{MODEL}`" in _texts(at)
    assert {b.label for b in at.get("download_button")} == {"PNG", "CSV"}
    again = at.run()  # a rerun reuses the map: no recomputation, same table
    assert not again.exception and "computed in" in _texts(again)


def test_chart_selection_shows_items_and_breakdown(app_test, catalog):
    at = _open(app_test)
    rows = [0, 4, 8, 1]  # table rows (customdata[0]) of three dresses and a tee
    at.session_state["explore_chart"] = {"selection": {
        "points": [{"curve_number": 0, "point_index": i, "customdata": [r]}
                   for i, r in enumerate(rows)],
        "point_indices": list(range(len(rows))), "box": [{"x": [0, 1], "y": [0, 1]}],
        "lasso": []}}
    at.run()
    assert not at.exception
    assert "4 items in the selection" in _texts(at)
    breakdowns = {df.value.columns[0]: df.value for df in at.dataframe
                  if df.value.columns[1] == "count"}
    assert set(breakdowns) == {"category", "color", "pattern", "season"}
    cats = breakdowns["category"].set_index("category")["count"].to_dict()
    assert cats == {"dress": 3, "tee": 1}
    assert len(at.get("imgs")) + len(at.get("image")) >= 1


def test_single_point_selection_shows_the_item(app_test, catalog):
    at = _open(app_test)
    at.session_state["explore_chart"] = {"selection": {
        "points": [{"customdata": [5]}], "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert "`T005`" in _texts(at)


def test_picking_a_cluster_lists_its_items(app_test, catalog):
    at = _open(app_test)
    picker = at.selectbox(key="explore_cluster")
    first = [o for o in picker.options if o != "a cluster…"][0]
    picker.select_index(picker.options.index(first)).run()
    assert not at.exception
    assert re.fullmatch(r"cluster \d+: .+ \d+% · .+ \d+% \(\d+ items\)", first), first
    cid, size = first.split(":")[0].split()[1], int(first.rsplit("(", 1)[1].split()[0])
    assert f"{size} items in the cluster {cid} (nearest its centre first)" in _texts(at)


def test_suggest_k_sets_the_number_of_clusters(app_test, catalog):
    at = _open(app_test, explore_k=9)
    at.button(key="explore_suggest").click().run()
    assert not at.exception
    assert at.number_input(key="explore_k").value == len(CATEGORIES)
    assert f"Silhouette suggests k = {len(CATEGORIES)}" in _texts(at)
    assert len(at.dataframe[-1].value) == len(CATEGORIES)


def test_no_vectors_explains_how_to_embed(app_test, app_env, repo):
    make_small_catalog(repo, app_env.data_dir, n=6)
    at = app_test(PAGE).run()
    assert not at.exception
    assert "python -m core embed" in _texts(at)


def test_rejected_upload_says_why(app_test, catalog):
    at = _open(app_test)
    at.file_uploader(key="explore_upload").set_value(("broken.jpg", b"not an image", "image/jpeg"))
    at.run()
    assert not at.exception
    assert "Photo rejected: broken.jpg" in _texts(at)


def test_uploaded_photo_is_placed_on_the_map(app_test, app_env, repo):
    """With a (tiny, random) studio encoder, a catalog image lands on its own point."""
    from core.models.embed import embed_catalog
    from core.models.studio import STUDIO_FILE, new_encoder, save_checkpoint

    save_checkpoint(new_encoder(widths=(8, 12, 16, 24), blocks=(1, 1, 1, 1)),
                    app_env.weights_dir / STUDIO_FILE)
    make_small_catalog(repo, app_env.data_dir, n=24)
    assert embed_catalog(repo, app_env, "studio_encoder", workers=0) == 24
    at = _open(app_test, explore_model="studio_encoder", explore_k=3)
    buf = io.BytesIO()
    Image.open(app_env.data_dir / "images" / "t007.jpg").save(buf, format="PNG")
    at.file_uploader(key="explore_upload").set_value(("mine.png", buf.getvalue(), "image/png"))
    at.run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Nearest items: " in text and "; in cluster " in text and "(mostly " in text
    star = at.get("plotly_chart")[0].proto.spec
    assert "your photo" in star and "star" in star


def test_widgets_take_the_map_defaults_and_ranges(app_test, catalog):
    from core.explore import MapParams

    at = app_test(PAGE).run()
    assert not at.exception
    d = MapParams()
    perplexity = at.slider(key="explore_perplexity")
    iterations = at.slider(key="explore_iterations")
    clusters = at.number_input(key="explore_k")
    assert (perplexity.min, perplexity.max, perplexity.value) == (*d.PERPLEXITY, d.perplexity)
    assert (iterations.min, iterations.max, iterations.value) == (*d.ITERATIONS, d.iterations)
    assert (clusters.min, clusters.max, clusters.value) == (*d.CLUSTERS, d.clusters)
    assert at.radio(key="explore_method").value == d.method


def test_suggested_k_is_set_without_a_session_state_warning(app_test, catalog, monkeypatch):
    import logging

    from streamlit.elements.lib import policies

    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    policies._LOGGER.addHandler(handler)
    try:
        at = app_test(PAGE)
        at.session_state["explore_method"] = "pca"
        at.run()
        at.button(key="explore_suggest").click().run()
        at.run()
    finally:
        policies._LOGGER.removeHandler(handler)
    assert not at.exception
    assert at.number_input(key="explore_k").value == len(CATEGORIES)
    assert not [m for m in seen if "created with a default value" in m]


def _select(at, rows):
    at.session_state["explore_chart"] = {"selection": {
        "points": [{"customdata": [r]} for r in rows], "point_indices": list(range(len(rows))),
        "box": [], "lasso": []}}
    return at.run()


@pytest.mark.parametrize(("label", "key", "expected"), [
    ("🔎 Search with this", "explore_one_search", {"search_sku": "T005", "search_source": "sku"}),
    ("👗 Complete the look", "explore_one_look", {"outfits_handoff": "T005"}),
    ("✏️ Refine with text", "explore_one_refine", {"refine_handoff": "T005"}),
])
def test_a_selected_point_can_be_searched_styled_or_refined(app_test, catalog, label, key,
                                                             expected):
    at = _select(_open(app_test), [5])
    button = at.button(key=key)
    assert button.label == label
    button.click().run()
    assert not at.exception
    for name, value in expected.items():
        assert at.session_state[name] == value
    assert "T005" in _texts(at)  # outside the app's navigation: where to go next


def test_several_selected_points_offer_the_actions_on_one_of_them(app_test, catalog):
    at = _select(_open(app_test), [0, 4, 8])
    picker = at.selectbox(key="explore_act_on")
    assert len(picker.options) == 3
    picker.select_index(2).run()
    at.button(key="explore_sel_look").click().run()
    assert not at.exception
    assert at.session_state["outfits_handoff"] == catalog[8].sku


def test_large_catalog_note_says_the_map_is_a_sample(app_test, catalog):
    at = _open(app_test, explore_sample=20)
    assert not at.exception
    assert f"Showing a stratified sample of 20 of {N} items" in _texts(at)
    (table,) = at.dataframe
    assert table.value["size"].sum() == 20
    whole = _open(app_test)  # the default: the whole 40-item catalog, no note
    assert not whole.exception and "stratified sample" not in _texts(whole)
