"""The dashboard's summaries (web.services.summaries) give exactly the figures of the records."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import select

from seed.shanxi2020 import REPORT_ON, YEAR_BEFORE_ON, seed_shanxi_2020
from web.extensions import db
from web.models import SUMMARY_FIGURES, EmployerDayStat, Household, Placement, RegionDayStat
from web.services.stats import month_ends, overview, region_stats
from web.services.summaries import refresh_summaries, spells

from .test_stats import ANGU, BAICUN, QUE, place, small  # noqa: F401 - shares test_stats's records

DAY = date(2020, 6, 30)
#: Days around the changes below, and the days the scenario reports on.
DAYS = (date(2019, 6, 30), date(2020, 1, 15), DAY, date(2020, 7, 1), date.today())
#: Regions whose figures come from the summaries (province, city, county).
SUMMARISED = ("14", "1410", "141030")


def assert_summaries_match_records(days=DAYS, codes=SUMMARISED) -> None:
    """Every figure, child row and time line from the summaries equals the direct aggregates."""
    for code in codes:
        for day in days:
            months = month_ends(day, 12)
            assert region_stats(db.session, code, day) == region_stats(db.session, code, day, direct=True), (code, day)
            assert overview(db.session, code, day, months) == overview(db.session, code, day, months, direct=True), (
                code,
                day,
            )


def summary_rows() -> dict[tuple, tuple]:
    """The region summaries as {(grain, code, day): figures}, rows of zeros left out."""
    columns = [getattr(RegionDayStat, name) for name in SUMMARY_FIGURES]
    rows = db.session.execute(select(RegionDayStat.grain, RegionDayStat.region_code, RegionDayStat.day, *columns))
    return {(g, c, d): tuple(v) for g, c, d, *v in rows if any(v)}


def employer_rows() -> dict[tuple, tuple]:
    """The employer summaries as {(employer id, day): (workers, poor workers)}."""
    rows = db.session.execute(
        select(
            EmployerDayStat.employer_id,
            EmployerDayStat.day,
            EmployerDayStat.workers,
            EmployerDayStat.poor_workers,
        )
    )
    return {(e, d): (w, p) for e, d, w, p in rows}


def test_spells_merge_overlapping_and_touching_intervals():
    d = date.fromordinal
    assert spells([(d(10), d(20)), (d(15), d(30)), (d(30), d(40)), (d(50), None)]) == [
        (d(10), d(40)),
        (d(50), None),
    ]
    assert spells([(d(5), None), (d(10), d(20))]) == [(d(5), None)]
    assert spells([(d(5), d(5))]) == []  # ended the day it started: never at work


@pytest.mark.usefixtures("small")
def test_summaries_equal_the_records():
    assert_summaries_match_records()


@pytest.mark.usefixtures("small")
def test_changes_keep_the_summaries_exact(factory):
    working = db.session.scalars(select(Placement).where(Placement.status == "working").order_by(Placement.id)).all()
    # Someone leaves, someone starts, a laborer finds work by themselves, a household and a
    # post are added, a post is placed on the city itself, a placement is deleted.
    working[0].status, working[0].ended_on = "ended", date(2020, 2, 1)
    offered = db.session.scalar(select(Placement).where(Placement.status == "offered"))
    offered.status, offered.started_on = "working", date(2020, 5, 1)
    without = factory.laborer(factory.household(QUE))
    without.status = "self_employed"
    factory.laborer(factory.household(BAICUN, poverty_status="monitored"))
    city_post = factory.welfare_post(region_code="1410")
    place(
        factory.laborer(factory.household(ANGU)),
        welfare_post_id=city_post.id,
        started_on=date(2019, 3, 1),
    )
    db.session.delete(working[1])
    # A worker's household leaves poverty (fewer poor workers); a new enterprise hires.
    db.session.get(Household, working[2].household_id).poverty_status = "non_poor"
    enterprise = factory.employer(kind="enterprise", region_code="141030101201")
    place(
        factory.laborer(factory.household(QUE)),
        opening_id=factory.opening(enterprise).id,
        started_on=date(2020, 6, 1),
    )
    db.session.flush()
    # Read inside the transaction: the pending changes are summarised first.
    assert_summaries_match_records()
    db.session.commit()
    assert_summaries_match_records()
    incremental = summary_rows(), employer_rows()
    refresh_summaries(db.session)
    db.session.commit()
    assert (summary_rows(), employer_rows()) == incremental


@pytest.mark.usefixtures("small")
def test_a_rolled_back_change_leaves_the_summaries_as_they_were():
    before = summary_rows(), employer_rows()
    placement = db.session.scalar(select(Placement).where(Placement.status == "working"))
    placement.status, placement.ended_on = "ended", date(2019, 12, 1)
    db.session.flush()
    region_stats(db.session, "14", DAY)  # summarises the pending change
    db.session.rollback()
    assert (summary_rows(), employer_rows()) == before
    assert_summaries_match_records()


@pytest.mark.usefixtures("small")
def test_the_cli_rebuilds_the_summaries(runner):
    expected = summary_rows(), employer_rows()
    assert expected[0] and expected[1]
    db.session.execute(RegionDayStat.__table__.delete())
    db.session.execute(EmployerDayStat.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["stats", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Refreshed" in result.output
    assert (summary_rows(), employer_rows()) == expected


@pytest.fixture
def scenario(app):
    seed_shanxi_2020(db.session, scale=0.01, random_seed=5)
    db.session.commit()


def test_the_scenario_summaries_equal_the_records(scenario):
    counties = sorted({code[:6] for (grain, code, _) in summary_rows() if grain == 6})
    assert len(counties) == 117
    days = (YEAR_BEFORE_ON, date(2020, 2, 15), REPORT_ON)
    assert_summaries_match_records(days, ("14", "1401", "1410", counties[0], counties[-1]))


def test_the_roll_ups_are_the_sums_of_the_counties(scenario):
    rows = summary_rows()
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(SUMMARY_FIGURES))
    for (grain, code, day), values in rows.items():
        if grain in (0, 6):
            for length in (2, 4):
                if len(code) >= length:
                    total = sums[(length, code[:length], day)]
                    for i, value in enumerate(values):
                        total[i] += value
    expected = {key: tuple(v) for key, v in sums.items() if any(v)}
    assert {key: v for key, v in rows.items() if key[0] in (2, 4)} == expected


def test_the_summary_listeners_are_bound_to_the_apps_session_only(app):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from web.services import summaries

    assert event.contains(db.session, "after_flush", summaries._collect)
    assert event.contains(db.session, "before_commit", summaries._before_commit)
    # A script's own Session(engine) is not touched by the app's bookkeeping.
    assert not event.contains(Session, "after_flush", summaries._collect)
