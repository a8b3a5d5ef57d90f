"""Matching use cases: rows → matcher types, ranking, offers, and plans (run, report, confirm).

The matcher is pure; this module loads what it needs, calls it, and stores the results. Capacity is
counted from placements that hold a slot (offered, accepted, working) and re-checked under row
locks whenever a slot is taken, so two offices confirming at once cannot overbook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

import matcher.plan
from matcher import rules, scoring
from matcher.geo import haversine_km
from matcher.rank import CandidateRanker, Match, Ranker, RankResult
from matcher.types import Config, Target
from matcher.types import Laborer as MLaborer

from ..errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ..models import (
    HOLDING_STATUSES,
    WORKING_STATUSES,
    BatchStatus,
    Household,
    Laborer,
    Opening,
    Placement,
    PlacementEvent,
    PlacementStatus,
    Plan,
    PlanAssignment,
    PlanMode,
    PlanStatus,
    PostingStatus,
    Region,
    Role,
    TransportBatch,
    User,
    WelfarePost,
)
from . import scope
from .accounts import audit

MODELS = {"opening": Opening, "batch": TransportBatch, "welfare_post": WelfarePost}
FK = {"opening": "opening_id", "batch": "batch_id", "welfare_post": "welfare_post_id"}


def matcher_config(settings: dict) -> Config:
    """The matcher's thresholds from the app's configuration (DESIGN §2 defaults)."""
    return Config(
        default_max_commute_km=settings.get("MATCH_DEFAULT_MAX_COMMUTE_KM", 10.0),
        max_pickup_km=settings.get("MATCH_MAX_PICKUP_KM", 60.0),
    )


# -- rows → matcher types ---------------------------------------------------------------------


def _household_facts(session: Session, household_ids: Iterable[int] | None) -> tuple[set[int], set[int], set[int]]:
    """(households with work, households holding a welfare post, laborers working) for the given households."""
    working_placement = select(Placement.laborer_id, Placement.household_id).where(
        Placement.status == PlacementStatus.WORKING
    )
    employed = select(Laborer.id, Laborer.household_id).where(Laborer.status.in_(WORKING_STATUSES))
    posts = select(Placement.household_id).where(
        Placement.welfare_post_id.is_not(None), Placement.status.in_(HOLDING_STATUSES)
    )
    if household_ids is not None:
        ids = list(household_ids)
        working_placement = working_placement.where(Placement.household_id.in_(ids))
        employed = employed.where(Laborer.household_id.in_(ids))
        posts = posts.where(Placement.household_id.in_(ids))
    working_laborers, with_work = set(), set()
    for laborer_id, household_id in [*session.execute(working_placement), *session.execute(employed)]:
        working_laborers.add(laborer_id)
        with_work.add(household_id)
    return with_work, set(session.scalars(posts)), working_laborers


def to_matcher_laborers(session: Session, rows: Sequence[Laborer], *, all_households: bool = False) -> list[MLaborer]:
    """Convert laborer rows (households loaded) into the matcher's Laborer."""
    ids = None if all_households else {row.household_id for row in rows}
    with_work, with_post, working = _household_facts(session, ids)
    return [
        MLaborer(
            id=row.id, household_id=row.household_id, lat=row.lat, lon=row.lon, birth_on=row.birth_on,
            sex=row.sex.value, ability=row.physical_ability.value, skills=frozenset(row.skills or ()),
            work_area=row.work_area.value, max_commute_km=row.max_commute_km,
            job_types=frozenset(row.job_types or ()), pay_type=row.pay_type.value if row.pay_type else None,
            needs_flexible_hours=row.needs_flexible_hours, poverty_status=row.household.poverty_status.value,
            household_has_work=row.household_id in with_work, household_has_post=row.household_id in with_post,
            is_working=row.id in working, order=row.id,
        )
        for row in rows
    ]


def held_slots(session: Session, kind: str, ids: Iterable[int] | None = None) -> dict[int, int]:
    """Slots held (offered, accepted, working) per target of one kind."""
    column = getattr(Placement, FK[kind])
    query = select(column, func.count()).where(column.is_not(None), Placement.status.in_(HOLDING_STATUSES))
    if ids is not None:
        query = query.where(column.in_(list(ids)))
    return dict(session.execute(query.group_by(column)).all())


def _open_targets(kind: str, region_prefix: str | None) -> Select:
    model = MODELS[kind]
    query = select(model)
    if kind == "batch":
        query = query.where(
            model.status.in_([BatchStatus.PLANNING, BatchStatus.BOARDING]), model.departs_at > datetime.now(UTC)
        ).options(selectinload(TransportBatch.pickup_points))
    else:
        query = query.where(model.status == PostingStatus.OPEN)
    if region_prefix:
        query = query.where(model.region_code.startswith(region_prefix))
    return query.order_by(model.id)


