"""Search: upload a photo (or take one, or pick a catalog item) and see similar items (or look for
this exact item), narrowed by filters, with category-aware search, "more like this",
attribute-based recommendations and "Refine with text" (hands a result or the picked query item
to the Refine page)."""

import streamlit as st

from core.images import ImageRejected
from core.index import NoVectors
from core.models.registry import MissingWeights
from core.recommend import (
    RELATIONS,
    coordinate_colours,
    ensemble_for_item,
    season_of,
    seasonal_recommendations,
)
from core.search import selection_filters
from core.taxonomy import SEASONS
from pages.common import (
    IMAGE_TYPES,
    enter_through_app,
    image_grid,
    open_in_outfits,
    repo_or_stop,
    require_catalog,
    resource,
    settings,
)

enter_through_app()

REFINE_LABEL = "Refine with text"
MATCH_LABELS = {"similar": "Similar style", "item": "This exact item"}

st.title("🔎 Search")
cfg = settings()
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state


def _use(source: str) -> None:
    state["search_source"] = source


def _pick(sku: str | None) -> None:
    if sku:
        state["search_sku"] = sku
        state["search_source"] = "sku"
        st.rerun()


with st.sidebar:
    st.header("Search")
    k = st.slider("Results", 4, 48, 12, step=4, key="search_k")
    use_mask = st.toggle("Remove background before matching", key="search_mask",
                         help="Match on the garment only (garment masking).")
    aware = st.toggle("Category-aware search", key="search_category_aware",
                      help="Predict the garment's category and search within it.")
    prefer_colour = st.toggle("Prefer the photo's colour", value=True, key="search_colour_rank",
                              help="Among near-equally similar items, those of the colour read "
                                   "off your photo come first (photo searches).")
    engine = resource("core.search:search_engine", use_mask)
    try:
        can_item = engine.can_match_item
    except (MissingWeights, OSError, ValueError):  # no model yet: the search says why
        can_item = False
    # A catalog item searches with its stored vector: the photo modes do not apply to it.
    photo_query = state.get("search_source") != "sku"
    why_not = (" (The active model has no exact-item mode.)" if not can_item else
               "" if photo_query else " (Applies to photo searches, not to a catalog item.)")
    match = st.radio("Find", list(MATCH_LABELS), format_func=MATCH_LABELS.get, horizontal=True,
                     key="search_match", disabled=not (can_item and photo_query),
                     help="Similar style: the model's blend of category, colour and look. "
                          "This exact item: ranks by the garment's identity first, to find the "
                          "very product in a photo." + why_not)
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

tab_up, tab_cam, tab_pick = st.tabs(["📤 Upload", "📷 Camera", "🗂️ From the catalog"])
with tab_up:
    files = st.file_uploader("Garment photo(s): several photos also show their most common "
                             "categories", type=IMAGE_TYPES, accept_multiple_files=True,
                             key="search_upload", on_change=_use, args=("upload",))
with tab_cam:
    shot = st.camera_input("Take a photo", key="search_camera", on_change=_use,
                           args=("camera",))
with tab_pick:
    if st.button("Shuffle", key="search_shuffle") or "search_pick_sample" not in state:
        state["search_pick_sample"] = [it.sku for it in repo.sample_items(10, filters)]
    _pick(image_grid(repo.get_items(state["search_pick_sample"]), columns=5,
                     key="search_pick", on_pick="Search with this"))


def _top_categories(files) -> None:
    try:
        counted = engine.top_categories([(f.name, f.getvalue()) for f in files], k=3)
    except MissingWeights as exc:
        st.warning(f"Category counts need the classifier: {exc}")
        return
    st.subheader(f"Most common categories in {len(files)} photos")
    cols = st.columns(max(len(counted.top), 1))
    for col, (cat, n) in zip(cols, counted.top, strict=False):
        col.metric(cat, f"{n} photo{'s' if n > 1 else ''}")
    for reason in counted.rejected:
        st.error(f"Could not read {reason}")


def _query():
    """(kind, payload, name) of the active query, or None."""
    source = state.get("search_source")
    if source == "sku" and state.get("search_sku"):
        return "sku", state["search_sku"], state["search_sku"]
    if source == "camera" and shot is not None:
        return "photo", shot.getvalue(), "camera photo"
    if files:
        if len(files) > 1:
            _top_categories(files)
            names = [f.name for f in files]
            which = st.selectbox("Search with", names, key="search_which")
            chosen = files[names.index(which)]
        else:
            chosen = files[0]
        return "photo", chosen.getvalue(), chosen.name
    if shot is not None:
        return "photo", shot.getvalue(), "camera photo"
    return None


