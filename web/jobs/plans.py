"""Running plans in the background, so that the office page can show progress; plans never stick.

Where a plan runs is `PLAN_EXECUTION`: `rq` (workers started by `jiuye plan worker`; the default
when REDIS_URL is set), `thread` (one background thread in the web process; the default
otherwise), or `inline` (inside the request; used by the tests and the CLI).

A runner takes a queued plan in one atomic step (queued → running) and holds a lease on it: the plan
names the runner (`worker`, host:pid) and `lease_expires_at`, which the runner renews on a separate
connection at each progress step and from a heartbeat thread every PLAN_LEASE_S/3 while the matcher
works. A running plan whose lease has lapsed, or whose runner is a process of this host that no
longer exists, was interrupted (process killed, machine rebooted): `reap_interrupted` marks it
failed with the reason "interrupted" whenever plans are listed or read and whenever a runner starts,
and it can be run again (`jiuye plan rerun`, the office page). Queued plans nobody is running (the
queue's lease lapsed, or the process that queued them is gone) are started again when a worker or a
thread-mode web process starts (`recover`).

Every step is a unit of work of its own (`web.unit_of_work`): claiming the plan, reading its inputs
(unserialised, so that on SQLite the write lock is not held while the matcher works), storing the
result after checking under the plan's row lock that it still holds the plan, and recording a
failure. If the run fails, nothing of it is kept and the plan is marked failed (with the error), so
it can be run again. Requests that list or read plans reap interrupted ones within their own unit of
work (`reap_interrupted` flushes; the request commits).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import SQLAlchemyError

import matcher.plan
from matcher.arrays import LaborerColumns
from matcher.plan import PlanResult

from .. import unit_of_work as uow
from ..errors import NotFoundError
from ..extensions import app_object, db
from ..models import Plan, PlanMode, PlanStatus
from ..services import plans as plan_service
from ..services import prices as price_service
from ..services.convert import matcher_config
from ..unit_of_work import after_commit, unit_of_work

log = logging.getLogger(__name__)
QUEUE = "jiuye-plans"  # PLAN_QUEUE's default
JOB_TIMEOUT_S = 3600

#: Why a plan whose runner stopped was given up, for developers (`plan.failure` says it for pages).
INTERRUPTED = "interrupted"

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jiuye-plan")
#: Plans running on the background thread, by id (tests wait on these futures).
running: dict[int, Future] = {}


def worker_name() -> str:
    """This process as a plan's runner: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_gone(worker: str | None) -> bool:
    """True when `worker` is a process of this host that no longer exists (other hosts: unknown, False)."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _lease_s(app: Flask | None = None) -> float:
    return float((app or current_app).config["PLAN_LEASE_S"])


def _until(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _lapsed(lease_expires_at: datetime | None, now: datetime) -> bool:
    return lease_expires_at is None or lease_expires_at < now


def reap_interrupted(session) -> list[int]:
    """Mark running plans whose runner is gone (lease lapsed, or a dead process of this host) as
    failed, "interrupted"; the ids. Flushes; the caller commits."""
    now = datetime.now(UTC)
    rows = session.execute(
        select(Plan.id, Plan.worker, Plan.lease_expires_at).where(Plan.status == PlanStatus.RUNNING)
    ).all()
    reaped = []
    for plan_id, worker, lease in rows:
        if _lapsed(lease, now):
            # Re-checked in the UPDATE: a runner that renewed its lease meanwhile keeps its plan.
            still = or_(Plan.lease_expires_at.is_(None), Plan.lease_expires_at < now)
        elif _is_gone(worker):
            still = Plan.worker == worker
        else:
            continue
        done = session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.status == PlanStatus.RUNNING, still)
            .values(
                status=PlanStatus.FAILED,
                error=INTERRUPTED,
                failure=plan_service.INTERRUPTED_FAILURE,
                progress=0.0,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session="fetch")
        )
        if done.rowcount:
            log.warning("plan %s was interrupted (runner %s is gone); it can be run again", plan_id, worker)
            reaped.append(plan_id)
    session.flush()
    return reaped


def recover_interrupted() -> list[int]:
    """Give up the plans whose runner is gone, in a unit of work of its own (a runner's start)."""
    with unit_of_work() as session:
        return reap_interrupted(session)


def orphaned_queued(session) -> list[int]:
    """Queued plans nobody will run: the queue's lease lapsed, or the process that queued them is gone."""
    now = datetime.now(UTC)
    rows = session.execute(
        select(Plan.id, Plan.worker, Plan.lease_expires_at).where(Plan.status == PlanStatus.QUEUED).order_by(Plan.id)
    ).all()
    return [plan_id for plan_id, worker, lease in rows if _lapsed(lease, now) or _is_gone(worker)]


def recover(app: Flask, mode: str | None = None) -> tuple[list[int], list[int]]:
    """At a runner's start: give up interrupted plans and start again the queued ones nobody is
    running; (interrupted ids, restarted ids)."""
    with unit_of_work() as session:
        reaped = reap_interrupted(session)
        orphans = orphaned_queued(session)
    for plan_id in orphans:
        log.info("plan %s was queued with no runner; starting it again", plan_id)
        with unit_of_work():
            start_plan(app, plan_id, mode=mode)
    return reaped, orphans


class Lease:
    """A running plan's lease, renewed at each progress step and by a heartbeat thread meanwhile.

    Renewals go through their own connection (not the run's session), so pages see them at once.
    """

    def __init__(self, engine: Engine, plan_id: int, worker: str, seconds: float) -> None:
        self.engine, self.plan_id, self.worker, self.seconds = engine, plan_id, worker, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"jiuye-plan-{plan_id}-lease", daemon=True)

    def renew(self, progress: float | None = None) -> bool:
        """Extend the lease (and record progress); False when the plan is no longer this runner's."""
        values: dict = {"lease_expires_at": _until(self.seconds)}
        if progress is not None:
            values["progress"] = progress
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Plan)
                .where(Plan.id == self.plan_id, Plan.status == PlanStatus.RUNNING, Plan.worker == self.worker)
                .values(**values)
            )
        return result.rowcount == 1

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except SQLAlchemyError:  # a missed beat is not fatal: the next one, or a progress step, renews
                log.exception("could not renew the lease of plan %s", self.plan_id)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def _claim(plan_id: int, worker: str, seconds: float) -> bool:
    """Take a queued plan for this runner (queued → running, with a fresh lease); False if another took it."""
    with unit_of_work() as session:
        result = cast(  # an UPDATE's result counts its rows
            "CursorResult[Any]",
            session.execute(
                update(Plan)
                .where(Plan.id == plan_id, Plan.status == PlanStatus.QUEUED)
                .values(
                    status=PlanStatus.RUNNING,
                    progress=0.05,
                    error=None,
                    failure=None,
                    worker=worker,
                    lease_expires_at=_until(seconds),
                )
                .execution_options(synchronize_session="fetch")
            ),
        )
    return result.rowcount == 1


