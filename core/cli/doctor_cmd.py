"""`python -m core doctor`: check the catalog's files, records and vectors; `--fix` repairs."""

from __future__ import annotations

from core.cli.common import CliError, add_json_flag, emit_json, repository, settings


def register(sub, _groups) -> None:
    p = sub.add_parser(
        "doctor", help="check the catalog (orphan files, missing images, stray vectors, stale "
        "pid and temp files); --fix repairs what is safe",
        description="Exit code 0 when the catalog is healthy (after --fix: when nothing is "
        "left to repair), 1 when problems remain.",
    )
    p.add_argument("--fix", action="store_true",
                   help="delete orphan and temp files older than the grace period, vectors "
                        "without items and a stale pid file")
    p.add_argument("--drop-missing", action="store_true",
                   help="with --fix: also delete items whose image file is missing")
    p.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                   help="leave unreferenced files younger than this alone (default: ingest's "
                        "stale-temp age, 3600)")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from core.doctor import Options, run_doctor
    from core.ingest.pipeline import STALE_TEMP_S

    if args.drop_missing and not args.fix:
        raise CliError("--drop-missing only works with --fix")
    if args.grace is not None and args.grace < 0:
        raise CliError(f"--grace must be >= 0, got {args.grace:g}")
    grace = STALE_TEMP_S if args.grace is None else args.grace
    opts = Options(fix=args.fix, drop_missing=args.drop_missing, grace_s=grace)
    report = run_doctor(settings(), opts, repository)
    if args.json:
        emit_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
    return 0 if report.healthy else 1
