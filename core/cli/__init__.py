"""`python -m core <command>`: one CLI for everything the pages do.

Each command module exposes ``register(sub, groups)``: ``sub`` is the top-level subparsers
object, ``groups`` maps the shared groups (train, eval, bench, demo, outfit) to theirs.
A handler takes the parsed args and returns an exit code: 0 ok, 2 bad input, 1 internal.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from core.cli.common import CliError, database_error

# Command modules, in help order. A module missing here is a command missing from the CLI.
COMMAND_MODULES = [
    "core.cli.demo_cmd",
    "core.cli.ingest_cmd",
    "core.cli.models_cmd",
    "core.cli.embed_cmd",
    "core.cli.hub_cmd",
    "core.cli.tag_cmd",
    "core.cli.colour_cmd",
    "core.cli.search_cmd",
    "core.cli.index_cmd",
    "core.cli.refine_cmd",
    "core.cli.explore_cmd",
    "core.cli.outfit_cmd",
    "core.cli.customers_cmd",
    "core.cli.info_cmd",
    "core.cli.doctor_cmd",
]
GROUPS = {
    "demo": "demo catalog: build, ensure",
    "train": "train a model: encoder, classifier, feedback, compat",
    "eval": "evaluate: search, classify, colour, feedback, compat, simulate",
    "outfit": "outfits: score, complete, fitb",
    "bench": "benchmarks: search, scale, ingest, explore",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    parser.add_argument("--debug", action="store_true",
                        help="debug logging and full tracebacks for reported errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups = {}
    for name, help_ in GROUPS.items():
        p = sub.add_parser(name, help=help_)
        groups[name] = p.add_subparsers(dest=f"{name}_command", required=True, metavar="WHAT")
    for mod_name in COMMAND_MODULES:  # every module is listed on purpose: a failure is a bug
        importlib.import_module(mod_name).register(sub, groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose or args.debug)
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        return _report(args, str(exc), exc.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the database going away mid-command is reported, not raised
        message = database_error(exc, command_name(args))
        if message is None:
            raise
        return _report(args, message, 1)


def command_name(args: argparse.Namespace) -> str:
    """The command as typed, e.g. 'ingest' or 'outfit score'."""
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if sub else args.command


def _report(args: argparse.Namespace, message: str, code: int) -> int:
    """One line on stderr (with the traceback first under --debug); returns the exit code."""
    if args.debug:
        traceback.print_exc()
    print(f"error: {message}", file=sys.stderr)
    return code


def _configure_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("pymongo", "urllib3", "PIL", "matplotlib", "httpx", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
