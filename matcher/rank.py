"""Interactive ranking: the best targets for one laborer, and the best laborers for one target.

A ``Ranker`` is built once per data version (one radius index per group of target kinds over every
target point) and answers many calls. Each call gathers spatial candidates with a radius query,
applies the rules and the score to them as numpy columns, and only then explains the few pairs
that are shown: geodesic distances (in one vectorised call), factors and reasons are computed for
those alone. Between
plans, each target's capacity price (``matcher.prices``, from the last ``optimal`` plan) is deducted
from its score before ranking, so that laborers ranked one at a time are steered away from slots
others fit better; the ``crowding`` factor says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matcher import congestion, rules, scoring
from matcher.arrays import KIND_CODE, LaborerColumns, TargetColumns, Vocabulary
from matcher.geo import PointIndex, geodesics_km, haversine_km
from matcher.learn import placement_features
from matcher.rules import Reason
from matcher.scoring import Factor
from matcher.types import DEFAULT_CONFIG, KINDS, Config, Laborer, Target

_RADIUS_SLACK = 1.0 + 1e-9
"""Radius queries are widened by this factor; the rules then cut at the exact limit."""


@dataclass(frozen=True, slots=True)
class Match:
    """One laborer–target pair as shown to people: display distance (geodesic), score, factors, reasons.

    Eligible matches carry the score and its factors and no reasons; ineligible ones carry the
    reasons, no factors, and a score of 0.
    """

    kind: str
    target_id: int
    laborer_id: int
    distance_km: float
    score: float
    factors: tuple[Factor, ...]
    reasons: tuple[Reason, ...]
    eligible: bool
    point: tuple[float, float] | None = None  # the target point measured to (a batch's nearest pickup point)
    live_offers: int = 0  # the target's referrals and unanswered offers now (`matcher.congestion`)
    cap: int | None = None  # the most live offers it may carry; None: not counted
    held_for_others: bool = False  # its capacity price is above what placing this laborer is worth (held_back)

    @property
    def is_at_cap(self) -> bool:
        """The target carries as many live offers as its cap allows: one more offer would be refused."""
        return self.cap is not None and self.live_offers >= self.cap


@dataclass(frozen=True, slots=True)
class RankResult:
    """Top eligible matches, best first, and the nearest ineligible ones with their reasons."""

    matches: list[Match]
    ineligible: list[Match]


def nearest_per_target(
    target_row: np.ndarray, point_row: np.ndarray, distance_km: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep, for each target, only its nearest point (batches have several pickup points)."""
    order = np.lexsort((distance_km, target_row))
    target_row, point_row, distance_km = target_row[order], point_row[order], distance_km[order]
    first = np.ones(len(target_row), bool)
    first[1:] = target_row[1:] != target_row[:-1]
    return target_row[first], point_row[first], distance_km[first]


def _ranked(
    score: np.ndarray,
    spread: np.ndarray,
    full: np.ndarray,
    distance_km: np.ndarray,
    kind: np.ndarray,
    ident: np.ndarray,
    held: np.ndarray,
) -> np.ndarray:
    """Open targets before those at their cap, and among those, targets not ``held`` for others first; then
    by the spread score (`matcher.congestion.spread_score`) descending, then score descending, distance,
    kind and id ascending (a strict, reproducible order)."""
    return np.lexsort((ident, kind, distance_km, -score, -spread, held, full))


def held_back(
    L: LaborerColumns,
    lab: np.ndarray,
    T: TargetColumns,
    tgt: np.ndarray,
    score: np.ndarray,
    price: np.ndarray,
    config: Config,
    household_has_work: np.ndarray | None = None,
) -> np.ndarray:
    """Pairs whose target's capacity price (score units) is above what placing the laborer there is worth to
    a plan: the score plus the priority bonus, plus ``household_bonus`` while the household is without work
    (per pair: ``household_has_work``, else the laborer's own column).

    Such a slot is left to those who fit it better (the outside option, placing nobody, is worth 0 in the
    plan's objective): the ranking shows it after the others, "held for others", and the simulation in
    ``matcher.online`` lets laborers pass over it.
    """
    bonus = scoring.bonus_columns(L.poverty[lab], L.ability[lab], T.kind[tgt], config, L.household_flagged[lab])
    scale = config.score_scale
    household = round(config.household_bonus * scale)
    # Compared in whole objective units, as the plan's edge weights are, so that plans, prices and the ranking agree.
    worth = np.rint((np.asarray(score) + bonus) * scale) + np.where(
        L.household_has_work[lab] if household_has_work is None else household_has_work, 0, household
    )
    held: np.ndarray = np.rint(np.asarray(price) * scale) > worth
    return held


