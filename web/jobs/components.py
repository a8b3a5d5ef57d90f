"""A plan's independent parts as RQ jobs of their own, and one job that assembles them.

On an RQ worker (`web.jobs.plans.run_job`) an optimal plan whose jobs stage falls into several
independent parts (`matcher.plan.job_parts`: connected components packed up to PLAN_PART_ARCS
arcs) is not solved in the job that claimed it. That job reads the inputs and builds the jobs
graph once (`matcher.plan.prepare`), then `fan_out`:

- stores the snapshot (the prepared inputs and the matcher's config) in Redis, and each part as
  the arrays `matcher.plan.solve_part` reads of it (`matcher.plan.part_graph`), pickled and
  compressed (zlib): a part carries only its own edges;
- names the plan's runner after this run (``rq-run:<token>``) with a fresh lease;
- enqueues, at the front of the queue, one `solve_part_job` per part and a `baseline_job` (greedy
  on the same snapshot), and an `assemble_job` that RQ starts once all of them have finished
  (``depends_on``), also at the front.

The assembler takes the parts' chosen edges in the order of the parts, sorted, exactly as
`matcher.plan.solve_stage` does in one process, and finishes the plan (`matcher.plan.finish`:
stage welfare, which depends on who stage jobs placed, then explanations and the report), so
the stored plan is the one the in-process path stores: same assignments, totals and
explanations (tests/web/test_plan_workers.py). The inputs travel as a snapshot rather than being
read again by each job, because the assembler must finish on exactly the data the parts were
solved on: the database may change meanwhile.

Leases: every job of the run renews the plan's lease under the run's name while it works (a
heartbeat, as `Lease` does for one process). A job that is killed stops renewing; RQ then never
starts the assembler (a dependency failed), the lease lapses and the plan is given up as
"interrupted" (`reap_interrupted`), and it can be run again. A job of an older run (the plan was
given up and run again) finds the plan no longer under its run's name and does nothing. A part
that raises marks the plan failed with the error.
"""

from __future__ import annotations

import logging
import pickle
import secrets
import zlib
from typing import Any

import numpy as np
from flask import Flask
from sqlalchemy import update

import matcher.plan
from matcher.plan import PlanResult, Prepared
from matcher.types import Config

from ..extensions import db
from ..models import Plan, PlanMode, PlanStatus
from ..services import prices as price_service
from ..unit_of_work import unit_of_work
from . import plans as plan_runs

log = logging.getLogger(__name__)

#: How long a run's snapshot and parts stay in Redis (a run not assembled by then has failed anyway).
SNAPSHOT_TTL_S = 6 * 3600


def _key(plan_id: int, token: str, name: str) -> str:
    return f"jiuye:plan:{plan_id}:{token}:{name}"


def pack(value: Any) -> bytes:
    """Pickled (numpy arrays as raw buffers) and compressed: the form a snapshot or part travels in."""
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(data: bytes | None) -> Any:
    if data is None:
        raise LookupError("the plan's run is no longer in Redis (expired or deleted)")
    return pickle.loads(zlib.decompress(data))  # noqa: S301 - written by fan_out, as RQ pickles its jobs


def fan_out(app: Flask, plan_id: int, runner: str, prepared: Prepared, parts: list[np.ndarray], config: Config) -> str:
    """Hand a claimed plan to one job per part, a baseline job and an assembler; the run's name.

    `runner` is the claiming job's name; the plan passes to the run only if that job still holds it.
    """
    from rq.job import Dependency

    queue = plan_runs.queue(app)
    redis = queue.connection
    token = secrets.token_hex(6)
    run = f"rq-run:{token}"
    pipe = redis.pipeline()
    pipe.set(_key(plan_id, token, "snapshot"), pack((prepared, config)), ex=SNAPSHOT_TTL_S)
    for k, edges in enumerate(parts):
        payload = (matcher.plan.part_graph(prepared.jobs, edges), edges, config)
        pipe.set(_key(plan_id, token, f"part:{k}"), pack(payload), ex=SNAPSHOT_TTL_S)
    pipe.execute()
    with unit_of_work() as session:
        taken = session.execute(  # type: ignore[attr-defined]
            update(Plan)
            .where(Plan.id == plan_id, Plan.status == PlanStatus.RUNNING, Plan.worker == runner)
            .values(worker=run, lease_expires_at=plan_runs._until(plan_runs._lease_s(app)))
            .execution_options(synchronize_session="fetch")
        ).rowcount
    if not taken:
        log.warning("plan %s is no longer held by %s; it is not handed to workers", plan_id, runner)
        redis.delete(*[_key(plan_id, token, name) for name in ["snapshot", *(f"part:{k}" for k in range(len(parts)))]])
        return run
    timeout = plan_runs.JOB_TIMEOUT_S
    on = queue
    part_jobs = [
        on.enqueue(solve_part_job, plan_id, token, k, len(parts), job_timeout=timeout, at_front=True)
        for k in range(len(parts))
    ]
    baseline = on.enqueue(baseline_job, plan_id, token, len(parts), job_timeout=timeout, at_front=True)
    on.enqueue(
        assemble_job,
        plan_id,
        token,
        [job.id for job in part_jobs],
        baseline.id,
        job_timeout=timeout,
        depends_on=Dependency(jobs=[*part_jobs, baseline], enqueue_at_front=True),
    )
    log.info("plan %s: %s parts on workers (run %s)", plan_id, len(parts), run)
    return run


