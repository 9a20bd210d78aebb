"""Home: what the catalog holds, where it lives, and how to fill it."""

from pathlib import Path

import plotly.express as px
import streamlit as st

from core.catalog_info import catalog_summary
from core.demo.params import DemoParams
from core.ranges import widget
from core.storage import mask_uri
from core.taxonomy import CATEGORIES
from pages.cards import image_grid, tag_review
from pages.common import enter_through_app, page_link, repo_or_stop, settings

enter_through_app()

START_HERE = (  # where a newcomer goes next
    ("pages/search.py", "Search", "🔎", "Upload a garment photo and find similar items."),
    ("pages/refine.py", "Refine", "💬", "Say what to change (“shorter, in red”) and see it."),
    ("pages/outfits.py", "Outfits", "🧥", "Build a look and see whether it goes together."),
    ("pages/explore.py", "Explore", "🗺️", "See the whole catalog as a map of look-alikes."),
)

st.title("👗 Fashion Studio")
st.caption("Visual search, text-feedback refinement, outfit scoring and embedding maps over "
           "your garment catalog.")

cfg = settings()
repo = repo_or_stop()
summary = catalog_summary(repo, cfg)
db = summary["database"]

where = (f"the **built-in MongoDB server** (nx-27017, its files in `{cfg.data_dir / 'mongo'}`)"
         if db["embedded"] else f"**MongoDB** at `{mask_uri(db['uri'])}`")
st.success(f"Connected to {where} · database `{db['name']}` · collection `{db['collection']}`",
           icon="🗄️")
if summary.get("vector_index"):  # "$" escaped: markdown would read "$...$" as maths
    line = summary["vector_index"].replace("$", "\\$")
    st.caption(summary["vector_index_caption"], help=line[:1].upper() + line[1:])

cols = st.columns(4)
cols[0].metric("Items", f"{summary['items']:,}")
cols[1].metric("Categories", len(summary["categories"]))
cols[2].metric("Embedded vectors", f"{max(summary['vectors'].values(), default=0):,}")
docs = summary["documents"]
cols[3].metric("Outfits", f"{docs['outfits']:,}",
               help=f"{docs['pairs']:,} feedback pairs · {docs['stores']:,} stores")


def _progress_callback(bar):
    labels = {"build": "Rendering demo garments", "ingest": "Ingesting images",
              "embed": "Computing embeddings",
              "tag": "Predicting missing category, colour and pattern",
              "colours": "Reading garment colours",
              "map": "Drawing the catalog map"}

    def update(stage: str, done: int, total: int) -> None:
        frac = done / total if total else 1.0
        count = f"{frac:.0%}" if stage == "map" else f"{done:,}/{total:,}"  # map: per cent
        bar.progress(min(frac, 1.0), text=f"{labels.get(stage, stage)}: {count}")

    return update


with st.expander("Build the demo catalog", expanded=summary["items"] == 0):
    st.write(f"Renders garments of {len(CATEGORIES)} categories with known colour, pattern, "
             "sleeve, length, fit and season, plus outfits, feedback pairs and stores, then "
             "ingests and embeds them and draws the catalog map.")
    c1, c2 = st.columns(2)
    n_items = c1.number_input("Items", **widget(DemoParams, "items"), key="home_demo_items")
    seed = c2.number_input("Seed", **widget(DemoParams, "seed"), key="home_demo_seed")
    if summary["items"]:
        st.caption(f"The catalog already holds {summary['items']:,} items: the demo items are "
                   "added beside them, and those already there (same seed) are skipped.")
    if st.button("Build and load demo catalog", type="primary", key="home_demo_build"):
        from core.bootstrap import ensure_demo_catalog

        bar = st.progress(0.0, text="Starting…")
        report = ensure_demo_catalog(repo, cfg, n_items=int(n_items), seed=int(seed),
                                     progress=_progress_callback(bar), force=True)
        bar.progress(1.0, text="Done")
        if report.added:
            st.success(f"Added {report.added:,} items, embedded {report.embedded:,}.")
        else:
            st.info(f"The demo items of seed {int(seed)} are already in the catalog: nothing "
                    "was added" + (f"; embedded {report.embedded:,} that lacked vectors."
                                   if report.embedded else "."))
        for note in report.notes:
            st.info(note)

with st.expander("Ingest your own images"):
    st.write("A folder of images (optionally with metadata.csv / metadata.json), a folder of "
             "class folders (`train/dress/*.jpg`), a CSV `image_name,category_label`, or a "
             "fashion-analysis JSON. Re-running adds nothing twice.")
    path = st.text_input("Path on this machine", key="home_ingest_path",
                         placeholder="/path/to/images")
    if st.button("Ingest", key="home_ingest_go"):
        from core.catalog_jobs import ingest_and_embed
        from core.ingest import IngestError

        if not path or not Path(path).expanduser().exists():
            st.error(f"Path not found: {path or '(empty)'}")
        else:
            bar = st.progress(0.0, text="Ingesting…")
            try:
                done = ingest_and_embed(repo, cfg, path, progress=_progress_callback(bar))
            except IngestError as exc:
                st.error(f"**Could not ingest {path}.** {exc}")
                st.stop()
            # re-run so the counts, chart and sample above include the new items
            st.session_state["home_ingested"] = {
                "summary": done.summary(), "notes": done.notes,
                "rejected": [{"file": r.file, "reason": r.reason}
                             for r in done.report.rejected]}
            st.rerun()
ingested = st.session_state.pop("home_ingested", None)
if ingested:
    st.success(ingested["summary"])
    for note in ingested["notes"]:
        st.info(note)
    if ingested["rejected"]:
        st.dataframe(ingested["rejected"], width="stretch")

if summary["items"] == 0:
    st.info("The catalog is empty: build the demo catalog above or ingest a folder.")
    st.stop()

st.subheader("Start here")
for col, (page, label, icon, what) in zip(st.columns(len(START_HERE)), START_HERE, strict=True):
    with col:
        page_link(page, label, icon)
        st.caption(what)

with st.expander("Check predicted tags"):
    tag_review(repo)

left, right = st.columns([1, 2])
with left:
    st.subheader("Items by category")
    cats = summary["categories"]
    fig = px.bar(x=list(cats.values()), y=list(cats.keys()), orientation="h",
                 labels={"x": "items", "y": ""}, height=max(300, 22 * len(cats)))
    fig.update_layout(yaxis={"autorange": "reversed"}, margin={"l": 0, "r": 0, "t": 0, "b": 0})
    st.plotly_chart(fig, width="stretch")
    if summary["vectors"]:
        st.caption("Vectors per model: " + ", ".join(
            f"`{m}` {n:,}" for m, n in summary["vectors"].items()))
with right:
    st.subheader("A sample of the catalog")
    if st.button("Shuffle", key="home_shuffle") or "home_sample" not in st.session_state:
        st.session_state["home_sample"] = [it.sku for it in repo.sample_items(15)]
    image_grid(repo.get_items(st.session_state["home_sample"]), columns=5)
