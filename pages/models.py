"""Models: every image encoder with its manifest; fine-tune the active one on the catalog in a
background process (live progress, curves, stop), compare, and activate without downtime."""

import streamlit as st

from core.modelhub import jobs, view
from core.modelhub.activate import activate, active_model, launch_retrain, stale_dependents
from core.modelhub.compare import compare
from core.modelhub.data import DataError
from core.modelhub.finetune import FineTuneParams
from core.modelhub.listing import list_models, show_model
from core.modelhub.store import ModelError, delete_model
from core.ranges import widget
from pages.cards import image_grid
from pages.common import enter_through_app, repo_or_stop, require_catalog, settings

enter_through_app()
P = FineTuneParams  # the fine-tune form's defaults and ranges
st.title("🧠 Models")
cfg = settings()
repo = repo_or_stop()
require_catalog(repo)
rows = list_models(cfg, repo)
active = active_model(cfg)
encoders = [r["id"] for r in rows if r["kind"] == "image_encoder" and r["available"]]
user_models = [r["id"] for r in rows if r["source"] == "user"]
if st.session_state.get("models_offer") in user_models:  # a run just wrote this model
    offered = st.session_state.pop("models_offer")
    st.session_state["models_cmp_new"] = st.session_state["models_target"] = offered

st.caption(f"Active image encoder: **{active}** (search, tagging and the map use its vectors).")
missing = sum(not r["available"] for r in rows)
with_missing = missing and st.toggle(
    f"Show the {missing} encoders whose weights are not installed", key="models_with_missing",
    help="Known architectures without weights on this machine; weights/README.md says which "
         "file to put where.")
st.dataframe(view.models_table(rows, with_missing=bool(with_missing)), hide_index=True,
             width="stretch")
with st.expander("Model details"):
    listed = [r["id"] for r in rows if r["available"] or with_missing]
    shown = st.selectbox("Model", listed, key="models_show",
                         index=listed.index(active) if active in listed else 0)
    if record := show_model(cfg, shown, repo)["manifest"]:
        st.json(record, expanded=False)
    else:
        st.caption(f"`{shown}` has no training record here: its weights come from outside the "
                   "project (weights/README.md says which file to put where).")
    if shown in user_models and shown != active and st.button("Delete this model",
                                                               key="models_delete"):
        delete_model(cfg.data_dir, shown, active)
        st.rerun()

for dep in stale_dependents(cfg):
    left, right = st.columns([4, 1])
    left.warning(f"The {dep['model']} was trained on `{dep['trained_on']}` vectors, not the "
                 f"active `{dep['active']}`: retrain it with `{dep['command']}`.")
    if right.button("Retrain in background", key=f"models_retrain_{dep['file']}"):
        log_file = launch_retrain(cfg, dep["command"])
        right.info(f"Started; log: `{log_file}`")

st.subheader(f"Fine-tune {active} on your catalog")
with st.form("models_train"):
    c1, c2, c3 = st.columns(3)
    epochs = c1.number_input("Epochs", **widget(P, "epochs"), key="models_epochs")
    batch = c2.number_input("Batch size", **widget(P, "batch_size"), key="models_batch")
    lr = c3.number_input("Learning rate", **widget(P, "lr"), format="%.5f", key="models_lr")
    image_size = c1.number_input("Image size (px, 0 = the encoder's own)",
                                 **widget(P, "image_size", 0) | {"min_value": 0},
                                 key="models_size")
    device = c2.selectbox("Device", ["auto", "cpu", "cuda"], key="models_device")
    budget = c3.number_input("Time budget (minutes, 0 = none)", **widget(P, "max_minutes"),
                             key="models_budget",
                             help="The whole run's time, reading the photos and caching "
                                  "the trunk's features included: if it runs out before "
                                  "training, the run stops with no model; once training, the "
                                  "epoch under way ends there, is validated, and the best "
                                  "epoch is kept.")
    folder = st.text_input("Train on a folder of class folders instead (optional)",
                           placeholder="/path/to/photos  (holding <class>/*.jpg)",
                           key="models_folder", help="Classes named like the catalog's "
                           "categories teach the category head; all photos teach matching.")
    start = st.form_submit_button("Start fine-tuning", type="primary")
if start:
    params = FineTuneParams(epochs=int(epochs), batch_size=int(batch), lr=float(lr),
                            image_size=int(image_size) or None, device=device,
                            max_minutes=float(budget), folder=folder.strip() or None)
    try:
        st.session_state["models_job"] = jobs.start_job(cfg, params)
    except jobs.JobRunning as exc:
        st.warning(f"{exc}. Its progress is shown below.")
        st.session_state["models_job"] = exc.job_id
    except DataError as exc:
        st.error(str(exc))

