"""Retention check-ins at 30, 90 and 180 days (DESIGN §2), and the learned model they train.

The check-ins are the labels of the learned success model (matcher.learn): whether the laborer
was still working 90 days in. The model's probability joins the score only once it beats the
hand-weighted score on held-out placements; `evaluate_learned_model` says whether it does, and
only an office's decision (`decide_learned_weight`, refused unless it does, recorded and audited)
raises its weight from 0; the interactive ranking then uses it (`web.services.ranking`).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher import learn, outcomes, scoring
from matcher.arrays import LaborerColumns, TargetColumns
from matcher.plan import nearest_point_km
from matcher.types import Config

from .. import clock
from ..errors import ConflictError, ValidationError
from ..models import (
    AT_WORK_STATUSES,
    CHANNEL_FK,
    Laborer,
    LearnedWeight,
    Placement,
    RetentionCheckin,
    User,
    channel_of,
)
from . import convert, scope, versions
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


def training_data(session: Session, config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, hand-weighted scores, 90-day labels and whether each label is synthetic (`seed.outcomes`),
    of every placement with a 90-day check-in, by placement id.

    Read with Core selects straight into the matcher's columns (the laborers with their household facts
    now, the targets as they are now, each distinct one once) and scored vectorised: at province scale
    (20,000 such placements) loading them as ORM objects, one relationship at a time, took most of the
    learning page's first visit.
    """
    query = (
        select(
            Placement.laborer_id,
            Placement.opening_id,
            Placement.batch_id,
            Placement.welfare_post_id,
            RetentionCheckin.is_still_working,
            RetentionCheckin.note,
        )
        .join(RetentionCheckin, RetentionCheckin.placement_id == Placement.id)
        .where(RetentionCheckin.day == SUCCESS_DAY)
    )
    rows = session.execute(query.order_by(Placement.id)).all()
    if not rows:
        return np.empty((0, len(learn.FEATURE_NAMES))), np.empty(0), np.empty(0, bool), np.empty(0, bool)
    lasted = query.subquery()
    targets = [
        target
        for kind, column in CHANNEL_FK.items()
        for target in convert.targets_named(
            session, kind, select(lasted.c[column]).where(lasted.c[column].is_not(None))
        )
    ]
    T = TargetColumns.from_targets(targets)
    where = Laborer.id.in_(select(lasted.c.laborer_id))
    L = LaborerColumns.from_columns(convert.laborer_columns(session, where), T.skills, T.job_types)
    target_row = {(t.kind, t.id): row for row, t in enumerate(targets)}
    kinds = [channel_of(r.opening_id, r.batch_id).value for r in rows]
    ti = np.array([target_row[(kind, getattr(r, CHANNEL_FK[kind]))] for kind, r in zip(kinds, rows, strict=True)])
    li = np.searchsorted(L.id, np.array([r.laborer_id for r in rows], np.int64))  # laborer columns come by id
    distance = nearest_point_km(L, li, T, ti)
    features = learn.placement_features(L, li, T, ti, distance, config)
    hand = scoring.score_columns(L, li, T, ti, distance, config)
    labels = np.array([r.is_still_working for r in rows], bool)
    return features, hand, labels, np.array([r.note == SYNTHETIC_NOTE for r in rows], bool)


#: The note `seed.outcomes` leaves on the check-ins it generates (their truth is known: matcher.outcomes);
#: shown as a note people typed would be, so in the pages' first language.
SYNTHETIC_NOTE = "模拟的回访记录（真实概率已知）"
#: Fewer 90-day check-ins than this (or only one outcome) and nothing is learned.
MIN_CHECKINS = 40


#: Stamps of the recorded check-ins, read beside the data versions in one statement: adding, removing or
#: changing a check-in moves at least one of them.
_CHECKIN_STAMPS = {
    "checkins": select(func.count(RetentionCheckin.id)).scalar_subquery(),
    "checkins_last": select(func.max(RetentionCheckin.id)).scalar_subquery(),
    "checkins_placements": select(func.sum(RetentionCheckin.placement_id)).scalar_subquery(),
    "checkins_kept": select(func.count(RetentionCheckin.id)).where(RetentionCheckin.is_still_working).scalar_subquery(),
}
#: The last evaluation per database, with what it was computed from.
_evaluated: dict[str, tuple[tuple, learn.Evaluation | None]] = {}


