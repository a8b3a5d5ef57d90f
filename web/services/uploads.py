"""Uploaded sheets kept between their preview and the cadre's "import" or "cancel" (issue 10, part 8).

A sheet is full of ID numbers, so it lives only as long as it must: one file per upload in
<instance>/imports (directory 0700, file 0600, named by the user and a random token), deleted when
it is imported or cancelled, when its preview shows errors (it can never be imported as it is),
and once older than IMPORT_PREVIEW_MAX_AGE_HOURS by `jiuye imports clean`, which `jiuye serve`
also runs when it starts. A file past that age is never read, even before it is swept.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import BinaryIO

from ..config import setting

SUFFIXES = (".xlsx", ".csv")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def max_age_s() -> float:
    """How long an upload may wait for its import, in seconds (configuration)."""
    return setting("IMPORT_PREVIEW_MAX_AGE_HOURS") * 3600


def upload_dir(instance_path: str | Path) -> Path:
    """The folder of waiting uploads, readable by the service's user only."""
    path = Path(instance_path) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:  # made by an older version, or under a loose umask
        path.chmod(0o700)
    return path


def save(directory: Path, user_id: int, stream: BinaryIO, suffix: str) -> tuple[str, Path]:
    """Keep an uploaded file for its user; its token and path (mode 0600 from the first byte)."""
    if suffix not in SUFFIXES:
        raise ValueError(f"not an import file suffix: {suffix}")
    token = secrets.token_urlsafe(24)
    path = directory / f"{user_id}-{token}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out)
    return token, path


def _is_expired(path: Path, max_age_s: float, now: float) -> bool:
    return now - path.stat().st_mtime > max_age_s


def find(directory: Path, user_id: int, token: str, max_age_s: float) -> Path | None:
    """The user's waiting upload with this token, if it exists and has not expired."""
    if not _TOKEN.match(token or ""):
        return None
    for suffix in SUFFIXES:
        path = directory / f"{user_id}-{token}{suffix}"
        if path.exists():
            if _is_expired(path, max_age_s, time.time()):
                path.unlink(missing_ok=True)
                return None
            return path
    return None


def discard(path: Path) -> None:
    """Delete an upload (imported, cancelled or refused)."""
    path.unlink(missing_ok=True)


def clean(directory: Path, max_age_s: float, now: float | None = None) -> int:
    """Delete every upload older than `max_age_s`; how many were deleted."""
    now = time.time() if now is None else now
    removed = 0
    for path in directory.iterdir():
        if path.is_file() and _is_expired(path, max_age_s, now):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
