"""Widgets of the Search page (UI components, not a page): the sidebar of search options and
filters, the category counts of a set of photos, a catalog item's tag editor, and the
recommendations panel (colour coordination, seasonal picks and the ensemble around a base
item, each ranked and explained)."""

from collections.abc import Callable

import streamlit as st

from core.models.registry import MissingWeights
from core.ranges import widget
from core.search.filters import selection_filters
from core.search.outcome import upload_choices
from core.search.params import SearchParams
from core.search.recommend import (
    RELATIONS,
    coordinate_colours,
    ensemble_for_item,
    relation_note,
    season_of,
    seasonal_recommendations,
)
from core.storage import Item
from core.tagging.catalog import correct_tags, picked_values, tag_vocabulary
from core.tagging.labels import FIELD_WORDS, field_label
from core.tagging.merge import value_of
from core.taxonomy import SEASONS, applies
from pages.cards import image_grid
from pages.common import resource

MATCH_LABELS = {"similar": "Similar style", "item": "This exact item"}


def search_sidebar(repo, *, photo_query: bool):
    """The search engine for the chosen options, and the options: k, use_mask, aware,
    prefer_colour, match and filters."""
    with st.sidebar:
        st.header("Search")
        k = st.slider("Results", **widget(SearchParams, "k"), key="search_k")
        use_mask = st.toggle("Remove background before matching", key="search_mask",
                             help="Match on the garment only (garment masking). The first "
                                  "time, the catalog is embedded once more with backgrounds "
                                  "removed, which takes a while on a large catalog (`python -m "
                                  "core embed --mask` does it ahead, from a terminal).")
        aware = st.toggle("Category-aware search", key="search_category_aware",
                          help="Predict the garment's category and search within it.")
        prefer_colour = st.toggle(
            "Prefer the photo's colour", value=True, key="search_colour_rank",
            help="Among similar items that could be the same kind of garment, those of the "
                 "colour read off your photo come first, the more so the surer the reading; a "
                 "clearly closer match of another colour still wins (photo searches).")
        engine = resource("core.search.pipeline:search_engine", use_mask)
        try:
            can_item = engine.can_match_item
        except (MissingWeights, OSError, ValueError):  # no model yet: the search says why
            can_item = False
        # A catalog item searches with its stored vector: the photo modes do not apply to it.
        why_not = (" (The active model has no exact-item mode.)" if not can_item else
                   "" if photo_query else " (Applies to photo searches, not to a catalog item.)")
        match = st.radio("Find", list(MATCH_LABELS), format_func=MATCH_LABELS.get,
                         horizontal=True, key="search_match",
                         disabled=not (can_item and photo_query),
                         help="Similar style: the model's blend of category, colour and look. "
                              "This exact item: ranks by the garment's identity first, to find "
                              "the very product in a photo." + why_not)
        match = match if can_item and photo_query else "similar"
        facets = engine.facets(repo)
        st.header("Filters")
        price_bounds = facets["price"]
        price = None
        if price_bounds and price_bounds[1] > price_bounds[0]:
            price = st.slider("Price", price_bounds[0], price_bounds[1], price_bounds,
                              key="search_price")
        filters = selection_filters(
            categories=st.multiselect("Category", facets["category"], key="search_f_category"),
            colors=st.multiselect("Colour", facets["color"], key="search_f_color"),
            patterns=st.multiselect("Pattern", facets["pattern"], key="search_f_pattern"),
            seasons=st.multiselect("Season", facets["season"], key="search_f_season"),
            price=price, price_bounds=price_bounds)
    return engine, {"k": k, "use_mask": use_mask, "aware": aware, "match": match,
                    "prefer_colour": prefer_colour, "filters": filters}


def chosen_upload(engine, files):
    """The uploaded photo to search with: the only one, else the one "Search with" names (a
    refused photo is not offered first; a photo just added becomes the query)."""
    names = [f.name for f in files]
    seen, st.session_state["search_seen"] = st.session_state.get("search_seen", []), names
    if len(files) == 1:
        return files[0]
    options, newest = upload_choices(names, top_categories(engine, files), seen)
    if newest:
        st.session_state["search_which"] = newest
    return files[names.index(st.selectbox("Search with", options, key="search_which"))]