def to_target(kind: str, row, free: int) -> Target:
    """Convert an opening, batch or welfare post row into the matcher's Target."""
    if kind == "batch":
        points = tuple((p.lat, p.lon) for p in row.pickup_points)
        return Target(kind=kind, id=row.id, title=row.title, job_type=row.job_type, points=points, capacity=free,
                      min_age=row.min_age, max_age=row.max_age, demand=row.physical_demand.value,
                      skills=frozenset(row.skills or ()), pay_type=row.pay_type.value, pay_cents=row.pay_cents,
                      is_flexible=False, start_on=row.departs_at.date(), employer_id=row.employer_id,
                      region_code=row.region_code)
    if kind == "opening":
        return Target(kind=kind, id=row.id, title=row.title, job_type=row.job_type, points=((row.lat, row.lon),),
                      capacity=free, min_age=row.min_age, max_age=row.max_age, demand=row.physical_demand.value,
                      skills=frozenset(row.skills or ()), pay_type=row.pay_type.value, pay_cents=row.pay_cents,
                      is_flexible=row.is_flexible_hours, start_on=row.start_on, employer_id=row.employer_id,
                      region_code=row.region_code)
    # Welfare posts are light, local and flexible by nature; their stipend is monthly.
    return Target(kind=kind, id=row.id, title=row.title, job_type=row.post_type.value, points=((row.lat, row.lon),),
                  capacity=free, min_age=row.min_age, max_age=row.max_age, demand=row.physical_demand.value,
                  skills=frozenset(), pay_type="monthly", pay_cents=row.stipend_cents, is_flexible=True,
                  start_on=max(row.term_start_on, datetime.now(UTC).date()), employer_id=None,
                  region_code=row.region_code)


def load_targets(session: Session, region_prefix: str | None = None, kinds: Iterable[str] = MODELS) -> list[Target]:
    """Every open target (optionally within a region) with its free capacity now."""
    targets = []
    for kind in kinds:
        rows = session.scalars(_open_targets(kind, region_prefix)).all()
        held = held_slots(session, kind)
        capacity = "seats" if kind == "batch" else "slots"
        targets.extend(to_target(kind, row, getattr(row, capacity) - held.get(row.id, 0)) for row in rows)
    return targets


# -- ranking ------------------------------------------------------------------------------------

_rankers: dict[str, tuple[tuple, Ranker]] = {}
_rankers_lock = threading.Lock()


def data_version(session: Session) -> tuple:
    """A cheap fingerprint of everything a Ranker depends on (targets and the slots they hold)."""
    parts = []
    for model in (Opening, TransportBatch, WelfarePost, Placement):
        parts.append(tuple(session.execute(select(func.count(), func.max(model.updated_at))).one()))
    return tuple(parts)


def ranker(session: Session, config: Config) -> Ranker:
    """The Ranker over all open targets, built once per data version and reused across requests."""
    key = str(session.get_bind().url)
    version = (data_version(session), config)
    with _rankers_lock:
        cached = _rankers.get(key)
        if cached and cached[0] == version:
            return cached[1]
    built = Ranker(load_targets(session), config)
    with _rankers_lock:
        _rankers[key] = (version, built)
    return built


def matches_for_laborer(
    session: Session, user: User, laborer_id: int, config: Config, *, limit: int = 10,
    kinds: Sequence[str] | None = None, ineligible: int = 5, rematch: bool = False,
) -> tuple[Laborer, RankResult]:
    """Top targets across the three channels for a laborer the user may see, and the nearest misses."""
    row = scope.get_visible(session, Laborer, laborer_id, user)
    unknown = set(kinds or ()) - set(MODELS)
    if unknown:
        raise ValidationError.on("kind", f"unknown kind {sorted(unknown)[0]}; use opening, batch or welfare_post")
    (laborer,) = to_matcher_laborers(session, [row])
    built = ranker(session, config)
    # The ranker holds every open target; the user is shown only those in their scope (a cadre the
    # postings of their counties, an office those of its region), asking for more until enough remain.
    k, misses = limit, ineligible
    while True:
        result = built.for_laborer(laborer, k=k, kinds=kinds, ineligible=misses, rematch=rematch)
        shown = _keep_visible(session, user, result.matches)
        shown_misses = _keep_visible(session, user, result.ineligible)
        enough = len(shown) >= limit or len(result.matches) < k
        enough_misses = len(shown_misses) >= ineligible or len(result.ineligible) < misses
        if enough and enough_misses:
            return row, RankResult(shown[:limit], shown_misses[:ineligible])
        k, misses = k * 4, misses * 4


