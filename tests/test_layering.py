"""The dependency direction of DESIGN §4: matcher imports nothing of the project, nor Flask or SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_MATCHER = ("flask", "flask_sqlalchemy", "sqlalchemy", "web", "seed", "migrations", "werkzeug", "requests")


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_matcher_is_pure():
    files = sorted((ROOT / "matcher").rglob("*.py"))
    assert files, "matcher/ has no modules"
    offenders = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & set(FORBIDDEN_IN_MATCHER)) for f in files}
    assert not {k: v for k, v in offenders.items() if v}


def test_web_does_not_import_seed_or_tests_at_module_level():
    # seed is data loading for CLI commands; web modules may import it lazily inside commands only.
    for path in sorted((ROOT / "web").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        for node in top_level:
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert not (module or "").startswith(("seed", "tests")), f"{path} imports {module} at module level"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\nfrom sqlalchemy.orm import Session\n")
    assert imported_roots(bad) == {"numpy", "sqlalchemy"}
