"""Fairness breakdowns of plans (kept when stored, retention read later) and of the dashboard's region,
checked against the records by direct query."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import distinct, func, select

from web import clock
from web.extensions import db
from web.models import Household, Laborer, Placement, Plan, PlanAssignment, RetentionCheckin
from web.services import fairness, plans
from web.services.convert import matcher_config
from web.services.stats import at_work_on


def _group(breakdown, dimension: str, code: str):
    return next(g for g in breakdown.dimensions[dimension] if g.group == code)


def _run(app, factory, user) -> Plan:
    plan = plans.create_plan(db.session, user, "141030", "optimal")
    plans.run_plan(db.session, plan, matcher_config(app.config))
    db.session.commit()
    return plan


def test_a_stored_plan_keeps_its_breakdown_over_the_laborers_it_was_run_for(app, factory):
    """Two slots nearby, four seekers: two young women near, an old man near, a woman in a far village."""
    factory.opening(slots=2, min_age=18, max_age=55)
    near = factory.household()
    young = [factory.laborer(near, birth_on=date(1990, 5, 1)), factory.laborer(near, birth_on=date(1992, 5, 1))]
    old = factory.laborer(factory.household(poverty_status="non_poor"), birth_on=date(1958, 1, 1), sex="M")
    far = factory.laborer(factory.household("141030101201"), birth_on=date(1970, 1, 1))
    plan = _run(app, factory, factory.user("office"))
    mine, baseline = fairness.plan_fairness(db.session, plan)
    assert mine is not None and baseline is not None
    placed = set(db.session.scalars(select(PlanAssignment.laborer_id).where(PlanAssignment.plan_id == plan.id)))
    assert mine.overall.laborers == 4 and mine.overall.placed == len(placed) == plan.report["placed"]
    assert mine.overall.households_moved == plan.report["households_moved"]
    # The opening takes ages 18–55 and is in 安古村: the man of 68 and the far woman cannot have it.
    assert placed == {young[0].id, young[1].id}
    assert _group(mine, "age_band", "16-39").placed_rate == 1.0
    assert _group(mine, "age_band", "60+").placed == 0 and "placed_rate" in _group(mine, "age_band", "60+").below(0.8)
    assert _group(mine, "sex", "M").placed_ratio == 0.0 and _group(mine, "sex", "F").placed == 2
    assert _group(mine, "village", "141030101201").placed == 0
    assert _group(mine, "poverty", "non_poor").laborers == 1
    assert {g.group for g in mine.dimensions["ability"]} == {"light"}
    assert mine.overall.mean_commute_km == pytest.approx(plan.report["mean_commute_km"], abs=1e-3)
    assert old.id not in placed and far.id not in placed


def test_a_plans_villages_come_with_its_columns_and_equal_its_households(app, factory):
    # Read with the plan's inputs (not once more per household), and the same as the households' own.
    for village in ("141030100201", "141030101201", "141030100201"):
        factory.laborer(factory.household(village))
    db.session.commit()
    laborers, _ = plans.plan_inputs(db.session, "141030")
    from_columns = fairness.laborer_villages(db.session, laborers)
    columns = fairness.as_columns(laborers)
    assert from_columns.tolist() == fairness.villages_of(db.session, columns.household_id).tolist()
    assert sorted(from_columns.tolist()) == ["141030100201", "141030100201", "141030101201"]
    assert fairness.laborer_villages(db.session, columns).tolist() == from_columns.tolist()


def test_retention_comes_from_the_check_ins_of_the_plans_offers(app, factory, monkeypatch):
    factory.opening(slots=3)
    laborers = [factory.laborer(sex=sex) for sex in ("F", "F", "M")]
    user = factory.user("office")
    plan = _run(app, factory, user)
    plans.confirm_plan(db.session, user, plan.id)
    started = clock.today() - timedelta(days=100)
    for laborer, still in zip(laborers, (True, True, False), strict=True):
        placement = db.session.scalar(select(Placement).where(Placement.laborer_id == laborer.id))
        placement.status, placement.started_on = "working", started
        placement.checkins.append(
            RetentionCheckin(day=90, checked_on=clock.today(), is_still_working=still, by_user_id=user.id)
        )
    db.session.commit()
    mine, _ = fairness.plan_fairness(db.session, plan)
    assert (mine.overall.checked, mine.overall.retained) == (3, 2)
    men = _group(mine, "sex", "M")
    assert (men.checked, men.retained, men.retention_ratio) == (1, 0, 0.0)
    assert "retention_rate" in men.below(0.8)
    assert _group(mine, "sex", "F").retention_ratio == pytest.approx(1.5)


def test_the_dashboard_breakdown_adds_up_to_the_records(app, factory):
    """Every figure equals a direct count over the records of the region on the day."""
    on = clock.today()
    opening = factory.opening(slots=10)
    for i in range(6):
        household = factory.household("141030100201" if i % 2 else "141030101201", poverty_status="monitored")
        laborer = factory.laborer(household, sex="M" if i % 3 == 0 else "F", birth_on=date(1960 + 5 * i, 2, 2))
        if i < 4:
            db.session.add(
                Placement(
                    laborer_id=laborer.id,
                    household_id=household.id,
                    opening_id=opening.id,
                    status="working",
                    started_on=on - timedelta(days=120),
                    distance_km=1.5 + i,
                    score=0.5,
                )
            )
    factory.laborer(factory.household("141030100202"))  # nobody at work in 白村
    db.session.commit()
    result = fairness.region_breakdown(db.session, "141030", on)
    in_county = Household.village_code.like("141030%")
    working = select(Placement.laborer_id).where(at_work_on(on))
    direct_laborers = db.session.scalar(select(func.count()).select_from(Laborer).join(Household).where(in_county))
    assert result.overall.laborers == direct_laborers == 7
    direct_placed = db.session.scalar(select(func.count(distinct(Placement.laborer_id))).where(at_work_on(on)))
    assert result.overall.placed == direct_placed == 4
    women_placed = db.session.scalar(
        select(func.count()).select_from(Laborer).where(Laborer.sex == "F", Laborer.id.in_(working))
    )
    assert _group(result, "sex", "F").placed == women_placed
    households_at_work = db.session.scalar(select(func.count(distinct(Placement.household_id))).where(at_work_on(on)))
    assert result.overall.households_moved == households_at_work
    assert result.overall.households_without_work == db.session.scalar(select(func.count()).select_from(Household))
    for field in ("laborers", "placed", "households_without_work", "households_moved"):
        for dimension in ("village", "poverty"):  # household-level groups add up exactly
            assert sum(getattr(g, field) for g in result.dimensions[dimension]) == getattr(result.overall, field)
    mean = db.session.scalar(select(func.avg(Placement.distance_km)).where(at_work_on(on)))
    assert result.overall.mean_commute_km == pytest.approx(mean)
    assert _group(result, "village", "141030100202").placed == 0
    assert fairness.region_breakdown(db.session, "1410", on) is None  # above a county: not read on a page view
