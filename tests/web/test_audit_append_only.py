"""The audit trail is append-only in the database itself (issue 10, part 4): plain SQL and bulk ORM
statements that would change or delete an event fail, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from web.extensions import db
from web.models import AuditEvent
from web.services.accounts import audit


@pytest.fixture
def event_id(factory) -> int:
    event = audit(db.session, "login", user=factory.user("office"), remote_addr="10.0.0.1")
    db.session.commit()
    return event.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'nothing'",
        "UPDATE audit_event SET remote_addr = NULL WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
    ],
)
def test_plain_sql_cannot_change_or_delete_an_event(event_id, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": event_id})
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "login"


def test_bulk_orm_update_and_delete_fail(event_id):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(AuditEvent).values(action="nothing"))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == event_id))
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == event_id)) == "login"


def test_new_events_are_still_written(event_id):
    audit(db.session, "logout", username="someone")
    db.session.commit()
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all() == [
        "login",
        "logout",
    ]


POSTGRES_URL = os.environ.get("JIUYE_TEST_DATABASE_URL")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="JIUYE_TEST_DATABASE_URL is not set")
def test_app_role_uses_the_tables_but_cannot_touch_the_trail(runner, event_id, database_url):
    """`jiuye db grant-app-role`: a role that reads and writes records, appends audit events, and can
    neither change them nor drop the trigger nor alter the table."""
    role = f"jiuye_app_{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["db", "grant-app-role", role, "--password", "app-pass-1"])
    assert result.exit_code == 0, result.output
    assert role in result.output
    url = make_url(database_url).set(username=role, password="app-pass-1")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO audit_event (at, action) VALUES (now(), 'read')"))
            assert connection.scalar(text("SELECT count(*) FROM audit_event")) == 2
            connection.execute(text("UPDATE region SET name = name"))  # ordinary tables: read-write
        refusals = {
            "UPDATE audit_event SET action = 'x'": "permission denied",
            "DELETE FROM audit_event": "permission denied",
            "TRUNCATE audit_event": "permission denied",
            "DROP TRIGGER audit_event_append_only ON audit_event": "must be owner",
            "ALTER TABLE audit_event DISABLE TRIGGER ALL": "must be owner",
            "SET session_replication_role = replica": "permission denied",
        }
        for statement, message in refusals.items():
            with pytest.raises(DBAPIError, match=message), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


def test_grant_app_role_needs_postgresql(runner, app):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("this database is PostgreSQL")
    result = runner.invoke(args=["db", "grant-app-role", "jiuye_app"])
    assert result.exit_code == 1
    assert "PostgreSQL" in result.output and "Traceback" not in result.output
