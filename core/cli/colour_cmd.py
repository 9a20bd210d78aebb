"""`eval colour`: the garment colour reader on labelled photos, and photo search's colour
ranking against a catalog."""

from __future__ import annotations

from pathlib import Path

from core.cli.common import (
    CliError,
    add_json_flag,
    emit_json,
    progress_bar,
    repository,
    settings,
)


def register(_sub, groups) -> None:
    p = groups["train"].add_parser(
        "colour", help="pixel colour classifier on labelled photos (combined with the "
                       "encoder's colour head when photo search and tagging read a colour)")
    p.add_argument("--data", type=Path, required=True,
                   help="photo folder (its --split subfolder when present)")
    p.add_argument("--split", default="train",
                   help="subfolder the labels are relative to (default train; keep "
                        "validation for reporting)")
    p.add_argument("--labels", type=Path, required=True, help="colour labels JSON file")
    p.add_argument("--c", type=float, default=0.1,
                   help="inverse regularisation strength (default 0.1)")
    p.add_argument("--out", type=Path, default=None,
                   help="output file (default WEIGHTS_DIR/colour_pixels.json, recorded in the "
                        "weights manifest)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_train_colour)

    p = groups["eval"].add_parser(
        "colour", help="colour reader accuracy on labelled photos (strict / lenient, worn or "
                       "not) and top-k colour match of photo search with and without colour "
                       "ranking")
    p.add_argument("--data", type=Path, required=True,
                   help="photo folder (its --split subfolder when present)")
    p.add_argument("--split", default="validation",
                   help="subfolder the labels are relative to: validation (the report set, "
                        "default) or train (the development labels the reader is tuned on)")
    p.add_argument("--labels", type=Path, required=True, help="colour labels JSON file")
    p.add_argument("--demo", type=Path, default=None, metavar="CATALOG_DIR",
                   help="demo catalog folder, ingested and embedded in the configured database: "
                        "also measure photo search against it")
    p.add_argument("--k", type=int, default=5, help="results per search (default 5)")
    p.add_argument("--bonuses", default="", metavar="B1,B2,…",
                   help="also measure these colour bonuses (a sweep; with --demo)")
    p.add_argument("--out-of-fold", action="store_true",
                   help="rank by each photo's colour as read by a pixel classifier fitted on "
                        "the other folds' photos (for the development labels, whose photos the "
                        "shipped readers learnt from)")
    p.add_argument("--read-colour-only", action="store_true",
                   help="rank by the read colour alone (times its confidence), not the "
                        "reading's distribution (with --demo)")
    p.add_argument("--agreed-with", type=Path, default=None, metavar="LABELS",
                   help="a second labelling of the same photos, made blind: report how often "
                        "the two name the same colour and measure only the photos they do")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_colour)

    p = groups["eval"].add_parser(
        "tags", help="auto-tagging accuracy (category, colour, pattern) on labelled photos, by "
                     "confidence")
    p.add_argument("--data", type=Path, required=True,
                   help="photo folder of class folders (its --split subfolder when present)")
    p.add_argument("--split", default="validation", help="validation (default) or train")
    p.add_argument("--labels", type=Path, required=True, help="colour labels JSON file")
    p.add_argument("--backbone", default=None, help="encoder (default: BACKBONE setting)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_eval_tags)


def cmd_train_colour(args) -> int:
    import sys

    from core.models.manifest import record_weights
    from core.tagging.colour_model import PIXEL_MODEL_FILE, train_pixel_model

    if not args.data.is_dir():
        raise CliError(f"--data {args.data}: no such folder (nothing to train on)")
    if not args.labels.is_file():
        raise CliError(f"--labels {args.labels}: no such file")
    if args.c <= 0:
        raise CliError(f"--c must be positive, got {args.c}")
    cfg = settings()
    try:
        model = train_pixel_model(args.data, args.labels, split=args.split, c=args.c,
                                  progress=progress_bar("features"))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out = args.out or cfg.weights_dir / PIXEL_MODEL_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    if args.out is None:
        record_weights(cfg.weights_dir, PIXEL_MODEL_FILE,
                       command="python -m core " + " ".join(sys.argv[1:]),
                       data={k: model.meta[k] for k in ("split", "labels", "photos")},
                       metrics={"cv_accuracy": model.meta["cv_accuracy"]})
    result = {"out": str(out), "model_id": model.model_id, **model.meta}
    if args.json:
        emit_json(result)
    else:
        print(f"pixel colour classifier on {model.meta['photos']} photos "
              f"({len(model.names)} colours): cross-validated accuracy "
              f"{model.meta['cv_accuracy']:.3f}; "
              f"saved {out}")
    return 0


def cmd_eval_tags(args) -> int:
    from core.models.embed import Embedder
    from core.models.registry import MissingWeights
    from core.tagging.colour_model import load_pixel_model
    from core.tagging.quality import FIELDS, eval_tags

    if not args.data.is_dir():
        raise CliError(f"--data {args.data}: no such folder (nothing to evaluate)")
    if not args.labels.is_file():
        raise CliError(f"--labels {args.labels}: no such file")
    cfg = settings()
    try:
        embedder = Embedder(args.backbone or cfg.backbone, cfg)
        result = eval_tags(embedder, args.data, args.labels, split=args.split,
                           pixel_model=load_pixel_model(cfg.weights_dir),
                           progress=progress_bar("tagging"))
    except (MissingWeights, KeyError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(result)
        return 0
    print(f"{result['photos']} labelled photos in {result['data']} ({result['model']})")
    for field in FIELDS:
        fig = result[field]
        if fig:
            rows = "  ".join(f">={r['min_confidence']}: {r['accuracy']} of {r['coverage']:.0%}"
                             for r in fig["by_confidence"][1:])
            base = fig.get("majority_baseline")
            print(f"{field:<12} accuracy {fig['accuracy']:.3f}"
                  + (f" (always {base['answer']}: {base['accuracy']:.3f})" if base else "")
                  + f"; {rows}")
    return 0


def cmd_eval_colour(args) -> int:
    from core.tagging.evaluate import eval_colour

    if not args.data.is_dir():
        raise CliError(f"--data {args.data}: no such folder (nothing to evaluate)")
    if not args.labels.is_file():
        raise CliError(f"--labels {args.labels}: no such file")
    if args.agreed_with is not None and not args.agreed_with.is_file():
        raise CliError(f"--agreed-with {args.agreed_with}: no such file")
    if args.k < 1:
        raise CliError(f"--k must be at least 1, got {args.k}")
    try:
        bonuses = tuple(float(b) for b in args.bonuses.split(",") if b.strip())
    except ValueError:
        raise CliError(f"--bonuses {args.bonuses!r}: give numbers separated by commas, "
                       "e.g. 0.04,0.08,0.16") from None
    if any(b < 0 for b in bonuses):
        raise CliError(f"--bonuses {args.bonuses!r}: bonuses cannot be negative")
    if (bonuses or args.out_of_fold or args.read_colour_only) and args.demo is None:
        raise CliError("--bonuses, --out-of-fold and --read-colour-only measure photo search: "
                       "give --demo CATALOG_DIR too")
    engine, repo = _search(args.demo) if args.demo is not None else (None, None)
    try:
        result = eval_colour(args.data, args.labels, split=args.split, engine=engine, repo=repo,
                             k=args.k, bonuses=bonuses, out_of_fold=args.out_of_fold,
                             read_colour_only=args.read_colour_only,
                             agreed_with=args.agreed_with, progress=progress_bar)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(result)
    else:
        _print(result)
    return 0


def _search(demo: Path):
    """A search engine and the configured repository, which must hold the ``demo`` catalog."""
    from core.search.pipeline import SearchEngine
    from core.tagging.evaluate import catalog_holds

    if not (demo / "items.jsonl").is_file():
        raise CliError(f"--demo {demo}: no items.jsonl (build one with `python -m core demo "
                       "build`)")
    cfg = settings()
    repo = repository(cfg)
    if not catalog_holds(repo, demo):
        raise CliError(f"--demo {demo}: the configured catalog (DATA_DIR={cfg.data_dir}) does "
                       f"not hold its items; ingest and embed it first (`python -m core ingest "
                       f"{demo}` then `python -m core embed`)")
    return SearchEngine(cfg), repo


def _print(result: dict) -> None:
    if "agreement" in result:
        a = result["agreement"]
        print(f"two labellings ({a['with']}): {a['photos']} photos both named, the same colour "
              f"for {a['exact']:.3f} ({a['within_alt']:.3f} counting the second's alternative "
              f"name); measuring the {a['agreed']} named alike")
    print(f"{result['photos']} labelled photos in {result['data']} "
          f"(left out: {result['left_out']}); pixels from {result['methods']}")
    for group, fig in result["reader"].items():
        if fig["photos"]:
            print(f"reader {group:<9} {fig['photos']:>4} photos  strict {fig['strict']:.3f}  "
                  f"lenient {fig['lenient']:.3f}")
        else:
            print(f"reader {group:<9}    0 photos")
    if "search" in result:
        s = result["search"]
        print(f"top-{s['k']} colour match ({s['model_id']}, {s['catalog_items']} items): "
              f"plain {s['plain']:.3f}  colour-ranked {s['colour_ranked']:.3f} "
              f"(bonus {s['bonus']}); in the photo's class: plain {s['class']['plain']:.3f}  "
              f"colour-ranked {s['class']['colour_ranked']:.3f}")
        print(f"the reading ranked by names the labelled colour for {s['reading_strict']:.3f} "
              "of the photos")
        if len(s["sweep"]) > 2 or s["ranked_by"] != "the search's reading":
            print(f"ranked by {s['ranked_by']}")
            for row in s["sweep"]:
                print(f"  bonus {row['bonus']:<5} top-{s['k']} colour {row['colour']:.3f}  "
                      f"class {row['class']:.3f}")
