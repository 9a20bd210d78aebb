"""`embed` (vectors for the catalog, then auto-tagging) and `bench ingest`."""

from __future__ import annotations

from core.cli.common import (
    add_json_flag,
    emit_json,
    load_embedder,
    progress_bar,
    repository,
    settings,
)


def register(sub, groups) -> None:
    p = sub.add_parser("embed", help="embed every catalog item lacking a vector for a backbone")
    p.add_argument("--backbone", default=None, help="registry name (default: BACKBONE setting)")
    p.add_argument("--mask", action="store_true", help="mask non-garment pixels first")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers (default auto)")
    p.add_argument("--limit", type=int, default=None, help="embed at most N items this run")
    p.add_argument("--no-tag", action="store_true",
                   help="do not predict the category, colour and pattern items lack")
    add_json_flag(p)
    p.set_defaults(handler=cmd_embed)

    p = groups["bench"].add_parser("ingest", help="embedding job vs raw forward throughput")
    p.add_argument("--images", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=None)
    add_json_flag(p)
    p.set_defaults(handler=cmd_bench_ingest)


def cmd_embed(args) -> int:
    from core.models.embed import embed_and_pack

    cfg = settings()
    embedder = load_embedder(cfg, args.backbone, mask=args.mask)
    repo = repository(cfg)
    n = embed_and_pack(repo, cfg, embedder.backbone, mask=args.mask, batch_size=args.batch_size,
                       progress=progress_bar(embedder.model_id), embedder=embedder,
                       workers=args.workers, limit=args.limit)
    result = {"model_id": embedder.model_id, "embedded": n,
              "vectors": repo.vector_count(embedder.model_id), "items": repo.count_items()}
    if not args.no_tag:
        from core.tagging.catalog import tag_catalog

        result["tags"] = tag_catalog(repo, cfg, embedder, progress=progress_bar("tag")).to_json()
    if args.json:
        emit_json(result)
        return 0
    print(f"{result['model_id']}: embedded {n}; {result['vectors']}/{result['items']} "
          "items have vectors")
    if "tags" in result:
        print(f"tagged {result['tags']['tagged']} items: " + ", ".join(
            f"{k} {v}" for k, v in result["tags"]["fields"].items()))
    return 0


def cmd_bench_ingest(args) -> int:
    from core.models.bench import bench_ingest
    from core.models.registry import MissingWeights, get_spec, resolve_weights

    cfg = settings()
    try:
        resolve_weights(get_spec("studio_encoder"), cfg.weights_dir)
        studio = "default"
    except MissingWeights:
        studio = None
    result = bench_ingest(cfg, [("studio_encoder", studio), ("resnet50", None)],
                          n_images=args.images, batch_size=args.batch_size, workers=args.workers)
    if args.json:
        emit_json(result)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0
