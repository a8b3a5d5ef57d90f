"""Matching plans as use cases: create one for a region, run the matcher on its records, confirm it.

Where a plan runs (thread, RQ worker, inline) and who owns its transaction is `web.jobs.plans`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import matcher.plan
from matcher.plan import Assignment
from matcher.types import Config, Target

from ..errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ..models import (
    HOLDING_STATUSES,
    Household,
    Laborer,
    LaborerStatus,
    Placement,
    Plan,
    PlanAssignment,
    PlanMode,
    PlanStatus,
    Region,
    Role,
    User,
)
from . import scope
from .accounts import audit
from .bulk import bulk_insert
from .convert import FK, explanation_json, laborer_columns, load_targets
from .offers import _free_after_lock, _new_placement, lock_targets
from .stats import in_region


def create_plan(
    session: Session, user: User, region_code: str, mode: str, *, remote_addr: str | None = None
) -> Plan:
    """A queued plan for a region within the office's scope."""
    if user.role is not Role.OFFICE:
        raise PermissionDeniedError("only offices run plans")
    try:
        plan_mode = PlanMode(mode)
    except ValueError:
        raise ValidationError.on("mode", "use optimal, stable or greedy") from None
    region = session.get(Region, region_code)
    if region is None or not scope.covers_region(user, region_code):
        raise ValidationError.on("region", f"unknown region {region_code} (or outside your scope)")
    plan = Plan(region_code=region_code, mode=plan_mode, status=PlanStatus.QUEUED, created_by_id=user.id)
    session.add(plan)
    session.flush()
    audit(session, "plan_created", user=user, entity=plan, remote_addr=remote_addr, mode=plan_mode.value)
    return plan


def plan_inputs(session: Session, region_code: str) -> tuple[dict[str, list], list[Target]]:
    """Seeking laborers of the region (as columns, for the matcher) and its open targets.

    Core selects with the household facts as EXISTS on indexed columns: one statement whatever
    the region's size, and no ORM object per row.
    """
    laborers = laborer_columns(session, in_region(Household.village_code, region_code),
                               Laborer.status == LaborerStatus.SEEKING)
    return laborers, load_targets(session, region_code)


def run_plan(
    session: Session, plan: Plan, config: Config, progress: Callable[[float], None] = lambda fraction: None
) -> Plan:
    """Run the plan's mode and the greedy baseline on the same data; store report and assignments.

    Nothing is written until the end, so `progress` may report on another connection meanwhile.
    """
    laborers, targets = plan_inputs(session, plan.region_code)
    progress(0.2)
    result = matcher.plan.run(laborers, targets, plan.mode.value, config)
    progress(0.6)
    baseline = result if plan.mode is PlanMode.GREEDY else matcher.plan.run(laborers, targets, "greedy", config, explain=False)
    progress(0.9)
    plan.report = _report_json(result.report)
    plan.baseline_report = _report_json(baseline.report)
    plan.status, plan.progress, plan.error, plan.finished_at = PlanStatus.DONE, 1.0, None, datetime.now(UTC)
    session.flush()
    write_assignments(session, plan, result.assignments)
    return plan


def assignment_rows(plan_id: int, assignments: Sequence[Assignment]) -> list[dict]:
    """PlanAssignment rows of a plan's assignments, explanations as factor codes."""
    rows = []
    for a in assignments:
        row = dict.fromkeys(FK.values())
        row.update(plan_id=plan_id, laborer_id=a.laborer_id, stage=a.stage, score=min(1.0, max(0.0, a.score)),
                   distance_km=a.distance_km, explanation=explanation_json(a.codes))
        row[FK[a.kind]] = a.target_id
        rows.append(row)
    return rows


def write_assignments(session: Session, plan: Plan, assignments: Sequence[Assignment]) -> int:
    """Write a plan's assignments in bulk (COPY on PostgreSQL, executemany on SQLite); how many."""
    written = bulk_insert(session, PlanAssignment.__table__, assignment_rows(plan.id, assignments),
                          rebuild_indexes=False)
    session.expire(plan, ["assignments"])  # written around the ORM: read them afresh
    return written


def _report_json(report) -> dict:
    data = asdict(report)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}


def visible_plan(session: Session, user: User, plan_id: int, *, for_update: bool = False) -> Plan:
    """A plan of the office's region, or 404."""
    if user.role is not Role.OFFICE:
        raise PermissionDeniedError("only offices see plans")
    plan = session.get(Plan, plan_id, with_for_update=for_update, populate_existing=for_update)
    if plan is None or not plan.region_code.startswith(user.region_code):
        raise NotFoundError(f"plan {plan_id} does not exist")
    return plan


def confirm_plan(session: Session, user: User, plan_id: int, *, remote_addr: str | None = None) -> list[Placement]:
    """Turn a reviewed plan into offered placements; capacity and households re-checked under row locks."""
    plan = visible_plan(session, user, plan_id, for_update=True)
    if plan.status is PlanStatus.CONFIRMED:
        raise ConflictError(f"plan {plan_id} was already confirmed")
    if plan.status is not PlanStatus.DONE:
        raise ConflictError(f"plan {plan_id} is {plan.status.value}; only a finished plan can be confirmed")
    assignments = plan.assignments
    keys = [(a.channel.value, a.target_id) for a in assignments]
    locked = lock_targets(session, keys)
    needed: dict[tuple[str, int], int] = {}
    for key in keys:
        needed[key] = needed.get(key, 0) + 1
    full = [f"{kind} {tid}" for (kind, tid), n in needed.items() if _free_after_lock(session, kind, locked[(kind, tid)]) < n]
    if full:
        raise ConflictError("slots were taken since the plan ran; run the plan again",
                            {"assignments": [f"no longer enough free slots: {', '.join(full[:10])}"]})
    laborers = {row.id: row for row in session.scalars(
        select(Laborer).where(Laborer.id.in_([a.laborer_id for a in assignments])))}
    posts = [a for a in assignments if a.welfare_post_id is not None]
    if posts:
        with_post = set(session.scalars(select(Placement.household_id).where(
            Placement.welfare_post_id.is_not(None), Placement.status.in_(HOLDING_STATUSES),
            Placement.household_id.in_([laborers[a.laborer_id].household_id for a in posts]))))
        clash = [a.laborer_id for a in posts if laborers[a.laborer_id].household_id in with_post]
        if clash:
            raise ConflictError("a household in this plan received a welfare post meanwhile; run the plan again")
    placements = [
        _new_placement(laborers[a.laborer_id], a.channel.value, a.target_id, user, score=a.score,
                       distance_km=a.distance_km, explanation=a.explanation, plan_id=plan.id)
        for a in assignments
    ]
    session.add_all(placements)
    plan.status, plan.confirmed_by_id, plan.confirmed_at = PlanStatus.CONFIRMED, user.id, datetime.now(UTC)
    session.flush()
    audit(session, "plan_confirmed", user=user, entity=plan, remote_addr=remote_addr, placements=len(placements))
    return placements
