"""`outfit score | complete | fitb`, `train compat`, `eval compat`."""

from __future__ import annotations

import logging
from pathlib import Path

from core.cli.common import (
    CliError,
    add_json_flag,
    emit_json,
    progress_bar,
    repository,
    settings,
)
from core.outfits.params import SuggestParams
from core.outfits.train_config import CompatibilityTrainConfig
from core.ranges import range_problem
from core.taxonomy import GENDERS, SEASONS

log = logging.getLogger(__name__)


def register(_sub, groups) -> None:
    p = groups["outfit"].add_parser("score", help="how well catalog items and photos go together")
    _pieces_args(p)
    p.set_defaults(handler=cmd_score)
    _register_complete(groups["outfit"])
    p = groups["outfit"].add_parser("fitb", help="fill in the blank: which candidate fits best")
    _pieces_args(p)
    p.add_argument("--candidates", nargs="+", required=True, metavar="ID",
                   help="catalog items to choose from")
    p.set_defaults(handler=cmd_fitb)
    _register_train(groups["train"])
    _register_eval(groups["eval"])


def _register_complete(group) -> None:
    p = group.add_parser("complete", help="catalog items that complete a look")
    _pieces_args(p)
    p.add_argument("--slot", action="append", dest="slots", metavar="FAMILY",
                   help="garment family to fill (top, bottom, full, outer, shoes, bag, hat); "
                        "repeatable (default: what is missing, then the optional pieces)")
    p.add_argument("--k", type=int, default=SuggestParams.k,
                   help=f"suggestions per slot, {SuggestParams.K[0]}..{SuggestParams.K[1]} "
                        f"(default {SuggestParams.k})")
    p.add_argument("--for", dest="gender", default="auto", choices=("auto", "women", "men", "any"),
                   help="suggest items for women or men (and unisex ones), for anyone, or auto "
                        "(default: whom the look's catalog pieces are for)")
    p.set_defaults(handler=cmd_complete)


def _register_train(group) -> None:
    p = group.add_parser("compat", help="train the outfit compatibility model")
    p.add_argument("--model-id", default=None, help="image vectors to use (default: BACKBONE)")
    d = CompatibilityTrainConfig()  # every default is the training config's
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--patience", type=int, default=d.patience,
                   help="early stop after N flat epochs")
    p.add_argument("--swaps", type=int, default=d.swaps,
                   help=f"random-swap negatives per compatible outfit and epoch (default "
                        f"{d.swaps})")
    p.add_argument("--no-facts", action="store_true",
                   help="read the pictures only, not the catalog's season and gender")
    p.add_argument("--facts-dropout", type=float, default=d.facts_dropout,
                   help="share of training items whose facts are hidden, as a photo's are "
                        f"(default {d.facts_dropout})")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", type=Path, help="weights file (default weights/compat.pt)")
    p.add_argument("--no-manifest", action="store_true", help="don't record in the manifest")
    p.add_argument("--notes", help="free text for the manifest entry")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    add_json_flag(p)
    p.set_defaults(handler=cmd_train)


