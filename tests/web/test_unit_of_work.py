"""The unit of work: one transaction per request, CLI command or job, ended in one place (web.unit_of_work).

What is kept is read through a connection of its own, which sees only what was committed (the tests
share the app's session with the requests they make).
"""

from __future__ import annotations

import ast
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Response, flash, redirect, stream_with_context
from sqlalchemy import func, select

from tests.conftest import PASSWORD, POSTGRES_URL
from web import unit_of_work
from web.errors import ConflictError
from web.extensions import db
from web.models import AuditEvent, Household, Laborer, Region
from web.unit_of_work import unit_of_work as a_unit_of_work

from .pages.conftest import FreshLocaleClient
from .pages.test_import import csv_bytes, row, upload

WEB = Path(__file__).resolve().parents[2] / "web"


@pytest.fixture
def pages(app):
    """A function: a page client logged in as `user` (the locale picked afresh on each request)."""

    def logged_in(user):
        db.session.commit()
        app.test_client_class = FreshLocaleClient
        client = app.test_client()
        assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        return client

    return logged_in


def committed(model, *where) -> int:
    """How many rows of `model` another connection sees."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model).where(*where))


def test_services_pages_and_api_never_commit_nor_roll_back():
    calls = []
    for folder in ("services", "pages", "api"):
        for path in sorted((WEB / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", None))
                    if name in ("commit", "rollback"):
                        calls.append(f"{path.relative_to(WEB.parent)}:{node.lineno} {name}()")
    assert calls == [], "the unit of work ends transactions, not these:\n" + "\n".join(calls)


def test_every_view_of_the_app_runs_in_a_unit_of_work(app):
    outside = [name for name, view in app.view_functions.items() if not getattr(view, "in_unit_of_work", False)]
    assert outside == []


def test_a_request_refused_after_writing_keeps_nothing(factory, pages):
    """An import commit flushes its first row, then the second is refused: the 422 keeps neither."""
    client = pages(factory.user("cadre"))
    taken = factory.id_number()
    page = upload(client, csv_bytes([row(factory), row(factory, 姓名="赵三", 身份证号=taken)])).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    factory.laborer(id_number=taken)  # registered by someone else between preview and commit
    db.session.commit()
    before = committed(Laborer), committed(Household)

    response = client.post("/cadre/import/commit", data={"token": token}, headers={"Accept-Language": "en"})

    assert response.status_code == 422 and "Nothing was imported" in response.get_data(as_text=True)
    assert (committed(Laborer), committed(Household)) == before


def test_a_get_that_audits_a_read_keeps_its_audit_row(client, factory, api_token):
    laborer = factory.laborer()
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    reads = (AuditEvent.action == "read", AuditEvent.entity_type == "laborer", AuditEvent.entity_id == str(laborer.id))

    response = client.get(f"/api/v1/laborers/{laborer.id}", headers=headers)

    assert response.status_code == 200
    assert committed(AuditEvent, *reads) == 1


def test_a_page_that_audits_a_read_keeps_its_audit_row(factory, pages):
    household = factory.household()
    client = pages(factory.user("cadre"))

    assert client.get(f"/cadre/households/{household.id}").status_code == 200
    assert committed(AuditEvent, AuditEvent.action == "read", AuditEvent.entity_id == str(household.id)) == 1


def test_a_failed_api_login_is_kept_although_the_answer_is_401(client, factory):
    user = factory.user("cadre")
    db.session.commit()
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": "wrong-password"})
    assert response.status_code == 401
    assert committed(AuditEvent, AuditEvent.action == "login_failed", AuditEvent.username == user.username) == 1


def test_a_cli_command_that_fails_midway_writes_nothing(runner, monkeypatch):
    import seed.demo

    def dies_after_the_people(*args, **kwargs):
        raise RuntimeError("injected: the seed dies after households and laborers were flushed")

    monkeypatch.setattr(seed.demo, "_users", dies_after_the_people)
    result = runner.invoke(args=["seed", "demo"])

    assert isinstance(result.exception, RuntimeError)
    assert (committed(Region), committed(Household), committed(Laborer)) == (0, 0, 0)


def test_a_clash_found_only_at_commit_answers_409_and_keeps_nothing(app, client, factory):
    """The commit's own flush meets a unique key: a 409, not a 500, and no 'saved' flashed."""
    existing = factory.household()
    db.session.commit()
    code, village = existing.code, existing.village_code

    @app.post("/test-only/clash")
    def clash():
        db.session.add(
            Household(
                code=code,
                village_code=village,
                head_name="重复",
                poverty_status="non_poor",
                lat=36.5,
                lon=110.7,
                position_source="typed",
            )
        )
        flash("saved")
        return redirect("/")

    unit_of_work.install(app)  # the route came after create_app

    response = client.post("/test-only/clash")

    assert response.status_code == 409
    assert committed(Household) == 1
    with client.session_transaction() as cookie:
        assert "_flashes" not in cookie


