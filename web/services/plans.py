"""Matching plans as use cases: create one for a region, run the matcher on its records, confirm it.

Where a plan runs (thread, RQ worker, inline) and who owns its transaction is `web.jobs.plans`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

import numpy as np
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

import matcher.plan
from matcher import quotas as quota_rules
from matcher.arrays import LaborerColumns
from matcher.plan import AssignmentColumns, PlanResult
from matcher.types import DEFAULT_CONFIG, Config, Target
from matcher.types import Laborer as MLaborer

from ..config import DEFAULTS
from ..errors import ConflictError, ValidationError, label_of
from ..models import (
    CHANNEL_FK,
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
    RegionLevel,
    User,
)
from . import caps, fairness, post_requests, prices, scope
from .accounts import audit
from .bulk import bulk_insert_columns
from .convert import explanation_json, free_capacity, laborer_columns, load_targets
from .offers import _new_placement, laborer_refusals, lock_laborers, lock_targets
from .regions import in_region

#: Why a confirmation is refused when a proposed laborer took other work or offers since the plan ran.
LABORERS_TAKEN = (
    "these laborers have accepted work or been offered as much as allowed since the plan ran; run the plan again"
)


#: Why a greedy or stable plan takes no quotas (matcher.quotas, "Modes").
QUOTAS_NEED_OPTIMAL = "quotas need the optimal mode: greedy and stable cannot keep a reserve"


def checked_quotas(mode: PlanMode, quotas: Sequence[Mapping] | None) -> list[dict]:
    """The plan's quotas in their stored form, refused (422, naming the quota's field) when malformed."""
    quotas = list(quotas or [])
    if not quotas:
        return []
    if mode is not PlanMode.OPTIMAL:
        raise ValidationError.on("quotas", QUOTAS_NEED_OPTIMAL)
    if len(quotas) > quota_rules.MAX_QUOTAS:
        raise ValidationError.on("quotas", _l("at most %(n)s quotas", n=quota_rules.MAX_QUOTAS))
    stored = []
    for number, quota in enumerate(quotas):
        wrong = quota_rules.problems(quota)
        if wrong:
            raise ValidationError.on_fields({f"quotas.{number}.{f}": [m] for f, m in wrong.items()})
        stored.append(quota_rules.Quota.from_dict(quota).as_dict())
    return stored


def create_plan(
    session: Session,
    user: User,
    region_code: str,
    mode: str,
    *,
    quotas: Sequence[Mapping] | None = None,
    remote_addr: str | None = None,
) -> Plan:
    """A queued plan for a region within the office's scope, with the caps and reserves chosen (optimal only)."""
    scope.require(user, "plans")
    try:
        plan_mode = PlanMode(mode)
    except ValueError:
        raise ValidationError.on("mode", "use optimal, stable or greedy") from None
    stored = checked_quotas(plan_mode, quotas)
    region = session.get(Region, region_code)
    if region is None or not scope.covers_region(user, region_code):
        raise ValidationError.on("region", _l("unknown region %(code)s (or outside your scope)", code=region_code))
    plan = Plan(region_code=region_code, mode=plan_mode, status=PlanStatus.QUEUED, created_by_id=user.id, quotas=stored)
    session.add(plan)
    session.flush()
    audit(
        session,
        "plan_created",
        user=user,
        entity=plan,
        remote_addr=remote_addr,
        mode=plan_mode.value,
        quotas=len(stored),
    )
    return plan


INTERRUPTED_FAILURE = {"code": "interrupted"}
"""`plan.failure` of a plan whose runner stopped (a crash, a lapsed lease): it can be run again."""


def failure_of(error: BaseException) -> dict:
    """`plan.failure` for the exception that stopped a plan: a quota that cannot be met with its number,
    reason and figures (`matcher.quotas.QuotaError`); anything else, an unexpected error (its text is
    logged and kept in `plan.error` for developers, never shown on a page)."""
    if isinstance(error, quota_rules.QuotaError):
        return {
            "code": "quota",
            "quota": error.number,
            "reason": error.reason,
            "need": error.need,
            "possible": error.possible,
        }
    return {"code": "error"}


