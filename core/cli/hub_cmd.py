"""`models list|show|activate|delete|train|status|stop|compare`: the Models page's commands
(`models train-job ID` is the background trainer the page and `models train` start)."""

from __future__ import annotations

import argparse

from core.cli.common import CliError, add_json_flag, emit_json, progress_bar, repository, settings
from core.modelhub.params import FineTuneParams
from core.ranges import ranges


def register(sub, _groups) -> None:
    p = sub.add_parser("models", help="image encoders: list, show, fine-tune, compare, activate")
    models = p.add_subparsers(dest="models_command", required=True, metavar="WHAT")
    q = models.add_parser("list", help="every model, which encoder is active, vector counts")
    add_json_flag(q)
    q.set_defaults(handler=cmd_list)
    q = models.add_parser("show", help="one model with its manifest")
    q.add_argument("model_id")
    add_json_flag(q)
    q.set_defaults(handler=cmd_show)
    q = models.add_parser("activate", help="embed the catalog with a model, then switch to it")
    q.add_argument("model_id")
    add_json_flag(q)
    q.set_defaults(handler=cmd_activate)
    q = models.add_parser("delete", help="delete a fine-tuned model (not the active one)")
    q.add_argument("model_id")
    q.set_defaults(handler=cmd_delete)
    _register_training(models)


def _register_training(models) -> None:
    q = models.add_parser("train", help="fine-tune the active encoder on the catalog "
                                        "(background process; see `models status`)")
    d = FineTuneParams()  # every default and range is the fine-tune settings'

    def limits(name: str) -> str:
        low, high, _ = ranges(FineTuneParams)[name]
        return f"{low:g} to {high:g}"

    q.add_argument("--epochs", type=int, default=d.epochs,
                   help=f"{limits('epochs')} (default {d.epochs})")
    q.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"{limits('batch_size')} (default {d.batch_size})")
    q.add_argument("--lr", type=float, default=d.lr, help=f"{limits('lr')} (default {d.lr:g})")
    q.add_argument("--image-size", type=int, default=d.image_size,
                   help=f"{limits('image_size')} px (default: the encoder's own)")
    q.add_argument("--device", default=None, help="default: the DEVICE setting")
    q.add_argument("--max-minutes", type=float, default=d.max_minutes,
                   help=f"time budget of the whole run, caching the trunk's features included, "
                        f"{limits('max_minutes')} (default {d.max_minutes:g} = none)")
    q.add_argument("--folder", default=None, metavar="DIR",
                   help="train on a folder of class folders (DIR/<class>/*.jpg, or with "
                        "train/val/test above them) instead of the catalog")
    q.add_argument("--wait", action="store_true", help="wait for the run to end")
    add_json_flag(q)
    q.set_defaults(handler=cmd_train)
    q = models.add_parser("status", help="the latest (or a given) fine-tuning run")
    q.add_argument("job_id", nargs="?")
    add_json_flag(q)
    q.set_defaults(handler=cmd_status)
    q = models.add_parser("stop", help="stop the running fine-tune (its best epoch is kept)")
    q.set_defaults(handler=cmd_stop)
    q = models.add_parser("compare", help="two encoders on a fine-tuned model's held-out items")
    q.add_argument("model_a")
    q.add_argument("model_b")
    add_json_flag(q)
    q.set_defaults(handler=cmd_compare)
    q = models.add_parser("train-job", help=argparse.SUPPRESS)
    q.add_argument("job_id")
    q.set_defaults(handler=cmd_train_job)


def cmd_list(args) -> int:
    from core.modelhub.listing import list_models

    cfg = settings()
    rows = list_models(cfg, repository(cfg))
    if args.json:
        emit_json(rows)
        return 0
    for r in rows:
        mark = "*" if r["active"] else " "
        vec = "" if r["vectors"] is None else f"{r['vectors']:>7} vectors"
        print(f"{mark} {r['id']:<22} {r['kind']:<18} {r['source']:<9} {vec}"
              f"{'' if r['available'] else '  (weights missing)'}")
    return 0


