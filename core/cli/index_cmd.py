"""`python -m core index create|status|drop`: the MongoDB vector search index (docs/ATLAS.md)."""

from __future__ import annotations

from typing import Any

from core.cli.common import CliError, add_json_flag, emit_json, progress_bar, repository, settings


def register(sub, _groups) -> None:
    p = sub.add_parser(
        "index", help="the MongoDB vector search index ($vectorSearch): create, status, drop",
        description="Manage the server's vector search index over a copy of the active "
        "model's vectors (MongoDB Atlas, or a deployment with a search process). On a server "
        "without search support every verb exits 1 and the app searches in-process.")
    verbs = p.add_subparsers(dest="index_command", required=True, metavar="WHAT")
    model_help = "model id of the vectors (default: the active model)"

    v = verbs.add_parser("create", help="create the index (and with --backfill write the copy "
                                        "of the vectors it searches)")
    v.add_argument("--model", default=None, help=model_help)
    v.add_argument("--backfill", action="store_true",
                   help="write (or refresh) the copy of the model's vectors and filter fields, "
                        "in batches; re-run it after ingest, embed or tag")
    v.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait up to SECONDS for the index to become queryable")
    add_json_flag(v)
    v.set_defaults(handler=cmd_create)

    v = verbs.add_parser("status", help="server support, index state, copy state, and which "
                                        "index searches use")
    v.add_argument("--model", default=None, help=model_help)
    add_json_flag(v)
    v.set_defaults(handler=cmd_status)

    v = verbs.add_parser("drop", help="drop the index and the copy of the vectors")
    v.add_argument("--keep-copy", action="store_true", help="drop the index only")
    add_json_flag(v)
    v.set_defaults(handler=cmd_drop)


def _open(args):
    cfg = settings()
    repo = repository(cfg)
    return cfg, repo, getattr(args, "model", None) or cfg.backbone


def _server(repo, model_id: str):
    """The server's answer about the index; exit 1 with its reason when it has no search."""
    from core.index.mongo import INDEX_NAME
    from core.storage.search_index import inspect_server, search_collection, vector_dim

    return inspect_server(search_collection(repo), INDEX_NAME, vector_dim(repo, model_id) or 1)


def _no_search(reason: str) -> CliError:
    return CliError(f"this MongoDB server has no search support: {reason}; the app uses the "
                    "in-process index", code=1)


def status_of(cfg, repo, model_id: str) -> dict[str, Any]:
    """Server support, the index, the copy of ``model_id`` and what searches use."""
    from core.index.mongo import INDEX_NAME, describe
    from core.storage.search_index import (
        SEARCH_COLLECTION,
        copy_state,
        index_summary,
        vector_dim,
    )

    server = _server(repo, model_id)
    copy = copy_state(repo, model_id)
    return {"database": repo.db.name, "collection": SEARCH_COLLECTION, "index_name": INDEX_NAME,
            "index_kind": cfg.index_kind, "model_id": model_id,
            "model_dimensions": vector_dim(repo, model_id),
            "search_supported": server.supported,
            "reason": server.reason, "index": index_summary(server.index),
            "copy": {"documents": copy.documents, "current": copy.current,
                     "reason": copy.reason, "stamp": copy.stamp},
            "searches_use": describe(repo, model_id, cfg.index_kind)}


def cmd_status(args) -> int:
    cfg, repo, model_id = _open(args)
    state = status_of(cfg, repo, model_id)
    if args.json:
        emit_json(state)
    else:
        print("\n".join(_status_lines(state)))
    if not state["search_supported"]:
        raise _no_search(state["reason"])
    return 0