def _keep_visible(session: Session, user: User, matches: list[Match]) -> list[Match]:
    """The matches whose target the user may see, in their order."""
    wanted: dict[str, set[int]] = {}
    for match in matches:
        wanted.setdefault(match.kind, set()).add(match.target_id)
    seen: set[tuple[str, int]] = set()
    for kind, ids in wanted.items():
        model = MODELS[kind]
        if user.role in scope.READ_ROLES[model]:
            found = session.scalars(select(model.id).where(model.id.in_(ids), scope.visible(model, user)))
            seen.update((kind, target_id) for target_id in found)
    return [m for m in matches if (m.kind, m.target_id) in seen]


def target_row(session: Session, user: User, kind: str, target_id: int):
    """An opening, batch or welfare post the user may see (404 otherwise)."""
    if kind not in MODELS:
        raise NotFoundError(f"unknown kind {kind}")
    return scope.get_visible(session, MODELS[kind], target_id, user)


def candidates_for_target(
    session: Session, user: User, kind: str, target_id: int, config: Config, *, limit: int = 10, ineligible: int = 0,
) -> tuple[object, RankResult]:
    """Top laborers for a target the user may see; an employer sees only its own postings' candidates."""
    row = target_row(session, user, kind, target_id)
    capacity = "seats" if kind == "batch" else "slots"
    free = getattr(row, capacity) - held_slots(session, kind, [row.id]).get(row.id, 0)
    target = to_target(kind, row, free)
    query = (
        select(Laborer).join(Household).options(selectinload(Laborer.household))
        .where(Laborer.status == "seeking")
    )
    if user.role is not Role.EMPLOYER:  # employers see candidates, not registers: the matcher picks them
        query = query.where(scope.visible(Laborer, user))
    rows = session.scalars(query.order_by(Laborer.id)).all()
    if not rows:
        return row, RankResult([], [])
    laborers = to_matcher_laborers(session, rows)
    result = CandidateRanker(laborers, config).for_target(target, k=limit, ineligible=ineligible)
    return row, result


def match_json(match: Match, locale: str = "zh") -> dict:
    """A Match as the API and pages show it, with sentences in both languages."""
    return {
        "kind": match.kind, "target_id": match.target_id, "laborer_id": match.laborer_id,
        "distance_km": round(match.distance_km, 2), "score": round(match.score, 4), "eligible": match.eligible,
        "factors": [{"name": f.name, "value": round(f.value, 4), "weight": f.weight, "zh": f.zh, "en": f.en,
                     "text": f.zh if locale == "zh" else f.en} for f in match.factors],
        "reasons": [{"code": r.code, "zh": r.zh, "en": r.en, "text": r.zh if locale == "zh" else r.en}
                    for r in match.reasons],
    }


# -- taking a slot --------------------------------------------------------------------------------


def lock_targets(session: Session, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], object]:
    """Lock target rows (in a fixed order, so that concurrent confirms cannot deadlock) and return them."""
    locked = {}
    for kind, target_id in sorted(set(keys)):
        row = session.get(MODELS[kind], target_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFoundError(f"{kind} {target_id} does not exist")
        locked[(kind, target_id)] = row
    return locked


def _free_after_lock(session: Session, kind: str, row) -> int:
    capacity = row.seats if kind == "batch" else row.slots
    return capacity - held_slots(session, kind, [row.id]).get(row.id, 0)


def _new_placement(laborer_row: Laborer, kind: str, target_id: int, by: User, *, score: float | None,
                   distance_km: float | None, explanation: dict | None, plan_id: int | None = None) -> Placement:
    placement = Placement(
        laborer_id=laborer_row.id, household_id=laborer_row.household_id, status=PlacementStatus.OFFERED,
        score=score, distance_km=distance_km, explanation=explanation, plan_id=plan_id, created_by_id=by.id,
        **{FK[kind]: target_id},
    )
    placement.events.append(PlacementEvent(from_status=None, to_status=PlacementStatus.OFFERED, by_user_id=by.id))
    return placement


def make_offer(session: Session, user: User, laborer_id: int, kind: str, target_id: int, config: Config,
               *, remote_addr: str | None = None) -> Placement:
    """Offer a laborer a target: eligibility and capacity re-checked now, with the target row locked."""
    if user.role not in (Role.CADRE, Role.OFFICE):
        raise PermissionDeniedError("only cadres and offices make offers")
    laborer_row = scope.get_visible(session, Laborer, laborer_id, user)
    target_row(session, user, kind, target_id)  # visible to this user?
    locked = lock_targets(session, [(kind, target_id)])[(kind, target_id)]
    free = _free_after_lock(session, kind, locked)
    (laborer,) = to_matcher_laborers(session, [laborer_row])
    target = to_target(kind, locked, free)
    # The same great-circle distance the ranking used, so that an offer shown as eligible stays so.
    distance = min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)
    reasons = rules.check(laborer, target, distance, config)
    if reasons:
        raise ConflictError("; ".join(r.en for r in reasons), {"target": [r.zh + " / " + r.en for r in reasons]})
    already = session.scalar(select(Placement.id).where(
        Placement.laborer_id == laborer_row.id, getattr(Placement, FK[kind]) == target_id,
        Placement.status.in_(HOLDING_STATUSES)))
    if already:
        raise ConflictError("this laborer already holds an offer for this target")
    score = scoring.score(laborer, target, distance, config)
    placement = _new_placement(laborer_row, kind, target_id, user, score=score.total, distance_km=distance,
                               explanation={"factors": [asdict(f) for f in score.factors]})
    try:
        with session.begin_nested():  # the database's one-post-per-household index has the last word
            session.add(placement)
            session.flush()
    except IntegrityError:
        raise ConflictError("this household already holds a welfare post",
                            {"target": ["一户一岗：该户已有公益岗位 / one welfare post per household"]}) from None
    audit(session, "offer", user=user, entity=placement, remote_addr=remote_addr, laborer_id=laborer_row.id)
    return placement


def transition(session: Session, user: User, placement_id: int, to_status: str, *, note: str | None = None,
               remote_addr: str | None = None) -> Placement:
    """Move a placement along its lifecycle (offered → accepted | declined → working → ended)."""
    from ..models import TRANSITIONS

    placement = visible_placement(session, user, placement_id, for_update=True)
    try:
        target = PlacementStatus(to_status)
    except ValueError:
        raise ValidationError.on("status", f"unknown status {to_status}") from None
    if target not in TRANSITIONS[placement.status]:
        raise ConflictError(f"a placement that is {placement.status.value} cannot become {target.value}",
                            {"status": [f"not allowed from {placement.status.value}"]})
    if user.role is Role.EMPLOYER and target not in (PlacementStatus.ACCEPTED, PlacementStatus.DECLINED,
                                                     PlacementStatus.WORKING, PlacementStatus.ENDED):
        raise PermissionDeniedError("employers answer offers")
    if target in (PlacementStatus.DECLINED, PlacementStatus.ENDED) and not (note or "").strip():
        raise ValidationError.on("note", "say why (a reason is required)")
    today = datetime.now(UTC).date()
    placement.events.append(PlacementEvent(from_status=placement.status, to_status=target, by_user_id=user.id, note=note))
    placement.status = target
    if target is PlacementStatus.DECLINED:
        placement.decline_reason = note
    elif target is PlacementStatus.WORKING:
        placement.started_on = today
    elif target is PlacementStatus.ENDED:
        placement.end_reason = note
        placement.ended_on = today
    session.flush()
    audit(session, f"placement_{target.value}", user=user, entity=placement, remote_addr=remote_addr)
    return placement


def placements_query(user: User) -> Select:
    """Placements the user may see: a cadre's villages, an employer's own postings, an office's region."""
    query = select(Placement).join(Laborer, Placement.laborer_id == Laborer.id).join(
        Household, Laborer.household_id == Household.id)
    if user.role is Role.CADRE:
        return query.where(Household.village_code.in_(user.village_codes))
    if user.role is Role.OFFICE:
        return query.where(Household.village_code.startswith(user.region_code))
    own_openings = select(Opening.id).where(Opening.employer_id == user.employer_id)
    own_batches = select(TransportBatch.id).where(TransportBatch.employer_id == user.employer_id)
    return query.where(or_(Placement.opening_id.in_(own_openings), Placement.batch_id.in_(own_batches)))


def visible_placement(session: Session, user: User, placement_id: int, *, for_update: bool = False) -> Placement:
    """A placement in the user's scope, or 404."""
    query = placements_query(user).where(Placement.id == placement_id)
    if for_update:
        query = query.with_for_update(of=Placement)
    placement = session.scalar(query)
    if placement is None:
        raise NotFoundError(f"placement {placement_id} does not exist")
    return placement


# -- plans ------------------------------------------------------------------------------------------


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


def plan_inputs(session: Session, region_code: str) -> tuple[list[MLaborer], list[Target]]:
    """Seeking laborers of the region and its open targets, as matcher inputs."""
    rows = session.scalars(
        select(Laborer).join(Household).options(selectinload(Laborer.household))
        .where(Household.village_code.startswith(region_code), Laborer.status == "seeking").order_by(Laborer.id)
    ).all()
    return to_matcher_laborers(session, rows), load_targets(session, region_code)


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
    plan.assignments = [
        PlanAssignment(laborer_id=a.laborer_id, stage=a.stage, score=min(1.0, max(0.0, a.score)),
                       distance_km=a.distance_km, explanation={"factors": [asdict(f) for f in a.factors]},
                       **{FK[a.kind]: a.target_id})
        for a in result.assignments
    ]
    plan.status, plan.progress, plan.error, plan.finished_at = PlanStatus.DONE, 1.0, None, datetime.now(UTC)
    session.flush()
    return plan


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
