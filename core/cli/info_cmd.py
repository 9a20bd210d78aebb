"""`info` (what is configured and stored) and `demo ensure` (first-run demo catalog)."""

from __future__ import annotations

import sys
from dataclasses import asdict

from core.cli.common import add_json_flag, emit_json, repository, settings


def register(sub, groups) -> None:
    p = sub.add_parser("info", help="configuration, database and catalog summary")
    add_json_flag(p)
    p.set_defaults(handler=run_info)

    p = groups["demo"].add_parser(
        "ensure", help="build + ingest + embed the demo catalog if the catalog is empty")
    p.add_argument("--items", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="ingest the demo catalog even if not empty")
    add_json_flag(p)
    p.set_defaults(handler=run_demo_ensure)


def run_info(args) -> int:
    from core.catalog_info import catalog_summary
    from core.models.registry import available_backbones, list_backbones

    cfg = settings()
    summary = catalog_summary(repository(cfg), cfg)
    here = set(available_backbones(cfg.weights_dir))
    summary["backbone"] = cfg.backbone
    summary["backbones"] = {name: name in here for name in list_backbones()}
    if args.json:
        emit_json(summary)
        return 0
    db = summary["database"]
    print(f"database : {db['uri']} ({'embedded' if db['embedded'] else 'external'}), "
          f"db={db['name']}, collection={db['collection']}")
    print(f"data dir : {cfg.data_dir}\nweights  : {cfg.weights_dir}\ndevice   : {cfg.device}")
    print(f"items    : {summary['items']} (catalog version {summary['catalog_version']})")
    for cat, n in summary["categories"].items():
        print(f"  {cat:<14}{n:>7}")
    for model, n in summary["vectors"].items():
        print(f"vectors  : {model}: {n}")
    print(f"search   : {summary['vector_index']}")
    ready = [n for n, ok in summary["backbones"].items() if ok]
    missing = [n for n, ok in summary["backbones"].items() if not ok]
    print(f"backbone : {cfg.backbone} (BACKBONE); weights here for {', '.join(ready) or 'none'}"
          + (f"; not here: {', '.join(missing)}" if missing else ""))
    return 0


def run_demo_ensure(args) -> int:
    from core.bootstrap import STAGES, ensure_demo_catalog
    from core.cli.stages import StageBars

    cfg = settings()
    repo = repository(cfg)
    progress = StageBars(STAGES, units={"map": "%"}, title="catalog set-up")
    report = ensure_demo_catalog(repo, cfg, n_items=args.items, seed=args.seed,
                                 progress=progress, force=args.force)
    progress.finish()
    if args.json:
        emit_json(asdict(report))
    else:
        line = (f"catalog: {repo.count_items()} items (added {report.added}, "
                f"embedded {report.embedded})")
        print("; ".join([line, *report.notes]), file=sys.stderr)
    return 0
