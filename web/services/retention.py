"""Retention check-ins at 30, 90 and 180 days (DESIGN §2), and the learned model they train.

The check-ins are the labels of the learned success model (matcher.learn): whether the laborer
was still working 90 days in. The model's probability joins the score only once it beats the
hand-weighted score on held-out placements; `evaluate_learned_model` says whether it does.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher import learn
from matcher.geo import haversine_km
from matcher.types import Config

from .. import clock
from ..errors import ConflictError, ValidationError
from ..models import AT_WORK_STATUSES, Laborer, Placement, RetentionCheckin, User
from . import convert, scope
from .accounts import audit

CHECKIN_DAYS = (30, 90, 180)
SUCCESS_DAY = 90


def record_checkin(
    session: Session,
    user: User,
    placement_id: int,
    day: int,
    is_still_working: bool,
    *,
    note: str | None = None,
    today: date | None = None,
    remote_addr: str | None = None,
) -> RetentionCheckin:
    """Record whether the laborer is still working `day` days after starting; once per day mark."""
    scope.require(user, "checkins")
    placement = scope.get_visible(session, Placement, placement_id, user, for_update=True)
    if day not in CHECKIN_DAYS:
        raise ValidationError.on("day", _l("use 30, 90 or 180"))
    if placement.status not in AT_WORK_STATUSES or placement.started_on is None:
        raise ConflictError(
            _l("only a placement that has started can be checked on"), {"day": [_l("the placement has not started")]}
        )
    today = today or clock.today()
    if placement.started_on + timedelta(days=day) > today:
        due = placement.started_on + timedelta(days=day)
        raise ValidationError.on("day", _l("not due before %(day)s", day=due.isoformat()))
    if any(c.day == day for c in placement.checkins):
        raise ConflictError(_l("the %(n)s-day check-in is already recorded", n=day), {"day": [_l("already recorded")]})
    checkin = RetentionCheckin(
        day=day, checked_on=today, is_still_working=is_still_working, by_user_id=user.id, note=note
    )
    placement.checkins.append(checkin)
    session.flush()
    audit(
        session,
        "checkin",
        user=user,
        entity=placement,
        remote_addr=remote_addr,
        day=day,
        is_still_working=is_still_working,
    )
    return checkin


def due_checkins(placement: Placement, today: date | None = None) -> list[int]:
    """The check-in days that are due and not yet recorded for a placement."""
    if placement.started_on is None or placement.status not in AT_WORK_STATUSES:
        return []
    today = today or clock.today()
    done = {c.day for c in placement.checkins}
    return [d for d in CHECKIN_DAYS if d not in done and placement.started_on + timedelta(days=d) <= today]


def training_data(session: Session, config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, hand-weighted scores and 90-day labels of every placement with a 90-day check-in."""
    rows = session.scalars(
        select(Placement)
        .join(RetentionCheckin)
        .where(RetentionCheckin.day == SUCCESS_DAY)
        .options(
            selectinload(Placement.laborer).selectinload(Laborer.household),
            selectinload(Placement.opening),
            selectinload(Placement.batch),
            selectinload(Placement.welfare_post),
            selectinload(Placement.checkins),
        )
        .order_by(Placement.id)
    ).all()
    if not rows:
        return np.empty((0, len(learn.FEATURE_NAMES))), np.empty(0), np.empty(0, bool)
    laborers = {lab.id: lab for lab in convert.to_matcher_laborers(session, [p.laborer for p in rows])}
    triples, labels = [], []
    for placement in rows:
        kind = placement.channel.value
        target_row = getattr(placement, kind)  # the relationships are named after the channels
        target = convert.to_target(kind, target_row, free=1)
        laborer = laborers[placement.laborer_id]
        distance = min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)
        triples.append((laborer, target, distance))
        labels.append(next(c.is_still_working for c in placement.checkins if c.day == SUCCESS_DAY))
    features = learn.features_for(triples, config)
    from matcher import scoring

    hand = np.array([scoring.score(lab, tgt, dist, config).total for lab, tgt, dist in triples])
    return features, hand, np.array(labels, bool)


def evaluate_learned_model(session: Session, config: Config, *, random_state: int = 0) -> learn.Comparison | None:
    """Train on recorded 90-day check-ins and compare with the hand score on held-out ones (None if too few)."""
    features, hand, lasted = training_data(session, config)
    if len(lasted) < 40 or lasted.all() or not lasted.any():
        return None
    return learn.compare_with_hand_score(features, hand, lasted, random_state=random_state)
