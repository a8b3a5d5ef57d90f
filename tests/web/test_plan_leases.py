"""Plans never stick: a runner holds a lease; a plan whose runner is gone (killed, rebooted) is marked
failed, "interrupted", when plans are listed or a runner starts, and runs again; queued plans nobody
runs are picked up again; `jiuye plan rerun` refuses what it cannot re-run in one line."""

from __future__ import annotations

import os
import select as io_select
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

import web
from web.extensions import db
from web.jobs import plans as plan_runs
from web.models import Plan, PlanAssignment, PlanMode, PlanStatus

REPO = Path(web.__file__).resolve().parent.parent

#: A `jiuye plan run` whose matcher never returns: it says so on stdout, then waits to be killed.
HELD_RUN = """
import sys, threading
import matcher.plan

def held(*args, **kwargs):
    print("matcher started", flush=True)
    threading.Event().wait()

matcher.plan.run_prepared = held
from web.cli import main
main()
"""


def _county(factory, laborers: int = 3) -> None:
    factory.opening(slots=2)
    for _ in range(laborers):
        factory.laborer()
    db.session.commit()


def _plan(status: PlanStatus, **kw) -> Plan:
    """A plan of Daning County in `status` (lease and worker as given)."""
    row = Plan(region_code="141030", mode=PlanMode.GREEDY, status=status, **kw)
    db.session.add(row)
    db.session.commit()
    return row


def _status(plan_id: int) -> tuple[PlanStatus, str | None]:
    db.session.expire_all()
    row = db.session.get(Plan, plan_id)
    return row.status, row.error


def _read_line(stream, timeout_s: float) -> str:
    """One line from a child's pipe, or '' if none comes within the bound."""
    ready, _, _ = io_select.select([stream], [], [], timeout_s)
    return stream.readline() if ready else ""


def test_a_plan_killed_mid_run_is_recovered_and_runs_again(client, factory, api_token, runner, database_url, tmp_path):
    _county(factory)
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    # `jiuye plan run` in a process of its own, on this test's database, held inside the matcher.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "kill-test",
        "JIUYE_INSTANCE_PATH": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-c", HELD_RUN, "plan", "run", "--region", "141030", "--mode", "optimal"]
    child = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _read_line(child.stdout, 120)
        assert line.strip() == "matcher started", (line, child.poll(), child.stderr.read() if child.poll() else "")
        # Mid-run: the plan is running, held by the child's lease.
        plan = db.session.scalar(sql_select(Plan))
        assert _status(plan.id) == (PlanStatus.RUNNING, None)
        plan = db.session.get(Plan, plan.id)
        assert plan.worker == f"{socket.gethostname()}:{child.pid}"
        assert plan.lease_expires_at > datetime.now(UTC) and 0 < plan.progress < 1
        listed = client.get("/api/v1/plans", headers=headers).json
        assert [(p["id"], p["status"]) for p in listed] == [(plan.id, "running")]  # alive: left alone
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)  # reaped, so that its pid is gone
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    # The next listing finds the runner gone: the plan is failed, "interrupted"; nothing of it kept.
    listed = client.get("/api/v1/plans", headers=headers).json
    assert [(p["id"], p["status"], p["error"]) for p in listed] == [(plan.id, "failed", "interrupted")]
    assert db.session.scalar(sql_select(func.count(PlanAssignment.id))) == 0
    result = runner.invoke(args=["plan", "rerun", str(plan.id)])
    assert result.exit_code == 0, result.output
    assert f"plan {plan.id} (optimal, region 141030) done" in result.output
    status, error = _status(plan.id)
    assert status is PlanStatus.DONE and error is None
    assert db.session.scalar(sql_select(func.count(PlanAssignment.id))) == 2


