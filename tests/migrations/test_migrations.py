"""`upgrade head` on an empty database gives exactly the schema the models describe."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from web import MIGRATIONS_DIR, create_app
from web.extensions import db

POSTGRES_URL = os.environ.get("JIUYE_TEST_DATABASE_URL")


def _upgrade_and_compare(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        assert diff == [], f"models and revisions disagree: {diff}"
        assert {"laborer", "placement", "plan", "audit_event", "alembic_version"} <= tables
        _audit_trail_is_append_only(db.engine)
        # And back down to nothing, so every revision's downgrade works too.
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def _audit_trail_is_append_only(engine) -> None:
    """The revisions' triggers refuse to change or delete an audit event in plain SQL."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_event (at, action) VALUES (CURRENT_TIMESTAMP, 'login')"))
    for statement in ("UPDATE audit_event SET action = 'nothing'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT action FROM audit_event")) == "login"


def test_upgrade_head_matches_models_on_sqlite(tmp_path):
    _upgrade_and_compare(f"sqlite:///{tmp_path / 'fresh.sqlite'}")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="JIUYE_TEST_DATABASE_URL is not set")
def test_upgrade_head_matches_models_on_postgresql():
    server = make_url(POSTGRES_URL)
    name = f"jiuye_migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _upgrade_and_compare(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_plan_failure_revision_gives_plans_failed_before_it_their_code(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
            "SECRET_KEY": "t",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="c4d9e2a7f1b6")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO region (code, name, level, lat, lon, position_source)"
                    " VALUES ('141030', '大宁县', 'county', 36.46, 110.75, 'gazetteer')"
                )
            )
            for status, error in [
                ("failed", "interrupted"),
                ("failed", "QuotaError: quota 2 cannot be met together with the other quotas"),
                ("done", None),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO plan (region_code, mode, status, progress, error, created_at)"
                        " VALUES ('141030', 'greedy', :status, 0, :error, CURRENT_TIMESTAMP)"
                    ),
                    {"status": status, "error": error},
                )
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT status, error, failure FROM plan ORDER BY id")).all()
        db.engine.dispose()
    assert [(status, error, failure and json.loads(failure)) for status, error, failure in rows] == [
        ("failed", "interrupted", {"code": "interrupted"}),
        ("failed", "QuotaError: quota 2 cannot be met together with the other quotas", {"code": "error"}),
        ("done", None, None),
    ]
