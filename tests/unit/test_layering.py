"""Architecture rules: core never imports streamlit; only core/storage imports pymongo/bson."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit():
    offenders = [str(p) for p in (ROOT / "core").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_only_storage_imports_pymongo():
    offenders = [
        str(p) for p in (ROOT / "core").rglob("*.py")
        if {"pymongo", "bson", "gridfs"} & _imports(p) and "storage" not in p.parts
    ]
    assert offenders == []


def test_pages_are_thin_no_pymongo():
    offenders = [str(p) for p in (ROOT / "pages").rglob("*.py")
                 if {"pymongo", "bson", "torch"} & _imports(p)]
    assert offenders == []
