"""Running plans: in the request (no Redis) or on `jiuye plan worker` processes when REDIS_URL is set.

A run is its own transaction: if it fails, nothing of it is kept and the plan is marked failed
(with the error), so it can be run again.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from ..extensions import db
from ..models import Plan, PlanStatus
from .matching import matcher_config, run_plan

log = logging.getLogger(__name__)
QUEUE = "jiuye-plans"


def execute_plan(plan_id: int) -> Plan:
    """Run a queued (or failed) plan to the end, committing its result or its failure."""
    plan = db.session.get(Plan, plan_id)
    try:
        run_plan(db.session, plan, matcher_config(current_app.config))
        db.session.commit()
    except Exception as error:  # any failure: keep nothing of the run, say why
        log.exception("plan %s failed", plan_id)
        db.session.rollback()
        plan = db.session.get(Plan, plan_id)
        plan.status, plan.error, plan.progress = PlanStatus.FAILED, f"{type(error).__name__}: {error}"[:1000], 0.0
        db.session.commit()
    return plan


def start_plan(app: Flask, plan_id: int) -> Plan:
    """Queue the plan for a worker when Redis is configured, otherwise run it now."""
    if app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue

        Queue(QUEUE, connection=Redis.from_url(app.config["REDIS_URL"])).enqueue(run_job, plan_id, job_timeout=3600)
        return db.session.get(Plan, plan_id)
    return execute_plan(plan_id)


def run_job(plan_id: int) -> str:
    """The worker's entry point: build the app from the environment and run one plan."""
    from .. import create_app

    app = create_app()
    with app.app_context():
        return execute_plan(plan_id).status.value


def rerun(plan_id: int) -> Plan:
    """Run a failed plan again."""
    plan = db.session.get(Plan, plan_id)
    if plan.status is not PlanStatus.FAILED:
        from ..errors import ConflictError

        raise ConflictError(f"plan {plan_id} is {plan.status.value}; only a failed plan is run again")
    plan.status, plan.error = PlanStatus.QUEUED, None
    db.session.flush()
    return execute_plan(plan_id)
