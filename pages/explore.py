"""Explore: a t-SNE / PCA map of the embeddings with k-means clusters; select points or a
cluster to see those items and what they share; upload a photo to see where it lands."""

import streamlit as st

from core import explore as ex
from core.explore.clusters import SUMMARY_ATTRS
from core.explore.thumbs import thumbnail_uri
from core.images import ImageRejected, load_image
from core.tagging.labels import attribute_summary, field_label
from pages.cards import (
    PHOTO_HELP,
    hand_over,
    image_grid,
    image_path,
    open_in_outfits,
    open_in_refine,
)
from pages.common import enter_through_app, repo_or_stop, require_catalog, resource, settings

enter_through_app()

MAX_GRID = 40
EMBEDDER = "core.explore:photo_embedder"
SEARCH_PAGE = "pages/search.py"

st.title("🗺️ Explore the catalog")
st.caption("Every item is a point; nearby points look alike to the model. Click, box- or "
           "lasso-select points to inspect them.")

repo = repo_or_stop()
require_catalog(repo)
models = repo.model_ids()
if not models:
    st.info("No embeddings yet: compute them with `python -m core embed --backbone NAME` "
            "(or build the demo catalog on the Home page).")
    st.stop()
memo = resource("core.explore:map_memo")

# The widgets' defaults and ranges are the map's; the widgets take their value from session
# state only (a default as well would clash with the k suggestion written there).
d = ex.MapParams()
for key, value in {"explore_k": d.clusters, "explore_perplexity": int(d.perplexity),
                   "explore_iterations": d.iterations, "explore_seed": d.seed,
                   "explore_sample": d.sample}.items():
    st.session_state.setdefault(key, value)
if "explore_k_pending" in st.session_state:  # a suggestion from the previous run
    st.session_state["explore_k"] = st.session_state.pop("explore_k_pending")

c1, c2, c3, c4, c5 = st.columns([2, 1.3, 1, 1, 1.4], vertical_alignment="bottom")
default_model = settings().backbone if settings().backbone in models else models[0]
model = c1.selectbox("Model", models, index=models.index(default_model), key="explore_model")
method = c2.radio("Projection", ex.METHODS, horizontal=True, key="explore_method",
                  format_func={"tsne": "t-SNE", "pca": "PCA"}.get)
k = c3.number_input("Clusters (k)", *ex.MapParams.CLUSTERS, key="explore_k")
suggest = c4.button("Suggest k", key="explore_suggest",
                    help="The k (2 to 20) whose clusters stand apart best (silhouette score).")
color_by = c5.selectbox("Colour by", ex.COLOR_BY, key="explore_color_by")
with st.expander("t-SNE settings"):
    t1, t2, t3, t4 = st.columns(4)
    perplexity = t1.slider("Perplexity", *ex.MapParams.PERPLEXITY, key="explore_perplexity")
    iterations = t2.slider("Iterations", *ex.MapParams.ITERATIONS, step=50,
                           key="explore_iterations")
    seed = t3.number_input("Seed", *ex.MapParams.SEED, key="explore_seed")
    sample = t4.number_input("Items on the map (at most)", *ex.MapParams.SAMPLE, step=1000,
                             key="explore_sample", help="a larger catalog is mapped through a "
                             "sample of this many items, drawn per category in proportion")

if suggest:
    bar = st.progress(0.0, text="Trying k = 2…20")
    sug = memo.suggest(repo, model, progress=lambda f, m: bar.progress(f, text=m))
    st.session_state["explore_k_pending"] = sug["k"]
    st.session_state["explore_k_scores"] = sug["scores"]
    st.rerun()
if "explore_k_scores" in st.session_state:
    scores = st.session_state["explore_k_scores"]
    best = max(scores, key=scores.get)
    st.caption(f"Silhouette suggests k = {best} (score {scores[best]:.2f}; "
               + ", ".join(f"{kk}: {s:.2f}" for kk, s in scores.items()) + ")")

params = ex.MapParams(method=method, clusters=int(k), perplexity=float(perplexity),
                      iterations=int(iterations), seed=int(seed), sample=int(sample))
bar = st.progress(0.0, text="Preparing the map…")
try:
    emap = memo.get(repo, model, params, progress=lambda f, m: bar.progress(f, text=m))
except ex.ExploreError as exc:
    bar.empty()
    st.error(str(exc))
    st.stop()
bar.empty()
text, why = ex.map_caption(emap, model)
st.caption(text, help=why)
if note := ex.sample_note(emap):
    st.info(note)


