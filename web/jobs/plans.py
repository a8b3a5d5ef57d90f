"""Running plans in the background, so that the office page can show progress.

Where a plan runs is `PLAN_EXECUTION`: `rq` (workers started by `jiuye plan worker`; the default
when REDIS_URL is set), `thread` (one background thread in the web process; the default
otherwise), or `inline` (inside the request; used by the tests and the CLI).

A run is its own unit of work (`web.unit_of_work`): marking the plan running, computing and storing
its result, and recording a failure are three transactions; if the run fails, nothing of it is kept
and the plan is marked failed (with the error), so it can be run again. Progress is written on a
separate connection as the run goes, so pages polling the plan see it move.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask, current_app
from sqlalchemy import update

from ..errors import ConflictError
from ..extensions import db
from ..models import Plan, PlanStatus
from ..services.convert import matcher_config
from ..services.plans import run_plan
from ..unit_of_work import after_commit, unit_of_work

log = logging.getLogger(__name__)
QUEUE = "jiuye-plans"

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuye-plan")
#: Plans running on the background thread, by id (tests wait on these futures).
running: dict[int, Future] = {}


def _write_progress(plan_id: int, fraction: float) -> None:
    """Record progress at once, outside the run's own transaction."""
    with db.engine.begin() as connection:
        connection.execute(update(Plan).where(Plan.id == plan_id).values(progress=fraction))


def execute_plan(plan_id: int) -> Plan:
    """Run a queued (or failed) plan to the end, committing its result or its failure."""
    with unit_of_work() as session:
        plan = session.get(Plan, plan_id)
        plan.status, plan.progress, plan.error = PlanStatus.RUNNING, 0.05, None
    try:
        # Not serial: on SQLite the long computation reads without holding the write lock, so the
        # progress written meanwhile on another connection does not wait for it; storing the result
        # takes the lock (web.sqlite). Confirming the plan re-checks capacity under lock.
        with unit_of_work(serial=False) as session:
            run_plan(session, session.get(Plan, plan_id), matcher_config(current_app.config),
                     progress=lambda fraction: _write_progress(plan_id, fraction))
    except Exception as error:  # any failure: keep nothing of the run, say why
        log.exception("plan %s failed", plan_id)
        with unit_of_work() as session:
            plan = session.get(Plan, plan_id)
            plan.status, plan.error, plan.progress = PlanStatus.FAILED, f"{type(error).__name__}: {error}"[:1000], 0.0
            plan.assignments = []
    return db.session.get(Plan, plan_id)


def execution_mode(app: Flask) -> str:
    """inline, thread or rq, from PLAN_EXECUTION or, when unset, from whether Redis is configured."""
    return app.config.get("PLAN_EXECUTION") or ("rq" if app.config.get("REDIS_URL") else "thread")


def start_plan(app: Flask, plan_id: int) -> Plan:
    """Start a queued plan where the configuration says; return it as it stands now.

    Inline, the plan runs at once in units of work of its own, which commit what the caller wrote
    before. On a thread or a worker it starts once the caller's unit of work has committed, so that
    it finds the plan the caller has just created.
    """
    mode = execution_mode(app)
    if mode == "inline":
        return execute_plan(plan_id)
    if mode == "rq":
        after_commit(lambda: _enqueue(app, plan_id))
    else:
        after_commit(lambda: _submit(app, plan_id))
    return db.session.get(Plan, plan_id)


def _submit(app: Flask, plan_id: int) -> None:
    running[plan_id] = _executor.submit(_run_in_thread, app, plan_id)


def _enqueue(app: Flask, plan_id: int) -> None:
    from redis import Redis
    from rq import Queue

    Queue(QUEUE, connection=Redis.from_url(app.config["REDIS_URL"])).enqueue(run_job, plan_id, job_timeout=3600)


def _run_in_thread(app: Flask, plan_id: int) -> str:
    with app.app_context():
        try:
            return execute_plan(plan_id).status.value
        finally:
            db.session.remove()
            running.pop(plan_id, None)


def run_job(plan_id: int) -> str:
    """The rq worker's entry point: build the app from the environment and run one plan."""
    from .. import create_app

    app = create_app()
    with app.app_context():
        try:
            return execute_plan(plan_id).status.value
        finally:
            # The app (and its connection pool) lives for this job only.
            db.session.remove()
            db.engine.dispose()


def rerun(plan_id: int) -> Plan:
    """Run a failed plan again."""
    with unit_of_work() as session:
        plan = session.get(Plan, plan_id)
        if plan.status is not PlanStatus.FAILED:
            raise ConflictError(f"plan {plan_id} is {plan.status.value}; only a failed plan is run again")
        plan.status, plan.error = PlanStatus.QUEUED, None
    return execute_plan(plan_id)
