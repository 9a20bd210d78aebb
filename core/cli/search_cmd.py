"""`search` (photo or sku -> similar items; top categories), `recommend`, `bench search`
(and `bench scale`, from core/cli/scale_cmd.py)."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Any

from core.cli import scale_cmd
from core.cli.common import CliError, add_json_flag, emit_json, parse_kv, repository, settings
from core.ranges import range_problem
from core.search.params import SearchParams
from core.taxonomy import COLORS

log = logging.getLogger(__name__)

def register(sub, groups) -> None:
    p = sub.add_parser("search", help="similar catalog items for a photo (or a sku)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="photo(s) to search with")
    p.add_argument("--sku", help="more like this catalog item (instead of a photo)")
    p.add_argument("--k", type=int, default=SearchParams.k,
                   help=f"number of results, {SearchParams.K[0]}..{SearchParams.K[1]} "
                        f"(default {SearchParams.k})")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE",
                   help="attribute filter, repeatable: color=blue, category=tee,dress, "
                        "price=10..50")
    p.add_argument("--category-aware", action="store_true",
                   help="predict the category and search within it")
    p.add_argument("--mask", action="store_true", help="remove the background before embedding")
    p.add_argument("--match", choices=("similar", "item"), default="similar",
                   help="similar: items like the photo (default); item: this exact item, "
                        "ranking by item identity over category and colour")
    p.add_argument("--no-colour-rank", action="store_true",
                   help="rank by visual similarity alone (default: items of the photo's read "
                        "colour come first among near-equally similar ones)")
    p.add_argument("--colour", metavar="NAME", choices=list(COLORS),
                   help="the garment's colour when the photo's is misread: items of this "
                        "palette colour come first among near-equally similar ones")
    p.add_argument("--top-categories", action="store_true",
                   help="count the predicted categories of all IMAGEs instead of searching")
    p.add_argument("--index", choices=("auto", "exact", "ivf", "hnsw", "mongo"), default=None,
                   help="index kind (default: the INDEX_KIND setting; auto: the server's "
                        "$vectorSearch index when it has a queryable one, else exact up to 200k "
                        "vectors, then IVF; mongo: $vectorSearch, in-process when the server "
                        "has none)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("recommend", help="attribute, seasonal, colour or ensemble picks")
    p.add_argument("how", choices=("attributes", "seasonal", "colours", "ensemble"))
    p.add_argument("--sku", help="base item (colours, ensemble; default attrs for attributes)")
    p.add_argument("--season", help="season for `seasonal` (default: today's)")
    p.add_argument("--want", action="append", metavar="KEY=VALUE",
                   help="wanted attribute for `attributes`: color=navy, category=tee, ...")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE")
    p.add_argument("--k", type=int, default=SearchParams.k)
    add_json_flag(p)
    p.set_defaults(handler=cmd_recommend)

    p = groups["bench"].add_parser("search", help="exact index vs FAISS, ANN, end-to-end latency")
    p.add_argument("--sizes", default="10000,100000,1000000", help="catalog sizes (comma list)")
    p.add_argument("--dims", default="128,512", help="vector sizes (comma list)")
    p.add_argument("--ann-n", type=int, default=None, help="ANN catalog size (default: largest)")
    p.add_argument("--ann-d", type=int, default=None, help="ANN vector size (default: largest)")
    p.add_argument("--ann-kind", choices=("ivf", "hnsw"), default="ivf")
    p.add_argument("--budget", type=float, default=2.0, help="seconds per timing (default 2)")
    p.add_argument("--e2e-n", type=int, default=50_000, help="catalog size for the e2e latency")
    p.add_argument("--e2e-queries", type=int, default=60)
    p.add_argument("--no-e2e", action="store_true", help="skip the photo->results latency")
    add_json_flag(p)
    p.set_defaults(handler=cmd_bench)
    scale_cmd.register_bench(groups)


def parse_filters(pairs: list[str] | None) -> dict[str, Any]:
    """`key=value` pairs into a filter spec; numeric fields take `a..b` ranges or numbers.
    Only the catalog's filter fields are accepted, and numbers must be finite."""
    from core.storage.filters import NUMERIC_FIELDS, FilterError, check_user_filters

    spec = parse_kv(pairs)
    try:
        check_user_filters(spec)
    except FilterError as exc:
        raise CliError(f"--filter: {exc}") from None
    for key, value in list(spec.items()):
        if key in NUMERIC_FIELDS and isinstance(value, str):
            spec[key] = _number_or_range(key, value)
    return spec


