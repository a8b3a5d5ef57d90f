"""The Shanxi 2020 scenario: jiuye's own figures equal the article's, scaled (DESIGN §1, §7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from seed.shanxi2020 import (
    REPORT_ON,
    YEAR_BEFORE_ON,
    Targets,
    apportion,
    change_pct,
    seed_shanxi_2020,
    year_before_for,
)
from web.errors import AlreadySeededError
from web.extensions import db
from web.models import Employer, Household, Laborer, Placement, Region
from web.services.stats import region_stats

SCALE = 0.01


@pytest.fixture
def scenario(app):
    """The scaled scenario, committed; its targets."""
    seed_shanxi_2020(db.session, scale=SCALE, random_seed=7)
    db.session.commit()
    return Targets.at_scale(SCALE)


def test_targets_at_full_scale_are_the_articles():
    targets = Targets.at_scale(1.0)
    assert (targets.enterprises, targets.enterprises_resumed) == (410, 410)
    assert (targets.enterprise_workers, targets.enterprise_poor_workers) == (40_081, 19_698)
    assert (targets.workshops, targets.workshops_resumed) == (968, 966)
    assert (targets.workshop_workers, targets.workshop_poor_workers) == (52_419, 20_756)
    assert targets.poor_at_work == 873_800
    assert targets.change_pct == Decimal("6.8")


def test_year_before_gives_exactly_the_rounded_change():
    for now in (873_800, 8_738, 87_380, 1_000):
        assert change_pct(now, year_before_for(now)) == Decimal("6.8")


def test_apportion_is_exact_and_proportional():
    parts = apportion(100, [1, 1, 1])
    assert sum(parts) == 100 and max(parts) - min(parts) <= 1
    assert apportion(0, [2, 3]) == [0, 0]


def test_scaled_scenario_reproduces_its_targets(scenario):
    stats = region_stats(db.session, "14", REPORT_ON)
    assert stats.enterprises == scenario.enterprises == round(410 * SCALE)
    assert stats.enterprises_resumed == scenario.enterprises_resumed
    assert stats.enterprise_workers == scenario.enterprise_workers == round(40_081 * SCALE)
    assert stats.enterprise_poor_workers == scenario.enterprise_poor_workers == round(19_698 * SCALE)
    assert stats.workshops == scenario.workshops == round(968 * SCALE)
    assert stats.workshops_resumed == scenario.workshops_resumed == round(966 * SCALE)
    assert stats.workshop_workers == scenario.workshop_workers == round(52_419 * SCALE)
    assert stats.workshop_poor_workers == scenario.workshop_poor_workers == round(20_756 * SCALE)
    assert stats.poor_at_work == scenario.poor_at_work == round(873_800 * SCALE)
    assert stats.poor_at_work_year_before == scenario.poor_at_work_year_before
    assert stats.poor_at_work_change_pct == Decimal("6.8")
    # The year before is a computed figure too: the same as asking for that day directly.
    assert region_stats(db.session, "14", YEAR_BEFORE_ON).poor_at_work == stats.poor_at_work_year_before


def test_scenario_spreads_over_every_city_and_county(scenario):
    counties = db.session.scalar(select(func.count(func.distinct(func.substr(Household.village_code, 1, 6)))))
    cities = db.session.scalar(select(func.count(func.distinct(func.substr(Household.village_code, 1, 4)))))
    assert (cities, counties) == (11, 117)
    synthetic = db.session.scalar(
        select(func.count()).where(Region.level == "village", Region.position_source != "synthetic")
    )
    assert synthetic == 0


def test_id_numbers_are_valid_and_unique(scenario):
    numbers = db.session.scalars(select(Laborer.id_number)).all()
    assert len(numbers) == len(set(numbers))
    for number in numbers[:: max(1, len(numbers) // 2000)]:
        assert ric.validate(number) == number


def test_one_welfare_post_per_household_and_no_double_work(scenario):
    doubles = db.session.scalar(
        select(func.count()).select_from(
            select(Placement.household_id)
            .where(Placement.welfare_post_id.is_not(None), Placement.status == "working")
            .group_by(Placement.household_id)
            .having(func.count() > 1)
            .subquery()
        )
    )
    assert doubles == 0
    working_twice = db.session.scalar(
        select(func.count()).select_from(
            select(Placement.laborer_id)
            .where(Placement.status == "working")
            .group_by(Placement.laborer_id)
            .having(func.count() > 1)
            .subquery()
        )
    )
    assert working_twice == 0


def test_refuses_to_run_twice(scenario):
    households = db.session.scalar(select(func.count(Household.id)))
    with pytest.raises(AlreadySeededError):
        seed_shanxi_2020(db.session, scale=SCALE)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Household.id))) == households


def test_cli_command_seeds_and_refuses_a_second_time(runner):
    result = runner.invoke(args=["seed", "shanxi-2020", "--scale", "0.002", "--random-seed", "3"])
    assert result.exit_code == 0, result.output
    assert "873800" not in result.output and "1748 poor laborers" in result.output
    employers = db.session.scalar(select(func.count(Employer.id)))
    again = runner.invoke(args=["seed", "shanxi-2020", "--scale", "0.002"])
    assert "Already seeded" in again.output
    assert db.session.scalar(select(func.count(Employer.id))) == employers


def test_cli_rejects_a_scale_out_of_range(runner):
    result = runner.invoke(args=["seed", "shanxi-2020", "--scale", "0"])
    assert result.exit_code != 0
