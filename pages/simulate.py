"""Customers: simulate shoppers (home city, gender, taste for popular or new items, a style)
and their purchases, or import a real purchase history, then see what the fused score
recommends to each of them and why: how much each item looks like what they bought, its
popularity for their taste, how its category goes with theirs and how near its store is. An
evaluation checks the score on held-out purchases against baselines."""

import streamlit as st

from core.explore.thumbs import thumbnail_uri
from core.index import NoVectors
from core.simulate.figures import (
    PART_COLOURS,
    PART_LABELS,
    eval_figure,
    eval_frame,
    map_figure,
    parts_frame,
    run_caption,
)
from core.simulate.importer import ImportProblem, Source, import_history
from core.simulate.params import PARTS, FusionConfig, SimulationConfig, SimulationError
from core.simulate.pipeline import last_run, run_simulation, stores_of
from core.tagging.labels import field_label
from core.taxonomy import COLORS
from pages.common import (
    enter_through_app,
    image_grid,
    image_path,
    open_in_outfits,
    repo_or_stop,
    require_catalog,
    resource,
)

enter_through_app()

RECOMMENDER = "core.simulate.service:recommender"
WHOLE_HISTORY = "__history__"
SHORT = {"visual": "looks", "popularity": "popularity", "category": "category",
         "proximity": "nearby"}
ROW = 56  # table row height (px): room for a thumbnail

st.title("🛍️ Customers")
st.caption("Simulated (or imported) customers shop the catalog; the fused score recommends to "
           "each of them: looks alike × popularity for their taste × category affinity × "
           "store nearby.")
repo = repo_or_stop()
require_catalog(repo)
state = st.session_state

with st.sidebar:
    st.header("Simulation")
    seed = st.number_input("Seed", 0, 1_000_000, 42, key="simulate_seed")
    n_customers = st.slider("Customers", 1, 300, 15, key="simulate_customers")
    max_purchases = st.slider("Purchases per customer (at most)", 1, 10, 3,
                              key="simulate_max_purchases")
    days = st.slider("Period (days)", 7, 365, 90, key="simulate_days")
    p_max = st.number_input("Initial popularity up to (P_max)", 1, 100_000, 100,
                            key="simulate_p_max")
    run = st.button("Run simulation", type="primary", key="simulate_run", width="stretch")
    with st.expander("Import a purchase history"):
        log_file = st.file_uploader(
            "Purchase log", type=["csv", "json", "jsonl"], key="simulate_import_purchases",
            help="One purchase per row: customer_id, sku, ts (ISO date or date-time); "
                 "optional store_id, price, purchase_id.")
        people_file = st.file_uploader(
            "Customers (optional)", type=["csv", "json", "jsonl"],
            key="simulate_import_customers",
            help="customer_id; optional name, gender, lat, lon, home_store, trendiness. "
                 "What is missing is derived from the purchases.")
        do_import = st.button("Import", key="simulate_import", width="stretch",
                              disabled=log_file is None)
    st.header("Fused score")
    k = st.slider("Recommendations", 4, 24, 10, step=2, key="simulate_k")
    weights = {part: st.slider(f"Weight: {PART_LABELS[part]}", 0.0, 3.0, 1.0, 0.25,
                               key=f"simulate_w_{part}") for part in PARTS}
    threshold = st.slider("Popularity threshold", 0.0, 0.9, 0.15, 0.05, key="simulate_threshold",
                          help="Trend-seekers penalise items above this share of the top "
                               "popularity (the simulated shoppers do too).")
    exponent = st.slider("Penalty exponent", 0.0, 8.0, 4.0, 0.5, key="simulate_exponent",
                         help="How steeply they penalise popular items.")
    scale = st.slider("Distance scale (km)", 10, 2000, 100, 10, key="simulate_scale",
                      help="Store proximity is exp(-distance / scale): 0.37 at this distance.")
    st.caption("Weights are exponents: 0 drops a part, 2 makes it count twice as much.")

fusion = FusionConfig(p_threshold=threshold, penalty_exponent=exponent,
                      distance_scale_km=float(scale)).with_weights(weights)

