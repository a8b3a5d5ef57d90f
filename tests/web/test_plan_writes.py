"""Plans at scale: assignments written in bulk are the rows the ORM would write, compact explanations
read back as the sentences of the full ones, and a region with more households than PostgreSQL
takes parameters in one statement plans without binding one per household."""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest
from flask_babel import refresh
from sqlalchemy import select

from matcher.plan import Assignment, AssignmentColumns
from matcher.scoring import score
from web.extensions import db
from web.labels import sentences
from web.models import Household, Laborer, Plan, PlanAssignment, PlanStatus, Region
from web.services import convert, plans
from web.services.bulk import BULK_MIN_ROWS, bulk_insert
from web.services.convert import matcher_config

POSTGRES_URL = os.environ.get("JIUYE_TEST_DATABASE_URL")
NOW = datetime(2026, 11, 30, tzinfo=UTC)
COLUMNS = ("laborer_id", "opening_id", "batch_id", "welfare_post_id", "stage", "score", "distance_km", "explanation")


def _plan(factory, region_code="141030") -> Plan:
    plan = Plan(region_code=region_code, mode="optimal", status=PlanStatus.RUNNING)
    db.session.add(plan)
    db.session.flush()
    return plan


def _laborer_row(i: int, household_id: int, lat: float, lon: float) -> dict:
    """A seeking laborer written around the ORM (bulk_insert takes every column)."""
    return dict(
        id=i,
        household_id=household_id,
        name=f"劳动力{i}",
        id_number=f"{i:018d}",
        birth_on=date(1970, 1, 1),
        sex="F",
        phone=None,
        physical_ability="light",
        skills=[],
        work_area="local",
        max_commute_km=10.0,
        job_types=[],
        pay_type=None,
        needs_flexible_hours=False,
        status="seeking",
        lat=lat,
        lon=lon,
        position_source="synthetic",
        registered_at=NOW,
        updated_at=NOW,
    )


def _rows(plan_id: int) -> list[tuple]:
    query = select(*(getattr(PlanAssignment, c) for c in COLUMNS)).where(PlanAssignment.plan_id == plan_id)
    return sorted(db.session.execute(query).all())


def test_bulk_written_assignments_equal_orm_written_ones(app, factory):
    """Above BULK_MIN_ROWS bulk_insert takes COPY (PostgreSQL) or executemany (SQLite)."""
    household = factory.household()
    laborer = factory.laborer(household)
    opening, batch, post = factory.opening(), factory.batch(), factory.welfare_post()
    kinds = [("opening", opening.id), ("batch", batch.id), ("welfare_post", post.id)]
    # One real laborer row stands for them all: plan_assignment's key is (plan, laborer).
    lab_ids = [laborer.id, *range(laborer.id + 1, laborer.id + BULK_MIN_ROWS + 7)]
    bulk_insert(
        db.session,
        Laborer.__table__,
        [_laborer_row(i, household.id, household.lat, household.lon) for i in lab_ids[1:]],
    )
    assignments = [
        Assignment(
            lab,
            *kinds[i % 3],
            0.5 + (i % 7) / 100,
            1.25 * (i % 11),
            "jobs" if i % 3 < 2 else "welfare",
            (("distance", 0.75, 0.35, 1.25 * (i % 11), i % 3 == 1), ("age", 1.0, 0.2, 50, 18, 70)),
        )
        for i, lab in enumerate(lab_ids)
    ]
    bulk_plan, orm_plan = _plan(factory), _plan(factory)
    columns = AssignmentColumns.of(assignments)
    assert columns.objects() == assignments
    assert plans.write_assignments(db.session, bulk_plan, columns) == len(assignments)
    orm_columns = plans.assignment_columns(orm_plan.id, columns)
    rows = zip(*orm_columns.values(), strict=True)
    db.session.add_all(PlanAssignment(**dict(zip(orm_columns, row, strict=True))) for row in rows)
    db.session.commit()
    written = _rows(bulk_plan.id)
    assert len(written) == len(assignments)
    assert written == _rows(orm_plan.id)
    assert len(bulk_plan.assignments) == len(assignments)  # the relationship reads them afresh


def test_compact_explanations_read_as_the_full_sentences(app, factory, client, api_token):
    opening = factory.opening(slots=2)
    laborer = factory.laborer(sex="M", job_types=["sewing"], pay_type="monthly", work_area="any")
    office = factory.user("office")
    db.session.commit()
    response = client.post(
        "/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=api_token(office)
    )
    assert response.status_code == 201, response.json
    [assignment] = response.json["assignments"]
    stored = db.session.scalar(select(PlanAssignment.explanation))
    assert set(stored) == {"codes"}
    (mlaborer,) = convert.to_matcher_laborers(db.session, [laborer])
    target = convert.to_target("opening", opening, 2)
    full = score(mlaborer, target, assignment["distance_km"], matcher_config(app.config)).factors
    assert assignment["factors"] == [asdict(f) for f in full]
    old_format = {"factors": [asdict(f) for f in full]}  # as plans and offers stored them before
    for language in ("en", "zh"):
        with app.test_request_context(headers={"Accept-Language": language}):
            refresh()  # the locale is cached per app context, which the fixture keeps open
            expected = [f.en if language == "en" else f.zh for f in full]
            assert sentences(stored) == sentences(old_format) == expected


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="JIUYE_TEST_DATABASE_URL is not set")
def test_a_region_with_more_households_than_parameters_plans(app, factory):
    """70,000 households (PostgreSQL binds at most 65,535 parameters), one seeking laborer each."""
    village = db.session.get(Region, "141030100201")
    n = 70_000
    bulk_insert(
        db.session,
        Household.__table__,
        [
            dict(
                id=i,
                code=f"H{i:07d}",
                village_code=village.code,
                head_name="户主",
                poverty_status="registered_poor",
                lat=village.lat,
                lon=village.lon,
                position_source="synthetic",
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(1, n + 1)
        ],
    )
    bulk_insert(db.session, Laborer.__table__, [_laborer_row(i, i, village.lat, village.lon) for i in range(1, n + 1)])
    factory.opening(slots=3)
    plan = _plan(factory)
    db.session.commit()
    plans.run_plan(db.session, plan, matcher_config(app.config))
    db.session.commit()
    assert plan.report["laborers"] == n
    assert plan.report["placed"] == 3
    assert len(_rows(plan.id)) == 3
