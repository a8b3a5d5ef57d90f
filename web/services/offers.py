"""Taking a slot: offers (eligibility and capacity re-checked under a row lock) and the placement lifecycle.

Capacity is counted from placements that hold a slot (offered, accepted, working) and re-checked
under row locks whenever a slot is taken, so two offices confirming at once cannot overbook.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher import rules, scoring
from matcher.geo import haversine_km
from matcher.types import Config

from ..errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ..models import (
    HOLDING_STATUSES,
    Household,
    Laborer,
    Opening,
    Placement,
    PlacementEvent,
    PlacementStatus,
    Role,
    TransportBatch,
    User,
)
from . import scope
from .accounts import audit
from .convert import FK, MODELS, explanation_json, held_slots, to_matcher_laborers, to_target
from .ranking import target_row


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
                               explanation=explanation_json(score.codes))
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


