"""The tree holds its style: ruff's lint rules, ruff's formatter and mypy, with the settings in pyproject.toml.

The tools come with the test extras. Outside CI a missing tool skips its test; in CI (``CI`` set) it fails,
so that a broken install cannot pass for a clean tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if Path(found).exists():
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; it comes with the test extras (pip install -e '.[test]')")
    pytest.skip(f"{name} is not installed (it comes with the test extras)")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=ROOT)


def test_ruff_check_passes():
    result = _run(_tool("ruff"), "check", "--no-cache", str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_the_tree_unchanged():
    result = _run(_tool("ruff"), "format", "--check", "--no-cache", str(ROOT))
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr


def test_mypy_reports_no_errors():
    result = _run(_tool("mypy"), "--no-incremental", "--cache-dir", os.devnull)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr
