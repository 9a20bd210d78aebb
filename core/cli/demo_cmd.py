"""`python -m core demo build`: render the demo catalog to a folder."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from core.cli.common import CliError, add_json_flag, emit_json, settings
from core.demo.params import DemoParams

log = logging.getLogger(__name__)


def register(_sub, groups) -> None:
    p = groups["demo"].add_parser(
        "build", help="render the demo catalog (images, masks, items, outfits, pairs, stores)")
    p.add_argument("--items", type=int, default=DemoParams.items,
                   help=f"number of items (default {DemoParams.items})")
    p.add_argument("--seed", type=int, default=DemoParams.seed,
                   help=f"random seed (default {DemoParams.seed})")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default DATA_DIR/demo)")
    p.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    p.add_argument("--workers", type=int, default=2, help="render processes (default 2)")
    p.add_argument("--outfits", type=int, default=None,
                   help="outfits to draw, about half broken (default: one per six items)")
    add_json_flag(p)
    p.set_defaults(handler=build)


def build(args) -> int:
    from tqdm import tqdm

    from core.demo.build import build_catalog, default_command

    if args.items < 1:
        raise CliError(f"--items must be at least 1 (got {args.items})")
    if not 32 <= args.size <= 1024:
        raise CliError(f"--size must be between 32 and 1024 (got {args.size})")
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1 (got {args.workers})")
    if args.outfits is not None and args.outfits < 4:
        raise CliError(f"--outfits must be at least 4 (got {args.outfits})")
    out = args.out if args.out is not None else settings().data_dir / "demo"
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} exists and is not a folder")
    start = time.perf_counter()
    with tqdm(total=args.items, desc="rendering", unit="item", file=sys.stderr,
              dynamic_ncols=True) as bar:
        manifest = build_catalog(
            out, args.items, args.seed, size=args.size, workers=args.workers,
            progress=lambda done, _total: bar.update(done - bar.n), outfits=args.outfits,
            command=default_command(args.items, args.seed, args.size, args.outfits))
    seconds = round(time.perf_counter() - start, 2)
    if args.json:
        emit_json({**manifest, "out": str(out.resolve()), "seconds": seconds})
    else:
        counts = manifest["counts"]
        print(f"built {manifest['items']} items ({counts['outfits']} outfits, "
              f"{counts['pairs']} pairs, {counts['stores']} stores) in {seconds}s -> {out}")
    return 0
