"""Search: upload a photo (or take one, or pick a catalog item) and see similar items (or look for
this exact item), narrowed by filters, with category-aware search, "more like this",
attribute-based recommendations and "Refine with text" (hands a result or the picked query item
to the Refine page)."""

import streamlit as st

from core.catalog_jobs import missing_vectors
from core.images import ImageRejected
from core.index import NoVectors, embed_command
from core.models.registry import MissingWeights
from core.search.filters import filter_key
from core.tagging.labels import swatch
from pages.cards import PHOTO_HELP, image_grid, open_in_outfits
from pages.common import (
    embed_with_progress,
    enter_through_app,
    link_item,
    linked_item,
    repo_or_stop,
    require_catalog,
    settings,
)
from pages.search_widgets import chosen_upload, recommendations, search_sidebar, tag_editor

enter_through_app()

REFINE_LABEL = "Refine with text"

st.title("🔎 Search")
cfg = settings()
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state


def _use(source: str) -> None:
    state["search_source"] = source
    st.query_params.pop("item", None)


def _pick(sku: str | None) -> None:
    if sku:
        state["search_sku"], state["search_source"] = sku, "sku"
        link_item(sku)
        st.rerun()


_pick(linked_item(repo))


engine, opts = search_sidebar(repo, photo_query=state.get("search_source") != "sku")
k, use_mask, filters = opts["k"], opts["use_mask"], opts["filters"]

tab_up, tab_cam, tab_pick = st.tabs(["📤 Upload", "📷 Camera", "🗂️ From the catalog"])
with tab_up:
    files = st.file_uploader("Garment photo(s): several photos also show their most common "
                             "categories", help=PHOTO_HELP, accept_multiple_files=True,
                             key="search_upload", on_change=_use, args=("upload",))
with tab_cam:
    shot = st.camera_input("Take a photo", key="search_camera", on_change=_use,
                           args=("camera",))
with tab_pick:
    if st.button("Shuffle", key="search_shuffle") or \
            state.get("search_pick_for") != filter_key(filters):  # follow a new filter at once
        state["search_pick_sample"] = [it.sku for it in repo.sample_items(10, filters)]
        state["search_pick_for"] = filter_key(filters)
    if not state["search_pick_sample"]:
        st.info("No catalog item matches these filters.")
    _pick(image_grid(repo.get_items(state["search_pick_sample"]), columns=5,
                     key="search_pick", on_pick="Search with this"))


def _query():
    """(kind, payload, name) of the active query, or None."""
    source = state.get("search_source")
    if source == "sku" and state.get("search_sku"):
        return "sku", state["search_sku"], state["search_sku"]
    if source == "camera" and shot is not None:
        return "photo", shot.getvalue(), "camera photo"
    if files:
        chosen = chosen_upload(engine, files)
        return "photo", chosen.getvalue(), chosen.name
    if shot is not None:
        return "photo", shot.getvalue(), "camera photo"
    return None


query = _query()
if query is None:
    st.info("Upload a garment photo, take one with the camera, or pick an item from the catalog.")
    st.stop()

kind, payload, name = query
query_id = f"{kind}:{name}:{len(payload) if kind == 'photo' else ''}"
COLOUR_KEY = f"search_colour_pick:{query_id}"  # a new photo starts from its own reading


def _colour_pick() -> str | None:
    """The colour the shopper chose for this photo, when it differs from the reading."""
    return state.get(COLOUR_KEY) if opts["prefer_colour"] else None


if state.get("search_cat_for") != query_id:  # a new query starts from the model's guess
    state["search_cat_for"] = query_id
    state.pop("search_cat_pick", None)
try:
    if use_mask and missing_vectors(repo, engine.model_id):
        embed_with_progress(repo, cfg, engine.model_id, "First use of background removal: "
                            "embedding the catalog without backgrounds")
    if kind == "sku":
        outcome = engine.more_like_this(repo, payload, k=k, filters=filters)
    else:
        outcome = engine.search_image(repo, payload, name=name, k=k, filters=filters,
                                      category_aware=opts["aware"], match=opts["match"],
                                      colour_rank=opts["prefer_colour"],
                                      category=state.get("search_cat_pick"),
                                      colour=_colour_pick())
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
        tag_editor(repo, base)
    else:
        st.image(outcome.query_image, caption=name, width="stretch")
        if outcome.read_as():
            st.caption(f"{swatch(outcome.colour.name)} read as: {outcome.read_as()}",
                       unsafe_allow_html=True)
        if outcome.colour is not None and opts["prefer_colour"]:
            read = outcome.colour.name
            st.selectbox(
                "Colour to prefer", outcome.colour.choices(), key=COLOUR_KEY,
                format_func=lambda c: f"{c} (as read)" if c == read else c,
                help="Misread? Choose the garment's colour: items of that colour then come "
                     "first among similar ones.")
    if outcome.masked_image is not None:
        st.image(outcome.masked_image, caption="What the model sees (masked)", width="stretch")
    if outcome.prediction:
        cat, p = outcome.prediction[0]
        st.metric("Predicted category", cat, help=f"{p:.0%} sure")
        st.caption("Search within (choose another if the guess is wrong):")
        for c, q in outcome.prediction:
            if st.button(f"{c} {q:.0%}" if q >= 0.01 else f"{c} <1%", key=f"search_cat-{c}",
                         width="stretch",
                         type="primary" if c == outcome.restricted_to else "secondary"):
                state["search_cat_pick"] = c
                st.rerun()
    for note in outcome.notes:
        st.caption(f"ℹ️ {note}")
with right:
    st.subheader("Is it one of these?" if outcome.match == "item" else "Similar items")
    text, why = outcome.results_caption()
    st.caption(text, help=why)
    if outcome.unembedded:
        st.warning(f"{outcome.unembedded:,} items match these filters but none has vectors for "
                   f"`{outcome.model_id}` yet: embed them here or run "
                   f"`{embed_command(outcome.model_id)}`.")
        if st.button("Embed them now", key="search_embed_missing"):
            embed_with_progress(repo, cfg, outcome.model_id,
                                "Embedding the items without vectors")
            st.rerun()
    elif not outcome.results:
        st.warning("No item matches these filters. Widen them in the sidebar.")
    _pick(image_grid([r.item for r in outcome.results], scores=[r.score for r in outcome.results],
                     columns=4, key="search_results", on_pick="🔍 Similar",
                     pick_help="More like this: search with this item", on_refine="✏️ Refine",
                     refine_help="Refine with text: change this item in words"))

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


recommendations(repo, base, similar=[(r.item, r.score) for r in outcome.results],
                filters=filters, alike=engine.similarity_to(repo, base.sku), pick=_pick)
