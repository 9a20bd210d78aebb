"""Readers for folders: class folders (`train/dress/*.jpg`, `dress/*.jpg`) and plain folders
of images with an optional metadata.csv / metadata.json sidecar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.ingest.sources import (
    SPLITS,
    Candidate,
    RowError,
    Source,
    apply_metadata,
    is_image_file,
    list_files,
    list_images,
    not_an_image,
    read_csv,
    read_json,
    rel_label,
    skipped_name,
)

SIDECARS = ("metadata.csv", "metadata.json")
FILE_KEYS = ("file", "filename", "image", "image_name", "path")


def subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not skipped_name(p.name))


def has_top_images(folder: Path) -> bool:
    return any(is_image_file(p) for p in folder.iterdir())


def find_sidecar(folder: Path) -> Path | None:
    """The folder's metadata file (also when it is a broken link: reading it then fails)."""
    return next((folder / n for n in SIDECARS if _present(folder / n)), None)


def _present(path: Path) -> bool:
    return path.is_file() or path.is_symlink()


def looks_like_class_folders(folder: Path) -> bool:
    """Sub-folders holding images and no images at the top level."""
    return not has_top_images(folder) and any(list_images(d) for d in subdirs(folder))


def read_class_folders(root: Path) -> Source:
    """Category from the class folder's name; split from a train/val/test parent, if any."""
    source = Source(format="class-folders", root=root)
    tops = subdirs(root)
    split_dirs = [d for d in tops if d.name.lower() in SPLITS]
    if split_dirs:
        for extra in (d for d in tops if d not in split_dirs):
            source.reject(extra.name + "/", "not a split folder (expected train/val/test); "
                          "skipped")
        for path in list_files(root, recursive=False):
            source.reject(path.name, not_an_image(path) or "image outside the split folders")
        for split_dir in split_dirs:
            _add_classes(source, split_dir, SPLITS[split_dir.name.lower()])
    else:
        _add_classes(source, root, None)
    return source


def _add_classes(source: Source, parent: Path, split: str | None) -> None:
    for path in list_files(parent, recursive=False):
        _add_file(source, path, "unknown", split)
    for class_dir in subdirs(parent):
        category = " ".join(class_dir.name.replace("_", " ").split()).lower()
        for path in list_files(class_dir):
            _add_file(source, path, category, split)


def _add_file(source: Source, path: Path, category: str, split: str | None) -> None:
    """A candidate for an image; a rejection naming the file for anything else."""
    reason = not_an_image(path)
    if reason:
        source.reject(rel_label(path, source.root), reason)
        return
    cand = Candidate(file=path, label=rel_label(path, source.root), category=category)
    if split:
        cand.fields["split"] = split
    source.candidates.append(cand)


def read_plain_folder(root: Path) -> Source:
    """Every file under ``root``: images get the sidecar's metadata where it names them;
    anything else is rejected with its reason. An unreadable sidecar writes nothing."""
    source = Source(format="folder", root=root)
    sidecar = find_sidecar(root)
    rows: dict[str, tuple[str, dict[str, Any]]] = {}
    if sidecar is not None:
        source.format = f"folder+{sidecar.name}"
        try:
            rows = _sidecar_rows(source, sidecar)
        except RowError as exc:
            source.reject(sidecar.name, str(exc))
            source.fatal = True
            return source
    for path in list_files(root):
        label = rel_label(path, root)
        if path == sidecar:
            continue
        if path.name in SIDECARS and path.parent == root:
            source.reject(label, f"not read: {sidecar.name} is this folder's metadata file")
            continue
        reason = not_an_image(path)
        where, row = rows.pop(label, (None, {}))
        if reason:
            source.reject(label, reason)
        else:
            _fill(source, Candidate(file=path, label=label), sidecar, where, row)
    for label, (where, _row) in rows.items():
        source.reject(sidecar.name, f"{where}: image {label} not found")
    return source


def _fill(source: Source, cand: Candidate, sidecar: Path | None, where: str | None,
          row: dict[str, Any]) -> None:
    """Add ``cand`` with its metadata row; a bad row rejects it (named by row and file)."""
    try:
        if "__error__" in row:
            raise RowError(row["__error__"])
        if row:
            cand.where = f"{sidecar.name} {where}"
            apply_metadata(cand, row, also=FILE_KEYS)
    except RowError as exc:
        source.reject(sidecar.name, f"{where} ({cand.label}): {exc}")
        return
    source.candidates.append(cand)


def _sidecar_rows(source: Source, sidecar: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """{relative file name: (row description, metadata row)}; RowError if wholly unusable."""
    if sidecar.suffix == ".csv":
        header, table = read_csv(sidecar)
        key = next((k for k in FILE_KEYS if k in header), None)
        if key is None:
            raise RowError(f"no file column (one of {', '.join(FILE_KEYS)}); "
                           f"header is {','.join(header)}")
        entries = [(f"row {i}", row) for i, row in enumerate(table, start=2) if row]
    else:
        data = read_json(sidecar)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if isinstance(data, dict):  # {file name: {metadata}}
            data = [{**v, "file": k} if isinstance(v, dict) else v for k, v in data.items()]
        if not isinstance(data, list):
            raise RowError(f"expected a list of objects, got {type(data).__name__}")
        key = None
        entries = [(f"entry {i}", row) for i, row in enumerate(data)]
    rows: dict[str, tuple[str, dict[str, Any]]] = {}
    for where, row in entries:
        name = _file_of(row, key)
        if not name:
            source.reject(sidecar.name, f"{where}: no file name")
            continue
        if "__width__" in row:  # the image is rejected with its row, not ingested bare
            row = {"__error__": row["__width__"]}
        rows[Path(name).as_posix().removeprefix("./")] = (where, row)
    return rows


def _file_of(row: Any, key: str | None) -> str:
    if not isinstance(row, dict):
        return ""
    keys = (key,) if key else FILE_KEYS
    return next((str(row[k]).strip() for k in keys if str(row.get(k) or "").strip()), "")
