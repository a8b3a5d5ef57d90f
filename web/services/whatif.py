"""What-if: a plan re-run in memory with things that are not real yet (issue 14, part 5).

The office adds a workshop with N slots in a village, a transport batch picking up in a village or
township, N welfare posts in a township, or a longer commute limit for everyone, and sees the plan's
figures and fairness breakdown on today's records beside the same run with those changes. Nothing is
written: the inputs are read with the plan's own loader (`web.services.plans.plan_inputs`), the
hypothetical targets are built as matcher `Target`s with negative ids (no row can have one), and the
engine runs through its public entry point (`matcher.plan.run`) in the plan's mode. The audit of the
simulation itself is the one row a what-if adds.

Hypothetical postings take the terms an office would expect of the kind: a workshop is light,
flexible, piece-rate packaging work; a batch is moderate factory work leaving in a week; a welfare
post is a light cleaner's post with a monthly stipend. None has an age limit or a skill requirement,
so a what-if shows what room, not which terms, would change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

import matcher.plan
from matcher.fairness import Breakdown
from matcher.types import Config, Target

from .. import clock
from ..errors import ValidationError
from ..models import Plan, Region, RegionLevel, User
from . import fairness, scope
from .accounts import audit
from .plans import plan_inputs, report_json

#: Places of one kind (workshops, batches, welfare-post groups) one what-if may add.
MAX_PARTS = 20
#: Days until a hypothetical batch leaves (its start date for the age rules).
BATCH_LEAD_DAYS = 7


@dataclass(frozen=True)
class Added:
    """Places added in one region: a workshop's slots (village), a batch's seats (its pickup point's
    village or township), or a number of one-slot welfare posts (township)."""

    region_code: str
    count: int


@dataclass(frozen=True)
class Changes:
    """What a what-if adds or changes; every part may be empty."""

    workshops: tuple[Added, ...] = ()
    batches: tuple[Added, ...] = ()
    welfare_posts: tuple[Added, ...] = ()
    commute_extra_km: float = 0.0

    def is_empty(self) -> bool:
        """Nothing to simulate."""
        return not (self.workshops or self.batches or self.welfare_posts or self.commute_extra_km)

    def to_json(self) -> dict[str, Any]:
        """The changes as plain values (the audit row and the API answer)."""
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """One run's figures: the engine's report (as a plan keeps it) and its fairness breakdown."""

    report: dict[str, Any]
    fairness: Breakdown


@dataclass(frozen=True)
class Simulation:
    """A plan's run on today's records (``current``) beside the same run with the changes (``what_if``)."""

    plan: Plan
    changes: Changes
    current: Outcome
    what_if: Outcome
    added: dict[str, int] = field(default_factory=dict)  # places added by kind


#: Which levels a part's region may be, and the field an error names.
_LEVELS = {
    "workshops": (RegionLevel.VILLAGE,),
    "batches": (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP),
    "welfare_posts": (RegionLevel.TOWNSHIP,),
}


def _region(session: Session, plan: Plan, part: str, code: str) -> Region:
    region = session.get(Region, code)
    if region is None or region.level not in _LEVELS[part] or not code.startswith(plan.region_code):
        if part == "workshops":
            message = _l("%(code)s is not a village of this plan's region", code=code)
        elif part == "batches":
            message = _l("%(code)s is not a village or township of this plan's region", code=code)
        else:
            message = _l("%(code)s is not a township of this plan's region", code=code)
        raise ValidationError.on(part, message)
    return region


def hypothetical_targets(session: Session, plan: Plan, changes: Changes) -> list[Target]:
    """The changes' places as matcher targets at their regions' points, with negative ids."""
    today = clock.today()
    targets: list[Target] = []

    def add(kind: str, region: Region, capacity: int, **terms: Any) -> None:
        targets.append(
            Target(
                kind=kind,
                id=-(1 + sum(t.kind == kind for t in targets)),
                title="",
                points=((region.lat, region.lon),),
                capacity=capacity,
                min_age=None,
                max_age=None,
                skills=frozenset(),
                pay_cents=None,
                employer_id=None,
                region_code=region.code,
                **terms,
            )
        )

    for item in changes.workshops:
        region = _region(session, plan, "workshops", item.region_code)
        add(
            "opening",
            region,
            item.count,
            job_type="packaging",
            demand="light",
            pay_type="piece",
            is_flexible=True,
            start_on=today,
        )
    for item in changes.batches:
        region = _region(session, plan, "batches", item.region_code)
        add(
            "batch",
            region,
            item.count,
            job_type="factory",
            demand="moderate",
            pay_type="monthly",
            is_flexible=False,
            start_on=today + timedelta(days=BATCH_LEAD_DAYS),
        )
    for item in changes.welfare_posts:
        region = _region(session, plan, "welfare_posts", item.region_code)
        for _ in range(item.count):
            add(
                "welfare_post",
                region,
                1,
                job_type="cleaner",
                demand="light",
                pay_type="monthly",
                is_flexible=True,
                start_on=today,
            )
    return targets


def simulate(
    session: Session,
    user: User,
    plan_id: int,
    changes: Changes,
    config: Config,
    *,
    max_laborers: int,
    remote_addr: str | None = None,
) -> Simulation:
    """Run a plan's region and mode on today's records, with and without the changes; write nothing
    but the audit of the simulation."""
    scope.require(user, "plans")
    plan = scope.get_visible(session, Plan, plan_id, user)
    if changes.is_empty():
        raise ValidationError.on("changes", _l("add a workshop, a batch, welfare posts or a longer commute limit"))
    for part in ("workshops", "batches", "welfare_posts"):
        if len(getattr(changes, part)) > MAX_PARTS:
            raise ValidationError.on(part, _l("at most %(n)s at once", n=MAX_PARTS))
    extra = hypothetical_targets(session, plan, changes)
    laborers, targets = plan_inputs(session, plan.region_code)
    if len(laborers["id"]) > max_laborers:
        raise ValidationError.on(
            "plan",
            _l(
                "this region has %(n)s seeking laborers, more than the %(max)s a what-if runs on: try a county's plan",
                n=len(laborers["id"]),
                max=max_laborers,
            ),
        )
    changed = laborers
    if changes.commute_extra_km:
        changed = {**laborers, "max_commute_km": [km + changes.commute_extra_km for km in laborers["max_commute_km"]]}
    mode = plan.mode.value
    current = matcher.plan.run(laborers, targets, mode, config, explain=False)
    what_if = matcher.plan.run(changed, targets + extra, mode, config, explain=False)
    columns, villages = fairness.as_columns(laborers), fairness.laborer_villages(session, laborers)
    outcomes = [
        Outcome(
            report_json(result.report),
            fairness.plan_breakdown(session, columns, result.columns, villages=villages),
        )
        for result in (current, what_if)
    ]
    added = {kind: sum(t.capacity for t in extra if t.kind == kind) for kind in ("opening", "batch", "welfare_post")}
    audit(session, "plan_whatif", user=user, entity=plan, remote_addr=remote_addr, **changes.to_json())
    return Simulation(plan, changes, outcomes[0], outcomes[1], added)
