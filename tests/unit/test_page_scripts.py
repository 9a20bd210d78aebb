"""Page scripts never write a value to the page by accident: Streamlit's "magic" writes any
expression standing on its own line (a conditional expression, a name), so only calls,
awaits, yields and docstrings may stand alone; and magic is off in the app's config."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


def _stray_expressions(source: str) -> list[int]:
    tree = ast.parse(source)
    docstrings = {id(body[0]) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                                       ast.ClassDef))
                  and (body := node.body) and isinstance(body[0], ast.Expr)
                  and isinstance(body[0].value, ast.Constant)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and id(node) not in docstrings
            and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))]


def test_no_page_has_a_bare_expression_streamlit_would_write():
    found = {p.name: lines for p in SCRIPTS if (lines := _stray_expressions(p.read_text()))}
    assert not found, f"expressions on their own line (written by Streamlit's magic): {found}"


def test_the_check_finds_a_conditional_expression_on_its_own_line():
    assert _stray_expressions('"""doc"""\nst.info(1) if x else None\nst.write(2)\nx\n') == [2, 4]


def test_magic_is_off_and_the_developer_menu_hidden():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False
    assert config["client"]["toolbarMode"] == "viewer"