job_id = jobs.running_job(cfg.data_dir) or st.session_state.get("models_job") or \
    jobs.latest_job(cfg.data_dir)


@st.fragment(run_every=2.0 if job_id and jobs.running_job(cfg.data_dir) else None)
def job_panel(job: str) -> None:
    """The run's live progress, curves and Stop button (re-run every 2 s while it goes)."""
    status = jobs.job_status(cfg.data_dir, job) or {}
    state = status.get("state", "")
    fraction, line = view.progress_of(status)
    st.markdown(f"**Run {job}** (from `{status.get('base')}`)")
    st.progress(fraction, text=line)
    if state in ("failed", "diverged", "lost"):
        st.error(status.get("message", state))
    if status.get("history"):
        st.plotly_chart(view.curves_figure(status["history"]), key=f"models_curves_{job}")
    if state in jobs.LIVE and st.button("Stop", key="models_stop",
                                        help="ends after the current step; the best epoch "
                                             "so far is kept as a model (while reading "
                                             "photos or caching features: within a batch, "
                                             "with no model)"):
        jobs.stop_job(cfg.data_dir, job)
    new_model = status.get("model_id")
    if new_model and new_model not in user_models and \
            st.session_state.get("models_reloaded_for") != new_model:
        st.session_state["models_reloaded_for"] = new_model
        st.session_state["models_offer"] = new_model  # preselected to compare and activate
        st.rerun()  # the whole page: the new model joins the lists to compare and activate


if job_id:
    job_panel(job_id)

if user_models:
    st.subheader("Compare")
    c1, c2 = st.columns(2)
    new = c1.selectbox("Fine-tuned model", user_models[::-1], key="models_cmp_new")
    base = c2.selectbox("Against", [m for m in encoders if m != new],
                        index=max(0, [m for m in encoders if m != new].index(active))
                        if active in encoders and active != new else 0, key="models_cmp_base")
    if st.button("Compare on held-out items", key="models_compare"):
        with st.spinner("Embedding the held-out items with both models…"):
            try:
                st.session_state["models_cmp"] = compare(cfg, repo, base, new,
                                                         held_out_of=new)
            except ModelError as exc:
                st.error(str(exc))
    result = st.session_state.get("models_cmp")
    if result:
        st.caption(f"{result['n']} held-out catalog items (never trained on); queries are "
                   "augmented views of them.")
        st.dataframe(view.comparison_rows(result), hide_index=True)
        for i, sku in enumerate(result["queries"]):
            st.markdown(f"**Example query {i + 1}:** an augmented view of `{sku}`")
            for model_id in result["models"]:
                hits = result["examples"][model_id][i]
                items = {it.sku: it for it in repo.get_items([s for s, _ in hits])}
                st.caption(model_id)
                if items:
                    image_grid([items[s] for s, _ in hits if s in items],
                               scores=[sc for s, sc in hits if s in items],
                               key=f"cmp-{model_id}-{i}")
                else:  # trained on a folder: its held-out photos are not catalog items
                    st.image([result["paths"][s] for s, _ in hits], width=110,
                             caption=[f"{s} · {sc:.2f}" for s, sc in hits])

st.subheader("Activate")
choices = [m for m in encoders if m != active]
if choices:
    target = st.selectbox("Encoder to activate", choices[::-1], key="models_target")
    st.caption("The catalog is embedded with it first (resumable); searches keep using "
               f"{active} until the switch.")
    if st.button(f"Embed the catalog and activate {target}", key="models_activate"):
        bar = st.progress(0.0, text="embedding the catalog…")
        try:
            done = activate(cfg, repo, target, progress=lambda d, t: bar.progress(
                d / max(t, 1), text=f"embedding the catalog: {d}/{t}"),
                tag_progress=lambda d, t: bar.progress(
                    d / max(t, 1), text=f"re-tagging with the new encoder: {d}/{t}"))
        except (ModelError, ValueError) as exc:
            st.error(str(exc))
        else:
            st.session_state["models_activated"] = done
            st.rerun()
if st.session_state.get("models_activated"):
    done = st.session_state["models_activated"]
    st.success(f"**{done['model_id']}** is active (was {done['previous']}): "
               f"{done['vectors']}/{done['items']} items have vectors"
               + (f"; {done['retagged']} items re-tagged." if done.get("retagged") else "."))