def test_a_running_plan_whose_lease_lapsed_is_marked_interrupted_when_read(client, factory, api_token):
    office = factory.user("office")
    db.session.commit()
    past = datetime.now(UTC) - timedelta(seconds=1)
    lapsed = _plan(PlanStatus.RUNNING, worker="another-host:4242", lease_expires_at=past)
    alive = _plan(
        PlanStatus.RUNNING, worker="another-host:4243", lease_expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    headers = api_token(office)
    one = client.get(f"/api/v1/plans/{lapsed.id}", headers=headers).json
    assert (one["status"], one["error"], one["lease_expires_at"]) == ("failed", "interrupted", None)
    assert _status(alive.id) == (PlanStatus.RUNNING, None)  # another host's live lease is respected


@pytest.mark.parametrize(
    ("status", "lease_s", "says"),
    [
        (PlanStatus.DONE, None, "this plan has finished; only a failed plan is run again"),
        (PlanStatus.CONFIRMED, None, "this plan was confirmed; only a failed plan is run again"),
        (PlanStatus.RUNNING, 300, "this plan is running; only a failed plan is run again"),
        (PlanStatus.QUEUED, 300, "this plan is waiting for a runner; only a failed plan is run again"),
    ],
)
def test_rerun_refuses_in_one_line(runner, factory, status, lease_s, says):
    lease = datetime.now(UTC) + timedelta(seconds=lease_s) if lease_s else None
    plan = _plan(status, worker="another-host:4242" if lease else None, lease_expires_at=lease)
    result = runner.invoke(args=["plan", "rerun", str(plan.id)])
    assert result.exit_code == 1
    assert result.output == f"Error: plan {plan.id}: {says}\n"
    assert _status(plan.id)[0] is status


def test_rerun_of_an_unknown_plan_says_so_in_one_line(runner):
    result = runner.invoke(args=["plan", "rerun", "999"])
    assert (result.exit_code, result.output) == (1, "Error: plan 999 does not exist\n")


def _dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.app_config(PLAN_EXECUTION="thread")
def test_queued_plans_nobody_runs_are_picked_up_when_the_web_process_starts(app, client, factory, api_token):
    _county(factory)
    office = factory.user("office")
    never_started = _plan(PlanStatus.QUEUED)
    left_by_a_dead_process = _plan(
        PlanStatus.QUEUED,
        worker=f"{socket.gethostname()}:{_dead_pid()}",
        lease_expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    queued_elsewhere = _plan(
        PlanStatus.QUEUED, worker="another-host:4242", lease_expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    api_token(office)  # the process's first request
    for plan in (never_started, left_by_a_dead_process):
        future = plan_runs.running.get(plan.id)
        if future is not None:  # else its thread has already finished
            assert future.result(timeout=60) == "done"
        assert _status(plan.id) == (PlanStatus.DONE, None)
    assert _status(queued_elsewhere.id) == (PlanStatus.QUEUED, None)


def test_a_runner_leaves_alone_a_plan_another_runner_took(app, factory):
    _county(factory)
    taken = _plan(
        PlanStatus.RUNNING, worker="another-host:4242", lease_expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    assert plan_runs.execute_plan(taken.id).status is PlanStatus.RUNNING
    assert db.session.scalar(sql_select(func.count(PlanAssignment.id))) == 0


def test_a_result_is_dropped_if_the_plan_was_given_up_while_it_ran(app, factory, monkeypatch):
    _county(factory)
    plan = _plan(PlanStatus.QUEUED)
    real_solve = plan_runs.plan_service.solve_prepared

    def given_up_meanwhile(*args, **kwargs):
        result = real_solve(*args, **kwargs)
        # Another process found the lease lapsed and marked the plan interrupted.
        with db.engine.begin() as connection:
            connection.execute(
                Plan.__table__.update()
                .where(Plan.id == plan.id)
                .values(status="failed", error="interrupted", lease_expires_at=None)
            )
        return result

    monkeypatch.setattr(plan_runs.plan_service, "solve_prepared", given_up_meanwhile)
    assert plan_runs.execute_plan(plan.id).status is PlanStatus.FAILED
    assert _status(plan.id) == (PlanStatus.FAILED, "interrupted")
    assert db.session.scalar(sql_select(func.count(PlanAssignment.id))) == 0


def test_the_heartbeat_renews_the_lease_while_the_matcher_works(app, factory, monkeypatch):
    plan = _plan(PlanStatus.RUNNING, worker=plan_runs.worker_name(), lease_expires_at=datetime.now(UTC))
    beats = threading.Semaphore(0)
    real_renew = plan_runs.Lease.renew

    def counted(self, progress=None):
        kept = real_renew(self, progress)
        beats.release()
        return kept

    monkeypatch.setattr(plan_runs.Lease, "renew", counted)
    before = db.session.get(Plan, plan.id).lease_expires_at
    with plan_runs.Lease(db.engine, plan.id, plan_runs.worker_name(), seconds=0.03):
        assert beats.acquire(timeout=30) and beats.acquire(timeout=30)  # two beats, with no progress step
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).lease_expires_at > before


@pytest.mark.app_config(REDIS_URL="redis://127.0.0.1:6379/15")
def test_a_worker_at_start_gives_up_interrupted_plans_and_queues_orphans_again(
    app, live_redis, runner, factory, database_url, monkeypatch
):
    rq = pytest.importorskip("rq")
    connection = live_redis
    connection.delete(f"rq:queue:{plan_runs.QUEUE}")
    _county(factory)
    interrupted = _plan(
        PlanStatus.RUNNING,
        worker=f"{socket.gethostname()}:{_dead_pid()}",
        lease_expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    orphan = _plan(PlanStatus.QUEUED, lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
    # `jiuye plan worker` recovers, then serves the queue; here it stops at once instead of serving.
    monkeypatch.setattr(rq.Worker, "work", lambda self, *args, **kwargs: True)
    result = runner.invoke(args=["plan", "worker"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"interrupted plans marked failed: [{interrupted.id}]; queued again: [{orphan.id}]\n")
    assert _status(interrupted.id) == (PlanStatus.FAILED, "interrupted")
    queue = rq.Queue(plan_runs.QUEUE, connection=connection)
    jobs = queue.job_ids
    try:
        assert len(jobs) == 1
        monkeypatch.undo()
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("SECRET_KEY", "worker-test")
        assert rq.SimpleWorker([queue], connection=connection).work(burst=True)
        assert _status(orphan.id) == (PlanStatus.DONE, None)
    finally:
        connection.delete(f"rq:queue:{plan_runs.QUEUE}", *(f"rq:job:{job}" for job in jobs))
