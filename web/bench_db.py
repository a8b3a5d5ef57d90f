"""`jiuye bench --db`: the real path on the configured, already seeded database.

What users wait for, measured through the same code the pages and the API run:

- ``plan``: `jiuye plan run --region R --mode M` end to end (load, solve, greedy baseline,
  explanations, write), in a child process so that its peak RSS is its own; the plan it writes is
  deleted afterwards, so the database is left as it was.
- ``matches``: `ranking.matches_for_laborer` for random seeking laborers of the region, as an
  office of the region; ``candidates``: `ranking.candidates_for_target` for random open openings,
  batches and welfare posts. p50/p99 over the samples, after both cached rankers are built as
  `jiuye serve` builds them at start (`ranking.warm`, reported as ``warm_s`` of ``matches``) and
  one warm-up call of each (``warm_s`` of ``candidates``), each call in its own transaction ended as a successful
  GET ends it, by a commit (`web.unit_of_work`). A rollback would misstate the cost on PostgreSQL:
  psycopg drops a connection's prepared statements on ROLLBACK, so every call would plan anew.

Nothing here talks to anything but the configured database.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
from flask import current_app
from sqlalchemy import delete, func, select

from .extensions import db
from .models import (
    BatchStatus,
    Laborer,
    Opening,
    Plan,
    PlanAssignment,
    PostingStatus,
    Role,
    TransportBatch,
    User,
    WelfarePost,
)
from .services import ranking
from .services.convert import matcher_config


def _office(region_code: str) -> User:
    """An office of the region, not stored: the services only read its role and scope."""
    return User(id=0, username="bench", display_name="bench", role=Role.OFFICE, region_code=region_code)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentiles(seconds: list[float], cpu_s: float) -> dict:
    ms = np.array(seconds) * 1e3
    # This process's CPU per call beside the wall clock: on a shared machine the wall clock also
    # counts waiting for a core (the database server's own CPU is in neither).
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "cpu_ms_per_call": cpu_s * 1e3 / len(ms),
        "samples": len(ms),
    }


def _timed(calls) -> tuple[float, dict]:
    """Run each call in its own transaction, committed as a successful GET's (the services only read
    here); the first is the warm-up, timed apart."""
    seconds, cpu_s = [], 0.0
    for call in calls:
        started, cpu_started = time.perf_counter(), _cpu_s()
        call()
        db.session.commit()
        seconds.append(time.perf_counter() - started)
        if len(seconds) > 1:
            cpu_s += _cpu_s() - cpu_started
    return seconds[0], _percentiles(seconds[1:] or seconds, cpu_s)


def bench_requests(region_code: str, laborers: int = 500, postings: int = 200, random_seed: int = 0) -> list[dict]:
    """p50/p99 of matches and candidates through the service layer (rows for the table)."""
    config, user = matcher_config(current_app.config), _office(region_code)
    rng = np.random.default_rng(random_seed)
    session = db.session()
    seeking = np.array(session.scalars(select(Laborer.id).where(Laborer.status == "seeking")).all())
    ids = rng.choice(seeking, min(laborers + 1, len(seeking)), replace=False).tolist() if len(seeking) else []
    rows = []
    started = time.perf_counter()
    ranking.warm(session, config)  # as a server does before its first request
    db.session.commit()
    built_s = time.perf_counter() - started
    if ids:
        warm_s, figures = _timed(
            (lambda laborer_id=laborer_id: ranking.matches_for_laborer(session, user, laborer_id, config))
            for laborer_id in ids
        )
        rows.append({"name": "matches", "warm_s": built_s + warm_s, **figures})
    open_ = {
        "opening": select(Opening.id).where(Opening.status == PostingStatus.OPEN),
        "batch": select(TransportBatch.id).where(
            TransportBatch.status.in_([BatchStatus.PLANNING, BatchStatus.BOARDING]),
            TransportBatch.departs_at > datetime.now(UTC),
        ),
        "welfare_post": select(WelfarePost.id).where(WelfarePost.status == PostingStatus.OPEN),
    }
    targets = [(kind, target_id) for kind, query in open_.items() for target_id in session.scalars(query)]
    if targets:
        picks = rng.choice(len(targets), min(postings + 1, len(targets)), replace=False).tolist()
        warm_s, figures = _timed(
            (lambda key=targets[i]: ranking.candidates_for_target(session, user, key[0], key[1], config)) for i in picks
        )
        rows.append({"name": "candidates", "warm_s": warm_s, **figures})
    return rows


def bench_plan(region_code: str, mode: str) -> dict:
    """`jiuye plan run` in a child process: wall time, its peak RSS, and what it proposed.

    Run it before any other child process: the children's peak RSS is a maximum over all of them.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    newest = db.session.scalar(select(func.max(Plan.id))) or 0
    db.session.rollback()
    started = time.perf_counter()
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from web.cli import main; main()",
            "plan",
            "run",
            "--region",
            region_code,
            "--mode",
            mode,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DATABASE_URL": db.engine.url.render_as_string(hide_password=False)},
    )
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = after.ru_maxrss
    # CPU beside wall time: on a shared machine the wall clock also counts the others' work.
    cpu_s = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    made = db.session.scalars(select(Plan).where(Plan.id > newest)).all()
    row = {
        "name": f"plan ({mode})",
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "peak_rss_mib": peak_kib / 1024,
        "status": made[-1].status.value if made else "none",
    }
    if made and made[-1].report and made[-1].baseline_report:
        row.update(placed=made[-1].report["placed"], greedy_placed=made[-1].baseline_report["placed"])
    if child.returncode:
        row["error"] = (child.stderr or child.stdout).strip().splitlines()[-1][:200]
    for plan in made:  # leave the database as it was
        db.session.execute(delete(PlanAssignment).where(PlanAssignment.plan_id == plan.id))
        db.session.execute(delete(Plan).where(Plan.id == plan.id))
    db.session.commit()
    return row


def run_db_bench(
    region_code: str, mode: str, laborers: int, postings: int, random_seed: int, with_plan: bool = True
) -> list[dict]:
    """Every --db figure, as rows for `print_db_table`."""
    engine = db.engine
    rows = []
    if with_plan:
        rows.append(bench_plan(region_code, mode))
    rows += bench_requests(region_code, laborers, postings, random_seed)
    for row in rows:
        row["database"] = engine.dialect.name
    return rows


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def db_table(rows: list[dict]) -> list[str]:
    """The --db rows as Markdown lines."""
    lines = ["| database | step | figures |", "|---|---|---|"]
    for row in rows:
        figures = ", ".join(f"{k} {_fmt(v)}" for k, v in row.items() if k not in ("database", "name"))
        lines.append(f"| {row['database']} | {row['name']} | {figures} |")
    return lines