def test_a_streamed_answer_reads_after_its_unit_has_committed(app, client, factory):
    factory.household(code="141030100201-0042")
    db.session.commit()

    @app.get("/test-only/stream")
    def stream():
        def codes():
            for code in db.session.scalars(select(Household.code)):
                yield code + "\n"

        return Response(stream_with_context(codes()), mimetype="text/plain")

    unit_of_work.install(app)

    response = client.get("/test-only/stream")

    assert response.status_code == 200 and response.get_data(as_text=True) == "141030100201-0042\n"


def test_the_cli_unit_of_work_commits_at_the_end_and_turns_a_clash_into_a_conflict(app, factory):
    existing = factory.household()
    db.session.commit()
    with a_unit_of_work() as session:
        session.add(
            Household(
                code="141030100201-9001",
                village_code=existing.village_code,
                head_name="新户",
                poverty_status="non_poor",
                lat=36.5,
                lon=110.7,
                position_source="typed",
            )
        )
    assert committed(Household) == 2
    with pytest.raises(ConflictError), a_unit_of_work() as session:
        session.add(
            Household(
                code="141030100201-9002",
                village_code=existing.village_code,
                head_name="又一户",
                poverty_status="non_poor",
                lat=36.5,
                lon=110.7,
                position_source="typed",
            )
        )
        session.add(
            Household(
                code=existing.code,
                village_code=existing.village_code,
                head_name="重复",
                poverty_status="non_poor",
                lat=36.5,
                lon=110.7,
                position_source="typed",
            )
        )
    assert committed(Household) == 2


@contextmanager
def sqlite_write_lock_held_elsewhere(database_url: str):
    """Another process's connection holds SQLite's write lock for the duration."""
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's write lock and busy timeout")
@pytest.mark.app_config(SQLITE_BUSY_TIMEOUT_S=0.2)
def test_a_writer_that_cannot_get_sqlites_lock_in_time_answers_503_and_writes_nothing(
    client, factory, api_token, database_url
):
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre) | {"Accept-Language": "en"}
    body = {
        "code": "141030100201-7001",
        "village_code": "141030100201",
        "head_name": "王五",
        "poverty_status": "registered_poor",
    }
    with sqlite_write_lock_held_elsewhere(database_url):
        response = client.post("/api/v1/households", headers=headers, json=body)
    assert response.status_code == 503 and "database" in response.json["error"]["message"]
    assert committed(Household) == 0


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's write lock and busy timeout")
@pytest.mark.app_config(SQLITE_BUSY_TIMEOUT_S=0.2)
def test_reads_go_on_while_a_writer_holds_sqlites_lock(client, factory, api_token, database_url):
    factory.opening()
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre)
    # A list of postings writes nothing. (A list of people writes its audit row, and so waits for
    # the lock like any write: web.services.accounts.audit_read.)
    with sqlite_write_lock_held_elsewhere(database_url):
        response = client.get("/api/v1/openings", headers=headers)
    assert response.status_code == 200 and response.json["meta"]["total"] == 1
