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

from core.cli.common import CliError

# Command modules, in help order. A module missing here is a command missing from the CLI.
COMMAND_MODULES = [
    "core.cli.demo_cmd",
    "core.cli.ingest_cmd",
    "core.cli.models_cmd",
    "core.cli.tag_cmd",
    "core.cli.colour_cmd",
    "core.cli.search_cmd",
    "core.cli.refine_cmd",
    "core.cli.explore_cmd",
    "core.cli.outfit_cmd",
    "core.cli.simulate_cmd",
    "core.cli.info_cmd",
]
GROUPS = {
    "demo": "demo catalog: build, ensure",
    "train": "train a model: encoder, classifier, feedback, compat",
    "eval": "evaluate: search, classify, colour, feedback, compat, simulate",
    "outfit": "outfits: score, complete, fitb",
    "bench": "benchmarks: search, ingest, explore",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups = {}
    for name, help_ in GROUPS.items():
        p = sub.add_parser(name, help=help_)
        groups[name] = p.add_subparsers(dest=f"{name}_command", required=True, metavar="WHAT")
    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:  # command module not written yet
                continue
            raise
        mod.register(sub, groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("pymongo", "urllib3", "PIL", "matplotlib", "httpx", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
