"""Interactive ranking through the service layer: a laborer's matches and a posting's candidates.

Two rankers are cached per database and reused across requests: a `Ranker` over every open target
and a `CandidateRanker` over every seeking laborer. Each is current while the data versions it was
built at (`web.services.versions`: two indexed rows, read once per request) have not moved: a new
``targets`` or ``laborers`` version rebuilds it, a new ``holdings`` version only recounts the free
slots of the targets whose held slots changed, in place. The user is shown only what their scope
lets them see. An employer is shown a posting's candidates as `services.disclosure` describes:
eligible ones only, by score alone, distances in whole km from the laborer's village point, and the
score recomputed from that distance.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher import scoring
from matcher.rank import CandidateRanker, Match, Ranker, RankResult
from matcher.scoring import Factor
from matcher.types import Config, Target
from matcher.types import Laborer as MLaborer

from .. import clock
from ..errors import NotFoundError, ValidationError
from ..models import CHANNEL_MODELS, Household, Laborer, LaborerStatus, TargetRow, User
from . import caps, disclosure, prices, retention, scope, versions
from .convert import (
    free_capacity,
    free_slots,
    laborer_columns,
    laborers_from_columns,
    load_laborer,
    load_targets,
    solicitation_counts,
    to_target,
)

#: Above this many changed targets one recount of everything is cheaper than recounting each.
RECOUNT_ALL = 5000

#: Scopes whose visible laborer rows a candidate ranker keeps (each a boolean per seeking laborer).
SCOPES_KEPT = 64


@dataclass
class _Targets:
    key: tuple
    holdings: int
    ranker: Ranker
    prices: int = -1  # the priced plan set on the ranker (services.prices.VERSION)
    learned: int = 0  # the learned-weight decision set on the ranker (its id; 0: none)


@dataclass
class _Laborers:
    key: tuple
    ranker: CandidateRanker | None  # None: nobody is seeking
    village: np.ndarray  # each laborer row's village code, as an integer
    by_id: dict[int, MLaborer]  # the laborers by id (an employer's candidates are re-scored from them)
    _seen: dict[tuple, np.ndarray] = field(default_factory=dict)  # scope.sees_villages per scope, as asked

    def seen_by(self, user: User) -> np.ndarray:
        """Which laborer rows the user may see (`scope.sees_villages`), worked out once per scope."""
        key = scope.villages_key(user)
        seen = self._seen.get(key)
        if seen is None:
            if len(self._seen) >= SCOPES_KEPT:
                self._seen.clear()
            seen = self._seen[key] = scope.sees_villages(user, self.village)
        return seen


_rankers: dict[str, _Targets] = {}
_candidates: dict[str, _Laborers] = {}
_lock = threading.Lock()


def _today() -> date:
    # Ages and welfare posts' start dates are counted from today: a new day, a new ranker.
    return clock.today()


# The ranker is kept current with the newest priced plan and the learned-weight decision in force: read
# beside the data versions, in the one statement of each transaction (both rankers ask).
versions.read_beside(prices=prices.VERSION, learned=retention.DECISION)


def ranker(session: Session, config: Config) -> Ranker:
    """The Ranker over all open targets, built once per targets version and kept current in place."""
    url = str(session.get_bind().engine.url)
    now = versions.now(session)
    key = (now[versions.TARGETS], config, _today())
    with _lock:  # one build at a time: the others would wait for it anyway
        cached = _rankers.get(url)
        if cached is None or cached.key != key:
            cached = _rankers[url] = _Targets(key, now[versions.HOLDINGS], Ranker(load_targets(session), config))
        elif cached.holdings < now[versions.HOLDINGS]:
            _recount(session, cached.ranker, cached.holdings)
            cached.holdings = now[versions.HOLDINGS]
        if cached.prices != now["prices"]:  # a new optimal plan: its capacity prices steer the ranking
            cached.ranker.set_prices(prices.current(session))
            cached.prices = now["prices"]
        if now["learned"] != cached.learned:  # an office's decision on the learned model
            decision = retention.learned_weight(session)
            weight = decision.weight if decision else 0.0
            model = retention.trained_model(session, config) if weight > 0 else None
            cached.ranker.set_learned(model, weight)
            cached.learned = decision.id if decision else 0
        return cached.ranker


def _recount(session: Session, built: Ranker, since: int) -> None:
    """Give the targets whose held slots changed after `since` their free slots now."""
    changed = versions.held_changed_since(session, since)
    by_kind: dict[str, list[int]] = {}
    if len(changed) > RECOUNT_ALL:
        changed = [t.key for t in built.targets.targets]
    for kind, target_id in changed:
        by_kind.setdefault(kind, []).append(target_id)
    built.set_capacity(
        {
            (kind, target_id): n
            for kind, ids in by_kind.items()
            for target_id, n in free_slots(session, kind, ids).items()
        }
    )
    # Live offers and open slots, what each target's congestion cap is counted from.
    counts = {
        (kind, target_id): n
        for kind, ids in by_kind.items()
        for target_id, n in solicitation_counts(session, kind, ids).items()
    }
    built.set_solicitation(counts)


def _laborers_key(session: Session, config: Config) -> tuple:
    """What the cached candidate ranker must have been built for to be current in this transaction."""
    return (versions.now(session)[versions.LABORERS], config, _today())


def candidate_ranker(session: Session, config: Config) -> _Laborers:
    """The CandidateRanker over all seeking laborers (with their villages), built once per laborers version."""
    url = str(session.get_bind().engine.url)
    key = _laborers_key(session, config)
    with _lock:
        cached = _candidates.get(url)
        if cached is None or cached.key != key:
            columns = laborer_columns(session, Laborer.status == LaborerStatus.SEEKING)
            village = np.array([int(code or 0) for code in columns["village_code"]], np.int64)
            laborers = laborers_from_columns(columns)
            cached = _candidates[url] = _Laborers(
                key,
                CandidateRanker(laborers, config) if laborers else None,
                village,
                {laborer.id: laborer for laborer in laborers},
            )
        return cached


def _current_laborer(session: Session, laborer_id: int, config: Config) -> MLaborer | None:
    """A seeking laborer as the cached candidate ranker holds them, when that cache is current for this
    transaction (its laborers version, configuration and day, and nothing of theirs written here yet):
    the row `load_laborer` would read, without the round trip. None otherwise (or not seeking): read it.
    Never builds the cache, which takes seconds at province scale."""
    cached = _candidates.get(str(session.get_bind().engine.url))
    if cached is None or versions.changed_here(session, versions.LABORERS):
        return None
    return cached.by_id.get(laborer_id) if cached.key == _laborers_key(session, config) else None


def warm(session: Session, config: Config) -> None:
    """Build both cached rankers now (a server calls this at start, so no request waits for it)."""
    ranker(session, config)
    candidate_ranker(session, config)


def matches_for_laborer(
    session: Session,
    user: User,
    laborer_id: int,
    config: Config,
    *,
    limit: int = 10,
    kinds: Sequence[str] | None = None,
    ineligible: int = 5,
    rematch: bool = False,
) -> tuple[MLaborer, RankResult]:
    """Top targets across the three channels for a laborer the user may see, and the nearest misses."""
    scope.check_role(Laborer, user)
    unknown = set(kinds or ()) - set(CHANNEL_MODELS)
    if unknown:
        wrong = min(unknown)
        raise ValidationError.on("kind", _l("unknown kind %(kind)s; use opening, batch or welfare_post", kind=wrong))
    # Scope decided on the row read (the rule over columns, `scope.sees_villages`), so that the statement
    # is one constant, compiled and prepared once, whoever asks.
    laborer = _current_laborer(session, laborer_id, config) or load_laborer(session, laborer_id)
    if laborer is None or not scope.sees_villages(user, np.array([int(laborer.village_code or 0)], np.int64))[0]:
        raise NotFoundError.of("laborer", laborer_id)
    built = ranker(session, config)
    # The ranker holds every open target; the user is shown only those in their scope (a cadre the
    # postings of their counties, an office those of its region), asking for more until enough remain.
    k, misses = limit, ineligible
    while True:
        result = built.for_laborer(laborer, k=k, kinds=kinds, ineligible=misses, rematch=rematch)
        shown = [m for m in result.matches if _sees(user, built, m)]
        shown_misses = [m for m in result.ineligible if _sees(user, built, m)]
        enough = len(shown) >= limit or len(result.matches) < k
        enough_misses = len(shown_misses) >= ineligible or len(result.ineligible) < misses
        if enough and enough_misses:
            return laborer, RankResult(shown[:limit], shown_misses[:ineligible])
        k, misses = k * 4, misses * 4


def titles(session: Session, config: Config, matches: Sequence[Match]) -> dict[tuple[str, int], str]:
    """The titles of a laborer's shown targets, from the ranker that ranked them (no query)."""
    built = ranker(session, config)
    found = ((m.kind, m.target_id, built.find(m.kind, m.target_id)) for m in matches)
    return {(kind, target_id): target.title for kind, target_id, target in found if target is not None}


