"""Activation without downtime: embed the catalog with the new model under its own id (the
old vectors and the active pointer untouched, so searches keep answering), warm its index,
then swap the pointer DATA_DIR/models/active.json with an atomic rename."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.config import ACTIVE_POINTER
from core.modelhub import store

log = logging.getLogger(__name__)
# the models trained on top of the image vectors: weights file, name, retrain command
DEPENDENTS = (("feedback_combiner.pt", "feedback combiner (Refine)", "train feedback"),
              ("compat.pt", "outfit model (Outfits)", "train compat"))


def active_model(settings) -> str:
    """The active image encoder: the pointer's model, else the BACKBONE setting."""
    return settings.with_active_model().backbone


def write_pointer(data_dir: Path, model_id: str) -> None:
    store.write_json(Path(data_dir) / ACTIVE_POINTER,
                     {"model_id": model_id, "user": store.is_user_id(model_id),
                      "activated": store.now()})


def activate(settings, repo, model_id: str, progress: Callable[[int, int], None] | None = None,
             tag_progress: Callable[[int, int], None] | None = None) -> dict:
    """Embed the items lacking a ``model_id`` vector (resumable) and pack the vectors, build
    its index, swap; then re-predict the tags the previous encoder predicted (supplied values
    are never touched)."""
    from core.index import IndexManager
    from core.models.embed import embed_and_pack
    from core.models.registry import get_spec

    store.attach(settings.data_dir)
    try:
        get_spec(model_id)
    except KeyError:
        raise store.ModelError(f"no model {model_id!r}: see `python -m core models list`") \
            from None
    previous = active_model(settings)
    embedded = embed_and_pack(repo, settings, model_id, progress=progress)
    vectors, items = repo.vector_count(model_id), repo.count_items()
    if vectors == 0:
        raise store.ModelError(f"{model_id}: no catalog item could be embedded (no images?); "
                               f"{previous} stays active")
    IndexManager(settings).get(repo, model_id)  # the first search after the swap is fast
    write_pointer(settings.data_dir, model_id)
    log.info("activated %s (was %s): %d/%d items embedded", model_id, previous, vectors, items)
    return {"model_id": model_id, "previous": previous, "embedded": embedded,
            "vectors": vectors, "items": items, "retagged": retag(settings, repo, tag_progress),
            "stale": stale_dependents(settings.with_active_model())}


def retag(settings, repo, progress: Callable[[int, int], None] | None = None) -> int | None:
    """Re-predict the tags of the items whose predicted category, colour or pattern came from
    another encoder than the now active one; the number of items re-tagged (None when the
    tagger could not run: the activation stands, `python -m core tag` retries)."""
    from core.models.embed import Embedder
    from core.tagging.catalog import tag_catalog

    active = settings.with_active_model()
    try:
        report = tag_catalog(repo, active, Embedder(active.backbone, active), progress=progress)
    except Exception as exc:  # the swap is done; tags are a refinement on top
        log.warning("re-tagging with %s failed (%s): run `python -m core tag`",
                    active.backbone, exc)
        return None
    return report.tagged


def stale_dependents(settings) -> list[dict]:
    """The feedback combiner and outfit model when trained on other image vectors or weights
    than the active encoder's, each with the command that retrains it."""
    from core.models.manifest import image_weights_sha256, read_manifest

    active = active_model(settings)
    current = image_weights_sha256(settings.weights_dir, active)
    files = read_manifest(settings.weights_dir).get("files", {})
    out = []
    for file, name, command in DEPENDENTS:
        data = (files.get(file) or {}).get("data") or {}
        if not (Path(settings.weights_dir) / file).is_file():
            continue
        trained_on, sha = data.get("model_id"), data.get("image_weights_sha256")
        if trained_on != active or (sha and current and sha != current):
            out.append({"file": file, "model": name, "trained_on": trained_on, "active": active,
                        "command": f"python -m core {command} --model-id {active}"})
    return out


def launch_retrain(settings, command: str) -> Path:
    """Start a dependent's retrain command in the background; returns its log file."""
    from core.modelhub.jobs import jobs_dir, settings_env

    args = command.split()[3:]  # after "python -m core"
    log_path = jobs_dir(settings.data_dir) / f"retrain-{args[1]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    import os

    with log_path.open("w") as out:
        subprocess.Popen([sys.executable, "-m", "core", *args], stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         env={**os.environ, **settings_env(settings)})
    return log_path