def _register_eval(group) -> None:
    p = group.add_parser("compat", help="outfit compatibility AUC and fill-in-the-blank")
    p.add_argument("--weights", type=Path, help="model to evaluate (default weights/compat.pt)")
    p.add_argument("--split", default="test", choices=("train", "val", "test", "all"),
                   help="outfits to evaluate (default test; all: for a catalog the model "
                        "never saw)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, metavar="PATH",
                   help="a folder of class folders of real photos (clothing-small style): "
                        "well-formed looks vs looks with a structure fault, from its "
                        "validation/ or test/ photos, instead of the catalog's outfits")
    p.add_argument("--looks", type=int, default=300,
                   help="with --data: well-formed and faulty looks, each (default 300)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval)


def _pieces_args(p) -> None:
    p.add_argument("--items", nargs="*", default=[], metavar="ID", help="catalog items")
    p.add_argument("--photos", nargs="*", default=[], type=Path, metavar="IMAGE",
                   help="garment photos")
    p.add_argument("--photo-season", choices=SEASONS, default=None,
                   help="the photos' season, which the model reads for catalog items "
                        "(default: unknown)")
    p.add_argument("--photo-for", choices=GENDERS, default=None,
                   help="whom the photos are for (default: unknown)")
    p.add_argument("--weights", type=Path, help="compatibility model (default weights/compat.pt)")
    add_json_flag(p)


def _known_errors():
    from core.index import NoVectors
    from core.models.registry import MissingWeights
    from core.outfits.data import NoOutfitData
    from core.outfits.model import WeightsError

    return (NoOutfitData, WeightsError, NoVectors, MissingWeights)


def _stylist_and_pieces(args, need: int):
    """(settings, repo, stylist, pieces) or a one-line error for bad input."""
    from core.images import ImageRejected
    from core.outfits.service import Stylist

    if len(args.items) + len(args.photos) < need:
        raise CliError(f"give at least {need} piece(s) with --items ID … and/or --photos FILE …")
    for path in args.photos:
        if not path.is_file():
            raise CliError(f"--photos: {path}: no such file")
    cfg = settings()
    repo = repository(cfg)
    try:
        stylist = Stylist(cfg, weights=args.weights)
        pieces = [stylist.item_piece(repo, sku) for sku in args.items]
        pieces += [stylist.photo_piece(path, name=path.name).with_facts(args.photo_season,
                                                                         args.photo_for)
                   for path in args.photos]
    except KeyError as exc:
        raise CliError(f"--items: {exc.args[0]}") from None
    except ImageRejected as exc:
        raise CliError(str(exc)) from None
    except (*_known_errors(), ValueError) as exc:
        raise CliError(str(exc)) from None
    return cfg, repo, stylist, pieces


def cmd_score(args) -> int:
    _cfg, _repo, stylist, pieces = _stylist_and_pieces(args, 1)
    result = stylist.score(pieces)
    if args.json:
        emit_json(result.to_json())
        return 0
    print(result.verdict())
    for i, a in enumerate(result.labels):
        for j in range(i + 1, len(result.labels)):
            print(f"  {result.pairs[i, j]:.2f}  {a} + {result.labels[j]}")
    return 0


def cmd_complete(args) -> int:
    from core.outfits.data import SLOTS

    if reason := range_problem(SuggestParams, "k", args.k):
        raise CliError(f"--k {reason}")
    for slot in args.slots or []:
        if slot not in SLOTS:
            raise CliError(f"--slot {slot!r}: not a garment family (one of {', '.join(SLOTS)})")
    cfg, repo, stylist, pieces = _stylist_and_pieces(args, 1)
    gender = None if args.gender == "any" else args.gender
    suggestions = stylist.complete(repo, pieces, slots=args.slots, k=args.k, gender=gender)
    if args.json:
        emit_json({slot: [s.to_json(cfg.data_dir) for s in items]
                   for slot, items in suggestions.items()})
        return 0
    for slot, items in suggestions.items():
        print(f"{slot}:")
        for s in items:
            attrs = ", ".join(f"{k}={v}" for k, v in s.item.attrs.items())
            print(f"  {s.score:.3f}  {s.item.sku}  {s.item.category}  {attrs}")
        if not items:
            print("  (no catalog items of this family)")
    return 0


def cmd_fitb(args) -> int:
    cfg, repo, stylist, pieces = _stylist_and_pieces(args, 1)
    try:
        cands = [stylist.item_piece(repo, sku) for sku in args.candidates]
    except KeyError as exc:
        raise CliError(f"--candidates: {exc.args[0]}") from None
    scores = stylist.fill_in(pieces, cands)
    best = max(range(len(cands)), key=lambda i: scores[i])
    if args.json:
        emit_json({"best": args.candidates[best],
                   "scores": dict(zip(args.candidates, scores, strict=True))})
        return 0
    for sku, score in sorted(zip(args.candidates, scores, strict=True), key=lambda t: -t[1]):
        print(f"{score:.3f}  {sku}{'  <- best' if sku == args.candidates[best] else ''}")
    return 0


def cmd_train(args) -> int:
    from core.models.recipes import set_threads
    from core.outfits.pipeline import headline, train_compat

    for name in ("epochs", "batch_size"):
        if reason := range_problem(CompatibilityTrainConfig, name, getattr(args, name)):
            raise CliError(f"--{name.replace('_', '-')} {reason}")
    if not 0 <= args.facts_dropout < 1:
        raise CliError(f"--facts-dropout {args.facts_dropout}: give a share in [0, 1)")
    cfg = settings()
    set_threads(args.threads)
    tcfg = CompatibilityTrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                    patience=args.patience, swaps=args.swaps, seed=args.seed,
                                    facts=not args.no_facts, facts_dropout=args.facts_dropout)
    repo = repository(cfg)
    try:
        result = train_compat(cfg, repo, tcfg, model_id=args.model_id or cfg.backbone,
                              out=args.out, progress=progress_bar("colour histograms"),
                              on_epoch=lambda row: log.info("epoch %s", row))
    except _known_errors() as exc:
        raise CliError(str(exc)) from None
    out = Path(result["weights"])
    if not args.no_manifest and out.parent.resolve() == cfg.weights_dir.resolve():
        from core.feedback.pipeline import command_line
        from core.models.manifest import record_weights

        record_weights(cfg.weights_dir, out.name, command=command_line(), data=result["data"],
                       metrics=headline(result["metrics"]), notes=args.notes)
    if args.json:
        emit_json(result)
    else:
        _print_report(result["metrics"])
        print(f"saved {out} (sha256 {result['sha256'][:12]})")
    return 0