def execute_plan(plan_id: int, *, split: bool = False) -> Plan:
    """Run a queued plan to the end, committing its result or its failure; a plan another runner has
    taken (or that is not queued) is left alone and returned as it stands.

    With ``split`` (an RQ worker), an optimal plan whose jobs stage has several independent parts is
    handed to one job per part and a job that assembles them (``web.jobs.components``); this call
    then returns the plan still running under that run's name.
    """
    recover_interrupted()
    me, seconds = worker_name(), _lease_s()
    if not _claim(plan_id, me, seconds):
        return db.session().get_one(Plan, plan_id)
    config = matcher_config(current_app.config)
    try:
        lease = Lease(db.engine, plan_id, me, seconds)
        with lease:
            # Only reads: no write lock is held, and no transaction stays open while the matcher works.
            with unit_of_work(serial=False) as session:
                plan = session.get_one(Plan, plan_id)
                laborers, targets = plan_service.plan_inputs(session, plan.region_code, config)
                mode, quotas = plan.mode, plan.quotas or []
            lease.renew(0.2)
            prepared = matcher.plan.prepare(laborers, targets, config, quotas=quotas)
            if split and mode is PlanMode.OPTIMAL:
                from . import components

                parts = matcher.plan.job_parts(prepared, mode.value, config)
                if len(parts) > 1:
                    components.fan_out(app_object(), plan_id, me, prepared, parts, config)
                    return db.session().get_one(Plan, plan_id)
            result, baseline = plan_service.solve_prepared(prepared, mode, config, progress=lease.renew)
            capacity_prices = price_service.plan_prices(prepared, mode, result, config)
            lease.renew(0.9)
        store_if_held(plan_id, me, result, baseline, laborers, capacity_prices)
    except Exception as error:  # any failure: keep nothing of the run, say why
        log.exception("plan %s failed", plan_id)
        fail(plan_id, me, error)
    return db.session().get_one(Plan, plan_id)


def store_if_held(
    plan_id: int,
    runner: str,
    result: PlanResult,
    baseline: PlanResult,
    laborers: LaborerColumns | dict | None = None,
    capacity_prices: Mapping[tuple[str, int], float] | None = None,
) -> bool:
    """Store a solved plan if, under its row lock, `runner` still holds it; False (dropped) otherwise."""
    with unit_of_work() as session:
        plan = session.get(Plan, plan_id, with_for_update=True, populate_existing=True)
        if plan is None or plan.status is not PlanStatus.RUNNING or plan.worker != runner:
            # Given up as interrupted while it ran (a lease that lapsed): the newer state stands.
            uow.discard()
            log.warning("plan %s is no longer held by %s; its result is dropped", plan_id, runner)
            return False
        plan_service.store_result(session, plan, result, baseline, laborers, capacity_prices)
    return True