def _redis() -> Any:
    """The Redis connection of the RQ job running now."""
    from rq import get_current_job

    job = get_current_job()
    if job is None:
        raise RuntimeError("not inside an RQ job")
    return job.connection


def _step_done(plan_id: int, token: str, steps: int) -> float:
    """Count a finished part (or the baseline); the plan's progress so far."""
    redis = _redis()
    key = _key(plan_id, token, "done")
    done = redis.incr(key)
    redis.expire(key, SNAPSHOT_TTL_S)
    return 0.2 + 0.7 * done / (steps + 1)


def _held_step(plan_id: int, token: str, work) -> Any:
    """Run one step of a run under the plan's lease; None (nothing done) if the run no longer holds it.

    An error marks the plan failed and is raised again, so that RQ never starts the assembler.
    """
    run = f"rq-run:{token}"
    lease = plan_runs.Lease(db.engine, plan_id, run, plan_runs._lease_s())
    if not lease.renew():
        log.warning("plan %s is no longer run %s's; step skipped", plan_id, run)
        return None
    try:
        with lease:
            return work(lease)
    except Exception as error:
        log.exception("plan %s failed in run %s", plan_id, run)
        plan_runs.fail(plan_id, run, error)
        raise


def solve_part_job(plan_id: int, token: str, k: int, steps: int) -> np.ndarray | None:
    """Solve part `k` of a run: its chosen edges (indices into the jobs graph)."""
    with plan_runs.job_context():

        def work(lease: plan_runs.Lease) -> np.ndarray:
            graph, edges, config = unpack(_redis().get(_key(plan_id, token, f"part:{k}")))
            picked, _ = matcher.plan.solve_part(graph, np.arange(len(edges)), config)
            lease.renew(_step_done(plan_id, token, steps))
            return edges[picked]

        return _held_step(plan_id, token, work)


def baseline_job(plan_id: int, token: str, steps: int) -> PlanResult | None:
    """The greedy baseline of a run, on the same snapshot (no explanations, as in one process); its
    assignments go back too, for the baseline's fairness breakdown."""
    with plan_runs.job_context():

        def work(lease: plan_runs.Lease) -> PlanResult:
            prepared, config = unpack(_redis().get(_key(plan_id, token, "snapshot")))
            result = matcher.plan.run_prepared(prepared, "greedy", config, explain=False)
            lease.renew(_step_done(plan_id, token, steps))
            return result

        return _held_step(plan_id, token, work)


def assemble_job(plan_id: int, token: str, part_job_ids: list[str], baseline_job_id: str) -> str | None:
    """Finish a run from its parts and baseline and store the plan, as the in-process path would."""
    from rq.job import Job

    with plan_runs.job_context():
        redis = _redis()

        def work(lease: plan_runs.Lease) -> str:
            prepared, config = unpack(redis.get(_key(plan_id, token, "snapshot")))
            results = []
            for job in Job.fetch_many([*part_job_ids, baseline_job_id], connection=redis):
                value = job.return_value() if job is not None else None
                if value is None:  # expired, or a step of an older run that was skipped
                    raise LookupError("a part's result is no longer in Redis")
                results.append(value)
            chosen: list[np.ndarray] = results[:-1]
            baseline: PlanResult = results[-1]
            chosen_jobs = np.sort(np.concatenate(chosen)) if chosen else np.empty(0, np.int64)
            result = matcher.plan.finish(prepared, PlanMode.OPTIMAL.value, config, chosen_jobs, len(chosen))
            lease.renew(0.95)
            capacity_prices = price_service.plan_prices(prepared, PlanMode.OPTIMAL, result, config)
            stored = plan_runs.store_if_held(
                plan_id, f"rq-run:{token}", result, baseline, prepared.laborers, capacity_prices
            )
            return PlanStatus.DONE.value if stored else "dropped"

        try:
            return _held_step(plan_id, token, work)
        finally:
            names = ["snapshot", "done", *(f"part:{k}" for k in range(len(part_job_ids)))]
            redis.delete(*[_key(plan_id, token, name) for name in names])