def failure_words(failure: Mapping | None) -> LazyString | None:
    """A failed plan's reason in the request's language, from its `plan.failure` (None: it has not failed)."""
    if failure is None:
        return None
    code = failure.get("code")
    if code == "interrupted":
        return _l("Its run was interrupted (the process running it stopped); it can be run again.")
    if code != "quota":
        return _l("An unexpected error stopped it; the details are in the server log.")
    n = failure["quota"]
    if failure["reason"] == "too_few":
        return _l(
            "Quota %(n)s cannot be met: it needs %(need)s placements, and at most %(possible)s are possible.",
            n=n,
            need=failure["need"],
            possible=failure["possible"],
        )
    if failure["reason"] == "blocked":
        return _l("Quota %(n)s cannot be met under the plan's rules and caps (one post per household, slots).", n=n)
    return _l("Quota %(n)s cannot be met together with the other quotas.", n=n)


def plan_inputs(
    session: Session, region_code: str, config: Config | None = None
) -> tuple[dict[str, list], list[Target]]:
    """Seeking laborers of the region (as columns, for the matcher) and its open targets, each with the
    capacity its free slots and its congestion cap leave (`caps.plan_capacities`; `config`'s factor).

    Core selects with the household facts as EXISTS on indexed columns: one statement whatever
    the region's size, and no ORM object per row. A laborer who holds a placement (an unanswered
    offer, an accepted one, work) is not seeking for a plan: a plan proposes only people it could
    offer work to when it is confirmed.
    """
    holding = select(Placement.id).where(Placement.laborer_id == Laborer.id, Placement.status.in_(HOLDING_STATUSES))
    laborers = laborer_columns(
        session,
        in_region(Household.village_code, region_code),
        Laborer.status == LaborerStatus.SEEKING,
        ~holding.exists(),
    )
    return laborers, caps.plan_capacities(load_targets(session, region_code), config or DEFAULT_CONFIG)


def create_county_plans(
    session: Session, user: User, region_code: str, mode: str, *, remote_addr: str | None = None
) -> list[Plan]:
    """One queued plan per county of a region within the office's scope (a county: itself), by code.

    Counties do not share laborers or targets in a plan (each plan reads its own region), so the
    plans are independent and run on as many runners as there are.
    """
    scope.require(user, "plans")
    region = session.get(Region, region_code)
    if region is None or not scope.covers_region(user, region_code):
        raise ValidationError.on("region", _l("unknown region %(code)s (or outside your scope)", code=region_code))
    return [create_plan(session, user, code, mode, remote_addr=remote_addr) for code in county_codes(session, region)]


def county_codes(session: Session, region: Region) -> list[str]:
    """The codes of the counties a region holds (a county: itself), ascending; 422 when it holds none."""
    counties = session.scalars(
        select(Region.code)
        .where(Region.level == RegionLevel.COUNTY, in_region(Region.code, region.code))
        .order_by(Region.code)
    ).all()
    if not counties:
        raise ValidationError.on("region", _l("region %(code)s holds no county", code=region.code))
    return list(counties)


def solve_plan(
    laborers: list[MLaborer] | dict[str, list],
    targets: list[Target],
    mode: PlanMode,
    config: Config,
    progress: Callable[[float], object] = lambda fraction: None,
    quotas: Sequence[Mapping] | None = None,
) -> tuple[PlanResult, PlanResult]:
    """The plan's mode (with its quotas) and the greedy baseline on the same inputs; touches no database.

    The baseline is what is done by hand today, which knows no quotas.
    """
    result = matcher.plan.run(laborers, targets, mode.value, config, quotas=quotas or ())
    progress(0.6)
    if mode is PlanMode.GREEDY:
        return result, result
    return result, matcher.plan.run(laborers, targets, "greedy", config, explain=False)


