"""`jiuye bench --rq`: per-county plans of a region on 1, 2, … RQ workers, on the configured seeded database.

For each worker count, one plan per county of the region is queued (as `POST /api/v1/plans/batch`
does) on a queue of the benchmark's own, and that many `jiuye plan worker --burst` processes are
started; the wall time runs from their start until the last one has exited (the queue is empty and
every plan finished). Every run's plans are compared with the first run's: the same assignments
(laborer, target, stage, score, distance, explanation) and the same reports, county by county.
Needs REDIS_URL and a seeded database (`jiuye seed scale --laborers N`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence

from sqlalchemy import select

from .extensions import app_object, db
from .jobs import plans as plan_runs
from .models import Plan, PlanAssignment, PlanMode, PlanStatus, Region
from .services.plans import county_codes
from .unit_of_work import unit_of_work


def _plans(ids: list[int]) -> dict[str, tuple]:
    """Per county: (status, report, baseline report, assignments) of the plans with these ids."""
    db.session.expire_all()
    out = {}
    for row in db.session.scalars(select(Plan).where(Plan.id.in_(ids))):
        assignments = db.session.execute(
            select(
                PlanAssignment.laborer_id,
                PlanAssignment.opening_id,
                PlanAssignment.batch_id,
                PlanAssignment.welfare_post_id,
                PlanAssignment.stage,
                PlanAssignment.score,
                PlanAssignment.distance_km,
                PlanAssignment.explanation,
            )
            .where(PlanAssignment.plan_id == row.id)
            .order_by(PlanAssignment.laborer_id)
        ).all()
        out[row.region_code] = (row.status, row.report, row.baseline_report, [tuple(a) for a in assignments])
    return out


def _queue_batch(region_code: str, mode: str) -> list[int]:
    app = app_object()
    with unit_of_work() as session:
        region = session.get(Region, region_code)
        if region is None:
            raise LookupError(f"unknown region {region_code}")
        codes = county_codes(session, region)
        rows = [Plan(region_code=code, mode=PlanMode(mode), status=PlanStatus.QUEUED) for code in codes]
        session.add_all(rows)
        session.flush()
        for row in rows:
            plan_runs.start_plan(app, row.id, mode="rq")
    return [row.id for row in rows]


def run_workers_bench(region_code: str, mode: str, counts: Sequence[int]) -> list[dict]:
    """One row per worker count: wall time, speed-up over the first count, plans, placed, identical results."""
    app = app_object()
    if not app.config.get("REDIS_URL"):
        raise RuntimeError("REDIS_URL is not set: plans on workers need Redis")
    queue_name = f"jiuye-bench-{uuid.uuid4().hex[:8]}"
    app.config["PLAN_QUEUE"] = queue_name
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "JIUYE_PLAN_QUEUE": queue_name,
        "JIUYE_PLAN_PART_ARCS": str(app.config["PLAN_PART_ARCS"]),
    }
    command = [sys.executable, "-c", "from web.cli import main; main()", "plan", "worker", "--burst"]
    rows: list[dict] = []
    first: dict[str, tuple] | None = None
    try:
        for n in counts:
            ids = _queue_batch(region_code, mode)
            started = time.perf_counter()
            workers = [
                subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(n)
            ]
            codes = [worker.wait() for worker in workers]
            wall = time.perf_counter() - started
            span = _jobs_span(app)
            plans = _plans(ids)
            done = sum(p[0] is PlanStatus.DONE for p in plans.values())
            placed = sum(p[1]["placed"] for p in plans.values() if p[1])
            if first is None:
                first = plans
            same = {code: p[1:] for code, p in plans.items()} == {code: p[1:] for code, p in first.items()}
            rows.append(
                {
                    "workers": n,
                    "plans": len(ids),
                    "done": done,
                    "placed": placed,
                    "wall_s": wall,
                    "speedup": rows[0]["wall_s"] / wall if rows else 1.0,
                    "span_s": span,
                    "span_speedup": rows[0]["span_s"] / span if rows and span else 1.0,
                    "identical": same,
                    "exit_codes": codes,
                }
            )
    finally:
        plan_runs.queue(app).delete(delete_jobs=True)
    return rows


def _jobs_span(app) -> float:
    """From the first job's start to the last job's end (the workers' own start-up left out); the jobs
    are then removed from the queue's registry, so that the next run counts its own."""
    from rq.job import Job

    queue = plan_runs.queue(app)
    registry = queue.finished_job_registry
    jobs = [job for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection) if job is not None]
    starts = [job.started_at for job in jobs if job.started_at]
    ends = [job.ended_at for job in jobs if job.ended_at]
    for job in jobs:
        registry.remove(job, delete_job=True)
    return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0


def workers_table(rows: list[dict], region_code: str, mode: str) -> list[str]:
    lines = [
        f"Per-county `{mode}` plans of region {region_code} on RQ workers (`jiuye plan worker --burst`):",
        "",
        "| workers | county plans | done | placed | wall s (with worker start) | speed-up | jobs span s | speed-up "
        "| results identical to 1 worker |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['plans']} | {r['done']} | {r['placed']} | {r['wall_s']:.1f} | "
            f"{r['speedup']:.2f}× | {r['span_s']:.1f} | {r['span_speedup']:.2f}× | "
            f"{'yes' if r['identical'] else 'NO'} |"
        )
    return lines
