"""What the Models page shows, as plain data and figures (no streamlit here)."""

from __future__ import annotations

from typing import Any

LOSS_KEYS = ("train_loss",)
VAL_KEYS = {"val_demo_r1_item": "R@1 exact item", "val_demo_p10_cat": "P@10 category",
            "val_demo_p10_color": "P@10 colour"}
FIGURES = {"p10_category": "P@10 same category", "p10_colour": "P@10 same colour",
           "r1_item": "R@1 exact item (augmented view)", "top1_category": "classifier top-1"}
HEADLINES = {"starting": "Starting the trainer…", "loading": "Loading the encoder and photos…",
             "caching": "Caching the frozen trunk's features…", "running": "Training…",
             "done": "Finished.", "stopped": "Stopped.", "failed": "Failed.",
             "diverged": "Diverged.", "lost": "The trainer process is gone."}


def models_table(rows: list[dict], *, with_missing: bool = True) -> list[dict]:
    """Listing rows as table rows: the active encoder first (marked), then those with vectors,
    then the usable ones, then (``with_missing``) those whose weights are not installed."""
    out = []
    order = sorted(rows, key=lambda r: (not r["active"], not r["available"], not r["vectors"]))
    for r in order:
        if not (with_missing or r["available"]):
            continue
        metrics = ", ".join(f"{k} {_figure(v)}" for k, v in list(r["metrics"].items())[:4])
        out.append({"active": "✅" if r["active"] else "", "id": r["id"], "kind": r["kind"],
                    "source": r["source"],
                    "vectors": f"{r['vectors']:,}" if r["vectors"] is not None else "",
                    "weights": "present" if r["available"] else "missing",
                    "created": _when(r["created"]), "metrics": metrics,
                    "stale": "⚠️ retrain" if r.get("stale") else ""})
    return out


def _figure(value: Any) -> str:
    """A metric as a person reads it: 0.6017628 -> "0.602"."""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _when(stamp: str | None) -> str:
    """ "2026-12-05T14:03:11.52+00:00" -> "2026-12-05 14:03" ("" when unknown)."""
    if not stamp:
        return ""
    text = str(stamp).replace("T", " ")
    return text[:16] if len(text) >= 16 and text[4] == "-" else text


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"about {seconds // 3600} h {seconds % 3600 // 60:02d} min left"
    return f"about {seconds // 60} min {seconds % 60:02d} s left" if seconds >= 60 else \
        f"about {seconds} s left"


def progress_of(status: dict) -> tuple[float, str]:
    """(fraction 0..1, one line) of a run's status."""
    state = status.get("state", "")
    frac = float(status.get("progress") or 0.0)
    line = HEADLINES.get(state, state)
    if state == "running":
        line += (f" epoch {status.get('epoch', 1)}/{status.get('epochs')}, step "
                 f"{status.get('step', 0)}/{status.get('steps', '?')} · "
                 f"{eta_text(status.get('eta_s'))}")
    elif state in ("loading", "caching") and status.get("cache_total"):
        line += (f" {status.get('cached', 0):,}/{status['cache_total']:,} images · "
                 f"{eta_text(status.get('eta_s'))}")
    elif status.get("message"):
        line += f" {status['message']}"
    return (1.0 if state == "done" else min(max(frac, 0.0), 1.0)), line


def curves_figure(history: list[dict]):
    """Training loss and held-out validation figures per epoch (plotly, two panels)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "validation (held out)"))
    epochs = [r["epoch"] for r in history]
    for key in LOSS_KEYS:
        fig.add_scatter(x=epochs, y=[r.get(key) for r in history], name=key,
                        mode="lines+markers", row=1, col=1)
    for key, label in VAL_KEYS.items():
        if any(key in r for r in history):
            fig.add_scatter(x=epochs, y=[r.get(key) for r in history], name=label,
                            mode="lines+markers", row=1, col=2)
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_layout(height=320, margin={"t": 40, "b": 20, "l": 20, "r": 20})
    return fig


def comparison_rows(result: dict[str, Any]) -> list[dict]:
    """One row per figure with both models side by side and the difference."""
    a, b = result["models"]
    fa, fb = result["figures"][a], result["figures"][b]
    rows = []
    for key, label in FIGURES.items():
        va, vb = fa.get(key), fb.get(key)
        rows.append({"figure": label, a: va if va is not None else "—",
                     b: vb if vb is not None else "—",
                     "change": round(vb - va, 4) if va is not None and vb is not None else "—"})
    return rows
