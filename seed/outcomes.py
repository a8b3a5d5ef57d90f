"""Check-in histories with a known truth, for the demo and scale seeds (issue 14, part 6).

Past placements of the seeded laborers into the seeded postings, all ended, with their 30-, 90-
and 180-day check-ins. Whether each lasted follows ``matcher.outcomes``: the true 90-day
probability ``p`` of its features; staying is a constant hazard, so the laborer is still working
on day ``d`` with probability ``p ** (d / 90)`` and one uniform draw per placement gives a history
that never contradicts itself (not working at 30 days, not working at 90). ``jiuye learn evaluate``
trains on them and shows how close the learned model comes to the truth.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher import outcomes, plan
from matcher.learn import placement_features
from matcher.types import Config
from web.models import CHANNEL_FK, Laborer, Placement, PlacementStatus, RetentionCheckin
from web.services.bulk import bulk_insert
from web.services.convert import laborer_columns, load_targets
from web.services.retention import SYNTHETIC_NOTE

CHECKIN_DAYS = (30, 90, 180)
NOTE = SYNTHETIC_NOTE


def seed_checkins(session: Session, n_placements: int, config: Config, today: date, random_state: int = 0) -> int:
    """Write up to ``n_placements`` ended past placements with their check-ins; how many were written."""
    # Every laborer of a small county; a spread sample of a province's (every k-th id), enough for the draws.
    step = max(1, int(session.scalar(select(func.count(Laborer.id))) or 0) // (4 * n_placements))
    columns = laborer_columns(session, Laborer.id % step == 0) if step > 1 else laborer_columns(session)
    if not columns["id"]:
        return 0
    prepared = plan.prepare(columns, load_targets(session), config, rematch=True)
    L, T = prepared.laborers, prepared.targets
    # Welfare posts only for poor households without work: their candidates as the rules find them.
    graphs = [prepared.jobs, plan.candidate_graph(L, T, "welfare", config, rematch=True)]
    lab = np.concatenate([g.lab for g in graphs])
    tgt = np.concatenate([g.tgt for g in graphs])
    dist = np.concatenate([g.distance_km for g in graphs])
    if len(lab) == 0:
        return 0
    rng = np.random.default_rng(random_state)
    pick = rng.choice(len(lab), min(len(lab), n_placements), replace=False)
    lab, tgt, dist = lab[pick], tgt[pick], dist[pick]
    p = np.clip(outcomes.retention_probability(placement_features(L, lab, T, tgt, dist, config)), 1e-6, 1 - 1e-6)
    u = rng.random(len(pick))
    worked_days = np.maximum(1, np.floor(90 * np.log(u) / np.log(p))).astype(int)  # u < p ⇔ ≥ 90 days
    elapsed = rng.integers(200, 720, len(pick))
    household = dict(zip(columns["id"], columns["household_id"], strict=True))
    first_id = int(session.scalar(select(func.max(Placement.id))) or 0) + 1
    first_checkin = int(session.scalar(select(func.max(RetentionCheckin.id))) or 0) + 1
    now = datetime.now(UTC)
    rows: list[dict] = []
    checkins: list[dict] = []
    for i in range(len(pick)):
        laborer_id, target = int(L.id[lab[i]]), T.targets[tgt[i]]
        started = today - timedelta(days=int(elapsed[i]))
        row = dict.fromkeys([c.name for c in Placement.__table__.columns])
        row.update(
            id=first_id + i,
            laborer_id=laborer_id,
            household_id=household[laborer_id],
            status=PlacementStatus.ENDED.value,
            distance_km=float(dist[i]),
            started_on=started,
            ended_on=started + timedelta(days=int(min(worked_days[i], elapsed[i] - 1))),
            end_reason=NOTE,
            created_at=now,
            updated_at=now,
        )
        row[CHANNEL_FK[target.kind]] = target.id
        rows.append(row)
        for day in CHECKIN_DAYS:
            checkins.append(
                {
                    "id": first_checkin + len(checkins),
                    "placement_id": first_id + i,
                    "day": day,
                    "checked_on": started + timedelta(days=day),
                    "is_still_working": bool(u[i] < math.pow(p[i], day / 90)),
                    "by_user_id": None,
                    "note": NOTE,
                }
            )
    # bulk_insert moves the id sequences past the ids given (PostgreSQL), as the scale seed needs.
    bulk_insert(session, Placement.__table__, rows, rebuild_indexes=False)
    bulk_insert(session, RetentionCheckin.__table__, checkins, rebuild_indexes=False)
    session.flush()
    return len(rows)