def evaluate_learned_model(session: Session, config: Config, *, random_state: int = 0) -> learn.Evaluation | None:
    """Train on recorded 90-day check-ins; AUC and Brier on held-out ones for the model, the hand score and,
    when every check-in is synthetic, the generator's true probability (the ceiling). None if too few.

    Kept per database until a check-in, a laborer or household, or a target changes (the stamps above
    and `web.services.versions`; not for held slots, which every offer moves), or the day does: the
    office's page shows the figures at once instead of refitting on every visit (7 s on 20,000
    check-ins). The evaluation is deterministic, so a kept one is the one a fresh fit would give.
    Nothing is kept before the laborers' and the targets' versions have first moved (their changes
    not yet committed, or written around jiuye): the versions would not tell.
    """
    stamps = versions.current(session, **_CHECKIN_STAMPS)
    # Held slots do not enter the features (every offer moves them): the laborers, targets and check-ins do.
    key = (
        *(stamps[name] for name in (versions.LABORERS, versions.TARGETS, *_CHECKIN_STAMPS)),
        config,
        random_state,
        clock.today(),
    )
    url = str(session.get_bind().engine.url)
    kept = _evaluated.get(url)
    if kept is not None and kept[0] == key:
        return kept[1]
    evaluation = _evaluate(session, config, random_state)
    if stamps[versions.LABORERS] and stamps[versions.TARGETS]:
        _evaluated[url] = (key, evaluation)
    return evaluation


def _evaluate(session: Session, config: Config, random_state: int) -> learn.Evaluation | None:
    features, hand, lasted, synthetic = training_data(session, config)
    if len(lasted) < MIN_CHECKINS or lasted.all() or not lasted.any():
        return None
    truth = outcomes.retention_probability(features) if synthetic.all() else None
    return learn.evaluate(features, hand, lasted.astype(int), truth, random_state=random_state)


#: The id of the decision in force (null: none), as a scalar select (read beside the data versions).
DECISION = select(func.max(LearnedWeight.id)).scalar_subquery()


def learned_weight(session: Session) -> LearnedWeight | None:
    """The decision in force on the learned model's weight (the newest), or None: weight 0."""
    return session.scalars(select(LearnedWeight).order_by(LearnedWeight.id.desc()).limit(1)).first()


def decide_learned_weight(
    session: Session,
    user: User,
    weight: float,
    config: Config,
    *,
    random_state: int = 0,
    remote_addr: str | None = None,
) -> LearnedWeight:
    """An office sets the learned model's weight in the score; above 0 only if the model beats the hand score now.

    The model is evaluated afresh on the check-ins recorded today; the decision, with the figures it
    was taken on, is a row of its own and an audit event. Weight 0 (back to the hand score) is always allowed.
    """
    scope.require(user, "plans")
    if not 0.0 <= weight <= 1.0:
        raise ValidationError.on("weight", _l("a weight from 0 to 1"))
    evaluation = evaluate_learned_model(session, config, random_state=random_state)
    if weight > 0 and evaluation is None:
        raise ConflictError(
            _l("not enough 90-day check-ins to judge the learned model"), {"weight": [_l("keep it at 0")]}
        )
    if weight > 0 and evaluation is not None and not evaluation.model_beats_hand:
        raise ConflictError(
            _l("the learned model does not beat the hand-weighted score on held-out check-ins"),
            {"weight": [_l("keep it at 0")]},
        )
    decision = LearnedWeight(
        weight=weight,
        model_auc=evaluation.auc["model"].value if evaluation else 0.0,
        hand_auc=evaluation.auc["hand"].value if evaluation else 0.0,
        n_test=evaluation.n_test if evaluation else 0,
        decided_by_id=user.id,
        decided_at=clock.now(),
    )
    session.add(decision)
    session.flush()
    audit(
        session,
        "learned_weight",
        user=user,
        entity=decision,
        remote_addr=remote_addr,
        weight=weight,
        model_auc=round(decision.model_auc, 4),
        hand_auc=round(decision.hand_auc, 4),
        n_test=decision.n_test,
    )
    return decision


def trained_model(session: Session, config: Config, *, random_state: int = 0) -> learn.SuccessModel | None:
    """The success model fitted on every recorded 90-day check-in (None if too few), for the score to use."""
    features, _, lasted, _ = training_data(session, config)
    if len(lasted) < MIN_CHECKINS or lasted.all() or not lasted.any():
        return None
    return learn.SuccessModel(random_state=random_state).fit(features, lasted.astype(int))
