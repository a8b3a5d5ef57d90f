"""Configuration that reaches the database: what jiuye asks of PostgreSQL on every connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from web.config import build_config
from web.extensions import db


def test_postgresql_connections_ask_for_no_jit_and_sqlite_ones_take_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    sqlite = build_config(tmp_path, {"SECRET_KEY": "x"})
    assert "connect_args" not in sqlite["SQLALCHEMY_ENGINE_OPTIONS"]
    monkeypatch.setenv("DATABASE_URL", "postgresql://jiuye@db.example/jiuye")
    postgres = build_config(tmp_path, {"SECRET_KEY": "x"})
    assert postgres["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://jiuye@db.example/jiuye"
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c jit=off"}
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_the_running_database_compiles_no_query_just_in_time(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
