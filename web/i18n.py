"""Translation catalogs: compiled from the .po files at start-up, so no .mo file lives in git."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

SOURCE_DIR = Path(__file__).resolve().parent / "translations"


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogs(app: Flask, source: Path = SOURCE_DIR) -> Path:
    """Compile every messages.po that has no (or an older) .mo; point Flask-Babel at the result.

    The .mo files go to the instance folder, which is writable even when the package is not; each
    is written to a temporary file and renamed, so that parallel starts never read half a file.
    """
    target = Path(app.instance_path) / "translations"
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if not _stale(po, mo):
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parts[-3])
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    return target