def _congestion(targets: Sequence[Target], config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Each target's live offers and cap, as columns (a target without ``open_slots`` counts its capacity)."""
    live = np.fromiter((t.live_offers for t in targets), np.int64, len(targets))
    open_slots = np.fromiter(
        (t.capacity if t.open_slots is None else t.open_slots for t in targets), np.int64, len(targets)
    )
    return live, np.asarray(congestion.cap_of(open_slots, config.referral_factor))


def nearest_misses(bad: np.ndarray, kind: np.ndarray, ident: np.ndarray, distance_km: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` of the candidate rows ``bad``: the nearest miss of every kind first (so that each channel's
    near miss is explained, e.g. a batch 65 km away beside many openings just too far), then the nearest
    others; nearest first."""
    if n <= 0 or not len(bad):
        return bad[:0]
    order = bad[np.lexsort((ident[bad], kind[bad], distance_km[bad]))]
    first = np.zeros(len(order), bool)
    _, at = np.unique(kind[order], return_index=True)
    first[at] = True
    chosen = np.concatenate([order[first], order[~first]])[:n]
    return chosen[np.lexsort((ident[chosen], kind[chosen], distance_km[chosen]))]


_GROUPS: dict[str, tuple[str, ...]] = {"near": ("opening", "welfare_post"), "far": ("batch",)}
"""Kinds sharing one radius index: those searched within the commute limit, and batches (pickup limit)."""


class Ranker:
    """Top-k targets for a laborer across openings, batches and welfare posts."""

    def __init__(self, targets: Sequence[Target], config: Config = DEFAULT_CONFIG):
        self.config = config
        self.targets = TargetColumns.from_targets(targets)
        self._row = {t.key: row for row, t in enumerate(self.targets.targets)}
        self.solicited = _congestion(self.targets.targets, config)  # (live offers, cap) per target row
        self._groups: list[tuple[tuple[str, ...], PointIndex, np.ndarray, np.ndarray, np.ndarray]] = []
        for kinds in _GROUPS.values():
            rows, lats, lons = [], [], []
            for row, t in enumerate(self.targets.targets):
                if t.kind in kinds:
                    for lat, lon in t.points:
                        rows.append(row)
                        lats.append(lat)
                        lons.append(lon)
            lat_a, lon_a = np.array(lats, float), np.array(lons, float)
            self._groups.append((kinds, PointIndex(lat_a, lon_a), np.array(rows, np.int64), lat_a, lon_a))
        self.price = np.zeros(len(self.targets))  # per target row, score units (set_prices)
        self.learned: tuple[Any, float] | None = None  # (fitted success model, its weight): set_learned

    def target(self, kind: str, target_id: int) -> Target:
        """The target with this kind and id (KeyError if the ranker does not hold it)."""
        found = self.find(kind, target_id)
        if found is None:
            raise KeyError((kind, target_id))
        return found

    def find(self, kind: str, target_id: int) -> Target | None:
        """The target with this kind and id, or None if the ranker does not hold it (not open)."""
        row = self._row.get((kind, target_id))
        return None if row is None else self.targets.targets[row]

    def set_capacity(self, free: Mapping[tuple[str, int], int]) -> None:
        """Give targets (by kind and id) new free capacities, keeping the spatial index; unknown keys are skipped.

        The columns are replaced whole, not written into, so a call running meanwhile on another
        thread sees the old capacities or the new ones, never a mix.
        """
        T = self.targets
        rows = {self._row[key]: int(n) for key, n in free.items() if key in self._row}
        if not rows:
            return
        targets, capacity = list(T.targets), T.capacity.copy()
        for row, n in rows.items():
            targets[row] = replace(targets[row], capacity=n)
            capacity[row] = n
        self.targets = replace(T, targets=tuple(targets), capacity=capacity)
        self._recap(rows)

    def set_solicitation(self, counts: Mapping[tuple[str, int], tuple[int, int]]) -> None:
        """Give targets (by kind and id) new (live offers, open slots); unknown keys are skipped.

        Replaced whole, like ``set_capacity``, so that a call running meanwhile sees old or new counts.
        """
        rows = {self._row[key]: (int(live), int(n)) for key, (live, n) in counts.items() if key in self._row}
        if not rows:
            return
        targets = list(self.targets.targets)
        for row, (live, n) in rows.items():
            targets[row] = replace(targets[row], live_offers=live, open_slots=n)
        self.targets = replace(self.targets, targets=tuple(targets))
        self._recap(rows)

    def _recap(self, rows: Iterable[int]) -> None:
        """Recount the live offers and caps of these target rows (new columns, swapped in whole)."""
        at = np.fromiter(rows, np.int64)
        live, cap = (column.copy() for column in self.solicited)
        live[at], cap[at] = _congestion([self.targets.targets[row] for row in at.tolist()], self.config)
        self.solicited = (live, cap)

    def set_prices(self, prices: Mapping[tuple[str, int], float]) -> None:
        """Give targets (by kind and id) capacity prices in score units, deducted when ranking; others cost 0.

        The array is replaced whole, as ``set_capacity`` replaces the columns.
        """
        price = np.zeros(len(self.targets))
        for key, value in prices.items():
            row = self._row.get(key)
            if row is not None:
                price[row] = max(0.0, float(value))
        self.price = price

    def set_learned(self, model: Any, weight: float) -> None:
        """Let a fitted ``matcher.learn.SuccessModel`` weigh ``weight`` in the score (None or 0: hand score only)."""
        self.learned = (model, float(weight)) if model is not None and weight > 0 else None

    def radius_km(self, laborer: Laborer, kind: str, *, explain: bool = True) -> float:
        """How far a laborer's candidates of one kind are searched: the limit (a batch's pickup limit, else
        the commute), widened by ``explain_radius_factor`` when near misses are to be explained ('too far')."""
        limit_km = self.config.max_pickup_km if kind == "batch" else laborer.max_commute_km
        return limit_km * self.config.explain_radius_factor if explain else limit_km

    def candidates(
        self, laborer: Laborer, kinds: Iterable[str] = KINDS, *, explain: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Target rows near a laborer with the nearest (group-tagged) point and the haversine distance to it."""
        kinds = set(kinds)
        if not kinds <= set(KINDS):
            raise ValueError(f"unknown target kinds {sorted(kinds - set(KINDS))}; expected {KINDS}")
        rows, points, dists = [], [], []
        for g, (group_kinds, index, point_target, lat, lon) in enumerate(self._groups):
            wanted = kinds.intersection(group_kinds)
            if not wanted:
                continue
            radius_km = max(self.radius_km(laborer, kind, explain=explain) for kind in wanted)
            p = index.near_km(laborer.lat, laborer.lon, radius_km * _RADIUS_SLACK)
            if len(wanted) < len(group_kinds):
                p = p[np.isin(self.targets.kind[point_target[p]], [KIND_CODE[k] for k in wanted])]
            if len(p):
                rows.append(point_target[p])
                points.append(p + (g << 40))
                dists.append(haversine_km(laborer.lat, laborer.lon, lat[p], lon[p]))
        if not rows:
            empty = np.empty(0, np.int64)
            return empty, empty.copy(), np.empty(0, float)
        if len(rows) == 1 and len(dists[0]) == len(np.unique(rows[0])):
            return rows[0], points[0], dists[0]
        return nearest_per_target(np.concatenate(rows), np.concatenate(points), np.concatenate(dists))

    def _point(self, tagged_point: int) -> tuple[float, float]:
        _, _, _, lat, lon = self._groups[tagged_point >> 40]
        p = tagged_point & ((1 << 40) - 1)
        return float(lat[p]), float(lon[p])

    def for_laborer(
        self,
        laborer: Laborer,
        k: int = 10,
        kinds: Iterable[str] | None = None,
        ineligible: int = 5,
        *,
        rematch: bool = False,
    ) -> RankResult:
        """Top-k eligible targets for a laborer (best first) and the nearest ``ineligible`` ones with reasons."""
        T, config = self.targets, self.config
        rows, points, dist = self.candidates(laborer, KINDS if kinds is None else kinds, explain=ineligible > 0)
        L = LaborerColumns.from_laborers([laborer], T.skills, T.job_types)
        zeros = np.zeros(len(rows), np.int64)
        ok = rules.eligible(L, zeros, T, rows, dist, config, rematch=rematch)
        good = np.flatnonzero(ok)
        values = scoring.factor_columns(L, zeros[good], T, rows[good], dist[good], config)
        learned = None
        if self.learned is not None:
            model, weight = self.learned
            config = replace(config, weight_learned=weight)
            features = placement_features(L, zeros[good], T, rows[good], dist[good], config)
            learned = model.predict_proba(features)[:, list(model.classes_).index(1)] if len(good) else None
        totals = np.asarray(scoring.combine(*values, learned, config))
        # The order is net of the last plan's capacity prices, then spread over the less-solicited postings.
        price = self.price[rows[good]]
        net = totals - price
        live, cap = self.solicited
        tr = rows[good]
        spread = np.asarray(congestion.spread_score(net, live[tr], cap[tr], config.congestion_tolerance))
        full = np.asarray(congestion.at_cap(live[tr], cap[tr]))
        held = held_back(L, zeros[good], T, tr, totals, price, config)
        top = _ranked(net, spread, full, dist[good], T.kind[tr], T.id[tr], held)[:k].tolist()
        missed = nearest_misses(np.flatnonzero(~ok), T.kind[rows], T.id[rows], dist, ineligible).tolist()
        shown = [int(good[i]) for i in top] + missed
        shown_points = [self._point(int(points[e])) for e in shown]
        shown_kms = geodesics_km(laborer.lat, laborer.lon, *np.array(shown_points, float).reshape(-1, 2).T)
        matches = []
        for n, i in enumerate(top):
            e = good[i]
            target = T.targets[rows[e]]
            point, shown_km = shown_points[n], float(shown_kms[n])
            chance = None if learned is None else float(learned[i])
            factors = scoring.explain(laborer, target, tuple(v[i] for v in values), shown_km, config, chance)
            if price[i] > 0:
                factors += (scoring.render_factor(("crowding", float(price[i]), 1.0)),)
            # The score shown is the fit itself; the order is net of the price, and the crowding factor says why.
            matches.append(
                Match(
                    target.kind,
                    target.id,
                    laborer.id,
                    shown_km,
                    float(totals[i]),
                    factors,
                    (),
                    True,
                    point,
                    int(live[tr[i]]),
                    int(cap[tr[i]]),
                    bool(held[i]),
                )
            )
        misses = []
        for n, e in enumerate(missed, start=len(top)):
            target = T.targets[rows[e]]
            point, shown_km = shown_points[n], float(shown_kms[n])
            reasons = tuple(rules.check(laborer, target, float(dist[e]), config, rematch=rematch))
            misses.append(Match(target.kind, target.id, laborer.id, shown_km, 0.0, (), reasons, False, point))
        return RankResult(matches, misses)


class CandidateRanker:
    """Top-k laborers for one opening, batch or welfare post (targets rank by priority, then score,
    or by score alone when the order is shown to someone who must not learn the priority)."""

    def __init__(self, laborers: Sequence[Laborer], config: Config = DEFAULT_CONFIG):
        self.config = config
        self.skills = Vocabulary(s for p in laborers for s in p.skills)
        self.job_types = Vocabulary(j for p in laborers for j in p.job_types)
        self.laborers = LaborerColumns.from_laborers(laborers, self.skills, self.job_types)
        self._index = PointIndex(self.laborers.lat, self.laborers.lon)
        self._max_commute_km = float(self.laborers.max_commute_km.max(initial=0.0))

    def for_target(
        self,
        target: Target,
        k: int = 10,
        ineligible: int = 0,
        *,
        rematch: bool = False,
        allowed: np.ndarray | None = None,
        by_priority: bool = True,
    ) -> RankResult:
        """Top-k eligible laborers for a target (best first) and the nearest ``ineligible`` ones with reasons.

        ``allowed`` (a boolean per laborer row) keeps the others out of both lists, e.g. those
        outside the asking user's scope. ``by_priority=False`` orders by score alone, with no
        priority groups (poverty, households without work), so that the order reveals nothing of them.
        """
        config, L = self.config, self.laborers
        T = TargetColumns.from_targets([target], self.skills, self.job_types)
        limit_km = config.max_pickup_km if target.kind == "batch" else self._max_commute_km
        # Nobody beyond their own limit is eligible, so only near misses to explain widen the search.
        radius_km = limit_km * config.explain_radius_factor if ineligible else limit_km
        lat = np.array([p[0] for p in target.points])
        lon = np.array([p[1] for p in target.points])
        q, rows, dist = self._index.within_km(lat, lon, radius_km * _RADIUS_SLACK)
        if allowed is not None:
            keep = allowed[rows]
            q, rows, dist = q[keep], rows[keep], dist[keep]
        if len(target.points) > 1:  # a batch's pickup points: the nearest per laborer
            rows, q, dist = nearest_per_target(rows, q, dist)
        zeros = np.zeros(len(rows), np.int64)
        ok = rules.eligible(L, rows, T, zeros, dist, config, rematch=rematch)
        good = np.flatnonzero(ok)
        totals = scoring.score_columns(L, rows[good], T, zeros[good], dist[good], config)
        prio = (
            scoring.priority_columns(
                L.poverty[rows[good]],
                L.ability[rows[good]],
                L.household_has_work[rows[good]],
                T.kind[zeros[good]],
                config,
                L.household_flagged[rows[good]],
            )
            if by_priority
            else np.zeros(len(good))
        )
        order = np.lexsort((L.id[rows[good]], L.order[rows[good]], dist[good], -totals, -prio))[:k]
        bad = np.flatnonzero(~ok)
        near = bad[np.lexsort((L.id[rows[bad]], dist[bad]))[:ineligible]]
        shown = [(int(rows[good[i]]), int(q[good[i]]), float(dist[good[i]]), float(totals[i])) for i in order]
        shown += [(int(rows[i]), int(q[i]), float(dist[i]), 0.0) for i in near]
        at = np.array([(row, point) for row, point, _, _ in shown], np.int64).reshape(-1, 2)
        shown_kms = geodesics_km(L.lat[at[:, 0]], L.lon[at[:, 0]], lat[at[:, 1]], lon[at[:, 1]])
        found = [
            self._match(target, row, (float(lat[point]), float(lon[point])), km, float(shown_km), total, rematch)
            for (row, point, km, total), shown_km in zip(shown, shown_kms.tolist(), strict=True)
        ]
        return RankResult(found[: len(order)], found[len(order) :])

    def _match(
        self,
        target: Target,
        row: int,
        point: tuple[float, float],
        distance_km: float,
        shown_km: float,
        total: float,
        rematch: bool,
    ) -> Match:
        laborer = self.laborers.laborers[row]
        reasons = rules.check(laborer, target, distance_km, self.config, rematch=rematch)
        factors = (
            () if reasons else scoring.score(laborer, target, distance_km, self.config, display_km=shown_km).factors
        )
        return Match(
            target.kind,
            target.id,
            laborer.id,
            shown_km,
            total,
            factors,
            tuple(reasons),
            not reasons,
            (float(point[0]), float(point[1])),
        )