def solve_prepared(
    prepared: matcher.plan.Prepared,
    mode: PlanMode,
    config: Config,
    progress: Callable[[float], object] = lambda fraction: None,
) -> tuple[PlanResult, PlanResult]:
    """``solve_plan`` from inputs already prepared (the jobs graph built once for the plan and its baseline)."""
    if prepared.quotas and mode is not PlanMode.OPTIMAL:
        raise ValueError(matcher.plan.QUOTAS_NEED_OPTIMAL)
    result = matcher.plan.run_prepared(prepared, mode.value, config)
    progress(0.6)
    if mode is PlanMode.GREEDY:
        return result, result
    return result, matcher.plan.run_prepared(prepared, "greedy", config, explain=False)


def store_result(
    session: Session,
    plan: Plan,
    result: PlanResult,
    baseline: PlanResult,
    laborers: LaborerColumns | dict[str, list] | None = None,
    capacity_prices: Mapping[tuple[str, int], float] | None = None,
) -> Plan:
    """Write a solved plan's report, baseline, assignments and (optimal) capacity prices; the plan is done.

    Given the laborers the plan was solved for, each report carries its fairness breakdown
    (`web.services.fairness`): they cannot be read back once the plan's offers are made.
    """
    report, baseline_report = report_json(result.report), report_json(baseline.report)
    if laborers is not None:
        report["fairness"], baseline_report["fairness"] = fairness.result_fairness(session, laborers, result, baseline)
    plan.report, plan.baseline_report = report, baseline_report
    write_assignments(session, plan, result.columns)
    if capacity_prices is not None:
        prices.store_prices(session, plan, capacity_prices)
    plan.status, plan.progress, plan.finished_at = PlanStatus.DONE, 1.0, datetime.now(UTC)
    plan.error = plan.failure = None
    plan.lease_expires_at = None
    session.flush()
    return plan


def run_plan(
    session: Session, plan: Plan, config: Config, progress: Callable[[float], object] = lambda fraction: None
) -> Plan:
    """Read, solve and store a plan in the session's one transaction.

    The background runner (`web.jobs.plans`) calls the three steps itself, so that no transaction
    stays open while the matcher works.
    """
    laborers, targets = plan_inputs(session, plan.region_code, config)
    progress(0.2)
    prepared = matcher.plan.prepare(laborers, targets, config, quotas=plan.quotas or ())
    result, baseline = solve_prepared(prepared, plan.mode, config, progress)
    progress(0.9)
    capacity_prices = prices.plan_prices(prepared, plan.mode, result, config)
    return store_result(session, plan, result, baseline, laborers, capacity_prices)


#: Why a plan cannot be run again, by its status (only a failed plan can).
NOT_RERUNNABLE = {
    PlanStatus.QUEUED: "this plan is waiting for a runner; only a failed plan is run again",
    PlanStatus.RUNNING: "this plan is running; only a failed plan is run again",
    PlanStatus.DONE: "this plan has finished; only a failed plan is run again",
    PlanStatus.CONFIRMED: "this plan was confirmed; only a failed plan is run again",
}


def queue_again(session: Session, plan: Plan) -> Plan:
    """Queue a failed (or interrupted) plan to run again; any other plan is refused (409) saying why."""
    if plan.status is not PlanStatus.FAILED:
        raise ConflictError(NOT_RERUNNABLE[plan.status], {"status": [NOT_RERUNNABLE[plan.status]]})
    plan.status, plan.error, plan.failure, plan.progress = PlanStatus.QUEUED, None, None, 0.0
    plan.worker, plan.lease_expires_at, plan.finished_at = None, None, None
    plan.assignments = []
    session.flush()
    return plan


def assignment_columns(plan_id: int, assignments: AssignmentColumns) -> dict[str, list]:
    """PlanAssignment columns of a plan's assignments, explanations as factor codes."""
    n = len(assignments)
    kinds = assignments.kinds()
    target_ids = assignments.target_id.tolist()
    codes = assignments.codes if assignments.codes is not None else [()] * n
    columns: dict[str, list] = {
        "plan_id": [plan_id] * n,
        "laborer_id": assignments.laborer_id.tolist(),
        "stage": assignments.stages(),
        "score": np.clip(assignments.score, 0.0, 1.0).tolist(),
        "distance_km": assignments.distance_km.tolist(),
        "explanation": [explanation_json(c) for c in codes],
    }
    for kind, fk in CHANNEL_FK.items():
        columns[fk] = [t if k == kind else None for k, t in zip(kinds, target_ids, strict=True)]
    return columns


def write_assignments(session: Session, plan: Plan, assignments: AssignmentColumns) -> int:
    """Write a plan's assignments in bulk (COPY on PostgreSQL, executemany on SQLite); how many."""
    written = bulk_insert_columns(
        session, PlanAssignment.__table__, assignment_columns(plan.id, assignments), rebuild_indexes=False
    )
    session.expire(plan, ["assignments"])  # written around the ORM: read them afresh
    return written


def report_json(report) -> dict:
    """An engine report as the JSON a plan keeps (floats to 4 places)."""
    data = asdict(report)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}


def confirm_plan(
    session: Session,
    user: User,
    plan_id: int,
    *,
    max_live_offers: int = DEFAULTS["MAX_LIVE_OFFERS"],
    config: Config = DEFAULT_CONFIG,
    remote_addr: str | None = None,
) -> list[Placement]:
    """Turn a reviewed plan into offered placements; capacity, households and laborers re-checked under row locks.

    The plan proposed only laborers free to take an offer; if one has since accepted work or been
    offered as much as allowed, the whole confirmation is refused, naming them.
    """
    plan = scope.get_visible(session, Plan, plan_id, user, for_update=True)
    if plan.status is PlanStatus.CONFIRMED:
        raise ConflictError(_l("plan %(n)s was already confirmed", n=plan_id))
    if plan.status is not PlanStatus.DONE:
        raise ConflictError(
            _l(
                "plan %(n)s is %(status)s; only a finished plan can be confirmed",
                n=plan_id,
                status=LazyString(label_of, plan.status.value),
            )
        )
    assignments = plan.assignments
    keys = [(a.channel.value, a.target_id) for a in assignments]
    locked = lock_targets(session, keys)
    needed: dict[tuple[str, int], int] = {}
    for key in keys:
        needed[key] = needed.get(key, 0) + 1
    full = [f"{kind} {tid}" for (kind, tid), n in needed.items() if free_capacity(session, locked[(kind, tid)]) < n]
    if full:
        raise ConflictError(
            "slots were taken since the plan ran; run the plan again",
            {"assignments": [_l("no longer enough free slots: %(targets)s", targets=", ".join(full[:10]))]},
        )
    for key, n in needed.items():  # the offers made here are live until answered: each posting's cap holds
        caps.refuse_beyond_cap(session, locked[key], config, adding=n)
    laborers = {row.id: row for row in lock_laborers(session, [a.laborer_id for a in assignments])}
    refused = laborer_refusals(session, laborers, max_live_offers=max_live_offers)
    if refused:
        raise ConflictError(LABORERS_TAKEN, {"laborers": [f"{laborers[i].name} ({i})" for i in sorted(refused)]})
    posts = [a for a in assignments if a.welfare_post_id is not None]
    if posts:
        with_post = set(
            session.scalars(
                select(Placement.household_id).where(
                    Placement.welfare_post_id.is_not(None),
                    Placement.status.in_(HOLDING_STATUSES),
                    Placement.household_id.in_([laborers[a.laborer_id].household_id for a in posts]),
                )
            )
        )
        clash = [a.laborer_id for a in posts if laborers[a.laborer_id].household_id in with_post]
        if clash:
            raise ConflictError("a household in this plan received a welfare post meanwhile; run the plan again")
    placements = [
        _new_placement(
            laborers[a.laborer_id],
            a.channel.value,
            a.target_id,
            user,
            score=a.score,
            distance_km=a.distance_km,
            explanation=a.explanation,
            plan_id=plan.id,
        )
        for a in assignments
    ]
    session.add_all(placements)
    plan.status, plan.confirmed_by_id, plan.confirmed_at = PlanStatus.CONFIRMED, user.id, datetime.now(UTC)
    session.flush()
    audit(session, "plan_confirmed", user=user, entity=plan, remote_addr=remote_addr, placements=len(placements))
    post_requests.answer_by_placements(session, placements, user)
    return placements
