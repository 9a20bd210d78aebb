"""`explore` (map PNG + cluster CSV + summaries) and `bench explore` (t-SNE timings)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from core.cli.common import CliError, add_json_flag, emit_json, repository, settings


def register(sub, groups) -> None:
    from core.explore.params import METHODS, MapParams  # light: no scikit-learn

    d = MapParams()  # every default and range is the map's
    p = sub.add_parser("explore", help="t-SNE / PCA map of the catalog with k-means clusters")
    p.add_argument("--method", choices=METHODS, default=d.method)
    p.add_argument("--clusters", type=int, default=d.clusters,
                   help="number of k-means clusters, {}..{} (0: suggest k by silhouette "
                        "score; default {})".format(*d.CLUSTERS, d.clusters))
    p.add_argument("--model", help="model id of the vectors (default: BACKBONE setting)")
    p.add_argument("--perplexity", type=float, default=d.perplexity,
                   help="t-SNE perplexity, {}..{} (default {:g})".format(*d.PERPLEXITY,
                                                                       d.perplexity))
    p.add_argument("--iterations", type=int, default=d.iterations,
                   help="t-SNE iterations, {}..{} (default {})".format(*d.ITERATIONS,
                                                                     d.iterations))
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--sample", type=int, default=d.sample,
                   help="map at most this many items: a larger catalog is mapped through a "
                        "category-stratified sample, {}..{} (default {})".format(*d.SAMPLE,
                                                                                d.sample))
    p.add_argument("--color-by", default="cluster",
                   choices=("cluster", "category", "color", "pattern", "season"))
    p.add_argument("--no-cache", action="store_true", help="recompute even if a result is stored")
    p.add_argument("--out", required=True, type=Path, help="folder for map.png and clusters.csv")
    add_json_flag(p)
    p.set_defaults(handler=run_explore)

    b = groups["bench"].add_parser("explore", help="PCA / t-SNE / k-means times by catalog size")
    b.add_argument("--sizes", default="2000,5000,20000", help="comma-separated point counts")
    b.add_argument("--dim", type=int, default=128)
    b.add_argument("--iterations", type=int, default=750)
    b.add_argument("--clusters", type=int, default=20)
    b.add_argument("--engines", action="store_true",
                   help="instead: scikit-learn's t-SNE against openTSNE's FFT t-SNE on the "
                        "same points (each size)")
    add_json_flag(b)
    b.set_defaults(handler=run_bench)


class _Bar:
    """A progress callback drawing a tqdm bar in percent on stderr."""

    def __init__(self, desc: str):
        self.bar = tqdm(total=100, desc=desc, file=sys.stderr, disable=None,
                        bar_format="{l_bar}{bar}| {elapsed}")
        self.name = desc

    def __call__(self, fraction: float, message: str) -> None:
        self.bar.n = round(100 * fraction)
        self.bar.set_description_str(f"{self.name}: {message}", refresh=True)

    def close(self) -> None:
        self.bar.close()


def run_explore(args) -> int:
    from core.explore import (
        ExploreError,
        MapParams,
        assignments_csv,
        build_map,
        render_png,
        suggest_clusters,
    )

    cfg = settings()
    repo = repository(cfg)
    model = args.model or cfg.backbone
    start = time.perf_counter()
    bar = _Bar("explore")
    try:
        k = args.clusters
        if k == 0:
            k = suggest_clusters(repo, model, progress=bar, cache_dir=cfg.cache_dir)["k"]
        params = MapParams(method=args.method, clusters=k, perplexity=args.perplexity,
                           iterations=args.iterations, seed=args.seed, sample=args.sample)
        emap = build_map(repo, model, params, progress=bar, use_cache=not args.no_cache,
                         cache_dir=cfg.cache_dir)
    except ExploreError as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()
    out = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "map.png").write_bytes(render_png(emap, args.color_by))
        (out / "clusters.csv").write_text(assignments_csv(emap), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    result = _result(emap, time.perf_counter() - start, out)
    if args.json:
        emit_json(result)
    else:
        _print_summary(result)
    return 0


def _result(emap, seconds: float, out: Path) -> dict:
    clusters = [{"id": s.id, "size": s.size,
                 "top_category": s.top["category"][0], "top_color": s.top["color"][0],
                 "top": {k: {"value": v, "share": round(sh, 3)} for k, (v, sh) in s.top.items()},
                 "representatives": s.representatives} for s in emap.summaries]
    return {"method": emap.params.method, "n": emap.n, "seconds": round(seconds, 2),
            "sampled_from": emap.sampled_from,
            "model": emap.model_id, "k": emap.params.clusters, "cached": emap.cached,
            "silhouette": emap.silhouette, "png": str(out / "map.png"),
            "csv": str(out / "clusters.csv"), "clusters": clusters}


def _print_summary(result: dict) -> None:
    print(f"{result['method']} map of {result['n']} items ({result['model']}, "
          f"k={result['k']}) in {result['seconds']}s{' (cached)' if result['cached'] else ''}")
    for c in result["clusters"]:
        top = c["top"]
        print(f"  cluster {c['id']:>2}: {c['size']:>5} items  "
              + "  ".join(f"{k} {v['value']} {v['share']:.0%}" for k, v in top.items()))
    print(f"wrote {result['png']} and {result['csv']}")


def run_bench(args) -> int:
    from core.explore.bench import bench_sizes

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise CliError(f"--sizes {args.sizes!r} must be comma-separated integers") from None
    if not sizes or min(sizes) < 10:
        raise CliError("--sizes needs point counts of at least 10")
    bar = _Bar("bench explore")
    try:
        if args.engines:
            from core.explore.bench import bench_tsne_engines

            rows = [bench_tsne_engines(n, dim=args.dim, iterations=args.iterations,
                                       clusters=args.clusters, progress=bar) for n in sizes]
        else:
            rows = bench_sizes(sizes, dim=args.dim, iterations=args.iterations,
                               clusters=args.clusters, progress=bar)
    finally:
        bar.close()
    if args.engines and not args.json:
        for r in rows:
            print(json.dumps(r))
        return 0
    if args.json:
        emit_json({"rows": rows})
    else:
        for r in rows:
            print(f"n={r['n']:>6}  t-SNE {r['tsne_seconds']:>7.1f}s "
                  f"(cpu {r['tsne_cpu_seconds']:.1f}s)  PCA {r['pca_seconds']:.2f}s  "
                  f"k-means {r['kmeans_seconds']:.2f}s  "
                  f"({r['cpus']} cpus, load {r['load_average']})")
    return 0