if run:
    cfg = SimulationConfig(seed=int(seed), num_customers=n_customers,
                           max_purchases=max_purchases, top_k=k, p_max=int(p_max),
                           p_threshold=threshold, penalty_exponent=exponent, days=days,
                           distance_scale_km=float(scale))
    bar = st.progress(0.0, text="Simulating purchases…")
    try:
        report = run_simulation(repo, cfg, progress=lambda done, total: bar.progress(
            done / total, text=f"Simulating purchases: {done}/{total}"))
    except SimulationError as exc:
        bar.empty()
        st.error(f"**Could not simulate.** {exc}")
        st.stop()
    bar.empty()
    st.toast(f"{report['customers']} customers made {report['purchases']} purchases.", icon="✅")

if do_import and log_file is not None:
    try:
        with st.spinner("Importing the purchase history…"):
            report = import_history(repo, Source(log_file.name, log_file.getvalue()),
                                    Source(people_file.name, people_file.getvalue())
                                    if people_file is not None else None)
    except ImportProblem as exc:
        st.error(f"**Could not import; nothing was changed.** {exc}")
    else:
        st.success(f"Imported {report['purchases']:,} purchases of {report['items_bought']:,} "
                   f"items by {report['customers']:,} customers from {report['first']} to "
                   f"{report['last']}.")

recommender = resource(RECOMMENDER)
customers = recommender.customers(repo)
if not customers:
    st.info("No customers yet: set the simulation in the sidebar and press **Run simulation**, "
            "or import a purchase history there.")
    st.stop()
header = run_caption(last_run(repo))
if header:
    st.caption(header)
try:
    recommender.features(repo)
except NoVectors as exc:
    st.error(f"**The catalog has no garment vectors yet.** Run `python -m core embed` to embed "
             f"it, then reload this page. ({exc})")
    st.stop()

by_id = {c.customer_id: c for c in customers}
if state.get("simulate_customer") not in by_id:  # a new run or an import: other customers
    state["simulate_customer"] = customers[0].customer_id  # set, so the browser shows it too
cid = st.selectbox("Customer", list(by_id), key="simulate_customer",
                   format_func=lambda c: f"{c} · {by_id[c].name} ({by_id[c].home_city})")
customer = by_id[cid]
history = recommender.history(repo, cid)
bought = {it.sku: it for it in repo.get_items([p.sku for p in history])}


def swatches(colours: list[str]) -> str:
    """The colour names, each after a small swatch of it."""
    out = []
    for name in colours:
        rgb = COLORS[name].rgb if name in COLORS else (200, 200, 200)
        out.append(f"<span style='display:inline-block;width:0.9em;height:0.9em;"
                   f"border-radius:50%;border:1px solid #999;vertical-align:middle;"
                   f"background:rgb{rgb}'></span>&nbsp;{name}")
    return " &nbsp; ".join(out)


def profile() -> None:
    """Who the customer is: home, taste (trendiness), style."""
    st.subheader(customer.name)
    st.markdown(f"**{customer.gender}** · lives near **{customer.home_city}** · "
                f"{len(history)} purchase{'s' if len(history) != 1 else ''}")
    st.progress(customer.trendiness, text=f"Trendiness {customer.trendiness:.2f}: "
                                          f"{customer.taste}")
    st.caption("0 buys what everybody buys · 1 hunts new, rising items")
    st.markdown(f"Likes **{', '.join(customer.categories)}**")
    st.markdown(swatches(customer.colors), unsafe_allow_html=True)


left, right = st.columns([1, 2])
with left:
    profile()
with right:
    st.plotly_chart(map_figure(stores_of(repo), customers, customer,
                               [p.store_id for p in history if p.store_id]),
                    key="simulate_map", config={"displayModeBar": False})

st.subheader("Purchase history")
shown = [p for p in history if p.sku in bought]
styled = image_grid([bought[p.sku] for p in shown], columns=6, key="simulate_history",
                    on_pick="Complete the look",
                    captions=[f"{p.date} · {field_label(bought[p.sku], 'category')} · "
                              f"{field_label(bought[p.sku], 'color')}" for p in shown])