def _number_or_range(key: str, value: str) -> Any:
    from core.storage import Range

    lo, sep, hi = value.partition("..")
    try:
        bounds = [float(v) if v.strip() else None for v in ((lo, hi) if sep else (lo,))]
    except ValueError:
        bounds = [math.nan]
    if any(b is not None and not math.isfinite(b) for b in bounds) or bounds == [None]:
        raise CliError(f"--filter {key}: {value!r} is not a number or a..b range of finite "
                       "numbers")
    return Range(*bounds) if sep else bounds[0]


def _engine(args):
    from core.index import IndexManager
    from core.search.pipeline import SearchEngine

    cfg = settings()
    return cfg, SearchEngine(cfg, mask=args.mask, indexes=IndexManager(cfg, args.index))


def _check_search_args(args) -> None:
    """CliError for option combinations a search cannot take."""
    if not args.images and not args.sku:
        raise CliError("give an IMAGE to search with, or --sku")
    if reason := range_problem(SearchParams, "k", args.k):
        raise CliError(f"--k {reason}")
    if args.match != "similar" and (args.sku or args.top_categories):
        raise CliError("--match item applies to a photo search, not --sku or --top-categories")
    if args.colour and (args.sku or args.top_categories or args.no_colour_rank):
        raise CliError("--colour ranks a photo search's results: not with --sku, "
                       "--top-categories or --no-colour-rank")


def cmd_search(args) -> int:
    from core.images import ImageRejected
    from core.index import NoVectors
    from core.models.embed import MatchUnavailable
    from core.models.registry import MissingWeights
    from core.storage import FilterError

    _check_search_args(args)
    filters = parse_filters(args.filter)
    cfg, engine = _engine(args)
    try:
        if args.top_categories:
            photos = [(Path(p).name, Path(p)) for p in args.images]
            counted = engine.top_categories(photos, k=args.k)
            return _print_counts(counted, args.json)
        repo = repository(cfg)
        if args.sku:
            outcome = engine.more_like_this(repo, args.sku, k=args.k, filters=filters)
        else:
            if len(args.images) > 1:
                raise CliError("search takes one IMAGE (use --top-categories for several)")
            outcome = engine.search_image(repo, Path(args.images[0]), k=args.k,
                                          filters=filters, category_aware=args.category_aware,
                                          match=args.match,
                                          colour_rank=not args.no_colour_rank,
                                          colour=args.colour)
    except ImageRejected as exc:
        raise CliError(str(exc)) from None
    except FilterError as exc:
        raise CliError(f"--filter: {exc}") from None
    except MatchUnavailable as exc:
        raise CliError(str(exc)) from None
    except KeyError as exc:
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from None
    except (NoVectors, MissingWeights) as exc:
        raise CliError(str(exc), code=1) from None
    return _print_outcome(outcome, cfg, args.json)


def _print_outcome(outcome, cfg, as_json: bool) -> int:
    """The results (JSON rows or a table on stdout); what the photo was read as, notes and
    timings in the log."""
    if outcome.prediction:
        log.info("predicted category: %s", ", ".join(f"{c} {p:.0%}" for c, p in
                                                     outcome.prediction))
    if outcome.read_as():
        log.info("read as: %s (confidence %.2f)", outcome.read_as(), outcome.colour.confidence)
    if outcome.colour_choice:
        log.info("colour ranking follows your colour: %s", outcome.colour_choice)
    for note in outcome.notes:
        log.info("%s", note)
    rows = [r.to_json(cfg.data_dir) for r in outcome.results]
    if as_json:
        emit_json(rows)
        return 0
    for i, r in enumerate(rows, 1):
        a = r["attrs"]
        print(f"{i:3d}  {r['score']:.4f}  {r['id']:<24} {r['category']:<10} "
              f"{a.get('color', ''):<11} {a.get('pattern', ''):<9} {r['image']}")
    log.info("timings (ms): %s", outcome.timings_ms)
    return 0


def _print_counts(counted, as_json: bool) -> int:
    if as_json:
        emit_json(counted.to_json())
    else:
        for cat, n in counted.top:
            print(f"{cat:<12} {n}")
    for reason in counted.rejected:
        print(f"rejected: {reason}", file=sys.stderr)
    return 0 if counted.per_image else 2


