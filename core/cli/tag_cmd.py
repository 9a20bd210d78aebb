"""`python -m core tag`: predict the category, colour and pattern catalog items lack."""

from __future__ import annotations

import logging

from core.cli.common import (
    CliError,
    add_json_flag,
    emit_json,
    parse_kv,
    progress_bar,
    repository,
    settings,
)

log = logging.getLogger(__name__)


def register(sub, _groups) -> None:
    p = sub.add_parser(
        "tag", help="predict missing category, colour and pattern from the pictures",
        description="Fill in the category, colour and pattern items lack, from the image "
        "encoder's heads and the garment colour reader. Values a person supplied are never "
        "changed; predicted ones are marked as such. By default only missing fields and those "
        "predicted by another model are (re)done. With --item, set one item's values instead "
        "(a person's correction: kept from then on).")
    p.add_argument("--all", action="store_true", dest="redo",
                   help="re-predict every predicted field (supplied ones are kept)")
    p.add_argument("--backbone", default=None, help="image encoder (default: BACKBONE setting)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--item", metavar="SKU", help="the item whose tags --set corrects")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", dest="values",
                   help="with --item: a value of category, color, pattern or sleeve, repeatable "
                        "(e.g. --set color=navy --set pattern=striped)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_tag)


def load_tagging_embedder(cfg, backbone: str | None = None):
    """The encoder whose heads predict category and pattern, or None (colour only) when its
    weights are missing; the reason is logged."""
    from core.models.embed import Embedder
    from core.models.registry import MissingWeights

    try:
        return Embedder(backbone or cfg.backbone, cfg)
    except (MissingWeights, KeyError) as exc:
        log.warning("category and pattern not predicted: %s", str(exc).strip("'\""))
        return None


def cmd_tag(args) -> int:
    from core.tagging.catalog import tag_catalog

    if args.item or args.values:
        return _correct(args)
    cfg = settings()
    repo = repository(cfg)
    embedder = load_tagging_embedder(cfg, args.backbone)
    report = tag_catalog(repo, cfg, embedder, redo=args.redo, batch_size=args.batch_size,
                         progress=progress_bar("tag"))
    if args.json:
        emit_json({**report.to_json(), "items": repo.count_items()})
        return 0
    print(f"tagged {report.tagged} of {report.scanned} items needing tags "
          f"({repo.count_items()} in the catalog) in {report.seconds:.1f}s")
    for name, n in report.fields.items():
        top = sorted(report.values.get(name, {}).items(), key=lambda kv: -kv[1])[:5]
        print(f"  {name:<9}{n:>6}  " + ", ".join(f"{v} {c}" for v, c in top))
    if report.unavailable:
        print(f"  not predicted (no model for it): {', '.join(report.unavailable)}")
    if report.unreadable:
        print(f"  unreadable pictures: {len(report.unreadable)}")
    return 0


def _correct(args) -> int:
    """`tag --item SKU --set field=value …`: a person's values for one item."""
    from core.tagging.catalog import correct_tags
    from core.tagging.labels import field_label
    from core.tagging.merge import TAG_FIELDS

    if not (args.item and args.values):
        raise CliError("give both --item SKU and at least one --set FIELD=VALUE")
    if args.redo:
        raise CliError("--all re-predicts the catalog: not with --item")
    values = parse_kv(args.values, "--set")
    if any(not isinstance(v, str) or not v for v in values.values()):
        raise CliError("--set takes one value per field, e.g. --set color=navy")
    repo = repository(settings())
    try:
        item = correct_tags(repo, args.item, values)
    except ValueError as exc:
        raise CliError(f"--set: {exc}") from None
    except KeyError as exc:
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from None
    if args.json:
        emit_json({"id": item.sku, **{name: field_label(item, name, compact=False)
                                      for name in TAG_FIELDS}})
        return 0
    print(f"{item.sku}: " + ", ".join(f"{name} {field_label(item, name, compact=False)}"
                                      for name in TAG_FIELDS))
    return 0