def fail(plan_id: int, runner: str, error: BaseException) -> None:
    """Mark a plan `runner` holds failed, saying why; nothing of the run is kept."""
    with unit_of_work() as session:
        session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.status == PlanStatus.RUNNING, Plan.worker == runner)
            .values(
                status=PlanStatus.FAILED,
                error=f"{type(error).__name__}: {error}"[:1000],
                failure=plan_service.failure_of(error),
                progress=0.0,
                lease_expires_at=None,
            )
            .execution_options(synchronize_session="fetch")
        )


def execution_mode(app: Flask) -> str:
    """inline, thread or rq, from PLAN_EXECUTION or, when unset, from whether Redis is configured."""
    return app.config.get("PLAN_EXECUTION") or ("rq" if app.config.get("REDIS_URL") else "thread")


def start_plan(app: Flask, plan_id: int, *, mode: str | None = None) -> Plan:
    """Start a queued plan where the configuration says (or `mode`); return it as it stands now.

    Inline, the plan runs at once in units of work of its own, which commit what the caller wrote
    before. On a thread or a worker it starts once the caller's unit of work has committed, so that
    it finds the plan the caller has just created.
    """
    mode = mode or execution_mode(app)
    if mode == "inline":
        return execute_plan(plan_id)
    # The queue vouches for the plan for one lease; a thread's queue names its process, so that a
    # restart of this host's web process finds the plans it had queued at once.
    db.session.execute(
        update(Plan)
        .where(Plan.id == plan_id, Plan.status == PlanStatus.QUEUED)
        .values(lease_expires_at=_until(_lease_s(app)), worker=worker_name() if mode == "thread" else None)
        .execution_options(synchronize_session="fetch")
    )
    if mode == "rq":
        after_commit(lambda: _enqueue(app, plan_id))
    else:
        after_commit(lambda: _submit(app, plan_id))
    return db.session().get_one(Plan, plan_id)


def _submit(app: Flask, plan_id: int) -> None:
    running[plan_id] = _executor.submit(_run_in_thread, app, plan_id)


def queue(app: Flask):
    """The RQ queue plans run on (PLAN_QUEUE on REDIS_URL)."""
    from redis import Redis
    from rq import Queue

    return Queue(queue_name(app), connection=Redis.from_url(app.config["REDIS_URL"]))


def queue_name(app: Flask) -> str:
    return app.config.get("PLAN_QUEUE") or QUEUE


def _enqueue(app: Flask, plan_id: int) -> None:
    queue(app).enqueue(run_job, plan_id, job_timeout=JOB_TIMEOUT_S)


def _run_in_thread(app: Flask, plan_id: int) -> str:
    with app.app_context():
        try:
            return execute_plan(plan_id).status.value
        finally:
            db.session.remove()
            running.pop(plan_id, None)


def install(app: Flask) -> None:
    """In thread mode, the web process picks up the plans an earlier process left, at its first request."""
    if execution_mode(app) != "thread":
        return
    state = {"pending": True}
    lock = threading.Lock()

    @app.before_request
    def recover_once() -> None:
        if not state["pending"]:
            return
        with lock:
            if not state["pending"]:
                return
            state["pending"] = False
        try:
            recover(app, mode="thread")
        except SQLAlchemyError:  # e.g. a database not upgraded yet: the request will say so itself
            log.exception("could not recover plans at start")


#: The app `jiuye plan worker` built before it serves jobs (None: each job builds one from the environment).
worker_app: Flask | None = None
_worker_pid: int | None = None


def serve_with(app: Flask | None) -> None:
    """Let this worker's jobs (and the work horses it forks) use `app` instead of building their own (None: stop)."""
    global worker_app, _worker_pid
    worker_app, _worker_pid = app, os.getpid()


@contextmanager
def job_context() -> Iterator[Flask]:
    """An app context for an RQ job: the worker's app (connections it inherited by fork set aside), or a
    new one from the environment; the pool is let go at the end."""
    app = worker_app
    if app is None:
        from .. import create_app

        app = create_app()
    with app.app_context():
        if worker_app is not None and os.getpid() != _worker_pid:
            db.engine.dispose(close=False)  # a forked work horse: never share the parent's connections
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def run_job(plan_id: int) -> str:
    """The rq worker's entry point: run one plan (its parts as jobs of their own, when it has several)."""
    with job_context():
        return execute_plan(plan_id, split=True).status.value


def rerun(plan_id: int) -> Plan:
    """Run a failed (or interrupted) plan again, here and now; any other plan is refused (409) saying why."""
    with unit_of_work() as session:
        reap_interrupted(session)
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFoundError.of("plan", plan_id)
        plan_service.queue_again(session, plan)
    return execute_plan(plan_id)