def place_photo():
    """The uploader; returns the placement of an accepted photo, or None."""
    with st.expander("Place your own photo on the map"):
        upload = st.file_uploader("A garment photo", help=PHOTO_HELP,
                                  key="explore_upload")
        if upload is None:
            return None
        try:
            image = load_image(upload.getvalue(), name=upload.name)
        except ImageRejected as exc:
            st.error(f"Photo rejected: {exc}")
            return None
        try:
            vector = resource(EMBEDDER, model).embed_images([image])[0]
            spot = ex.place(emap, vector, repo)
        except (ex.ExploreError, FileNotFoundError, KeyError, ValueError) as exc:
            st.error(f"Cannot place the photo: {exc}")
            return None
        left, right = st.columns([1, 4])
        left.image(image, caption="your photo", width="stretch")
        with right:
            st.markdown(f"★ on the map. {ex.describe_placement(emap, spot)}.")
            image_grid([emap.items[r] for r in spot.neighbours[:5]], scores=spot.similarities[:5],
                       columns=5)
        return spot


def item_actions(sku: str, key: str) -> None:
    """Search with the item, complete a look around it, or refine it with text (the labels
    other pages use for the same hand-overs)."""
    if st.button("🔎 Search with this", key=f"{key}_search", width="stretch"):
        hand_over(SEARCH_PAGE, {"search_sku": sku, "search_source": "sku"},
                  f"**{sku}** is the query: open **Search** from the page menu.")
    if st.button("👗 Complete the look", key=f"{key}_look", width="stretch"):
        open_in_outfits(sku)
    if st.button("✏️ Refine with text", key=f"{key}_refine", width="stretch"):
        open_in_refine(sku)


def act_on_selection(rows: list[int]) -> None:
    """Pick one of the selected items and act on it."""
    shown = rows[:MAX_GRID]
    row = st.selectbox("Act on", shown, key="explore_act_on",
                       format_func=lambda r: f"{emap.items[r].name or emap.items[r].sku} "
                                             f"({emap.items[r].sku})")
    item_actions(emap.items[row].sku, "explore_sel")


def show_items(rows: list[int], what: str) -> None:
    """Attribute breakdown and pictures of some rows of the map."""
    st.subheader(f"{len(rows):,} items in the {what}")
    for col, attr in zip(st.columns(len(SUMMARY_ATTRS)), SUMMARY_ATTRS, strict=True):
        col.dataframe(ex.breakdown(emap.table, rows, attr), hide_index=True, width="stretch")
    image_grid([emap.items[r] for r in rows[:MAX_GRID]], columns=8)
    if len(rows) > MAX_GRID:
        st.caption(f"Showing {MAX_GRID} of {len(rows):,}.")


def show_item(row: int) -> None:
    """The clicked item: picture, name and attributes."""
    item = emap.items[row]
    st.image(str(image_path(item)), width="stretch")
    category = field_label(item, "category", compact=False)
    st.markdown(f"**{item.name or item.sku}**  \n`{item.sku}` · {category}")
    st.caption(attribute_summary(item))
    st.caption(f"cluster {emap.table.loc[row, 'cluster']}")
    item_actions(item.sku, "explore_one")


placement = place_photo()
chart_col, side_col = st.columns([3, 1])
with chart_col:
    event = st.plotly_chart(ex.scatter_figure(emap, color_by, placement), key="explore_chart",
                            on_select="rerun", selection_mode=("points", "box", "lasso"))
rows = ex.selected_rows(event["selection"]["points"])
with side_col:
    if len(rows) == 1:
        show_item(rows[0])
    else:
        st.caption("Click a point to see the item. Drag to zoom in, double-click to zoom out; "
                   "*Box Select* or *Lasso Select* in the map's toolbar selects many.")
    d1, d2 = st.columns(2)
    stem = f"explore_{model}_{method}_k{emap.params.clusters}"
    d1.download_button("PNG", lambda: ex.render_png(emap, color_by, placement),
                       file_name=f"{stem}.png", mime="image/png", key="explore_png")
    d2.download_button("CSV", lambda: ex.assignments_csv(emap), file_name=f"{stem}.csv",
                       mime="text/csv", key="explore_csv")
if len(rows) > 1:
    show_items(rows, "selection")
    act_on_selection(rows)

st.subheader("Clusters")
examples = {s.id: thumbnail_uri(image_path(emap.items[emap.cluster_rows(s.id)[0]]))
            for s in emap.summaries}
st.dataframe(ex.summary_frame(emap, examples), hide_index=True, width="stretch",
             column_config={"example": st.column_config.ImageColumn("example", width="small")})
labels = {s.id: ex.cluster_label(s) for s in emap.summaries}
picked = st.selectbox("Show the items of", [None, *labels], key="explore_cluster",
                      format_func=lambda c: "a cluster…" if c is None else labels[c])
if picked is not None:
    show_items(emap.cluster_rows(picked), f"cluster {picked} (nearest its centre first)")