if styled:
    open_in_outfits(styled)


def score_text(score: float) -> str:
    return f"{score:.3f}" if score >= 0.0005 else "<0.001"


def thumbnail(sku: str) -> str | None:
    item = bought.get(sku) or next((r.item for r in recs if r.item.sku == sku), None)
    item = item or repo.get_item(sku)
    return thumbnail_uri(image_path(item)) if item else None


def parts_table() -> None:
    """The score and its parts per recommendation, as bars, beside the pictures."""
    bars = {p: st.column_config.ProgressColumn(SHORT[p], help=PART_LABELS[p], min_value=0.0,
                                               max_value=1.0, format="%.2f", width=110,
                                               color=PART_COLOURS[p]) for p in PARTS}
    st.dataframe(parts_frame(recs, thumbnail), hide_index=True, width="stretch",
                 row_height=ROW, height=ROW * len(recs) + 40,
                 column_order=["#", "picture", "item", "score", *PARTS, "km", "because of"],
                 column_config={
                     "picture": st.column_config.ImageColumn("picture", width="small"),
                     "score": st.column_config.NumberColumn("score", format="%.4f"),
                     "km": st.column_config.NumberColumn("store km", format="%.0f"),
                     "because of": st.column_config.ImageColumn("after", width="small"),
                     **bars})


st.subheader(f"Recommended for {customer.name.split()[0]}")
options = [WHOLE_HISTORY, *(p.sku for p in shown)]
if state.get("simulate_reference") not in options:
    state["simulate_reference"] = WHOLE_HISTORY
reference = st.radio(
    "Recommend from", options, horizontal=True, key="simulate_reference",
    format_func=lambda s: "everything they bought" if s == WHOLE_HISTORY else
    f"{bought[s].attrs.get('color', '')} {bought[s].category} ({s})")
try:
    recs = recommender.recommend(repo, cid, k=k, fusion=fusion,
                                 reference=None if reference == WHOLE_HISTORY else reference)
except (KeyError, SimulationError) as exc:
    st.error(f"**Could not recommend.** {exc.args[0] if exc.args else exc}")
    st.stop()
if not recs:
    st.warning("Nothing left to recommend: this customer has bought every item they wear.")
else:
    image_grid([r.item for r in recs], columns=5, key="simulate_recs",
               captions=[f"#{i} · {score_text(r.score)} · {field_label(r.item, 'category')} · "
                         f"{field_label(r.item, 'color')}" for i, r in enumerate(recs, 1)])
    st.caption("Each score multiplies its parts (raised to their weights): how much the item "
               "looks like the purchase it comes from (last column), its popularity for this "
               "customer's taste, how its category goes with that purchase, how near its "
               "store is.")
    parts_table()

st.subheader("Evaluation")
if st.toggle("Evaluate on held-out purchases", key="simulate_eval",
             help="Hold out each customer's last purchase and rank the catalog from the "
                  "earlier ones, with the fused score and with baselines."):
    try:
        with st.spinner("Ranking the catalog for every customer…"):
            report = recommender.evaluate(repo, k=k, fusion=fusion)
    except SimulationError as exc:
        st.warning(str(exc))
        st.stop()
    best = report["baselines"]["random"]
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Hit rate@{k}", f"{report['hit_rate']:.2f}",
              f"{report['hit_rate'] - best['hit_rate']:+.2f} vs random")
    c2.metric(f"NDCG@{k}", f"{report['ndcg']:.3f}",
              f"{report['ndcg'] - best['ndcg']:+.3f} vs random")
    c3.metric("Customers evaluated", report["customers"])
    st.plotly_chart(eval_figure(report), key="simulate_eval_chart",
                    config={"displayModeBar": False})
    st.dataframe(eval_frame(report), hide_index=True, key="simulate_eval_table")
    st.caption(f"{report['note']} Baselines: random, raw popularity, visual similarity "
               "alone, and the fused score without each part (no_…).")
