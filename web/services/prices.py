"""Capacity prices between plans: kept from each ``optimal`` plan, read back for interactive ranking.

*Why.* A plan knows which slots many laborers compete for; a cadre ranking one laborer does not.
``matcher.prices`` reads each target's capacity price (the dual value of one slot) off the plan's
optimal flow; the ranking deducts it (``matcher.rank.Ranker.set_prices``), so that laborers ranked
one at a time are steered as the plan would have placed them (issue 14, part 3).

*What a row holds.* One ``CapacityPrice`` per target of the plan's candidate graphs, 0 included
(a newer plan that finds a slot free again must override an older price), with the target's
capacity (slots or seats) when priced. *How long it holds.* The newest done or confirmed plan's
price of a target counts until a newer plan prices it again or its capacity changes: a price of
20 slots says nothing of 30.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

import matcher.prices
from matcher.plan import PlanResult, Prepared
from matcher.types import Config

from ..models import CHANNEL_FK, CHANNEL_MODELS, PRICED_PLAN_STATUSES, CapacityPrice, Plan, PlanMode
from .convert import CAPACITY


def plan_prices(
    prepared: Prepared, mode: PlanMode, result: PlanResult, config: Config
) -> dict[tuple[str, int], float] | None:
    """The price (score units) of every target a plan's graphs hold, for an ``optimal`` plan without quotas;
    None otherwise (under quotas a slot's dual mixes its capacity with the groups' bounds: not a capacity's price)."""
    if mode is not PlanMode.OPTIMAL or prepared.quotas:
        return None
    pairs = result.columns.pairs()
    return {key: price for key, (price, _) in matcher.prices.plan_prices(prepared, pairs, config).items()}


def store_prices(session: Session, plan: Plan, prices: Mapping[tuple[str, int], float]) -> int:
    """Write a plan's prices with each target's capacity now; how many rows."""
    rows = []
    for kind, model in CHANNEL_MODELS.items():
        ids = [target_id for k, target_id in prices if k == kind]
        capacity = getattr(model, CAPACITY[kind])
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for target_id, slots in session.execute(select(model.id, capacity).where(model.id.in_(chunk))):
                row = dict.fromkeys(CHANNEL_FK.values())
                row.update(plan_id=plan.id, price=max(0.0, prices[(kind, target_id)]), slots=slots)
                row[CHANNEL_FK[kind]] = target_id
                rows.append(row)
    if rows:
        session.execute(insert(CapacityPrice), rows)
    session.flush()
    return len(rows)


#: The newest plan that stored prices (null: none), as a scalar select the ranking reads beside the data
#: versions (`versions.current`); it re-reads the prices when this moves.
VERSION = select(func.max(CapacityPrice.plan_id)).scalar_subquery()


def current(session: Session) -> dict[tuple[str, int], float]:
    """Each target's price in force: the newest priced plan's, where the target's capacity is still the one priced.

    Only prices above 0 are returned (a target without one costs nothing).
    """
    out: dict[tuple[str, int], float] = {}
    for kind, model in CHANNEL_MODELS.items():
        fk = getattr(CapacityPrice, CHANNEL_FK[kind])
        newest = (
            select(fk.label("target_id"), func.max(CapacityPrice.plan_id).label("plan_id"))
            .join(Plan, Plan.id == CapacityPrice.plan_id)
            .where(fk.is_not(None), Plan.status.in_(PRICED_PLAN_STATUSES))
            .group_by(fk)
            .subquery()
        )
        query = (
            select(fk, CapacityPrice.price)
            .join(newest, (newest.c.target_id == fk) & (newest.c.plan_id == CapacityPrice.plan_id))
            .join(model, model.id == fk)
            .where(CapacityPrice.price > 0, CapacityPrice.slots == getattr(model, CAPACITY[kind]))
        )
        out.update(((kind, target_id), price) for target_id, price in session.execute(query))
    return out
