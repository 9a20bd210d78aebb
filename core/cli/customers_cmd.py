"""`customers simulate` (synthetic customers and purchases), `customers import` (a real
purchase history in their place), `customers export` (either, as the CSV files import reads),
`customers list`, `customers recommend` and `eval customers` (leave-last-out hit rate and NDCG
of the fused score vs baselines). `simulate` is the older name of the group and still works."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import (
    CliError,
    add_json_flag,
    emit_json,
    parse_kv,
    progress_bar,
    repository,
    settings,
)
from core.customers.params import SimulationConfig

DEFAULTS = SimulationConfig()  # every flag's default is the config's

# SimulationConfig / FusionConfig field -> the flag that sets it (for error messages)
FLAGS = {"num_customers": "--num-customers", "max_purchases": "--max-purchases-per-customer",
         "top_k": "--top-k", "p_max": "--p-max", "p_threshold": "--p-threshold",
         "penalty_exponent": "--penalty-exponent", "days": "--days", "start": "--start",
         "distance_scale_km": "--distance-scale", "seed": "--seed"}


def register(sub, groups) -> None:
    p = sub.add_parser("customers", aliases=["simulate"],
                       help="customers (synthetic or imported) and their purchases; "
                            "recommendations for them with the fused score")
    _simulation_args(p)
    p.set_defaults(handler=cmd_simulate)
    _register_subcommands(p.add_subparsers(dest="customers_command", required=False,
                                           metavar="WHAT"))
    _register_eval(groups["eval"])


def _simulation_args(p, given_only: bool = False) -> None:
    """The simulation's settings, on `customers` itself (which simulates, for the older
    `simulate` spelling) and on `customers simulate`; there only the flags given override."""
    d = DEFAULTS

    def arg(flag: str, value, **kw) -> None:
        p.add_argument(flag, default=argparse.SUPPRESS if given_only else value, **kw)

    arg("--seed", d.seed, type=int, help=f"random seed (default {d.seed})")
    arg("--num-customers", d.num_customers, type=int, help=f"customers (default {d.num_customers})")
    arg("--max-purchases-per-customer", d.max_purchases, type=int, dest="max_purchases",
        metavar="N", help=f"each customer buys 1..N items (default {d.max_purchases})")
    arg("--top-k", d.top_k, type=int,
        help="recommendations per customer: the default k of `customers recommend` and "
             f"`eval customers` (default {d.top_k})")
    arg("--p-max", d.p_max, type=int,
        help=f"initial popularity counts are drawn from 0..P_MAX (default {d.p_max})")
    arg("--days", d.days, type=int, help=f"purchase period in days (default {d.days})")
    arg("--start", d.start, help=f"first day of the period (default {d.start})")
    _score_args(p, defaults=True, given_only=given_only)
    add_json_flag(p)


def _register_subcommands(what) -> None:
    """customers simulate | list | import | export | recommend."""
    s = what.add_parser("simulate", help="simulate customers and their purchases (a re-run "
                                         "replaces the last)")
    _simulation_args(s, given_only=True)
    s.set_defaults(handler=cmd_simulate)

    c = what.add_parser("list", aliases=["customers"], help="the customers")
    add_json_flag(c)
    c.set_defaults(handler=cmd_customers)

    i = what.add_parser("import", help="import a purchase history (CSV / JSON / JSON lines) "
                                       "in place of the simulated one")
    i.add_argument("purchases", metavar="PURCHASES",
                   help="purchase log: customer_id, sku, ts [, store_id, price, purchase_id]")
    i.add_argument("--customers", metavar="FILE",
                   help="customers: customer_id [, name, gender, lat, lon, home_store, "
                        "trendiness]; what is missing is derived from the purchases")
    add_json_flag(i)
    i.set_defaults(handler=cmd_import)

    x = what.add_parser("export", help="write the customers and purchases (simulated or "
                                       "imported) as CSV files that `customers import` reads")
    x.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="folder for purchases.csv and customers.csv")
    add_json_flag(x)
    x.set_defaults(handler=cmd_export)

    r = what.add_parser("recommend", help="one customer's recommendations with score parts")
    r.add_argument("--customer", required=True, metavar="ID", help="customer id, e.g. C001")
    r.add_argument("--item", metavar="SKU",
                   help="score from this reference item instead of the purchase history")
    r.add_argument("--k", type=int, default=None, help="results (default: the run's --top-k)")
    _score_args(r)
    add_json_flag(r)
    r.set_defaults(handler=cmd_recommend)


def _register_eval(evals) -> None:
    e = evals.add_parser("customers", aliases=["simulate"],
                         help="leave-last-out hit rate / NDCG of the fused customer score vs "
                              "baselines and ablations")
    e.add_argument("--k", type=int, default=None, help="cut-off (default: the run's --top-k)")
    e.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    _score_args(e)
    add_json_flag(e)
    e.set_defaults(handler=cmd_eval)


def _score_args(p, defaults: bool = False, given_only: bool = False) -> None:
    """The score's settings: the simulation takes the reference defaults, `recommend` and
    `eval` default to what the stored simulation used (and take --weight)."""
    def arg(flag: str, value: float, what: str) -> None:
        shown = f"default {value:g}" if defaults else "default: the simulation's"
        default = argparse.SUPPRESS if given_only else (value if defaults else None)
        p.add_argument(flag, type=float, default=default, help=f"{what} ({shown})")

    arg("--p-threshold", DEFAULTS.p_threshold, "share of the top popularity above which "
                                               "trend-seekers penalise an item")
    arg("--penalty-exponent", DEFAULTS.penalty_exponent, "steepness of that penalty")
    arg("--distance-scale", DEFAULTS.distance_scale_km,
        "km at which store proximity falls to 0.37")
    if not defaults:
        p.add_argument("--weight", action="append", metavar="PART=W",
                       help="weight (exponent) of a score part: visual, popularity, category, "
                            "proximity (default 1; 0 drops the part); repeatable")


def _no_vectors():
    from core.index import NoVectors  # imports torch: only looked up once something failed

    return NoVectors


def _config(args):
    cfg = SimulationConfig(seed=args.seed, num_customers=args.num_customers,
                           max_purchases=args.max_purchases, top_k=args.top_k,
                           p_max=args.p_max, p_threshold=args.p_threshold,
                           penalty_exponent=args.penalty_exponent, days=args.days,
                           start=args.start, distance_scale_km=args.distance_scale)
    bad = cfg.problems()
    if bad:
        name, reason = bad[0]
        raise CliError(f"{FLAGS.get(name, name)} {reason}")
    return cfg


def cmd_simulate(args) -> int:
    from core.customers.params import SimulationError
    from core.customers.pipeline import run_simulation

    cfg = _config(args)
    repo = repository()
    try:
        report = run_simulation(repo, cfg, progress=progress_bar("purchases"))
    except SimulationError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(report)
        return 0
    print(f"{report['customers']} customers made {report['purchases']} purchases of "
          f"{report['items_bought']} items from {report['first']} to {report['last']}")
    print(f"  {report['trend_seekers']} trend-seekers, {report['crowd_followers']} follow the "
          f"crowd; median distance to the store {report['median_distance_km']} km")
    print("  homes: " + ", ".join(f"{c} {n}" for c, n in report["cities"].items()))
    print("next: `python -m core customers list`, `python -m core customers recommend "
          "--customer C001`, `python -m core eval customers`")
    return 0


def cmd_export(args) -> int:
    from core.customers.importer import export_history

    repo = repository()
    if repo.count_docs("purchases") == 0:
        raise CliError("no purchases to export: run `python -m core customers simulate` or "
                       "import a purchase history first")
    try:
        out = export_history(repo, args.out)
    except OSError as exc:
        raise CliError(f"--out {args.out}: cannot write there ({exc.strerror or exc})") from None
    if args.json:
        emit_json({k: str(v) if isinstance(v, Path) else v for k, v in out.items()})
    else:
        print(f"wrote {out['purchases_rows']} purchases to {out['purchases']} and "
              f"{out['customers_rows']} customers to {out['customers']}")
    return 0


def cmd_import(args) -> int:
    from core.customers.importer import ImportProblem, Source, import_history

    repo = repository()
    try:
        people = Source.from_path(args.customers) if args.customers else None
        report = import_history(repo, Source.from_path(args.purchases), people)
    except ImportProblem as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(report)
        return 0
    print(f"imported {report['purchases']} purchases of {report['items_bought']} items by "
          f"{report['customers']} customers from {report['first']} to {report['last']} "
          f"({', '.join(f for f in report['sources'].values() if f)})")
    print(f"  median distance to the store {report['median_distance_km']} km; homes: "
          + ", ".join(f"{c} {n}" for c, n in report["cities"].items()))
    print("next: `python -m core customers list`, `python -m core customers recommend "
          "--customer ID`, `python -m core eval customers`")
    return 0


def cmd_customers(args) -> int:
    from core.customers.pipeline import load_customers, load_purchases

    repo = repository()
    customers = load_customers(repo)
    if not customers:
        raise CliError("no simulated customers yet: run `python -m core customers simulate` or "
                       "import a purchase history (`python -m core customers import FILE`)")
    counts: dict[str, int] = {}
    for p in load_purchases(repo):
        counts[p.customer_id] = counts.get(p.customer_id, 0) + 1
    if args.json:
        emit_json([{**c.to_doc(), "purchases": counts.get(c.customer_id, 0)} for c in customers])
        return 0
    for c in customers:
        print(f"{c.customer_id}  {c.name:<20} {c.home_city:<12} trendiness {c.trendiness:.2f} "
              f"({c.taste}), {_n(counts.get(c.customer_id, 0), 'purchase')}; likes {c.style}")
    return 0


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _fusion_and_k(args, repo):
    """The score settings (flags, else the stored run's, else the defaults) and k."""
    from core.customers.params import PARTS, FusionConfig, SimulationError
    from core.customers.pipeline import last_run

    run = (last_run(repo) or {}).get("params", {})
    base = FusionConfig()
    values = {"p_threshold": args.p_threshold, "penalty_exponent": args.penalty_exponent,
              "distance_scale_km": args.distance_scale}
    cfg = FusionConfig(**{name: v if v is not None else run.get(name, getattr(base, name))
                          for name, v in values.items()})
    weights = {}
    for part, value in parse_kv(args.weight, "--weight").items():
        try:
            weights[part] = float(value)
        except (TypeError, ValueError):
            raise CliError(f"--weight {part}={value}: the weight must be a number") from None
    try:
        cfg = cfg.with_weights(weights)
    except SimulationError as exc:
        raise CliError(f"--weight: {exc}") from None
    bad = cfg.problems()
    if bad:
        name, reason = bad[0]
        raise CliError(f"--weight {name} {reason}" if name in PARTS
                       else f"{FLAGS.get(name, name)} {reason}")
    k = args.k if args.k is not None else int(run.get("top_k", 10))
    if k < 1:
        raise CliError(f"--k must be at least 1 (got {k})")
    return cfg, k


def cmd_recommend(args) -> int:
    from core.customers.params import SimulationError
    from core.customers.pipeline import get_customer

    cfg = settings()
    repo = repository(cfg)
    fusion, k = _fusion_and_k(args, repo)
    try:
        customer = get_customer(repo, args.customer)
    except KeyError as exc:
        raise CliError(f"--customer: {exc.args[0]}") from None
    from core.customers.service import Recommender  # loads the vector index (torch): after checks

    rec = Recommender(cfg)
    try:
        recs = rec.recommend(repo, args.customer, k=k, fusion=fusion, reference=args.item)
    except KeyError as exc:
        raise CliError(f"--item: {exc.args[0]}") from None
    except SimulationError as exc:
        raise CliError(str(exc)) from None
    except _no_vectors() as exc:
        raise CliError(str(exc)) from None
    history = rec.history(repo, args.customer)
    if args.json:
        emit_json({"customer": customer.to_doc(), "history": [p.to_doc() for p in history],
                   "weights": fusion.weights,
                   "recommendations": [r.to_json(cfg.data_dir) for r in recs]})
        return 0
    print(f"{customer.customer_id} {customer.name} · {customer.home_city} · trendiness "
          f"{customer.trendiness:.2f} ({customer.taste}) · likes {customer.style}")
    for p in history:
        print(f"  bought {p.date}  {p.sku}  (store {p.store_id})")
    print(f"{'score':>8}  {'visual':>6} {'popul.':>6} {'categ.':>6} {'proxim.':>7}  item")
    for r in recs:
        q = r.parts
        print(f"{r.score:8.4f}  {q['visual']:6.3f} {q['popularity']:6.3f} {q['category']:6.3f} "
              f"{q['proximity']:7.3f}  {r.item.sku} {r.item.category} "
              f"{r.item.attrs.get('color', '')} · {r.distance_km} km · after {r.because}")
    return 0


def cmd_eval(args) -> int:
    from core.customers.params import SimulationError
    from core.customers.service import Recommender

    cfg = settings()
    repo = repository(cfg)
    fusion, k = _fusion_and_k(args, repo)
    try:
        report = Recommender(cfg).evaluate(repo, k=k, fusion=fusion, seed=args.seed,
                                           progress=progress_bar("customers"))
    except SimulationError as exc:
        raise CliError(str(exc)) from None
    except _no_vectors() as exc:
        raise CliError(str(exc)) from None
    if args.json:
        emit_json(report)
        return 0
    who = ("simulated customers" if report["data"] == "simulated"
           else f"customers of the imported {report['source']}")
    print(f"leave-last-out on {report['customers']} {who} "
          f"({report['skipped']} skipped), k = {k}, vectors {report['model_id']}")
    print(f"{'model':<16}{'hit@' + str(k):>9}{'NDCG@' + str(k):>10}")
    print(f"{'fused':<16}{report['hit_rate']:>9.3f}{report['ndcg']:>10.3f}")
    for name, m in report["baselines"].items():
        print(f"{name:<16}{m['hit_rate']:>9.3f}{m['ndcg']:>10.3f}")
    print(f"note: {report['note']}")
    return 0
