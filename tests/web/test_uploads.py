"""Uploaded sheets and operators' commands (issue 10, part 8): previews are kept 0600 and deleted on
import, cancel, refusal and after 24 h (`jiuye imports clean`, also run by `jiuye serve`); the
CLI says what is wrong in one line, never a traceback."""

from __future__ import annotations

import io
import os
import re
import stat
import time
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.web.import_rows import HEADERS, import_row
from web import create_app
from web.extensions import db
from web.models import Laborer


def sheet(factory, **kw) -> bytes:
    return ("\n".join([",".join(HEADERS), ",".join(import_row(factory, **kw))]) + "\n").encode()


@pytest.fixture
def cadre(app, factory):
    """A browser logged in as a cadre, and the folder where uploads wait."""
    user = factory.user("cadre")
    db.session.commit()
    client = app.test_client()
    g.pop("_login_user", None)
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client, Path(app.instance_path) / "imports"


def upload(client, data: bytes):
    response = client.post(
        "/cadre/import", data={"upload": (io.BytesIO(data), "laborers.csv")}, content_type="multipart/form-data"
    )
    found = re.search(r'name="token" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    return response, found.group(1) if found else None


def waiting(folder: Path, token: str) -> list[Path]:
    return sorted(folder.glob(f"*-{token}.*"))


def laborers() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Laborer.id)))


def test_a_preview_is_kept_for_its_owner_only_and_deleted_on_import(cadre, factory):
    client, folder = cadre
    response, token = upload(client, sheet(factory))
    assert response.status_code == 200
    [path] = waiting(folder, token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert client.post("/cadre/import/commit", data={"token": token}).status_code == 302
    assert waiting(folder, token) == [] and laborers() == 1


def test_cancel_deletes_the_preview_and_imports_nothing(cadre, factory):
    client, folder = cadre
    _, token = upload(client, sheet(factory))
    assert client.post("/cadre/import/cancel", data={"token": token}).status_code == 302
    assert waiting(folder, token) == []
    again = client.post("/cadre/import/commit", data={"token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/cadre/import")
    assert laborers() == 0


def test_a_preview_with_row_errors_is_not_kept(cadre, factory):
    client, folder = cadre
    before = set(folder.iterdir()) if folder.exists() else set()
    response, token = upload(client, sheet(factory, 身份证号="123"))
    assert response.status_code == 422 and token is None
    assert set(folder.iterdir()) == before


def test_an_expired_preview_is_never_imported(cadre, factory):
    client, folder = cadre
    _, token = upload(client, sheet(factory))
    [path] = waiting(folder, token)
    day_ago = time.time() - 25 * 3600
    os.utime(path, (day_ago, day_ago))
    response = client.post("/cadre/import/commit", data={"token": token})
    assert response.status_code == 302 and laborers() == 0 and waiting(folder, token) == []


def test_imports_clean_deletes_uploads_older_than_a_day(app, runner):
    folder = Path(app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / "1-oldoldoldoldoldold.csv", folder / "1-freshfreshfreshfresh.csv"
    for path in (old, fresh):
        path.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    result = runner.invoke(args=["imports", "clean"])
    assert result.exit_code == 0 and "Deleted 1 uploaded sheet(s) older than 24 h." in result.output
    assert not old.exists() and fresh.exists()
    fresh.unlink()


def test_serve_cleans_uploads_when_it_starts(app, runner, factory, monkeypatch):
    import waitress

    started = []
    monkeypatch.setattr(waitress, "serve", lambda wsgi, **kw: started.append(kw))
    folder = Path(app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    old = folder / "1-oldoldoldoldoldold.xlsx"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 25 * 3600,) * 2)
    result = runner.invoke(args=["serve", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert not old.exists() and "Deleted 1 uploaded sheet(s)" in result.output
    assert started == [{"host": "127.0.0.1", "port": 5999, "threads": 4}]


def test_serve_runs_one_thread_per_gunicorn_worker_unless_told(app, runner, factory, monkeypatch):
    """Alone, one waitress process with 4 threads; with workers, gunicorn's sync workers (one thread each:
    threads of one worker queue on the interpreter's lock), unless --threads says otherwise."""
    from web.cli import serve as serve_command

    started = []
    monkeypatch.setattr(serve_command, "serve_with_gunicorn", lambda app, host, port, *shape: started.append(shape))
    for args in (["--workers", "3"], ["--workers", "2", "--threads", "2"]):
        result = runner.invoke(args=["serve", "--port", "5997", "--no-warm", *args])
        assert result.exit_code == 0, result.output
    assert started == [(3, 1), (2, 2)]


def one_clear_line(result) -> str:
    """A failed command's whole output: one line, no traceback."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_user_create_with_an_unknown_region_or_village_says_so(runner, factory):
    line = one_clear_line(
        runner.invoke(
            args=[
                "user",
                "create",
                "clerk",
                "--role",
                "office",
                "--region",
                "999999",
                "--password",
                "quiet-river-lantern-42",
            ]
        )
    )
    assert "unknown region 999999" in line
    line = one_clear_line(
        runner.invoke(
            args=[
                "user",
                "create",
                "clerk",
                "--role",
                "cadre",
                "--village",
                "141030100299",
                "--password",
                "quiet-river-lantern-42",
            ]
        )
    )
    assert "unknown village 141030100299" in line
    line = one_clear_line(
        runner.invoke(
            args=[
                "user",
                "create",
                "clerk",
                "--role",
                "employer",
                "--employer-id",
                "424242",
                "--password",
                "quiet-river-lantern-42",
            ]
        )
    )
    assert "unknown employer 424242" in line


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "sqlite:////no/such/folder/jiuye.sqlite"]
)
def test_serve_with_an_unreachable_database_says_so_in_one_line(url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():  # as the `jiuye` script pushes it
        line = one_clear_line(app.test_cli_runner().invoke(args=["serve"]))
        db.engine.dispose()
    assert line.startswith("Error: cannot reach the database") and "check DATABASE_URL" in line


def test_serve_on_an_empty_database_asks_for_an_upgrade(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite'}",
            "SECRET_KEY": "t",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        line = one_clear_line(app.test_cli_runner().invoke(args=["serve"]))
        db.engine.dispose()
    assert "run `jiuye db upgrade`" in line
