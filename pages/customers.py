"""Customers: simulated or imported shoppers, what the fused score recommends to each and why,
on a map of the stores; its evaluation on held-out purchases; downloads as the CLI exports."""

from dataclasses import replace

import streamlit as st

from core.customers import figures as figs
from core.customers import importer
from core.customers.params import PARTS, FusionConfig, SimulationConfig, SimulationError
from core.customers.pipeline import last_run, run_simulation, stores_of
from core.customers.storemap import map_figure
from core.explore.thumbs import thumbnail_uri
from core.index import NoVectors
from core.ranges import widget
from core.tagging import labels as tagging_labels
from pages import cards
from pages import common as ui

ui.enter_through_app()

WHOLE_HISTORY = "__history__"
ROW = 56  # table row height (px): room for a thumbnail
BASE = SimulationConfig()  # the sliders' defaults and ranges

st.title("🛍️ Customers")
st.caption("Simulated (or imported) customers shop the catalog; the fused score recommends to "
           "each: looks alike × popularity for their taste × category affinity × store nearby.")
repo = ui.repo_or_stop()
ui.require_catalog(repo)
state = st.session_state

with st.sidebar:
    st.header("Simulation")
    seed = st.number_input("Seed", **widget(BASE, "seed"), key="simulate_seed")
    n_customers = st.slider("Customers", **widget(BASE, "num_customers"), key="simulate_customers")
    max_purchases = st.slider("Purchases per customer (at most)", **widget(BASE, "max_purchases"),
                              key="simulate_max_purchases")
    days = st.slider("Period (days)", **widget(BASE, "days"), key="simulate_days")
    p_max = st.number_input("Initial popularity up to (P_max)", **widget(BASE, "p_max"),
                            key="simulate_p_max")
    run = st.button("Run simulation", type="primary", key="simulate_run", width="stretch")
    with st.expander("Import a purchase history"):
        log_file = st.file_uploader(
            "Purchase log", type=importer.FILE_TYPES, key="simulate_import_purchases",
            help=importer.PURCHASE_HELP)
        people_file = st.file_uploader(
            "Customers (optional)", type=importer.FILE_TYPES, key="simulate_import_customers",
            help=importer.CUSTOMER_HELP)
        do_import = st.button("Import", key="simulate_import", width="stretch",
                              disabled=log_file is None)
    st.header("Fused score")
    k = st.slider("Recommendations", **widget(BASE, "top_k"), key="simulate_k")
    weights = {part: st.slider(f"Weight: {figs.PART_LABELS[part]}", **widget(FusionConfig, part),
                               key=f"simulate_w_{part}") for part in PARTS}
    threshold = st.slider("Popularity threshold", **widget(BASE, "p_threshold"),
                          key="simulate_threshold", help="Trend-seekers penalise items above "
                          "this share of the top popularity (the simulated shoppers do too).")
    exponent = st.slider("Penalty exponent", **widget(BASE, "penalty_exponent"),
                         key="simulate_exponent", help="How steeply they penalise popular items.")
    scale = st.slider("Distance scale (km)", **widget(BASE, "distance_scale_km"),
                      key="simulate_scale",
                      help="Store proximity is exp(-distance / scale): 0.37 at this distance.")
    st.caption("Weights are exponents: 0 drops a part, 2 makes it count twice as much.")

# one configuration: the simulation's, and the fused score's taken from it
cfg = replace(BASE, seed=int(seed), num_customers=n_customers, max_purchases=max_purchases,
              top_k=k, p_max=int(p_max), p_threshold=threshold, penalty_exponent=exponent,
              days=days, distance_scale_km=float(scale))
fusion = cfg.fusion().with_weights(weights)

if run:
    bar = st.progress(0.0, text="Simulating purchases…")
    try:
        report = run_simulation(repo, cfg, progress=lambda done, total: bar.progress(
            done / total, text=f"Simulating purchases: {done}/{total}"))
    except SimulationError as exc:
        ui.stop_with("Could not simulate.", exc)
    bar.empty()
    st.toast(f"{report['customers']} customers made {report['purchases']} purchases.", icon="✅")

if do_import and log_file is not None:
    try:
        with st.spinner("Importing the purchase history…"):
            report = importer.import_history(repo, *(
                importer.Source(f.name, f.getvalue()) if f else None
                for f in (log_file, people_file)))
    except importer.ImportProblem as exc:
        st.error(f"**Could not import; nothing was changed.** {exc}")
    else:
        st.success(importer.import_summary(report))

recommender = ui.resource("core.customers.service:recommender")
customers = recommender.customers(repo)
if not customers:
    st.info("No customers yet: set the simulation in the sidebar and press **Run simulation**, "
            "or import a purchase history there.")
    st.stop()
if header := figs.run_caption(last_run(repo)):
    st.caption(header)
try:
    recommender.features(repo)
