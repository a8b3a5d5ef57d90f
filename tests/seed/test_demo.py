"""The Daning County demo: real townships, valid people, deterministic, never duplicated."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from seed.coords import in_shanxi
from seed.demo import DEMO_LOGINS, seed_demo
from web.errors import AlreadySeededError
from web.extensions import db
from web.models import Employer, Household, Laborer, Opening, Region, TransportBatch, WelfarePost
from web.services.accounts import authenticate

TODAY = date(2026, 6, 30)


@pytest.fixture
def demo(app):
    counts = seed_demo(db.session, random_seed=7, today=TODAY)
    db.session.commit()
    return counts


def test_demo_has_the_issue_shape(demo):
    assert 1800 <= demo["laborers"] <= 2200
    assert 12 <= demo["employers"] <= 18
    assert demo["batches"] == 4
    assert demo["welfare_posts"] == 60
    townships = db.session.scalars(select(Region.name).where(Region.parent_code == "141030")).all()
    assert sorted(townships) == sorted(["昕水镇", "曲峨镇", "太古镇", "三多乡", "太德乡"])
    angu = db.session.scalar(select(Region).where(Region.name == "安古村"))
    assert angu.parent.name == "昕水镇" and angu.position_source.value == "synthetic"


def test_every_laborer_is_valid_and_ages_match_birth_dates(demo):
    laborers = db.session.scalars(select(Laborer)).all()
    for laborer in laborers:
        assert ric.is_valid(laborer.id_number), laborer.id_number
        assert ric.get_birth_date(laborer.id_number) == laborer.birth_on
        assert (int(laborer.id_number[16]) % 2 == 1) == (laborer.sex.value == "M")
        assert laborer.id_number[:6] in ("141030", "142633")  # Daning's code now, and before 2000
    ages = [lab.age_on(TODAY) for lab in laborers]
    assert min(ages) >= 18
    share_50_70 = sum(50 <= a <= 70 for a in ages) / len(ages)
    assert share_50_70 > 0.4
    sexes = Counter(lab.sex.value for lab in laborers)
    assert sexes["F"] > sexes["M"]
    abilities = Counter(lab.physical_ability.value for lab in laborers)
    assert abilities["light"] + abilities["none"] > 0.25 * len(laborers)
    assert set(Counter(lab.work_area.value for lab in laborers)) == {"local", "migrant", "any"}


def test_every_position_is_inside_shanxi(demo):
    for model in (Region, Household, Laborer, Employer, Opening, WelfarePost):
        for lat, lon in db.session.execute(select(model.lat, model.lon)):
            assert in_shanxi(lat, lon), (model.__name__, lat, lon)


def test_glove_workshop_is_light_piece_rate_and_flexible(demo):
    opening = db.session.scalar(select(Opening).join(Employer).where(Employer.name == "安古村手套扶贫车间"))
    assert opening.employer.region.name == "安古村"
    assert (opening.physical_demand.value, opening.pay_type.value, opening.is_flexible_hours) == (
        "light",
        "piece",
        True,
    )


def test_batches_have_pickup_points(demo):
    for batch in db.session.scalars(select(TransportBatch)):
        assert len(batch.pickup_points) >= 2


def test_demo_logins_work(demo):
    for login in DEMO_LOGINS:
        user = authenticate(db.session, login.username, login.password)
        assert user is not None and user.role.value == login.role


def test_second_run_refuses_and_changes_nothing(demo):
    before = db.session.scalar(select(func.count(Household.id)))
    with pytest.raises(AlreadySeededError):
        seed_demo(db.session, random_seed=7, today=TODAY)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Household.id))) == before


def _snapshot():
    return db.session.execute(
        select(Laborer.name, Laborer.id_number, Laborer.lat, Laborer.physical_ability).order_by(Laborer.id)
    ).all()


def test_same_seed_same_demo(app):
    seed_demo(db.session, random_seed=11, today=TODAY)
    first = _snapshot()
    db.session.rollback()
    seed_demo(db.session, random_seed=11, today=TODAY)
    assert _snapshot() == first
    db.session.rollback()
    seed_demo(db.session, random_seed=12, today=TODAY)
    assert _snapshot() != first
    db.session.rollback()


def test_demo_has_a_history_of_the_watch_and_of_verifications(demo):
    from web.models import FollowUp, Message, Verification

    rows = db.session.scalars(select(FollowUp)).all()
    open_rows = [f for f in rows if f.closed_on is None]
    assert demo["follow_ups"] == len(rows) >= 20
    assert open_rows and any(f.is_overdue(TODAY) for f in open_rows)
    assert any(f.closed_on is not None for f in rows) and any(f.visited_on for f in open_rows)
    assert {f.reason.value for f in rows} >= {"last_worker_ended", "post_term_ended"}
    expired = db.session.scalar(select(func.count()).where(Verification.valid_until < TODAY))
    assert demo["verifications"] > expired > 0
    assert db.session.scalar(select(func.count()).where(Message.kind == "household_flagged")) > 0