def _sees(user: User, built: Ranker, match: Match) -> bool:
    """May the user see the match's target? Decided on the ranker's copy of its region and employer."""
    return _sees_target(user, built.target(match.kind, match.target_id))


def _sees_target(user: User, target: Target) -> bool:
    """May the user see this target, as a ranker holds it (its region and employer; no query)?"""
    return scope.sees_posting(user, CHANNEL_MODELS[target.kind], target.region_code, target.employer_id)


def _channel_model(kind: str) -> type[TargetRow]:
    """The model of a kind of target (404 for a kind there is none of)."""
    if kind not in CHANNEL_MODELS:
        raise NotFoundError(_l("unknown kind of target %(kind)s", kind=kind))
    return CHANNEL_MODELS[kind]


def target_row(session: Session, user: User, kind: str, target_id: int):
    """An opening, batch or welfare post the user may see (404 otherwise)."""
    return scope.get_visible(session, _channel_model(kind), target_id, user)


def candidates_for_target(
    session: Session,
    user: User,
    kind: str,
    target_id: int,
    config: Config,
    *,
    limit: int = 10,
    ineligible: int = 0,
) -> RankResult:
    """Top laborers for a target the user may see; an employer sees only its own postings' candidates,
    eligible ones only, by score alone and with coarse distances (`services.disclosure`)."""
    target = _visible_target(session, user, kind, target_id, config)
    cached = candidate_ranker(session, config)
    if cached.ranker is None:
        return RankResult([], [])
    if disclosure.sees_exact_distances(user):
        # Offices and cadres: only the laborers they may see (scope.candidate_pool, over the columns).
        return cached.ranker.for_target(target, k=limit, ineligible=ineligible, allowed=cached.seen_by(user))
    # Employers see candidates, not registers: the matcher picks them from everyone seeking, by score
    # alone, eligible ones only, in whole km from their village (services.disclosure).
    result = cached.ranker.for_target(target, k=limit, by_priority=False)
    ids = [m.laborer_id for m in result.matches]
    rows = (
        {
            r.id: r
            for r in session.scalars(
                select(Laborer)
                .where(Laborer.id.in_(ids))
                .options(selectinload(Laborer.household).selectinload(Household.village))
            )
        }
        if ids
        else {}
    )
    coarse = [_coarse(m, cached.by_id[m.laborer_id], rows[m.laborer_id], target, config) for m in result.matches]
    coarse.sort(key=lambda m: (-m.score, m.laborer_id))
    return RankResult(coarse, [])


