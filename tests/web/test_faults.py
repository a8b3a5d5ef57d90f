"""Faults injected mid-plan and mid-confirm leave the database as it was; a lost database answers 503."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

import matcher.plan
from web import create_app
from web.extensions import db
from web.jobs.plans import execute_plan, rerun
from web.models import Opening, Placement, PlanAssignment, PlanStatus
from web.services import convert, plans


def _county(factory):
    factory.opening(slots=3)
    for _ in range(3):
        factory.laborer()
    office = factory.user("office")
    db.session.commit()
    return office


def test_a_plan_that_dies_mid_run_is_marked_failed_keeps_nothing_and_runs_again(app, factory, monkeypatch):
    office = _county(factory)
    plan = plans.create_plan(db.session, office, "141030", "optimal")
    db.session.commit()
    real_run = matcher.plan.run_prepared
    calls = []

    def dies_on_the_baseline(prepared, mode, config, **kw):
        calls.append(mode)
        if mode == "greedy":  # the plan's own mode has run; it dies while computing the baseline
            raise MemoryError("injected")
        return real_run(prepared, mode, config, **kw)

    monkeypatch.setattr(matcher.plan, "run_prepared", dies_on_the_baseline)
    failed = execute_plan(plan.id)
    assert calls == ["optimal", "greedy"]
    assert failed.status is PlanStatus.FAILED and "injected" in failed.error
    assert db.session.scalar(select(func.count(PlanAssignment.id))) == 0
    monkeypatch.setattr(matcher.plan, "run_prepared", real_run)
    again = rerun(plan.id)
    db.session.commit()
    assert again.status is PlanStatus.DONE and again.assignments


def test_a_confirm_that_dies_midway_writes_no_placement(app, factory, monkeypatch, client, api_token):
    office = _county(factory)
    plan = plans.create_plan(db.session, office, "141030", "greedy")
    plans.run_plan(db.session, plan, convert.matcher_config(app.config))
    db.session.commit()
    assert len(plan.assignments) == 3

    def audit_fails(*args, **kwargs):
        raise RuntimeError("injected after the placements were flushed")

    monkeypatch.setattr(plans, "audit", audit_fails)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(f"/api/v1/plans/{plan.id}/confirm", headers=api_token(office))
    assert response.status_code == 500 and response.json["error"]["message"] == "内部错误，未保存任何内容。"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Placement.id))) == 0
    assert db.session.get(type(plan), plan.id).status is PlanStatus.DONE


def test_unreachable_database_answers_503_with_a_message():
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
            "SECRET_KEY": "t",
            "RATELIMIT_STORAGE_URI": "memory://",
            "TESTING": True,
        }
    )
    client = app.test_client()
    api = client.get("/api/v1/households", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503 and "数据库" in api.json["error"]["message"]  # in the request's language
    page = client.get("/")
    assert page.status_code == 503
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("mode", ["optimal", "stable", "greedy"])
def test_plans_never_propose_more_than_the_free_slots(app, factory, mode):
    office = _county(factory)
    opening = db.session.scalar(select(Opening))
    db.session.add(
        Placement(
            laborer_id=factory.laborer().id,
            household_id=factory.household().id,
            opening_id=opening.id,
            status="working",
        )
    )
    db.session.commit()
    plan = plans.create_plan(db.session, office, "141030", mode)
    plans.run_plan(db.session, plan, convert.matcher_config(app.config))
    assert sum(a.opening_id == opening.id for a in plan.assignments) <= 2


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("JIUYE_TEST_DATABASE_URL"), reason="needs the local PostgreSQL")
def test_connections_killed_by_the_server_are_replaced_without_an_error(app, client, factory, api_token):
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    db.session.remove()
    # The database restarts (or a proxy drops idle connections): every pooled connection dies.
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert killed >= 1
    # pool_pre_ping notices the dead connection and opens a new one: the user sees nothing.
    assert client.get("/api/v1/households", headers=headers).status_code == 200
