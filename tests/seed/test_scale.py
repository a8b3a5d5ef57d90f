"""`jiuye seed scale`: an open province-wide market whose size follows --laborers (DESIGN §6, §7)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

import matcher.plan
from seed import scale
from seed.coords import in_shanxi
from seed.scale import Sizes, resident_ids, seed_scale
from web.errors import AlreadySeededError
from web.extensions import db
from web.models import (
    Employer,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Placement,
    Region,
    RetentionCheckin,
    TransportBatch,
    WelfarePost,
)
from web.services import ranking
from web.services.convert import load_targets, matcher_config
from web.services.plans import plan_inputs

from ..web.test_summaries import assert_summaries_match_records

N = 10_000
SHARE = N / 1_000_000
#: The province-scale bars (DESIGN §7) at a million laborers.
BARS = {"seeking": 150_000, "open_slots": 92_500, "future_batches": 500, "open_posts": 20_000}
TABLES = (Region, Household, Laborer, Employer, Opening, TransportBatch, PickupPoint, WelfarePost, Placement)


@pytest.fixture
def market(app):
    """A market of N laborers, committed; the counts the seed returned."""
    counts = seed_scale(db.session, N, random_seed=7)
    db.session.commit()
    return counts


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def row_counts() -> dict[str, int]:
    return {model.__tablename__: count(model) for model in TABLES}


def free_slots(model, capacity, fk, *where) -> int:
    """Free capacity summed over the rows of model matching where (capacity minus holding placements)."""
    held = (
        select(func.count())
        .where(fk == model.id, Placement.status.in_(("offered", "accepted", "working")))
        .scalar_subquery()
    )
    return db.session.scalar(select(func.coalesce(func.sum(capacity - held), 0)).where(*where))


def test_sizes_meet_the_province_bars_and_scale_linearly():
    province = Sizes.for_laborers(1_000_000)
    assert (province.workshops, province.enterprises) == (968, 410)
    for name, bar in BARS.items():
        assert getattr(province, name) >= bar, name
    small = Sizes.for_laborers(20_000)
    for name in ("seeking", "open_slots", "future_batches", "open_posts", "workshop_workers"):
        assert getattr(small, name) == round(getattr(province, name) / 50), name


def test_counts_scale_as_promised(market):
    now = datetime.now(UTC)
    sizes = Sizes.for_laborers(N)
    assert count(Laborer) == market["laborers"] == N
    seeking = count(Laborer, Laborer.status == "seeking")
    assert seeking == sizes.seeking >= BARS["seeking"] * SHARE
    assert count(Employer, Employer.kind == "workshop") == sizes.workshops == round(968 * SHARE)
    assert count(Employer, Employer.kind == "enterprise") == sizes.enterprises == round(410 * SHARE)
    future_openings = (Opening.status == "open", Opening.start_on > now.date())
    assert free_slots(Opening, Opening.slots, Placement.opening_id, *future_openings) >= (BARS["open_slots"] * SHARE)
    assert count(Opening, Opening.status == "open", Opening.start_on <= now.date()) == 0
    departing = (TransportBatch.status.in_(("planning", "boarding")), TransportBatch.departs_at > now)
    assert count(TransportBatch, *departing) >= BARS["future_batches"] * SHARE
    assert free_slots(TransportBatch, TransportBatch.seats, Placement.batch_id, *departing) > 0
    # Every batch picks up in its own county.
    assert count(PickupPoint) > 0
    assert (
        count(
            PickupPoint,
            PickupPoint.batch_id == TransportBatch.id,
            func.substr(PickupPoint.region_code, 1, 6) != TransportBatch.region_code,
        )
        == 0
    )
    assert count(TransportBatch, ~TransportBatch.pickup_points.any()) == 0
    open_posts = free_slots(WelfarePost, WelfarePost.slots, Placement.welfare_post_id, WelfarePost.status == "open")
    assert open_posts >= BARS["open_posts"] * SHARE
    levels = set(db.session.scalars(select(func.length(WelfarePost.region_code)).distinct()))
    assert levels == {9, 12}  # township and village posts


def test_people_are_varied_and_some_households_have_work(market):
    seeking = Laborer.status == "seeking"
    for column in (Laborer.physical_ability, Laborer.work_area, Laborer.max_commute_km, Laborer.pay_type):
        assert db.session.scalar(select(func.count(func.distinct(column))).where(seeking)) >= 3, column
    poverty = dict(
        db.session.execute(select(Household.poverty_status, func.count()).group_by(Household.poverty_status)).all()
    )
    households = sum(poverty.values())
    assert 0.5 < (poverty["registered_poor"] + poverty["monitored"]) / households < 0.8
    assert poverty["monitored"] > 0
    with_work = db.session.scalar(
        select(func.count(func.distinct(Laborer.household_id))).where(Laborer.status.in_(("employed", "self_employed")))
    )
    assert 0 < with_work < households
    # Placed laborers are employed, at work once, and a household holds at most one welfare post; the
    # other placements are past ones (seed.outcomes), ended, each with its 30/90/180-day check-ins.
    working = Placement.status == "working"
    assert count(Placement, Placement.status.not_in(("working", "ended"))) == 0
    assert count(Placement, working, Placement.laborer_id == Laborer.id, Laborer.status != "employed") == 0
    at_work = db.session.scalar(select(func.count(func.distinct(Placement.laborer_id))).where(working))
    assert at_work == count(Placement, working)
    post_households = select(Placement.household_id).where(working, Placement.welfare_post_id.is_not(None))
    assert db.session.scalar(select(func.count()).select_from(post_households.subquery())) == db.session.scalar(
        select(func.count(func.distinct(Placement.household_id))).where(working, Placement.welfare_post_id.is_not(None))
    )
    ended = count(Placement, Placement.status == "ended")
    assert ended > 0 and db.session.scalar(select(func.count(RetentionCheckin.id))) == 3 * ended
    for kind in ("opening", "batch", "welfare_post"):
        assert count(Placement, getattr(Placement, f"{kind}_id").is_not(None)) > 0, kind


def test_every_position_is_inside_shanxi_around_the_county_seats(market):
    for model in (Region, Household, Laborer, Employer, Opening, PickupPoint, WelfarePost):
        for lat, lon in db.session.execute(select(model.lat, model.lon)):
            assert in_shanxi(lat, lon), (model.__tablename__, lat, lon)
    seats = dict(
        (
            (code, (lat, lon))
            for code, lat, lon in db.session.execute(
                select(Region.code, Region.lat, Region.lon).where(Region.level == "county")
            )
        )
    )
    villages = db.session.execute(select(Region.code, Region.lat, Region.lon).where(Region.level == "village")).all()
    assert len(villages) == market["villages"] > 0
    for code, lat, lon in villages:
        seat_lat, seat_lon = seats[code[:6]]
        assert abs(lat - seat_lat) * 111.2 <= 15.01 and abs(lon - seat_lon) * 111.2 * np.cos(np.radians(lat)) <= 15.1


def test_id_numbers_are_valid_unique_and_match_birth_and_sex(market):
    rows = db.session.execute(select(Laborer.id_number, Laborer.birth_on, Laborer.sex)).all()
    assert len({number for number, _, _ in rows}) == len(rows) == N
    for number, birth_on, sex in rows:
        assert ric.validate(number) == number
        assert ric.get_birth_date(number) == birth_on
        assert int(number[16]) % 2 == (sex.value == "M")


def test_resident_ids_move_a_full_day_to_the_day_before():
    n = 1200  # more men born on one day in one place than sequences exist (499)
    numbers, births = resident_ids(
        np.full(n, "141030"), np.full(n, np.datetime64("1980-05-17")), np.ones(n, dtype=bool)
    )
    assert len(set(numbers)) == n
    assert sorted(set(births.astype(str).tolist())) == ["1980-05-15", "1980-05-16", "1980-05-17"]
    for number, birth in zip(numbers, births.tolist(), strict=True):
        assert ric.validate(number) == number and ric.get_birth_date(number) == birth


def test_dashboard_summaries_are_exact(market):
    city = db.session.scalar(select(Region.code).where(Region.level == "city").order_by(Region.code))
    assert_summaries_match_records(days=(datetime.now(UTC).date(),), codes=("14", city))


def test_a_plan_can_run_on_it(market):
    laborers, targets = plan_inputs(db.session, "14")
    assert len(laborers["id"]) == Sizes.for_laborers(N).seeking
    free = {
        kind: sum(t.capacity for t in targets if t.kind == kind and t.capacity > 0)
        for kind in ("opening", "batch", "welfare_post")
    }
    assert free["opening"] >= BARS["open_slots"] * SHARE
    assert free["batch"] > 0 and free["welfare_post"] >= BARS["open_posts"] * SHARE
    result = matcher.plan.run(laborers, targets, "greedy", explain=False)
    assert {a.kind for a in result.assignments} == {"opening", "batch", "welfare_post"}


def test_a_server_that_ranked_before_the_seed_ranks_the_seeded_market(app):
    """The seed writes around the ORM, so it moves the data versions itself: cached rankers rebuild."""
    config = matcher_config(app.config)
    assert len(ranking.ranker(db.session, config).targets.targets) == 0
    assert ranking.candidate_ranker(db.session, config).ranker is None
    db.session.commit()
    seed_scale(db.session, N, random_seed=7)
    db.session.commit()
    held = ranking.ranker(db.session, config).targets.targets
    assert len(held) == len(load_targets(db.session)) > 0
    candidates = ranking.candidate_ranker(db.session, config)
    assert len(candidates.by_id) == count(Laborer, Laborer.status == "seeking") > 0


def test_refuses_a_second_run_and_changes_nothing(market):
    before = row_counts()
    with pytest.raises(AlreadySeededError):
        seed_scale(db.session, N)
    db.session.rollback()
    assert row_counts() == before


def test_refuses_a_database_with_any_record(factory):
    factory.region_tree()
    factory.employer()
    db.session.commit()
    with pytest.raises(AlreadySeededError):
        seed_scale(db.session, 1000)


def test_a_failure_at_the_end_leaves_nothing(app, monkeypatch):
    def fail(_session):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scale, "finish_bulk_seed", fail)
    with pytest.raises(RuntimeError):
        seed_scale(db.session, 6000)
    db.session.rollback()
    assert set(row_counts().values()) == {0}


def test_cli_seeds_and_refuses_a_second_time_in_one_line(runner):
    result = runner.invoke(args=["seed", "scale", "--laborers", "3000", "--random-seed", "3"])
    assert result.exit_code == 0, result.output
    assert "3000 laborers" in result.output and "480 seeking" in result.output
    before = row_counts()
    again = runner.invoke(args=["seed", "scale", "--laborers", "3000"])
    assert again.exit_code == 0
    assert again.output.startswith("Already seeded") and again.output.count("\n") == 1
    assert row_counts() == before


def test_cli_rejects_a_laborer_count_below_one(runner):
    result = runner.invoke(args=["seed", "scale", "--laborers", "0"])
    assert result.exit_code == 2 and "--laborers" in result.output