def _visible_target(session: Session, user: User, kind: str, target_id: int, config: Config) -> Target:
    """A target the user may see (404 otherwise): an open one as the targets' ranker holds it, kept current
    (free slots included), its scope decided on the ranker's copy of its region and employer with no query;
    a closed one from its row."""
    model = _channel_model(kind)
    scope.check_role(model, user)
    target = ranker(session, config).find(kind, target_id)
    if target is None:
        row = scope.get_visible(session, model, target_id, user)
        return to_target(kind, row, free_capacity(session, row))
    if not _sees_target(user, target):
        raise NotFoundError.of(model.__tablename__, target_id)
    return target


def _coarse(match: Match, laborer: MLaborer, row: Laborer, target: Target, config: Config) -> Match:
    """An employer's view of a match: whole km from the village point, and the score from that."""
    km = float(disclosure.employer_km(disclosure.village_distance_km(row, list(target.points))))
    score = scoring.score(laborer, target, km, config)
    return Match(match.kind, match.target_id, match.laborer_id, km, score.total, score.factors, (), True)


def match_json(match: Match, locale: str = "zh") -> dict:
    """A Match as the API and pages show it, with sentences in both languages."""
    return {
        "kind": match.kind,
        "target_id": match.target_id,
        "laborer_id": match.laborer_id,
        "distance_km": round(match.distance_km, 1),  # 0.1 km, as every page shows distances
        "score": round(match.score, 4),
        "eligible": match.eligible,
        "factors": [_factor_json(f, locale) for f in match.factors],
        "reasons": [
            {"code": r.code, "zh": r.zh, "en": r.en, "text": r.zh if locale == "zh" else r.en} for r in match.reasons
        ],
        "congestion": caps.congestion_json(match),
        "held_for_others": match.held_for_others,
    }


#: Factors whose sentence the page's catalog words, not the matcher (the matcher's is the fallback).
CATALOG_FACTORS = {"crowding": _l("many others fit this post better")}


@functools.cache
def _catalog_factor_words(name: str) -> tuple[str, str]:
    """CATALOG_FACTORS' sentence in Chinese and English, looked up once per process: forcing a locale costs
    ~25 µs, and after an optimal plan most matches of the hottest endpoint carry a ``crowding`` factor."""
    with force_locale("zh"):
        zh = str(CATALOG_FACTORS[name])
    with force_locale("en"):
        en = str(CATALOG_FACTORS[name])
    return zh, en


def _factor_json(factor: Factor, locale: str) -> dict:
    """A factor with its sentences; a capacity price's (``crowding``) comes from the catalog."""
    zh, en = _catalog_factor_words(factor.name) if factor.name in CATALOG_FACTORS else (factor.zh, factor.en)
    return {
        "name": factor.name,
        "value": round(factor.value, 4),
        "weight": factor.weight,
        "zh": zh,
        "en": en,
        "text": zh if locale == "zh" else en,
    }
