"""Who a placement helps: rates by group (sex, age band, village, poverty status, ability), beside the overall rate.

GeoMatch reports results by group; so does every jiuye plan and the dashboard. For each group of a
dimension the breakdown gives how many laborers it holds and how many were placed, how many of its
households were without work and how many of those were moved out of it (a household counts once per
group, when a member of the group was placed), the mean commute of those placed, and, once 90-day
check-ins exist, how many placements were still working at 90 days. Each rate is set beside the
overall rate as a ratio; a ratio below the office's threshold (``FAIRNESS_MIN_RATIO``, 0.8 by
default, the "four-fifths" rule of thumb of adverse-impact analysis) is what a page highlights.

Pure and vectorised: one row per laborer as numpy columns in, plain dataclasses out (``np.unique`` and
``np.bincount`` per dimension, no loop over rows). The caller encodes the groups (any sortable codes:
strings for villages, "F"/"M", "16-39", ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

#: The dimensions of a breakdown, in the order reports show them.
DIMENSIONS: tuple[str, ...] = ("sex", "age_band", "village", "poverty", "ability")
#: Age bands (inclusive lower bounds) and their codes; nobody under 16 is registered.
AGE_BAND_STARTS: tuple[int, ...] = (16, 40, 50, 60)
AGE_BANDS: tuple[str, ...] = ("16-39", "40-49", "50-59", "60+")
#: The rates a group is compared on, each with the ratio field that sets it beside the overall rate.
RATES: dict[str, str] = {
    "placed_rate": "placed_ratio",
    "moved_rate": "moved_ratio",
    "retention_rate": "retention_ratio",
}


def age_band(age_years: np.ndarray) -> np.ndarray:
    """The code (``AGE_BANDS``) of each age; ages under 16 fall in the first band."""
    index = np.searchsorted(np.asarray(AGE_BAND_STARTS[1:]), np.asarray(age_years), side="right")
    return np.asarray(AGE_BANDS, dtype=object)[index]


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class GroupFigures:
    """One group's figures; rates are ``None`` where the group has nothing to divide by."""

    group: str
    laborers: int
    placed: int
    households_without_work: int
    households_moved: int
    commute_km_total: float
    checked: int = 0  # placements with a 90-day check-in
    retained: int = 0  # of those, still working at 90 days
    placed_ratio: float | None = None
    moved_ratio: float | None = None
    retention_ratio: float | None = None

    @property
    def placed_rate(self) -> float | None:
        """Placed laborers of the group, per laborer of the group."""
        return _rate(self.placed, self.laborers)

    @property
    def moved_rate(self) -> float | None:
        """Households moved out of "without work", per household of the group without work."""
        return _rate(self.households_moved, self.households_without_work)

    @property
    def retention_rate(self) -> float | None:
        """Placements still working at 90 days, per placement checked at 90 days."""
        return _rate(self.retained, self.checked)

    @property
    def mean_commute_km(self) -> float | None:
        """Mean commute of the group's placed laborers (for batches, to the pickup point)."""
        return _rate(self.commute_km_total, self.placed)

    def below(self, min_ratio: float) -> tuple[str, ...]:
        """The rates (``RATES`` keys) whose ratio to the overall rate is below ``min_ratio``."""
        return tuple(rate for rate, ratio in RATES.items() if (r := getattr(self, ratio)) is not None and r < min_ratio)


@dataclass(frozen=True)
class Breakdown:
    """The overall figures and, per dimension, one ``GroupFigures`` per group present (sorted by code)."""

    overall: GroupFigures
    dimensions: dict[str, list[GroupFigures]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain values (for a JSON column or an API answer); ``from_json`` reads them back."""

        def plain(g: GroupFigures) -> dict[str, Any]:
            return {name: getattr(g, name) for name in FIELDS}  # not asdict: a province has 28,000 villages

        return {
            "overall": plain(self.overall),
            "dimensions": {name: [plain(g) for g in groups] for name, groups in self.dimensions.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Breakdown:
        """A breakdown from ``to_json``'s values."""
        return cls(
            GroupFigures(**data["overall"]),
            {name: [GroupFigures(**g) for g in groups] for name, groups in data["dimensions"].items()},
        )

    def with_retention(self, retention: Breakdown) -> Breakdown:
        """These figures with the check-in counts of ``retention`` (a ``retention`` breakdown), ratios redone."""

        def merged(
            groups: list[GroupFigures], theirs: list[GroupFigures], overall: GroupFigures | None
        ) -> list[GroupFigures]:
            found = {g.group: g for g in theirs}

            def column(name: str, source: dict[str, GroupFigures] | None = None) -> np.ndarray:
                if source is None:
                    return np.array([getattr(g, name) for g in groups])
                return np.array([getattr(source[g.group], name) if g.group in source else 0 for g in groups])

            codes = np.array([g.group for g in groups], dtype=object)
            mine = [column(name) for name in ("laborers", "placed", "households_without_work", "households_moved")]
            return _built(
                codes,
                mine[0],
                mine[1],
                mine[2],
                mine[3],
                column("commute_km_total"),
                column("checked", found),
                column("retained", found),
                overall,
            )

        (overall,) = merged([self.overall], [retention.overall], None)
        dimensions = {
            name: merged(groups, retention.dimensions.get(name, []), overall)
            for name, groups in self.dimensions.items()
        }
        return Breakdown(overall, dimensions)


#: The fields of a ``GroupFigures``.
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(GroupFigures))


