"""Plans run on a background thread: the office sees them queued, running with progress, then done."""

from __future__ import annotations

import threading

import pytest

import matcher.plan
from web.extensions import db
from web.jobs import plans


@pytest.mark.app_config(PLAN_EXECUTION="thread")
def test_progress_is_visible_while_the_plan_runs(client, factory, api_token, monkeypatch):
    factory.opening(slots=2)
    for _ in range(3):
        factory.laborer()
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    started, release = threading.Event(), threading.Event()
    real_run = matcher.plan.run_prepared

    def held_run(*args, **kwargs):
        started.set()
        assert release.wait(30), "the test never released the plan"
        return real_run(*args, **kwargs)

    monkeypatch.setattr(matcher.plan, "run_prepared", held_run)
    created = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=headers)
    assert created.status_code == 201 and created.json["status"] in ("queued", "running")
    plan_id = created.json["id"]
    assert started.wait(30)
    # Another connection reads the plan while the run holds its own transaction open.
    midway = client.get(f"/api/v1/plans/{plan_id}", headers=headers).json
    assert midway["status"] == "running" and 0 < midway["progress"] < 1
    assert midway["assignments"] == []
    release.set()
    future = plans.running.get(plan_id)
    if future is not None:  # else the thread has already finished
        assert future.result(timeout=60) == "done"
    db.session.expire_all()
    done = client.get(f"/api/v1/plans/{plan_id}", headers=headers).json
    assert done["status"] == "done" and done["progress"] == 1 and done["assignments"]


def test_execution_mode_follows_the_configuration(app):
    app.config["PLAN_EXECUTION"] = None
    app.config["REDIS_URL"] = None
    assert plans.execution_mode(app) == "thread"
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert plans.execution_mode(app) == "rq"
    app.config["PLAN_EXECUTION"] = "inline"
    assert plans.execution_mode(app) == "inline"


@pytest.mark.app_config(PLAN_EXECUTION="rq", REDIS_URL="redis://127.0.0.1:6379/15")
def test_plans_run_on_an_rq_worker(app, live_redis, client, factory, api_token, database_url, monkeypatch):
    rq = pytest.importorskip("rq")
    connection = live_redis
    connection.delete(f"rq:queue:{plans.QUEUE}")
    factory.opening(slots=2)
    factory.laborer()
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    created = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "greedy"}, headers=headers)
    assert created.status_code == 201 and created.json["status"] == "queued"
    # The worker builds its own app from the environment, as `jiuye plan worker` does.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "worker-test")
    worker = rq.SimpleWorker([rq.Queue(plans.QUEUE, connection=connection)], connection=connection)
    assert worker.work(burst=True)
    db.session.expire_all()
    done = client.get(f"/api/v1/plans/{created.json['id']}", headers=headers).json
    assert done["status"] == "done" and done["assignments"]
