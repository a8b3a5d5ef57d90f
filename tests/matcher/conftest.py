"""Factory fixtures for matcher tests: one laborer or target with sensible defaults, overridable."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from matcher.types import Config, Laborer, Target

HOME = (36.47, 110.75)  # Daning county seat
KM_PER_DEG_LAT = 111.2


def north_of(point: tuple[float, float], km: float) -> tuple[float, float]:
    """A point roughly ``km`` north of another."""
    return (point[0] + km / KM_PER_DEG_LAT, point[1])


BASE_LABORER = Laborer(
    id=1,
    household_id=1,
    lat=HOME[0],
    lon=HOME[1],
    birth_on=date(1970, 6, 15),
    sex="F",
    ability="moderate",
    skills=frozenset(),
    work_area="any",
    max_commute_km=10.0,
    job_types=frozenset({"sewing"}),
    pay_type="piece",
    needs_flexible_hours=False,
    poverty_status="registered_poor",
    household_has_work=False,
    household_has_post=False,
    is_working=False,
    order=0,
)

BASE_TARGET = Target(
    kind="opening",
    id=1,
    title="sewing workshop",
    job_type="sewing",
    points=(north_of(HOME, 2.0),),
    capacity=3,
    min_age=18,
    max_age=60,
    demand="light",
    skills=frozenset(),
    pay_type="piece",
    pay_cents=300_000,
    is_flexible=True,
    start_on=date(2020, 4, 1),
    employer_id=1,
    region_code="141030",
)


@pytest.fixture
def config() -> Config:
    """The default configuration."""
    return Config()


@pytest.fixture
def make_laborer():
    """Build a laborer from the defaults, overriding any field."""
    return lambda **fields: replace(BASE_LABORER, **fields)


@pytest.fixture
def make_target():
    """Build a target from the defaults, overriding any field."""
    return lambda **fields: replace(BASE_TARGET, **fields)