def _ratios(part: np.ndarray, whole: np.ndarray, overall: float | None) -> list[float | None]:
    """Each group's rate (part / whole) over the overall rate; None where either is undefined or zero."""
    if not overall:
        return [None] * len(part)
    whole = np.asarray(whole, float)
    rate = np.divide(part, whole, out=np.full(len(part), np.nan), where=whole > 0) / overall
    return [None if np.isnan(r) else r for r in rate.tolist()]


def _built(
    codes: np.ndarray,
    laborers: np.ndarray,
    placed: np.ndarray,
    without: np.ndarray,
    moved: np.ndarray,
    commute_total: np.ndarray,
    checked: np.ndarray,
    retained: np.ndarray,
    overall: GroupFigures | None,
) -> list[GroupFigures]:
    """Groups from their counts, each rate's ratio to ``overall``'s (to its own when None: the overall row)."""
    if overall is None:
        pairs = ((placed, laborers), (moved, without), (retained, checked))
        rates = [float(a.sum() / b.sum()) if b.sum() else None for a, b in pairs]
    else:
        rates = [overall.placed_rate, overall.moved_rate, overall.retention_rate]
    ratios = zip(
        _ratios(placed, laborers, rates[0]),
        _ratios(moved, without, rates[1]),
        _ratios(retained, checked, rates[2]),
        strict=True,
    )
    return [
        GroupFigures(str(code), int(a), int(b), int(c), int(d), float(e), int(f), int(g), *r)
        for code, a, b, c, d, e, f, g, r in zip(
            codes.tolist(),
            laborers.tolist(),
            placed.tolist(),
            without.tolist(),
            moved.tolist(),
            commute_total.tolist(),
            checked.tolist(),
            retained.tolist(),
            ratios,
            strict=True,
        )
    ]


def _sums(inverse: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    return np.bincount(inverse, weights=values, minlength=size)


def _distinct_households(inverse: np.ndarray, size: int, household: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per group, the number of distinct households among ``rows`` (a mask)."""
    n_households = int(household.max()) + 1 if len(household) else 1
    keys = np.unique(inverse[rows].astype(np.int64) * n_households + household[rows])
    return np.bincount(keys // n_households, minlength=size)


def _figures(
    inverse: np.ndarray,
    codes: np.ndarray,
    household: np.ndarray,
    without_work: np.ndarray,
    placed: np.ndarray,
    commute: np.ndarray,
    checked: np.ndarray,
    retained: np.ndarray,
    overall: GroupFigures | None,
) -> list[GroupFigures]:
    size = len(codes)
    return _built(
        codes,
        np.bincount(inverse, minlength=size),
        np.bincount(inverse[placed], minlength=size),
        _distinct_households(inverse, size, household, without_work),
        _distinct_households(inverse, size, household, without_work & placed),
        _sums(inverse, size, np.where(placed, commute, 0.0)),
        _sums(inverse, size, checked),
        _sums(inverse, size, retained),
        overall,
    )


def breakdown(
    groups: Mapping[str, np.ndarray],
    household: np.ndarray,
    without_work: np.ndarray,
    placed: np.ndarray,
    commute_km: np.ndarray,
    *,
    checked: np.ndarray | None = None,
    retained: np.ndarray | None = None,
) -> Breakdown:
    """The figures of one placement by group, one row per laborer in every column.

    ``groups`` maps each dimension to the laborers' group codes; ``household`` is any integer id,
    ``without_work`` whether the laborer's household was without work before, ``placed`` whether the
    laborer was placed (``commute_km`` counts only there), ``checked`` / ``retained`` how many of the
    laborer's placements have a 90-day check-in and how many of those were still working (zero when
    not given).
    """
    n = len(household)
    _, household_dense = np.unique(np.asarray(household), return_inverse=True)
    household_dense = household_dense.ravel()
    without_work = np.asarray(without_work, bool)
    placed = np.asarray(placed, bool)
    commute = np.nan_to_num(np.asarray(commute_km, float))
    checked = np.zeros(n) if checked is None else np.asarray(checked, float)
    retained = np.zeros(n) if retained is None else np.asarray(retained, float)
    columns = (household_dense, without_work, placed, commute, checked, retained)
    (overall,) = _figures(np.zeros(n, np.int64), np.array(["all"]), *columns, None)
    dimensions = {}
    for name in DIMENSIONS:
        if name not in groups:
            continue
        codes, inverse = np.unique(np.asarray(groups[name]).astype(str), return_inverse=True)
        dimensions[name] = _figures(inverse.ravel(), codes, *columns, overall)
    return Breakdown(overall, dimensions)


def retention(groups: Mapping[str, np.ndarray], checked: np.ndarray, retained: np.ndarray) -> Breakdown:
    """Check-in counts alone by group (one row per checked placement or laborer), for ``Breakdown.with_retention``."""
    n = len(checked)
    return breakdown(
        groups, np.arange(n), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n), checked=checked, retained=retained
    )
