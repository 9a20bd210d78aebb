"""`bench scale`: N vectors on a throw-away embedded server; load, cache and query figures.

Registered by core/cli/search_cmd.py beside `bench search`.
"""

from __future__ import annotations

from core.cli.common import CliError, add_json_flag, emit_json, progress_bar

MAX_ITEMS = 5_000_000


def register_bench(groups) -> None:
    p = groups["bench"].add_parser(
        "scale",
        help="N synthetic vectors: insert, cold/snapshot/warm load, peak memory, query latency")
    p.add_argument("--items", type=int, default=1_000_000, help="vectors (default 1000000)")
    p.add_argument("--dim", type=int, default=128, help="vector size (default 128)")
    p.add_argument("--queries", type=int, default=200, help="single queries per index")
    p.add_argument("--batch", type=int, default=10_000, help="vectors per insert batch")
    add_json_flag(p)
    p.set_defaults(handler=cmd_bench_scale)


def cmd_bench_scale(args) -> int:
    from core.index.scalebench import run_scale

    for name, value, low, high in (("--items", args.items, 100, MAX_ITEMS),
                                   ("--dim", args.dim, 2, 4096),
                                   ("--queries", args.queries, 1, 100_000),
                                   ("--batch", args.batch, 1, 100_000)):
        if not low <= value <= high:
            raise CliError(f"{name} must be in [{low}, {high}], got {value}")
    result = run_scale(args.items, dim=args.dim, queries=args.queries, batch=args.batch,
                       progress=progress_bar("insert vectors"))
    if args.json:
        emit_json(result)
        return 0
    q = result["query_ms"]
    print(f"{result['items']:,} x {result['dim']}: insert {result['insert_vectors_per_s']:,}/s, "
          f"cold load {result['cold_load_vectors_per_s']:,}/s, snapshot load "
          f"{result['snapshot_load_vectors_per_s']:,}/s (written in "
          f"{result['snapshot_write_s']} s), warm load "
          f"{result['warm_load_s']} s, peak memory {result['peak_memory_ratio']}x the vectors, "
          f"query p50/p95 exact {q['exact']['p50']}/{q['exact']['p95']} ms, "
          f"ivf {q['ivf']['p50']}/{q['ivf']['p95']} ms; after adding "
          f"{result['added_vectors']:,} vectors, packed in {result['pack_added_s']} s "
          f"(reading every vector back: {result['pack_reading_back_s']} s, "
          f"{result['pack_added_speedup']}x)")
    return 0