def top_categories(engine, files) -> set[str]:
    """The most common predicted categories of several uploaded photos; returns the names of
    those that could be read (all, when there is no classifier to read them)."""
    try:
        counted = engine.top_categories([(f.name, f.getvalue()) for f in files], k=3)
    except MissingWeights as exc:
        st.warning(f"Category counts need the classifier: {exc}")
        return {f.name for f in files}
    read = len(counted.per_image)
    st.subheader(f"Most common categories in {read} photo{'s' if read != 1 else ''}")
    cols = st.columns(max(len(counted.top), 1))
    for col, (cat, n) in zip(cols, counted.top, strict=False):
        col.metric(cat, f"{n} photo{'s' if n > 1 else ''}")
    for reason in counted.rejected:
        st.error(f"Could not read {reason}")
    return {name for name, _ in counted.per_image}


def tag_editor(repo, item: Item) -> None:
    """Correct a catalog item's category, colour, pattern and sleeves: what is saved counts as
    given by a person (predicted tags are dropped and tagging never changes them again)."""
    with st.expander("Correct its tags"):
        with st.form(f"search_tags-{item.sku}", border=False):
            picks = {}
            for name, word in FIELD_WORDS.items():
                if name == "sleeve" and applies("sleeve", item.category) is False:
                    continue  # shoes, bags, trousers
                options = list(tag_vocabulary(name))
                current = value_of(item, name)
                shown = field_label(item, name, compact=False)
                picks[name] = st.selectbox(
                    word.capitalize(), options,
                    index=options.index(current) if current in options else None,
                    placeholder="not set", key=f"search_tag_{name}-{item.sku}",
                    help=f"now: {shown}" if shown and shown != str(current) else None)
            saved = st.form_submit_button("Save", help="Saved values are kept as given: "
                                          "tagging never changes them.")
    if saved:
        try:
            fixed = correct_tags(repo, item.sku, picked_values(picks))
        except (KeyError, ValueError) as exc:
            st.error(str(exc.args[0]) if exc.args else str(exc))
            return
        st.session_state["search_tags_saved"] = (
            f"Saved {fixed.sku}: " + " · ".join(field_label(fixed, n) for n in FIELD_WORDS
                                                 if field_label(fixed, n)))
        st.rerun()
    if note := st.session_state.pop("search_tags_saved", None):
        st.success(note)


def _recs(recs, key: str, pick: Callable[[str | None], None],
          empty: str = "Nothing to recommend here yet.") -> None:
    if not recs:
        st.info(empty)
        return
    # cards show how alike each item looks (the part that differs inside a group)
    pick(image_grid([r.item for r in recs], scores=[r.sources.get("visual", r.score)
                                                   for r in recs], columns=6,
                    key=key, on_pick="🔍 Similar",
                    pick_help="More like this: search with this item"))
    st.dataframe([{"rank": i, "item": r.item.name or r.item.sku, "score": round(r.score, 3),
                   "why": r.reason} for i, r in enumerate(recs, 1)], hide_index=True,
                 width="stretch", column_config={
                     "why": st.column_config.TextColumn("why", width="large"),
                     "score": st.column_config.NumberColumn(
                         "score", help="The recommender's combined score (higher first)")})


def recommendations(repo, base: Item, *, similar: list[tuple[Item, float]], filters: dict,
                    alike: Callable, pick: Callable[[str | None], None]) -> None:
    """Three tabs of recommendations around ``base``; ``alike`` gives visual similarity to it,
    ``pick`` receives the sku of a "🔍 Similar" (more like this) click."""
    tab_col, tab_season, tab_ens = st.tabs(["🎨 Colour coordination", "🌦️ Seasonal",
                                            "🧮 Ensemble"])
    with tab_col:
        groups = coordinate_colours(repo, base, k=6, similarity=alike)
        for rel in RELATIONS:
            st.markdown(f"**{rel.capitalize()}**")
            _recs(groups[rel], f"search_col_{rel}", pick,
                  relation_note(base.attrs.get("color"), rel))
    with tab_season:
        season = base.attrs.get("season")
        default = season if season in SEASONS else season_of()
        season = st.selectbox("Season", SEASONS, index=SEASONS.index(default),
                              key="search_season")
        _recs(seasonal_recommendations(repo, season, k=SearchParams.k, filters=filters,
                                       similarity=alike),
              "search_seasonal", pick)
    with tab_ens:
        c1, c2, c3 = st.columns(3)
        weights = {
            "similarity": c1.slider("Similarity", **widget(SearchParams, "similarity"),
                                    key="search_w_sim"),
            "attributes": c2.slider("Attributes", **widget(SearchParams, "attributes"),
                                    key="search_w_attr"),
            "seasonal": c3.slider("Season", **widget(SearchParams, "seasonal"),
                                  key="search_w_season")}
        _recs(ensemble_for_item(repo, base, similar, weights=weights, k=SearchParams.k,
                                filters=filters),
              "search_ensemble", pick)
