"""`refine` (reference + typed feedback -> items), `train feedback`, `eval feedback`."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from core.cli.common import (
    CliError,
    add_json_flag,
    emit_json,
    progress_bar,
    repository,
    settings,
)
from core.feedback.params import RefineParams
from core.feedback.train_config import NEGATIVES, CombinerTrainConfig
from core.ranges import range_problem
from core.taxonomy import COLORS

log = logging.getLogger(__name__)


def register(sub, groups) -> None:
    p = sub.add_parser("refine", help="catalog items like a reference, changed as the text says")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="reference photo")
    p.add_argument("--item", metavar="ID", help="reference catalog item (instead of a photo)")
    p.add_argument("--text", default="", help='feedback, e.g. "in red with long sleeves"')
    p.add_argument("--k", type=int, default=RefineParams.k,
                   help=f"number of results, {RefineParams.K[0]}..{RefineParams.K[1]} "
                        f"(default {RefineParams.k})")
    p.add_argument("--weights", type=Path, help="feedback model (default weights/"
                                                "feedback_combiner.pt)")
    p.add_argument("--any-family", action="store_true",
                   help="don't keep results in the reference's garment family")
    p.add_argument("--colour", metavar="NAME",
                   help="the photo's colour when it is misread (\"darker\" starts from it)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_refine)

    p = groups["train"].add_parser("feedback", help="train the text-feedback composition model")
    _data_args(p)
    d = CombinerTrainConfig()  # every default is the training config's
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--hidden", type=int, default=d.hidden,
                   help=f"combiner width (default {d.hidden})")
    p.add_argument("--patience", type=int, default=d.patience,
                   help="early stop after N flat epochs")
    p.add_argument("--negatives", choices=NEGATIVES, default=d.negatives,
                   help="classify each query among the batch's targets (default, FashionVLP) "
                        "or among every training item")
    p.add_argument("--text-tower", default="minilm", help="minilm (default), bert or clip")
    p.add_argument("--out", type=Path, help="weights file (default weights/feedback_combiner.pt)")
    p.add_argument("--no-manifest", action="store_true", help="don't record in the manifest")
    p.add_argument("--notes", help="free text for the manifest entry (e.g. how the catalog "
                                   "was built)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    add_json_flag(p)
    p.set_defaults(handler=cmd_train)

    p = groups["eval"].add_parser("feedback", help="recall of text-feedback retrieval vs baselines")
    _data_args(p)
    p.add_argument("--weights", type=Path, help="feedback model to evaluate")
    p.add_argument("--real-part", choices=("heldout", "development"), default="heldout",
                   help="which real captions to report on: the held-out fifth (default) or the "
                        "development rest (for choosing the rule weight)")
    p.add_argument("--rule-weight", type=float, default=None,
                   help="penalty per broken request in the rule ranking (default: the product's)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval)
    _register_photo_eval(groups)


def _register_photo_eval(groups) -> None:
    p = groups["eval"].add_parser(
        "refine-photos", help="Refine from labelled real photos: darker / lighter, another "
                              "colour, longer / shorter sleeves, against a baseline reading")
    p.add_argument("--data", type=Path, required=True,
                   help="ImageFolder of real photos (e.g. clothing-small)")
    p.add_argument("--labels", type=Path, required=True,
                   help="colour labels of its photos (data/eval/clothing_small_colors.json)")
    p.add_argument("--split", default="validation", help="subfolder the labels are relative to")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_photos)


def cmd_eval_photos(args) -> int:
    from core.feedback.photo_eval import eval_photo_refs
    from core.feedback.service import Refiner
    from core.images import ImageRejected

    if not args.data.is_dir():
        raise CliError(f"--data {args.data}: no such folder (nothing to evaluate)")
    if not args.labels.is_file():
        raise CliError(f"--labels {args.labels}: no such file")
    cfg = settings()
    try:
        result = eval_photo_refs(Refiner(cfg), repository(cfg), args.data, args.labels,
                                 split=args.split, progress=progress_bar("photos"))
    except ImageRejected as exc:
        raise CliError(str(exc)) from None
    except _known_errors() as exc:
        raise CliError(str(exc), code=1) from None
    if args.json:
        emit_json(result)
        return 0
    print(f"{result['photos']} labelled photos as references; share of the top "
          f"{result['k']} meeting the request (product reading / baseline reading)")
    for row, by in result["rows"].items():
        p, b = by["product"], by["baseline"]
        extra = (f"; of the photo's class {p['same_class']:.3f} / {b['same_class']:.3f}"
                 if "same_class" in p else "")
        print(f"  {row:<13} n={p['photos']:>4}  {p['hit']:.3f} / {b['hit']:.3f}{extra}")
    return 0


def _data_args(p) -> None:
    p.add_argument("--model-id", default=None, help="image vectors to use (default: BACKBONE)")
    p.add_argument("--per-reference", type=int, default=6, help="targets per reference item")
    p.add_argument("--captions", type=int, default=4, help="training captions per pair")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--real-captions", type=Path, metavar="PATH",
                   help="folder of real FashionIQ caption files: report attr_hit_at_10 on a "
                        "held-out part (skipped when absent)")
    p.add_argument("--fashioniq", type=Path, metavar="DIR",
                   help="FashionIQ captions/ + image_splits/ instead of the catalog")
    p.add_argument("--images", type=Path, metavar="DIR", help="FashionIQ image folder")


def _options(args, cfg):
    from core.feedback.pipeline import DataOptions

    if args.fashioniq is not None and args.images is None:
        raise CliError("--fashioniq needs --images DIR (the FashionIQ image folder)")
    for name in ("fashioniq", "images"):
        path = getattr(args, name)
        if path is not None and not path.is_dir():
            raise CliError(f"--{name}: {path} is not a folder")
    return DataOptions(model_id=args.model_id or cfg.backbone, per_reference=args.per_reference,
                       captions_per_pair=args.captions, seed=args.seed,
                       fashioniq=args.fashioniq, images=args.images)


def _real(args) -> Path | None:
    if args.real_captions is not None and not args.real_captions.is_dir():
        log.warning("--real-captions %s is not a folder: real-caption figures skipped",
                    args.real_captions)
        return None
    return args.real_captions


def _known_errors():
    from core.feedback.data import NoFeedbackData
    from core.feedback.fashioniq import FashionIQFormatError
    from core.feedback.model import WeightsError
    from core.feedback.text import TextTowerError
    from core.index import NoVectors
    from core.models.registry import MissingWeights

    return (NoFeedbackData, FashionIQFormatError, WeightsError, TextTowerError, NoVectors,
            MissingWeights)


def cmd_train(args) -> int:
    from core.feedback.pipeline import headline, train_feedback
    from core.models.recipes import set_threads

    cfg = settings()
    opts = _options(args, cfg)
    set_threads(args.threads)
    tcfg = CombinerTrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               hidden=args.hidden, patience=args.patience, seed=args.seed,
                               negatives=args.negatives)
    repo = None if opts.fashioniq else repository(cfg)
    try:
        result = train_feedback(cfg, repo, opts, tcfg, text_tower=args.text_tower, out=args.out,
                                real_captions=_real(args), progress=progress_bar("captions"),
                                on_epoch=lambda row: log.info("epoch %s", row))
    except _known_errors() as exc:
        raise CliError(str(exc)) from None
    out = Path(result["weights"])
    if not args.no_manifest and out.parent.resolve() == cfg.weights_dir.resolve():
        from core.models.manifest import record_weights

        data = dict(result["data"], real_captions=str(args.real_captions)
                    if args.real_captions else None, text_tower=args.text_tower)
        record_weights(cfg.weights_dir, out.name, command=_command(), data=data,
                       metrics=headline(result["metrics"]), notes=args.notes)
    if args.json:
        emit_json(result)
    else:
        m = result["metrics"]
        print(f"saved {out} (sha256 {result['sha256'][:12]}): R@10 {m['r10']:.3f}  "
              f"R@50 {m['r50']:.3f}  attr_hit@10 {m['attr_hit_at_10']}")
    return 0


def cmd_eval(args) -> int:
    from core.feedback.pipeline import evaluate_feedback

    cfg = settings()
    opts = _options(args, cfg)
    repo = None if opts.fashioniq else repository(cfg)
    try:
        report = evaluate_feedback(cfg, repo, opts, weights=args.weights,
                                   real_captions=_real(args), progress=progress_bar("captions"),
                                   real_part=args.real_part, rule_weight=args.rule_weight)
    except _known_errors() as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(report)
        return 0
    print(f"held-out pairs ({report['split']}, n={report['n']}): R@10 {report['r10']:.3f}  "
          f"R@50 {report['r50']:.3f}  mean {report['mean']:.3f}  "
          f"attr_hit@10 {report['attr_hit_at_10']}")
    w = report.get("with_rules")
    if w:
        print(f"  with the rule ranking R@10 {w['r10']:.3f}  R@50 {w['r50']:.3f}  "
              f"attr_hit@10 {w['attr_hit_at_10']}")
    for name, b in report["baselines"].items():
        print(f"  baseline {name:<10} R@10 {b['r10']:.3f}  R@50 {b['r50']:.3f}")
    for fam, f in report.get("per_family", {}).items():
        print(f"  family {fam:<8} R@10 {f['r10']:.3f}  R@50 {f['r50']:.3f}  (n={f['n']})")
    _print_real(report.get("real_captions"))
    return 0


REAL_ROWS = (("color", "naming a colour"), ("pattern", "naming a pattern"),
             ("sleeve", "naming a sleeve length"), ("color_shade", "darker / lighter"),
             ("sleeve_relative", "longer / shorter sleeves"),
             ("avoided", "negating a value (free of it)"),
             ("avoided_only", "only negating a value (free of it)"),
             ("avoided_kept", "only negating, reference without it*"),
             ("length", "naming a length"), ("length_relative", "longer / shorter"),
             ("fit", "naming a fit"), ("fit_relative", "tighter / looser"),
             ("same_category", "top 10 of the reference's category"),
             ("ordered_same_category", "the same, length / fit requests"),
             ("kept_colour", "reference's colour kept (colour not named)"))


def _print_real(real: dict | None) -> None:
    if not real or "color" not in real:
        return
    print(f"real captions ({real['part']}, {real['n_asked']} of {real['n_captions']} ask for "
          f"colour, pattern or sleeves; rule weight {real['rule_weight']:g}): top-10 fraction "
          f"with the requested value")
    print(f"  {'':<38} {'n':>5}  {'model+rules':>11}  {'model':>6}  {'reference':>9}  "
          f"{'ceiling':>7}")
    for key, label in REAL_ROWS:
        e = real.get(key) or {}
        if e.get("n"):
            ceiling = f"{e['ceiling']:>7.3f}" if e.get("ceiling") is not None else f"{'':>7}"
            print(f"  {label:<38} {e['n']:>5}  {e['model_rules']:>11.3f}  {e['model']:>6.3f}  "
                  f"{e['reference_only']:>9.3f}  {ceiling}")
    if (real.get("avoided_kept") or {}).get("n"):
        print("  * the share of the top 10 keeping the reference's own value (\"is not red\" "
              "of a mint bag: mint)")


def _command() -> str:
    from core.feedback.pipeline import command_line

    return command_line()


def cmd_refine(args) -> int:
    from core.images import ImageRejected

    if bool(args.image) == bool(args.item):
        raise CliError("give either a reference IMAGE or --item ID")
    if reason := range_problem(RefineParams, "k", args.k):
        raise CliError(f"--k {reason}")
    if args.image and not Path(args.image).is_file():
        raise CliError(f"{args.image}: no such file")
    if args.colour is not None and (args.item or args.colour not in COLORS):
        raise CliError(f"--colour {args.colour!r}: " + ("for a reference photo only" if args.item
                       else "not a palette colour (" + ", ".join(COLORS) + ")"))
    cfg = settings()
    repo = repository(cfg)
    try:
        from core.feedback.service import Refiner

        refiner = Refiner(cfg, weights=args.weights)
        if refiner.warning:
            log.warning("%s", refiner.warning)
        if args.item:
            if repo.get_item(args.item) is None:
                raise CliError(f"--item: no item {args.item!r} in the catalog")
            ref, exclude = refiner.item_reference(repo, args.item), (args.item,)
        else:
            ref, exclude = refiner.photo_reference(Path(args.image)), ()
            if args.colour:  # as the shopper says, and what it then reads as
                attrs = {**ref.attrs, "color": args.colour}
                ref = replace(ref, attrs=attrs, reading=replace(ref.reading, attrs=attrs)
                              if ref.reading else None)
        outcome = refiner.refine(repo, ref, args.text, k=args.k, exclude=exclude,
                                 keep_family=not args.any_family)
    except ImageRejected as exc:
        raise CliError(str(exc)) from None
    except _known_errors() as exc:
        raise CliError(str(exc), code=1) from None
    if ref.reading is not None:
        read_as = f"photo read as: {ref.reading.caption() or 'nothing read surely'}"
        if args.json:
            log.info("%s", read_as)
        else:
            print(read_as)
    if outcome.message:
        log.info("%s", outcome.message)
    if args.json:
        for note in outcome.notes:
            log.info("%s", note)
        emit_json(outcome.to_json(cfg.data_dir))
        return 0
    if outcome.reading:
        print(f"understood: {outcome.reading}")
    for note in outcome.notes:
        print(note)
    if outcome.family:
        print(f"within the {outcome.family} family (--any-family to search everything)")
    for r in outcome.results:
        attrs = ", ".join(f"{k}={v}" for k, v in r.item.attrs.items() if k != "season")
        print(f"{r.score:.3f}  {r.item.sku}  {r.item.category}  {attrs}")
    return 0
