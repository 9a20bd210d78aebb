"""`python -m core ingest PATH`: load images and metadata of any supported layout."""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.common import CliError, add_json_flag, emit_json, repository, settings


def register(sub, _groups) -> None:
    p = sub.add_parser(
        "ingest", help="ingest images: demo catalog, folder, class folders, CSV, analysis JSON",
        description="Validate, deduplicate (content hash) and store images with their metadata. "
        "Every file is reported: added, duplicate or rejected with its reason. Exit code 2 "
        "when any input was rejected (bad file or metadata, unsupported format, sku conflict).",
    )
    p.add_argument("path", help="a folder, a CSV (image_name,category_label), an analysis JSON "
                   "or a single image")
    p.add_argument("--limit", type=int, default=None, help="ingest at most N inputs")
    p.add_argument("--replace", action="store_true",
                   help="a new image given an existing sku replaces that item's image (its "
                   "vectors are dropped; the next `embed` run makes new ones)")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from tqdm import tqdm

    from core.ingest import IngestError, ingest_path

    path = Path(args.path)
    if not path.exists():
        raise CliError(f"{args.path}: no such file or directory")
    if args.limit is not None and args.limit < 0:
        raise CliError(f"--limit must be >= 0, got {args.limit}")
    cfg = settings()
    repo = repository(cfg)
    bars: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit="img", desc="ingest", file=sys.stderr,
                             mininterval=0.5))
        bars[0].update(done - bars[0].n)

    try:
        report = ingest_path(repo, cfg, path, progress=progress, limit=args.limit,
                             replace=args.replace)
    except IngestError as exc:
        raise CliError(str(exc)) from None
    finally:
        for bar in bars:
            bar.close()
    if args.json:
        emit_json(report.to_dict())
    else:
        print("\n".join(report.summary_lines()))
    return 2 if report.rejected else 0
