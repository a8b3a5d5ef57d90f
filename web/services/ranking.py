"""Interactive ranking through the service layer: a laborer's matches and a posting's candidates.

One `Ranker` over every open target is cached per data version and reused across requests; the
user is shown only what their scope lets them see. An employer is shown a posting's candidates as
`services.disclosure` describes: eligible ones only, by score alone, distances in whole km from the
laborer's village point, and the score recomputed from that distance.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from matcher import scoring
from matcher.rank import CandidateRanker, Match, Ranker, RankResult
from matcher.types import Config, Target
from matcher.types import Laborer as MLaborer

from ..errors import NotFoundError, ValidationError
from ..models import (
    CHANNEL_MODELS,
    Household,
    Laborer,
    LaborerStatus,
    Opening,
    Placement,
    TransportBatch,
    User,
    WelfarePost,
)
from . import disclosure, scope
from .convert import free_capacity, load_targets, to_matcher_laborers, to_target

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
    unknown = set(kinds or ()) - set(CHANNEL_MODELS)
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
        model = CHANNEL_MODELS[kind]
        if scope.may_read(model, user):
            found = session.scalars(select(model.id).where(model.id.in_(ids), scope.visible(model, user)))
            seen.update((kind, target_id) for target_id in found)
    return [m for m in matches if (m.kind, m.target_id) in seen]


def target_row(session: Session, user: User, kind: str, target_id: int):
    """An opening, batch or welfare post the user may see (404 otherwise)."""
    if kind not in CHANNEL_MODELS:
        raise NotFoundError(f"unknown kind {kind}")
    return scope.get_visible(session, CHANNEL_MODELS[kind], target_id, user)


def candidates_for_target(
    session: Session, user: User, kind: str, target_id: int, config: Config, *, limit: int = 10, ineligible: int = 0,
) -> tuple[object, RankResult]:
    """Top laborers for a target the user may see; an employer sees only its own postings' candidates,
    eligible ones only, by score alone and with coarse distances (`services.disclosure`)."""
    row = target_row(session, user, kind, target_id)
    target = to_target(kind, row, free_capacity(session, row))
    query = (
        select(Laborer).join(Household)
        .options(selectinload(Laborer.household).selectinload(Household.village))
        .where(Laborer.status == LaborerStatus.SEEKING, scope.candidate_pool(user))
    )
    rows = session.scalars(query.order_by(Laborer.id)).all()
    if not rows:
        return row, RankResult([], [])
    laborers = to_matcher_laborers(session, rows)
    if disclosure.sees_exact_distances(user):
        return row, CandidateRanker(laborers, config).for_target(target, k=limit, ineligible=ineligible)
    result = CandidateRanker(laborers, config).for_target(target, k=limit, by_priority=False)
    by_id = {laborer.id: laborer for laborer in laborers}
    rows_by_id = {r.id: r for r in rows}
    coarse = [_coarse(m, by_id[m.laborer_id], rows_by_id[m.laborer_id], target, config) for m in result.matches]
    coarse.sort(key=lambda m: (-m.score, m.laborer_id))
    return row, RankResult(coarse, [])


def _coarse(match: Match, laborer: MLaborer, row: Laborer, target: Target, config: Config) -> Match:
    """An employer's view of a match: whole km from the village point, and the score from that."""
    km = float(disclosure.employer_km(disclosure.village_distance_km(row, list(target.points))))
    score = scoring.score(laborer, target, km, config)
    return Match(match.kind, match.target_id, match.laborer_id, km, score.total, score.factors, (), True)


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


