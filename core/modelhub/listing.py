"""Every model the studio knows: registered backbones, shipped weights (weights/manifest.json)
and the user's fine-tuned encoders, with which encoder is active and its vector counts."""

from __future__ import annotations

from core.modelhub import store
from core.modelhub.activate import active_model, stale_dependents

OTHER_SHIPPED = {"feedback_combiner.pt": "feedback_combiner", "compat.pt": "outfit_model",
                 "colour_pixels.json": "colour_reader"}


def list_models(settings, repo=None) -> list[dict]:
    """One dict per model: id, kind, source, active, available, vectors, metrics, created."""
    from core.models.manifest import read_manifest
    from core.models.registry import MissingWeights, get_spec, list_backbones, resolve_weights

    store.attach(settings.data_dir)
    active = active_model(settings)
    files = read_manifest(settings.weights_dir).get("files", {})
    rows = []
    for name in list_backbones():
        spec = get_spec(name)
        try:
            resolve_weights(spec, settings.weights_dir)
            available = True
        except MissingWeights:
            available = False
        entry = files.get(spec.weights_file or "", {}) if spec.shipped else {}
        rows.append(_row(name, "image_encoder", "shipped" if spec.shipped else "registry",
                         name == active, available, entry, spec.description))
    for manifest in store.list_user_models(settings.data_dir):
        rows.append(_row(manifest["id"], "image_encoder", "user", manifest["id"] == active, True,
                         manifest, f"fine-tuned from {manifest.get('base')}"))
    stale = {d["file"] for d in stale_dependents(settings)}
    for file, kind in OTHER_SHIPPED.items():
        if (settings.weights_dir / file).is_file():
            row = _row(file.rsplit(".", 1)[0], kind, "shipped", True, True, files.get(file, {}),
                       "")
            rows.append({**row, "stale": file in stale})
    for row in rows:
        row["vectors"] = repo.vector_count(row["id"]) if (repo is not None and row["kind"] ==
                                                          "image_encoder") else None
    return rows


# An encoder's headline figures, kept in its manifest entry per evaluation: (evaluation,
# figure, name in the listing).
HEADLINES = (("classify:clothing-small", "top1", "photo_top1"),
             ("search:clothing-small", "p10_same_class", "photo_p10_same_class"))


def _row(model_id: str, kind: str, source: str, active: bool, available: bool, entry: dict,
         description: str) -> dict:
    metrics = entry.get("metrics") or {}
    flat = {name: metrics[ev][fig] for ev, fig, name in HEADLINES
            if isinstance(metrics.get(ev), dict) and fig in metrics[ev]}
    flat |= {k: v for k, v in metrics.items() if isinstance(v, int | float | str)}
    return {"id": model_id, "kind": kind, "source": source, "active": active,
            "available": available, "created": entry.get("created"),
            "sha256": entry.get("sha256"), "metrics": flat, "description": description}


def show_model(settings, model_id: str, repo=None) -> dict:
    """The listing row of a model with its whole manifest (user models) or manifest entry."""
    from core.models.manifest import read_manifest

    rows = {r["id"]: r for r in list_models(settings, repo)}
    if model_id not in rows:
        raise store.ModelError(f"no model {model_id!r}: see `python -m core models list`")
    row = rows[model_id]
    if row["source"] == "user":
        manifest = store.user_manifest(model_id) or {}
    else:
        files = read_manifest(settings.weights_dir).get("files", {})
        manifest = next((v for k, v in files.items() if k.rsplit(".", 1)[0] == model_id), {})
    return {**row, "manifest": manifest}