def cmd_show(args) -> int:
    from core.modelhub.listing import show_model
    from core.modelhub.store import ModelError

    cfg = settings()
    try:
        emit_json(show_model(cfg, args.model_id, repository(cfg)))
    except ModelError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_activate(args) -> int:
    from core.modelhub.activate import activate
    from core.modelhub.store import ModelError

    cfg = settings()
    try:
        result = activate(cfg, repository(cfg), args.model_id,
                          progress=progress_bar(f"embedding with {args.model_id}"),
                          tag_progress=progress_bar("re-tagging"))
    except ModelError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(result)
        return 0
    print(f"{result['model_id']} is active (was {result['previous']}); "
          f"{result['vectors']}/{result['items']} items have vectors")
    if result["retagged"] is None:
        print("re-tagging failed (see the log): run `python -m core tag`")
    elif result["retagged"]:
        print(f"re-tagged {result['retagged']} items whose predicted tags came from "
              f"{result['previous']}")
    for dep in result["stale"]:
        print(f"stale: the {dep['model']} was trained on {dep['trained_on']} vectors; "
              f"retrain: {dep['command']}")
    return 0


def cmd_delete(args) -> int:
    from core.modelhub.activate import active_model
    from core.modelhub.store import ModelError, delete_model

    cfg = settings()
    try:
        delete_model(cfg.data_dir, args.model_id, active_model(cfg))
    except ModelError as exc:
        raise CliError(str(exc)) from None
    print(f"deleted {args.model_id}")
    return 0


def cmd_train(args) -> int:
    import time

    from core.modelhub.data import DataError
    from core.modelhub.jobs import JobRunning, job_status, start_job

    cfg = settings()
    params = FineTuneParams(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                            image_size=args.image_size, device=args.device or cfg.device_setting,
                            max_minutes=args.max_minutes, folder=args.folder)
    try:
        job_id = start_job(cfg, params)
    except (DataError, JobRunning) as exc:
        raise CliError(str(exc)) from None
    status = job_status(cfg.data_dir, job_id)
    while args.wait and status and status.get("state") in ("starting", "loading", "caching",
                                                           "running"):
        time.sleep(2)
        status = job_status(cfg.data_dir, job_id)
    if args.json:
        emit_json(status)
    else:
        print(f"job {job_id}: {status.get('state')} {status.get('message', '')}")
    return 0 if status.get("state") not in ("failed", "diverged", "lost") else 1


def cmd_status(args) -> int:
    from core.modelhub.jobs import job_status, latest_job

    cfg = settings()
    job_id = args.job_id or latest_job(cfg.data_dir)
    status = job_status(cfg.data_dir, job_id) if job_id else None
    if status is None:
        raise CliError("no fine-tuning run yet" if not args.job_id else f"no job {job_id}")
    if args.json:
        emit_json(status)
    else:
        print(f"job {job_id}: {status.get('state')} epoch {status.get('epoch', 0)}/"
              f"{status.get('epochs')} {status.get('message', '')}")
    return 0


def cmd_stop(_args) -> int:
    from core.modelhub.jobs import running_job, stop_job

    cfg = settings()
    job_id = running_job(cfg.data_dir)
    if not job_id or not stop_job(cfg.data_dir, job_id):
        raise CliError("no fine-tuning run is going")
    print(f"asked job {job_id} to stop; its best epoch is kept")
    return 0


def cmd_compare(args) -> int:
    from core.modelhub.compare import compare
    from core.modelhub.store import ModelError

    cfg = settings()
    try:
        result = compare(cfg, repository(cfg), args.model_a, args.model_b)
    except ModelError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(result)
        return 0
    for model_id, fig in result["figures"].items():
        print(f"{model_id:<22} " + "  ".join(f"{k} {v}" for k, v in fig.items()))
    return 0


def cmd_train_job(args) -> int:
    from core.modelhub.jobs import run_job

    return run_job(settings(), args.job_id)