except NoVectors as exc:
    ui.stop_with("The catalog has no garment vectors yet. Run `python -m core embed` to embed "
                 "it, then reload this page.", exc)
with st.sidebar:
    st.header("Download")
    for name, (text, rows) in importer.export_tables(repo).items():
        st.download_button(f"{name}.csv ({rows:,} rows)", text, file_name=f"{name}.csv",
                           mime="text/csv", key=f"simulate_download_{name}", width="stretch",
                           help="The same CSV files as `python -m core customers export`; "
                                "*Import a purchase history* reads them back.")

by_id = {c.customer_id: c for c in customers}
if state.get("simulate_customer") not in by_id:  # a new run or an import: other customers
    state["simulate_customer"] = customers[0].customer_id  # set, so the browser shows it too
cid = st.selectbox("Customer", list(by_id), key="simulate_customer",
                   format_func=lambda c: figs.customer_label(by_id[c]))
customer = by_id[cid]
history = recommender.history(repo, cid)
bought = {it.sku: it for it in repo.get_items([p.sku for p in history])}

left, right = st.columns([1, 2])
with left:  # who the customer is: home, taste (trendiness), style
    st.subheader(customer.name)
    st.markdown(figs.profile_line(customer, len(history)))
    st.progress(customer.trendiness, text=f"Trendiness {customer.trendiness:.2f}: "
                                          f"{customer.taste}")
    st.caption("0 buys what everybody buys · 1 hunts new, rising items")
    st.markdown(f"Likes **{', '.join(customer.categories)}**")
    st.markdown(tagging_labels.swatches(customer.colors), unsafe_allow_html=True)
right.plotly_chart(map_figure(stores_of(repo), customers, customer,
                              [p.store_id for p in history if p.store_id]),
                   key="simulate_map", config={"displayModeBar": False})

st.subheader("Purchase history")
shown = [p for p in history if p.sku in bought]
if styled := cards.image_grid([bought[p.sku] for p in shown], columns=6, key="simulate_history",
                              on_pick="✨ Complete", pick_help="Complete the look with this "
                              "item on the Outfits page",
                              captions=[figs.history_caption(p, bought[p.sku]) for p in shown]):
    cards.open_in_outfits(styled)

st.subheader(f"Recommended for {customer.name.split()[0]}")
options = [WHOLE_HISTORY, *(p.sku for p in shown)]
if state.get("simulate_reference") not in options:
    state["simulate_reference"] = WHOLE_HISTORY
reference = st.radio("Recommend from", options, horizontal=True, key="simulate_reference",
                     format_func=lambda s: figs.reference_label(
                         None if s == WHOLE_HISTORY else s, bought.get(s)))
try:
    recs = recommender.recommend(repo, cid, k=k, fusion=fusion,
                                 reference=None if reference == WHOLE_HISTORY else reference)
except (KeyError, SimulationError) as exc:
    ui.stop_with("Could not recommend.", exc)


def thumbnail(sku: str) -> str | None:
    item = bought.get(sku) or next((r.item for r in recs if r.item.sku == sku), None)
    item = item or repo.get_item(sku)
    return thumbnail_uri(cards.image_path(item)) if item else None


if not recs:
    st.warning("Nothing left to recommend: this customer has bought every item they wear.")
else:
    cards.image_grid([r.item for r in recs], columns=5, key="simulate_recs",
                     captions=[figs.rec_caption(i, r) for i, r in enumerate(recs, 1)])
    st.caption(figs.SCORE_NOTE)
    bars = {p: st.column_config.ProgressColumn(
        figs.PART_SHORT[p], help=figs.PART_LABELS[p], min_value=0.0, max_value=1.0,
        format="%.2f", width=110, color=figs.PART_COLOURS[p]) for p in PARTS}
    st.dataframe(figs.parts_frame(recs, thumbnail), hide_index=True, width="stretch",
                 row_height=ROW, height=ROW * len(recs) + 40,
                 column_order=["#", "picture", "item", "score", *PARTS, "km", "because of"],
                 column_config={
                     "picture": st.column_config.ImageColumn("picture", width="small"),
                     "score": st.column_config.NumberColumn("score", format="%.4f"),
                     "km": st.column_config.NumberColumn("store km", format="%.0f"),
                     "because of": st.column_config.ImageColumn("after", width="small"),
                     **bars})

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
    if caution := figs.sample_caution(report["customers"]):
        st.warning(caution)
    for col, (label, value, delta) in zip(st.columns(3), figs.eval_metrics(report), strict=True):
        col.metric(label, value, delta)
    st.plotly_chart(figs.eval_figure(report), key="simulate_eval_chart",
                    config={"displayModeBar": False})
    st.dataframe(figs.eval_frame(report), hide_index=True, key="simulate_eval_table")
    st.caption(figs.eval_caption(report))