def cmd_recommend(args) -> int:
    from core.search import recommend as rec
    from core.storage import FilterError

    cfg = settings()
    repo = repository(cfg)
    filters = parse_filters(args.filter)
    base = repo.get_item(args.sku) if args.sku else None
    if args.sku and base is None:
        raise CliError(f"--sku: no item {args.sku!r} in the catalog")
    try:
        if args.how == "attributes":
            wanted = parse_kv(args.want)
            if base is not None and not wanted:
                wanted = {"category": base.category, **{key: base.attrs.get(key)
                                                          for key in ("color", "pattern")}}
            recs = rec.recommend_by_attributes(repo, k=args.k, filters=filters,
                                               exclude=[args.sku] if args.sku else [], **wanted)
            out: Any = [r.to_json() for r in recs]
        elif args.how == "seasonal":
            season = args.season or rec.season_of()
            out = [r.to_json() for r in rec.seasonal_recommendations(repo, season, k=args.k,
                                                                     filters=filters)]
        elif base is None:
            raise CliError(f"`recommend {args.how}` needs --sku")
        elif args.how == "colours":
            groups = rec.coordinate_colours(repo, base, k=args.k, filters=filters)
            out = {rel: [r.to_json() for r in recs] for rel, recs in groups.items()}
        else:
            out = [r.to_json() for r in _ensemble(cfg, repo, base, args.k, filters)]
    except (FilterError, ValueError) as exc:
        raise CliError(str(exc)) from None
    emit_json(out) if args.json else _print_recs(out)
    return 0


def _ensemble(cfg, repo, base, k: int, filters):
    from core.index import NoVectors
    from core.search.pipeline import SearchEngine
    from core.search.recommend import POOL, ensemble_for_item

    try:
        similar = SearchEngine(cfg).more_like_this(repo, base.sku, k=POOL, filters=filters)
        pairs = [(r.item, r.score) for r in similar.results]
    except NoVectors as exc:
        log.warning("%s; ensemble without similarity", exc)
        pairs = []
    return ensemble_for_item(repo, base, pairs, k=k, filters=filters)


def _print_recs(out) -> None:
    groups = out if isinstance(out, dict) else {"": out}
    for name, rows in groups.items():
        if name:
            print(f"== {name}")
        for r in rows:
            print(f"{r['score']:.3f}  {r['id']:<24} {r['category']:<10} {r['reason']}")


def cmd_bench(args) -> int:
    from core.search.bench import e2e_latency, run

    try:
        sizes = [int(v) for v in args.sizes.split(",") if v.strip()]
        dims = [int(v) for v in args.dims.split(",") if v.strip()]
    except ValueError:
        raise CliError("--sizes and --dims take comma-separated integers") from None
    if not sizes or not dims or min(sizes + dims) < 1:
        raise CliError("--sizes and --dims need positive integers")
    cfg = settings()
    e2e = None if args.no_e2e else (lambda: e2e_latency(cfg, n=args.e2e_n,
                                                         queries=args.e2e_queries))
    result = run(sizes=sizes, dims=dims, ann_n=args.ann_n, ann_d=args.ann_d,
                 ann_kind=args.ann_kind, budget_s=args.budget, e2e=e2e,
                 progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.json:
        emit_json(result)
    else:
        _print_bench(result)
    return 0


def _print_bench(result: dict[str, Any]) -> None:
    print(f"copy bandwidth {result['bandwidth_gb_s']} GB/s")
    print(f"{'n':>9} {'d':>4} {'exact q/s':>10} {'faiss q/s':>10} {'ratio':>6} "
          f"{'batch ratio':>11} {'bw frac':>7}")
    for r in result["rows"]:
        print(f"{r['n']:>9} {r['d']:>4} {r['exact_qps']:>10} {r['faiss_flat_qps']:>10} "
              f"{r['ratio_vs_faiss']:>6} {r['batch_ratio_vs_faiss']:>11} "
              f"{r['bandwidth_fraction']:>7}")
    a = result["ann"]
    print(f"ANN {a['kind']} n={a['n']} d={a['d']}: recall@10 {a['recall_at_10']}, "
          f"{a['speedup_vs_exact']}x exact")
    if "e2e_ms" in result:
        e = result["e2e_ms"]
        print(f"photo->results n={e['n']}: p50 {e['p50']} ms, p95 {e['p95']} ms")
