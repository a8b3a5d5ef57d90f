"""Plans on RQ workers, with the real local Redis and the test database: an optimal plan's independent
parts run as jobs of their own and one job assembles them into exactly the plan the in-process path
stores; a province office queues one plan per county in one action and two `jiuye plan worker`
processes run them all; a part's worker killed mid-solve leaves the plan "interrupted", and it runs
again."""

from __future__ import annotations

import os
import select as io_select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

import web
from seed.scale import SCALE_LOGIN, seed_scale
from web.extensions import db
from web.jobs import plans as plan_runs
from web.models import Plan, PlanAssignment, PlanMode, PlanStatus, Region, RegionLevel
from web.services.regions import in_region

REPO = Path(web.__file__).resolve().parent.parent
REDIS_URL = os.environ.get("JIUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: A queue of this test run's own, so that other runs sharing the Redis never take its jobs.
QUEUE = f"jiuye-plans-test-{uuid.uuid4().hex[:8]}"
#: Small parts, so that the seeded province's jobs graph falls into several (one job each).
PART_ARCS = 40
LEASE_S = 3.0

WORKERS = pytest.mark.app_config(
    PLAN_EXECUTION="rq", REDIS_URL=REDIS_URL, PLAN_QUEUE=QUEUE, PLAN_PART_ARCS=PART_ARCS, PLAN_LEASE_S=LEASE_S
)

#: `jiuye plan worker --burst` whose part solver never returns: it says so on stdout, then waits to be killed.
HELD_WORKER = """
import os, sys, threading
import matcher.plan

def held(*args, **kwargs):
    print("part started", os.getpid(), flush=True)
    threading.Event().wait()

matcher.plan.solve_part = held
from web.cli import main
main()
"""


@pytest.fixture
def market(app):
    """A small open province market (seed scale), and the province office's API header."""
    seed_scale(db.session, 12_000, random_seed=7)
    db.session.commit()
    return SCALE_LOGIN


@pytest.fixture
def headers(client, market):
    username, password, _ = market
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


@pytest.fixture
def queue(app, live_redis):
    """The test's RQ queue; everything it left in Redis is deleted afterwards."""
    rq = pytest.importorskip("rq")
    q = rq.Queue(QUEUE, connection=live_redis)
    yield q
    registries = [
        q.finished_job_registry,
        q.failed_job_registry,
        q.deferred_job_registry,
        q.started_job_registry,
        q.canceled_job_registry,
        q.scheduled_job_registry,
    ]
    jobs = set(q.job_ids)
    for registry in registries:
        jobs.update(registry.get_job_ids())
    live_redis.delete(*(f"rq:job:{job}" for job in jobs), *(f"rq:results:{job}" for job in jobs), q.key)
    for registry in registries:
        live_redis.delete(registry.key)
    for key in live_redis.scan_iter("jiuye:plan:*"):
        token = key.decode().split(":")[3]
        if token in _tokens:
            live_redis.delete(key)


_tokens: set[str] = set()


def _worker_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """What a `jiuye plan worker` process of this test reads: its database, Redis, queue and parts."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "worker-test",
        "REDIS_URL": REDIS_URL,
        "JIUYE_PLAN_QUEUE": QUEUE,
        "JIUYE_PLAN_PART_ARCS": str(PART_ARCS),
        "JIUYE_PLAN_LEASE_S": str(LEASE_S),
        "JIUYE_INSTANCE_PATH": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }


def _assignments(plan_id: int) -> list[tuple]:
    rows = db.session.scalars(
        select(PlanAssignment).where(PlanAssignment.plan_id == plan_id).order_by(PlanAssignment.laborer_id)
    )
    return [(a.laborer_id, a.channel, a.target_id, a.stage, a.score, a.distance_km, a.explanation) for a in rows]


def _in_process(region_code: str) -> Plan:
    """The same plan run here, in one process (the path `jiuye plan run` and the tests' inline mode take)."""
    row = Plan(region_code=region_code, mode=PlanMode.OPTIMAL, status=PlanStatus.QUEUED)
    db.session.add(row)
    db.session.commit()
    done = plan_runs.execute_plan(row.id)
    assert done.status is PlanStatus.DONE, done.error
    return done


def _plan(plan_id: int) -> Plan:
    db.session.expire_all()
    return db.session.get(Plan, plan_id)


def _same_plan(worked: Plan, here: Plan) -> None:
    assert (worked.status, worked.error) == (PlanStatus.DONE, None)
    assert worked.report == here.report
    assert worked.baseline_report == here.baseline_report
    assert _assignments(worked.id) == _assignments(here.id)


@WORKERS
def test_a_plan_assembled_from_part_jobs_equals_the_in_process_plan(
    app, client, headers, queue, database_url, tmp_path, monkeypatch
):
    rq = pytest.importorskip("rq")
    created = client.post("/api/v1/plans", json={"region": "14", "mode": "optimal"}, headers=headers)
    assert created.status_code == 201 and created.json["status"] == "queued", created.json
    plan_id = created.json["id"]
    # One worker in this process, building its app from the environment as `jiuye plan worker` does.
    for name, value in _worker_env(database_url, tmp_path).items():
        monkeypatch.setenv(name, value)
    assert rq.SimpleWorker([queue], connection=queue.connection).work(burst=True)
    worked = _plan(plan_id)
    assert worked.worker.startswith("rq-run:")  # handed to part jobs, not solved by the job that claimed it
    _tokens.add(worked.worker.split(":")[1])
    finished = queue.finished_job_registry.get_job_ids()
    functions = [rq.job.Job.fetch(job, connection=queue.connection).func_name for job in finished]
    parts = functions.count("web.jobs.components.solve_part_job")
    assert parts >= 2 and functions.count("web.jobs.components.assemble_job") == 1
    assert functions.count("web.jobs.components.baseline_job") == 1
    here = _in_process("14")
    assert here.report["components"] == worked.report["components"] >= parts
    assert here.report["placed"] > 100 and parts <= here.report["components"]
    _same_plan(worked, here)
    # The parts' snapshot is gone from Redis once the plan is assembled.
    assert not list(queue.connection.scan_iter(f"jiuye:plan:{plan_id}:*"))


@WORKERS
def test_a_province_office_queues_every_county_at_once_and_two_workers_run_them_all(
    app, client, headers, queue, database_url, tmp_path
):
    counties = db.session.scalars(
        select(Region.code)
        .where(Region.level == RegionLevel.COUNTY, in_region(Region.code, "1410"))
        .order_by(Region.code)
    ).all()
    assert len(counties) >= 10
    created = client.post("/api/v1/plans/batch", json={"region": "1410", "mode": "optimal"}, headers=headers)
    assert created.status_code == 201, created.json
    assert [(p["region_code"], p["status"]) for p in created.json] == [(code, "queued") for code in counties]
    env = _worker_env(database_url, tmp_path)
    command = [sys.executable, "-c", "from web.cli import main; main()", "plan", "worker", "--burst"]
    workers = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    errors = [worker.communicate(timeout=600)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    plans = [_plan(p["id"]) for p in created.json]
    assert [(p.region_code, p.status, p.error) for p in plans] == [(c, PlanStatus.DONE, None) for c in counties]
    for row in plans:
        if row.worker and row.worker.startswith("rq-run:"):
            _tokens.add(row.worker.split(":")[1])
    # Any county, planned again here in one process, comes out the same.
    busiest = max(plans, key=lambda p: p.report["placed"])
    assert busiest.report["placed"] > 0
    _same_plan(busiest, _in_process(busiest.region_code))


@WORKERS
def test_a_part_job_killed_leaves_the_plan_interrupted_and_it_runs_again(
    app, client, headers, queue, runner, database_url, tmp_path
):
    created = client.post("/api/v1/plans", json={"region": "14", "mode": "optimal"}, headers=headers)
    assert created.status_code == 201, created.json
    plan_id = created.json["id"]
    command = [sys.executable, "-c", HELD_WORKER, "plan", "worker", "--burst"]
    child = subprocess.Popen(
        command,
        env=_worker_env(database_url, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        lines = [""]  # before it: what the worker recovered, RQ's log lines
        while len(lines) < 500:
            ready, _, _ = io_select.select([child.stdout], [], [], 300)
            line = child.stdout.readline() if ready else ""
            if not line:
                break
            lines.append(line.strip())
            if lines[-1].startswith("part started "):
                break
        said, _, horse = lines[-1].rpartition(" ")
        assert said == "part started" and horse.isdigit(), (lines, child.poll())
        running = _plan(plan_id)
        assert running.status is PlanStatus.RUNNING and running.worker.startswith("rq-run:")
        _tokens.add(running.worker.split(":")[1])
        os.kill(int(horse), signal.SIGKILL)  # the work horse solving the part (RQ runs it in a session of its own)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    # Nobody renews the run's lease any more: once it lapses, reading the plans gives the plan up.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = client.get("/api/v1/plans", headers=headers).json
        if listed[0]["status"] != "running":
            break
        time.sleep(0.5)
    assert [(p["id"], p["status"], p["error"]) for p in listed] == [(plan_id, "failed", "interrupted")]
    assert _assignments(plan_id) == []
    result = runner.invoke(args=["plan", "rerun", str(plan_id)])
    assert result.exit_code == 0, result.output
    _same_plan(_plan(plan_id), _in_process("14"))