query = _query()
if query is None:
    st.info("Upload a garment photo, take one with the camera, or pick an item from the catalog.")
    st.stop()

kind, payload, name = query
try:
    if kind == "sku":
        outcome = engine.more_like_this(repo, payload, k=k, filters=filters)
    else:
        outcome = engine.search_image(repo, payload, name=name, k=k, filters=filters,
                                      category_aware=aware, match=match,
                                      colour_rank=prefer_colour)
except ImageRejected as exc:
    st.error(f"**Could not use {exc.file}**: {exc.reason}")
    st.stop()
except (NoVectors, MissingWeights) as exc:
    st.error(f"**Search is not ready.** {exc}")
    st.stop()
except KeyError as exc:
    st.error(f"**{exc.args[0] if exc.args else exc}**")
    st.stop()

left, right = st.columns([1, 3])
with left:
    st.subheader("Query")
    if kind == "sku":
        base = repo.get_item(payload)
        image_grid([base], columns=1, key="search_query_item", on_refine=REFINE_LABEL)
    else:
        st.image(outcome.query_image, caption=name, width="stretch")
        if outcome.read_as():
            st.caption(f"read as: {outcome.read_as()}")
    if outcome.masked_image is not None:
        st.image(outcome.masked_image, caption="What the model sees (masked)", width="stretch")
    if outcome.prediction:
        cat, p = outcome.prediction[0]
        st.metric("Predicted category", cat, f"{p:.0%} confidence", delta_color="off")
        st.caption(" · ".join(f"{c} {q:.0%}" for c, q in outcome.prediction[1:]))
    for note in outcome.notes:
        st.caption(f"ℹ️ {note}")
with right:
    scope = f"within **{outcome.restricted_to}** " if outcome.restricted_to else ""
    among = (f"{outcome.candidates:,} items passing the filters" if outcome.candidates is not None
             else "the whole catalog")
    st.subheader("Is it one of these?" if outcome.match == "item" else "Similar items")
    how = " · exact-item match" if outcome.match == "item" else ""
    st.caption(f"{len(outcome.results)} best matches {scope}among {among} · model "
               f"`{outcome.model_id}`{how} · {outcome.timings_ms.get('total', 0):.0f} ms")
    if not outcome.results:
        st.warning("No item matches these filters. Widen them in the sidebar.")
    _pick(image_grid([r.item for r in outcome.results], scores=[r.score for r in outcome.results],
                     columns=4, key="search_results", on_pick="More like this",
                     on_refine=REFINE_LABEL))

base = repo.get_item(payload) if kind == "sku" else (
    outcome.results[0].item if outcome.results else None)
if base is None:
    st.stop()
st.divider()
if st.button(f"🧥 Complete the look with {base.name or base.sku}", key="search_to_outfits"):
    open_in_outfits(base.sku)
st.subheader("Recommendations")
st.caption(f"Built around **{base.name or base.sku}** ({base.category}, "
           f"{base.attrs.get('color', 'unknown colour')})"
           + ("" if kind == "sku" else ", the closest catalog item to your photo") + ".")


def _recs(recs, key: str) -> None:
    if not recs:
        st.info("Nothing to recommend here yet.")
        return
    _pick(image_grid([r.item for r in recs], scores=[r.score for r in recs], columns=6,
                     key=key, on_pick="More like this"))
    st.dataframe([{"item": r.item.sku, "why": r.reason} for r in recs], hide_index=True,
                 width="stretch")


tab_col, tab_season, tab_ens = st.tabs(["🎨 Colour coordination", "🌦️ Seasonal", "🧮 Ensemble"])
with tab_col:
    groups = coordinate_colours(repo, base, k=6)
    for rel in RELATIONS:
        st.markdown(f"**{rel.capitalize()}**")
        _recs(groups[rel], f"search_col_{rel}")
with tab_season:
    default = base.attrs.get("season") if base.attrs.get("season") in SEASONS else season_of()
    season = st.selectbox("Season", SEASONS, index=SEASONS.index(default), key="search_season")
    _recs(seasonal_recommendations(repo, season, k=12, filters=filters), "search_seasonal")
with tab_ens:
    c1, c2, c3 = st.columns(3)
    weights = {"similarity": c1.slider("Similarity", 0.0, 1.0, 0.4, key="search_w_sim"),
               "attributes": c2.slider("Attributes", 0.0, 1.0, 0.3, key="search_w_attr"),
               "seasonal": c3.slider("Season", 0.0, 1.0, 0.3, key="search_w_season")}
    similar = [(r.item, r.score) for r in outcome.results]
    _recs(ensemble_for_item(repo, base, similar, weights=weights, k=12, filters=filters),
          "search_ensemble")