def cmd_eval(args) -> int:
    from core.outfits.pipeline import evaluate_compat

    if args.data is not None:
        return _eval_photos(args)
    cfg = settings()
    repo = repository(cfg)
    try:
        report = evaluate_compat(cfg, repo, weights=args.weights, seed=args.seed,
                                 split=args.split, progress=progress_bar("colour histograms"))
    except (*_known_errors(), ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(report)
    else:
        _print_report(report)
    return 0


def _eval_photos(args) -> int:
    from core.outfits.photos import NoPhotoOutfits, eval_photo_structure
    from core.outfits.service import Stylist

    if not args.data.is_dir():
        raise CliError(f"--data: {args.data} is not a folder")
    if args.looks < 1:
        raise CliError(f"--looks must be at least 1, got {args.looks}")
    try:
        stylist = Stylist(settings(), weights=args.weights)
        report = eval_photo_structure(stylist, args.data, n=args.looks, seed=args.seed,
                                      progress=progress_bar("photos"))
    except (*_known_errors(), NoPhotoOutfits, FileNotFoundError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(report)
        return 0
    print(f"{report['model']} on real photos ({report['looks']} looks of {report['photos']} "
          f"photos): AUC well-formed vs structure fault {report['auc']:.3f}")
    for name, b in report["baselines"].items():
        print(f"  baseline {name:<10} AUC {b['auc']:.3f}")
    for fault, f in report["by_fault"].items():
        print(f"  {fault:<26} AUC {f['auc']:.3f}  (n={f['n']})")
    return 0


def _print_report(r: dict) -> None:
    print(f"{r['model']} on {r['split']} ({r['complete_outfits']} complete outfits of "
          f"{r['outfits']}, {r['questions']} FITB questions): AUC {r['auc']:.3f}  "
          f"AUC incl. incomplete {r['auc_all']:.3f}  FITB {r['fitb']:.3f}")
    for name, b in r["baselines"].items():
        print(f"  baseline {name:<10} AUC {b['auc']:.3f}  FITB {b['fitb']:.3f}")
    for kind, f in r["by_fault"].items():
        print(f"  broken by {kind:<10} AUC {f['auc']:.3f}  (n={f['n']})")
    if blind := r.get("without_facts"):
        faults = ", ".join(f"{k} {f['auc']:.3f}" for k, f in blind["by_fault"].items())
        print(f"  with season and gender hidden (as for photos): AUC {blind['auc']:.3f}  "
              f"FITB {blind['fitb']:.3f}  ({faults})")
