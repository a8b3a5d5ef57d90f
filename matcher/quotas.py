"""Quotas and reserves of a plan: caps and minimum shares per group of laborers, still solved exactly.

An office may give an ``optimal`` plan quotas (DESIGN §3, "Spreading and reserving"). A quota bounds
how many of one channel's placements go to a group of laborers, per posting or over the whole plan:

- ``at_most`` (a cap), e.g. at most 40 % of each workshop's slots to one village (group ``village``:
  one bound per village), or at most 10 batch seats in all to non-monitored... any group below;
- ``at_least`` (a reserve), e.g. at least 30 % of the welfare posts' slots to monitored households or
  people with disabilities (a laborer is in a quota's group when in any of its groups), or at least
  2 women in each workshop.

**Bounds.** A percentage is of slots, the posting's free slots (``per`` posting) or all the channel's
free slots in the plan (``per`` plan), rounded down; a cap never falls below 1, so that a posting with
few slots is not closed to a group, and a reserve never asks for more than the slots there are.

**How it stays exact.** Caps per posting, at most one on a channel, nest inside the postings: each
(posting, group) pair becomes a node between its laborers' edges and the posting in the min-cost flow
(``matcher.plan.solve_part``), the graph's components stay independent, and a plan without quotas
takes exactly the path it took before. Anything else (a reserve, a cap over the whole plan, two caps
on one channel) is an integer program solved by SCIP (OR-tools' MILP) over the whole stage, with the
flow's variables and objective (one 0/1 per edge, one per household moved, integer weights),
proven optimal (gap 0). CP-SAT was tried first: it finds the optimum at once but takes minutes to
prove it on a county, where the program's near-integral relaxation lets a MILP close in a second.
Quotas on openings or batches bind stage ``jobs``; on welfare posts, stage ``welfare``.
A reserve that cannot be met raises ``QuotaError`` naming the quota: first by counting who could take
the reserved slots at all, then, if the program is infeasible anyway, by trying each reserve alone.

**Modes.** Only ``optimal`` takes quotas: greedy serves laborers one by one and stable lets laborers
propose, so neither can keep a reserve, and half-kept quotas would mislead; they are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.arrays import KIND_CODE, POVERTY_CODE, LaborerColumns, TargetColumns
from matcher.types import KINDS

BOUNDS: tuple[str, ...] = ("at_most", "at_least")
"""A cap (``at_most``) or a reserve (``at_least``)."""

GROUPS: tuple[str, ...] = ("village", "women", "registered_poor", "monitored", "poor", "disability")
"""Groups a quota can name; ``village`` means each village apart (caps only), the others are unions."""

PER: tuple[str, ...] = ("posting", "plan")
"""A bound for each posting of the channel, or one over all of them."""

MAX_QUOTAS = 10
"""At most this many quotas on one plan."""


@dataclass(frozen=True, slots=True)
class Quota:
    """One cap or reserve: ``bound`` of ``percent`` (of slots) or ``count`` placements, of ``channel``,
    ``per`` posting or plan, for laborers in any of ``groups``."""

    bound: str
    groups: tuple[str, ...]
    channel: str
    per: str = "plan"
    percent: float | None = None
    count: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quota:
        """A quota from its stored or posted form (the one ``as_dict`` gives)."""
        return cls(
            bound=data["bound"],
            groups=tuple(data["groups"]),
            channel=data["channel"],
            per=data.get("per", "plan"),
            percent=None if data.get("percent") is None else float(data["percent"]),
            count=None if data.get("count") is None else int(data["count"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """The quota as JSON (stored on the plan, shown by the API)."""
        return {
            "bound": self.bound,
            "groups": list(self.groups),
            "channel": self.channel,
            "per": self.per,
            "percent": self.percent,
            "count": self.count,
        }

    def amount(self, slots: int | np.ndarray) -> np.ndarray:
        """The bound for a base of ``slots`` (see the module's *Bounds*)."""
        slots = np.asarray(slots, np.int64)
        if self.count is not None:
            n = np.full(slots.shape, self.count, np.int64)
        else:
            n = np.floor(slots * float(self.percent or 0) / 100 + 1e-9).astype(np.int64)
        return np.maximum(n, 1) if self.bound == "at_most" else np.minimum(n, slots)


def problems(quota: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a quota's fields, by field (English; empty when it is well formed)."""
    errors: dict[str, str] = {}
    if quota.get("bound") not in BOUNDS:
        errors["bound"] = "use at_most or at_least"
    groups = quota.get("groups") or ()
    if not groups or any(g not in GROUPS for g in groups) or len(set(groups)) != len(groups):
        errors["groups"] = f"name one or more of {', '.join(GROUPS)}, each once"
    elif "village" in groups and (len(groups) > 1 or quota.get("bound") != "at_most"):
        errors["groups"] = "village stands alone, and only in a cap (at_most): each village apart"
    if quota.get("channel") not in KINDS:
        errors["channel"] = f"use one of {', '.join(KINDS)}"
    if quota.get("per", "plan") not in PER:
        errors["per"] = "use posting or plan"
    percent, count = quota.get("percent"), quota.get("count")
    if (percent is None) == (count is None):
        errors["percent"] = "give exactly one of percent or count"
    elif percent is not None and not 0 < percent <= 100:
        errors["percent"] = "a percentage above 0 and at most 100"
    elif count is not None and not 1 <= count <= 100_000:
        errors["count"] = "a whole number from 1 to 100000"
    return errors


def parse(quotas: Sequence[Quota | Mapping[str, Any]]) -> tuple[Quota, ...]:
    """Quotas from their dicts (or as they are), refused with ``ValueError`` when one is malformed."""
    out = []
    for number, q in enumerate(quotas, start=1):
        if not isinstance(q, Quota):
            wrong = problems(q)
            if wrong:
                raise ValueError(f"quota {number}: " + "; ".join(f"{k}: {v}" for k, v in wrong.items()))
            q = Quota.from_dict(q)
        out.append(q)
    return tuple(out)


class QuotaError(ValueError):
    """A quota cannot be met on the plan's data: ``number`` (1-based) names it, ``reason`` says why.

    ``reason`` is ``too_few`` (fewer laborers of the group could take the reserved slots than it
    asks for: ``need`` against ``possible``), ``blocked`` (enough could, but not under the plan's
    rules and caps: one target each, capacities, one post per household) or ``together`` (each
    reserve could be met alone, not all of them together).
    """

    def __init__(self, number: int, reason: str, need: int = 0, possible: int = 0) -> None:
        self.number, self.reason, self.need, self.possible = number, reason, need, possible
        if reason == "too_few":
            text = f"quota {number} cannot be met: {need} needed, at most {possible} possible"
        elif reason == "blocked":
            text = f"quota {number} cannot be met under the plan's rules and caps"
        else:
            text = f"quota {number} cannot be met together with the other quotas"
        super().__init__(text)


# -- bound instances ---------------------------------------------------------------------------


def in_group(quota: Quota, laborers: LaborerColumns) -> np.ndarray:
    """Per laborer row: in the quota's group (any of its groups; every laborer for ``village``)."""
    L = laborers
    member = np.zeros(len(L), bool)
    for g in quota.groups:
        if g == "village":
            member[:] = True
        elif g == "women":
            member |= L.is_female
        elif g == "registered_poor":
            member |= L.poverty == POVERTY_CODE["registered_poor"]
        elif g == "monitored":
            member |= L.poverty == POVERTY_CODE["monitored"]
        elif g == "poor":
            member |= L.poverty != POVERTY_CODE["non_poor"]
        elif g == "disability":
            member |= L.has_disability
    return member


def stage_quotas(quotas: Sequence[Quota], kinds: Sequence[str]) -> list[int]:
    """Indices of the quotas on a stage's channels."""
    return [i for i, q in enumerate(quotas) if q.channel in kinds]


def needs_program(quotas: Sequence[Quota], kinds: Sequence[str]) -> bool:
    """True when a stage's quotas are more than one per-posting cap per channel (the flow's group nodes)."""
    mine = [quotas[i] for i in stage_quotas(quotas, kinds)]
    channels = [q.channel for q in mine]
    return any(q.bound != "at_most" or q.per != "posting" for q in mine) or len(set(channels)) < len(channels)


@dataclass(frozen=True)
class Bounds:
    """A stage's bound instances as columns: instance ``k`` holds the edges ``edge[inst == k]``.

    One instance per posting (and village) or per plan (and village) of each quota; an edge may lie
    in several instances (of different quotas). Per instance: its ``quota`` (index), ``low`` and
    ``high`` bounds and the ``target`` row it is about (-1: the whole plan).
    """

    edge: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    inst: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    quota: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    low: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    high: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    target: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def __len__(self) -> int:
        return len(self.quota)

    def achieved(self, chosen: np.ndarray, n_edges: int) -> np.ndarray:
        """Chosen edges per instance."""
        picked = np.zeros(n_edges, bool)
        picked[chosen] = True
        return np.bincount(self.inst[picked[self.edge]], minlength=len(self)).astype(np.int64)


#: Upper bound of an instance without a cap (a reserve).
NO_CAP = np.iinfo(np.int32).max


def bounds(
    quotas: Sequence[Quota],
    kinds: Sequence[str],
    lab: np.ndarray,
    tgt: np.ndarray,
    laborers: LaborerColumns,
    targets: TargetColumns,
    capacity: np.ndarray,
) -> Bounds:
    """The bound instances of a stage's quotas over its edges (``lab``, ``tgt``; ``capacity`` per target)."""
    edges, insts, quota_of, lows, highs, target_of = [], [], [], [], [], []
    n = 0
    for qi in stage_quotas(quotas, kinds):
        q = quotas[qi]
        kind = KIND_CODE[q.channel]
        postings = np.flatnonzero((targets.kind == kind) & (capacity > 0))
        on = np.flatnonzero((targets.kind[tgt] == kind) & in_group(q, laborers)[lab])
        village = laborers.village[lab[on]] if "village" in q.groups else np.zeros(len(on), np.int64)
        place = tgt[on] if q.per == "posting" else np.zeros(len(on), np.int64)
        if q.bound == "at_least" and q.per == "posting":
            # Every posting is bound, with edges or not: one with none cannot keep its reserve.
            keys = np.concatenate([place, postings])
            _, inverse = np.unique(keys, return_inverse=True)
            k_edge, k_target = inverse[: len(on)], postings
        else:
            if len(on) == 0 and not (q.bound == "at_least" and len(postings)):
                continue
            pairs = np.stack([place, village], axis=1) if len(on) else np.zeros((1, 2), np.int64)
            uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
            k_edge = inverse.ravel()[: len(on)]
            k_target = uniq[:, 0] if q.per == "posting" else np.full(len(uniq), -1)
        m = len(k_target)
        base = capacity[k_target] if q.per == "posting" else np.full(m, int(capacity[postings].sum()))
        amount = q.amount(base)
        edges.append(on)
        insts.append(n + k_edge)
        quota_of.append(np.full(m, qi))
        lows.append(amount if q.bound == "at_least" else np.zeros(m, np.int64))
        highs.append(amount if q.bound == "at_most" else np.full(m, NO_CAP))
        target_of.append(np.asarray(k_target, np.int64))
        n += m
    if not quota_of:
        return Bounds()
    cat = np.concatenate
    return Bounds(
        cat(edges).astype(np.int64),
        cat(insts).astype(np.int64),
        cat(quota_of).astype(np.int64),
        cat(lows).astype(np.int64),
        cat(highs).astype(np.int64),
        cat(target_of),
    )


def flow_groups(found: Bounds, n_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Group nodes of the min-cost flow: the instance of each edge (-1: none) and each instance's cap."""
    group = np.full(n_edges, -1, np.int64)
    group[found.edge] = found.inst
    return group, found.high.copy()


# -- the integer program -----------------------------------------------------------------------


def precheck(
    found: Bounds, lab: np.ndarray, tgt: np.ndarray, household: np.ndarray, capacity: np.ndarray, per_household: bool
) -> None:
    """Raise ``QuotaError`` for the first reserve fewer people (or slots) could fill than it asks for."""
    for k in np.flatnonzero(found.low > 0).tolist():
        rows = found.edge[found.inst == k]
        people = household[lab[rows]] if per_household else lab[rows]
        possible = min(len(np.unique(people)), int(capacity[np.unique(tgt[rows])].sum()))
        if possible < found.low[k]:
            raise QuotaError(int(found.quota[k]) + 1, "too_few", int(found.low[k]), possible)


def solve_program(
    lab: np.ndarray,
    tgt: np.ndarray,
    weight_units: np.ndarray,
    household: np.ndarray,
    household_has_work: np.ndarray,
    capacity: np.ndarray,
    one_per_household: bool,
    found: Bounds,
    bonus_units: int,
    *,
    workers: int = 2,
) -> tuple[np.ndarray, int]:
    """The exact optimum of a stage under its bounds by a MILP (SCIP): (chosen edge indices, objective units).

    Maximises the weights of the chosen edges plus ``bonus_units`` per household without work that
    gets anyone, with one target per laborer, capacities, (``one_per_household``) one per household
    and every bound instance; ``QuotaError`` when the bounds cannot all be kept.
    """
    precheck(found, lab, tgt, household, capacity, one_per_household)
    status, chosen, units = _cp_solve(
        lab,
        tgt,
        weight_units,
        household,
        household_has_work,
        capacity,
        one_per_household,
        found,
        bonus_units,
        workers=workers,
    )
    if status == "infeasible":
        _diagnose(lab, tgt, household, household_has_work, capacity, one_per_household, found, workers)
    return chosen, units


def _cp_solve(
    lab: np.ndarray,
    tgt: np.ndarray,
    weight_units: np.ndarray,
    household: np.ndarray,
    household_has_work: np.ndarray,
    capacity: np.ndarray,
    one_per_household: bool,
    found: Bounds,
    bonus_units: int,
    *,
    workers: int,
    objective: bool = True,
) -> tuple[str, np.ndarray, int]:
    """One solve of the stage's integer program by SCIP (OR-tools): ("optimal" | "infeasible", chosen, units).

    The network's structure keeps the linear relaxation nearly integral, so the branch-and-bound
    closes at once; the objective is integral, and SCIP stops only at a proven optimum (gap 0).
    """
    from ortools.linear_solver import pywraplp

    n = len(lab)
    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:  # pragma: no cover - SCIP ships with OR-tools' wheels
        raise RuntimeError("OR-tools was built without SCIP")
    solver.SetNumThreads(workers)
    x = [solver.BoolVar(f"x{e}") for e in range(n)]
    infinity = solver.infinity()

    def row(rows: list[int], low: float, high: float) -> None:
        constraint = solver.RowConstraint(low, high, "")
        for e in rows:
            constraint.SetCoefficient(x[e], 1)

    def groups(keys: np.ndarray) -> list[list[int]]:
        order = np.argsort(keys, kind="stable")
        cuts = np.flatnonzero(np.diff(keys[order])) + 1
        return [part.tolist() for part in np.split(order, cuts)] if n else []

    for rows in groups(lab):
        if len(rows) > 1:
            row(rows, 0, 1)
    for rows in groups(tgt):
        cap = int(capacity[tgt[rows[0]]])
        if len(rows) > cap:
            row(rows, 0, cap)
    hh = household[lab]
    moved = []
    for rows in groups(hh):
        if one_per_household and len(rows) > 1:
            row(rows, 0, 1)
        if not household_has_work[hh[rows[0]]]:
            y = solver.BoolVar(f"h{hh[rows[0]]}")
            covered = solver.RowConstraint(-infinity, 0, "")  # y <= sum of the household's edges
            covered.SetCoefficient(y, 1)
            for e in rows:
                covered.SetCoefficient(x[e], -1)
            moved.append(y)
    members: list[list[int]] = [[] for _ in range(len(found))]
    for e, k in zip(found.edge.tolist(), found.inst.tolist(), strict=True):
        members[k].append(e)
    for k, rows in enumerate(members):
        low, high = int(found.low[k]), int(found.high[k])
        if low > len(rows):
            return "infeasible", np.empty(0, np.int64), 0
        if low > 0 or high < len(rows):
            row(rows, low, min(high, len(rows)))
    goal = solver.Objective()
    if objective:
        for var, w in zip(x, weight_units.tolist(), strict=True):
            goal.SetCoefficient(var, w)
        for y in moved:
            goal.SetCoefficient(y, bonus_units)
    goal.SetMaximization()
    exact = pywraplp.MPSolverParameters()
    exact.SetDoubleParam(exact.RELATIVE_MIP_GAP, 0.0)  # OR-tools' default gap (1e-4) would stop short
    status = solver.Solve(exact)
    if status == pywraplp.Solver.INFEASIBLE:
        return "infeasible", np.empty(0, np.int64), 0
    if status != pywraplp.Solver.OPTIMAL:
        raise RuntimeError(f"the quota program stopped with status {status}")
    picked = np.array([v.solution_value() > 0.5 for v in x], bool) if n else np.zeros(0, bool)
    chosen = np.flatnonzero(picked)
    units = int(weight_units[chosen].sum())
    if objective and moved:
        units += bonus_units * sum(1 for y in moved if y.solution_value() > 0.5)
    return "optimal", chosen, units


def _diagnose(
    lab: np.ndarray,
    tgt: np.ndarray,
    household: np.ndarray,
    household_has_work: np.ndarray,
    capacity: np.ndarray,
    one_per_household: bool,
    found: Bounds,
    workers: int,
) -> None:
    """Name the reserve that cannot be met: the first that fails alone (with the caps), else the first."""
    reserves = sorted({int(q) for q in found.quota[found.low > 0].tolist()})
    for qi in reserves:
        keep = (found.low == 0) | (found.quota == qi)
        alone = _subset(found, keep)
        status, _, _ = _cp_solve(
            lab,
            tgt,
            np.zeros(len(lab), np.int64),
            household,
            household_has_work,
            capacity,
            one_per_household,
            alone,
            0,
            workers=workers,
            objective=False,
        )
        if status == "infeasible":
            raise QuotaError(qi + 1, "blocked")
    raise QuotaError((reserves[0] if reserves else int(found.quota[0])) + 1, "together")


def _subset(found: Bounds, keep: np.ndarray) -> Bounds:
    """The instances ``keep`` selects, renumbered."""
    number = np.cumsum(keep) - 1
    rows = keep[found.inst]
    return Bounds(
        found.edge[rows],
        number[found.inst[rows]],
        found.quota[keep],
        found.low[keep],
        found.high[keep],
        found.target[keep],
    )


# -- the report --------------------------------------------------------------------------------


def outcome(quotas: Sequence[Quota], stages: Sequence[tuple[Bounds, np.ndarray, int]]) -> list[dict[str, Any]]:
    """Per quota, whether the plan kept it: ``met``, ``placed`` (of the group, in its instances),
    ``needed`` (reserves: the sum of their lows) and ``unmet`` (instances outside their bounds);
    ``stages`` gives each stage's bounds, chosen edges and number of edges."""
    rows = [
        {"number": i + 1, **q.as_dict(), "instances": 0, "placed": 0, "needed": 0, "unmet": 0, "met": True}
        for i, q in enumerate(quotas)
    ]
    for found, chosen, n_edges in stages:
        if len(found) == 0:
            continue
        achieved = found.achieved(chosen, n_edges)
        bad = (achieved < found.low) | (achieved > found.high)
        for qi in np.unique(found.quota).tolist():
            mine = found.quota == qi
            row = rows[qi]
            row["instances"] += int(mine.sum())
            row["placed"] += int(achieved[mine].sum())
            row["needed"] += int(found.low[mine].sum())
            row["unmet"] += int(bad[mine].sum())
    for row in rows:
        row["met"] = row["unmet"] == 0
    return rows