def _status_lines(state: dict[str, Any]) -> list[str]:
    where = f"{state['database']}.{state['collection']}"
    index, copy = state["index"], state["copy"]
    if index is None:
        shown = "none"
    else:
        dims = next((f.get("numDimensions") for f in index["definition"].get("fields", [])
                     if f.get("type") == "vector"), "?")
        shown = (f"{index['status']}, {'queryable' if index['queryable'] else 'not queryable'}"
                 f", {dims} dimensions")
    server = ("$vectorSearch available" if state["search_supported"]
              else f"no search support ({state['reason']})")
    return [f"server   : {server}",
            f"index    : {state['index_name']!r} on {where}: {shown}",
            f"copy     : model {state['model_id']!r}: {copy['documents']} documents, "
            + ("current" if copy["current"] else copy["reason"]),
            f"searches : {state['searches_use']}"]


def cmd_create(args) -> int:
    from core.index import embed_command
    from core.index.mongo import INDEX_NAME, forget, index_definition
    from core.storage.search_index import (
        SearchUnsupported,
        backfill,
        copy_state,
        create_index,
        index_summary,
        search_collection,
        vector_dim,
        wait_queryable,
    )

    if args.wait < 0:
        raise CliError(f"--wait must be >= 0, got {args.wait:g}")
    _, repo, model_id = _open(args)
    server = _server(repo, model_id)
    if not server.supported:
        raise _no_search(server.reason)
    dims = vector_dim(repo, model_id)
    if dims is None:
        raise CliError(f"no embeddings for model {model_id!r} yet: run "
                       f"`{embed_command(model_id)}` first")
    if server.index is not None and server.dimensions != dims:
        raise CliError(f"index {INDEX_NAME!r} exists with {server.dimensions} dimensions; model "
                       f"{model_id!r} has {dims}: run `python -m core index drop` first")
    written = backfill(repo, model_id, progress=progress_bar("backfill")) if args.backfill \
        else None
    col = search_collection(repo)
    created = server.index is None
    if created:
        try:
            create_index(col, INDEX_NAME, index_definition(dims))
        except SearchUnsupported as exc:
            raise CliError(f"the server refused the index: {exc}", code=1) from None
    index = wait_queryable(col, INDEX_NAME, args.wait) if args.wait else None
    forget(repo)
    copy = copy_state(repo, model_id)
    result = {"index_name": INDEX_NAME, "created": created, "model_id": model_id,
              "dimensions": dims, "backfilled": written, "copy_current": copy.current,
              "index": index_summary(index)}
    if args.json:
        emit_json(result)
        return 0
    print(f"index {INDEX_NAME!r} on {repo.db.name}.{col.name}: "
          f"{'created' if created else 'already there'} ({dims} dimensions, cosine)")
    if written is not None:
        print(f"copy of model {model_id!r}: {written} vectors written")
    if not copy.current:
        print(f"note: {copy.reason}; run `python -m core index create --backfill`")
    if index is not None:
        ready = "queryable" if index.get("queryable") else "not queryable yet"
        print(f"status: {index.get('status')} ({ready})")
    elif not args.wait:
        print("the server builds it in the background: `python -m core index status` shows "
              "when it is READY")
    return 0


def cmd_drop(args) -> int:
    from core.index.mongo import INDEX_NAME, forget
    from core.storage.search_index import (
        SearchUnsupported,
        drop_copy,
        drop_index,
        search_collection,
    )

    _, repo, model_id = _open(args)
    server = _server(repo, model_id)
    if not server.supported:
        raise _no_search(server.reason)
    if server.index is not None:
        try:
            drop_index(search_collection(repo), INDEX_NAME)
        except SearchUnsupported as exc:
            raise CliError(f"the server refused to drop the index: {exc}", code=1) from None
    removed = 0 if args.keep_copy else drop_copy(repo)
    forget(repo)
    if args.json:
        emit_json({"index_name": INDEX_NAME, "dropped": server.index is not None,
                   "copy_documents_deleted": removed})
    else:
        print(f"index {INDEX_NAME!r}: {'dropped' if server.index is not None else 'not there'}"
              f"; copy: {removed} documents deleted")
    return 0
