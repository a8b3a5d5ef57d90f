"""The watch on households slipping back (issue 13, part 5): the tick flags a poor household whose last
worker stopped, whose welfare-post term ended, or that stayed without work WATCH_DAYS; a flag opens a
FOLLOW_UP_DAYS clock, overdue visits are marked once, the cadre and the office are told, every step is
idempotent, and a household under watch comes first among the poor in plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import freeze_day
from web.errors import ConflictError, ValidationError
from web.extensions import db
from web.models import (
    AuditEvent,
    Base,
    FollowUp,
    Message,
    MessageKind,
    Placement,
    PlacementStatus,
    VisitOutcome,
    WatchReason,
)
from web.services import tick, watch
from web.services.convert import load_laborer

DAY = date(2026, 5, 4)


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _ended(factory, laborer, ended_on: date, *, post: bool = False) -> Placement:
    target = {"welfare_post_id": factory.welfare_post().id} if post else {"opening_id": factory.opening().id}
    row = Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        status=PlacementStatus.ENDED,
        started_on=ended_on - timedelta(days=200),
        ended_on=ended_on,
        **target,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def people(factory):
    """A cadre and an office over the village, registered long ago (their households too)."""
    cadre = factory.user("cadre")
    office = factory.user("office")
    db.session.commit()
    return {"cadre": cadre, "office": office}


def _old_household(factory, **kw):
    household = factory.household(**kw)
    household.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    return household


def test_the_last_workers_end_flags_the_household_and_tells_cadre_and_office(factory, people):
    household = _old_household(factory)
    laborer = factory.laborer(household)
    _ended(factory, laborer, DAY - timedelta(days=2))
    db.session.commit()

    counts = tick.run(db.session, DAY)
    db.session.commit()
    (flag,) = db.session.scalars(select(FollowUp)).all()
    assert counts["households_flagged"] == 1
    assert (flag.household_id, flag.reason, flag.flagged_on) == (household.id, WatchReason.LAST_WORKER_ENDED, DAY)
    assert flag.due_on == DAY + timedelta(days=15)
    told = {m.user_id for m in db.session.scalars(select(Message).where(Message.kind == MessageKind.HOUSEHOLD_FLAGGED))}
    assert told == {people["cadre"].id, people["office"].id}
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "follow_up_opened")) == 1

    before = _row_counts()
    again = tick.run(db.session, DAY)
    db.session.commit()
    after = _row_counts()
    assert again["households_flagged"] == 0 and again["follow_ups_overdue"] == 0
    assert {k: v for k, v in after.items() if k != "tick_run"} == {k: v for k, v in before.items() if k != "tick_run"}


def test_a_welfare_post_term_ending_with_no_other_work_is_its_own_reason(factory, people):
    laborer = factory.laborer(_old_household(factory))
    _ended(factory, laborer, DAY, post=True)
    db.session.commit()
    tick.run(db.session, DAY)
    assert db.session.scalar(select(FollowUp.reason)) is WatchReason.POST_TERM_ENDED


def test_households_with_work_or_not_poor_are_not_flagged(factory, people):
    working = _old_household(factory)
    gone = factory.laborer(working)
    _ended(factory, gone, DAY - timedelta(days=1))
    factory.laborer(working, status="employed")  # another member still works
    not_poor = _old_household(factory, poverty_status="non_poor")
    _ended(factory, factory.laborer(not_poor), DAY - timedelta(days=1))
    db.session.commit()
    assert tick.run(db.session, DAY)["households_flagged"] == 0


def test_a_household_without_work_for_watch_days_is_flagged_once_then_again_after_closing(factory, people, monkeypatch):
    household = _old_household(factory)
    laborer = factory.laborer(household)
    _ended(factory, laborer, DAY - timedelta(days=90))  # too long ago to be "just ended"
    recent = factory.household()  # registered today: not yet WATCH_DAYS without work
    recent.created_at = datetime.combine(DAY - timedelta(days=10), datetime.min.time(), UTC)
    db.session.commit()

    assert tick.run(db.session, DAY)["households_flagged"] == 1
    flag = db.session.scalar(select(FollowUp))
    assert (flag.household_id, flag.reason) == (household.id, WatchReason.LONG_WITHOUT_WORK)
    db.session.commit()

    freeze_day(monkeypatch, DAY + timedelta(days=3))
    watch.record_visit(
        db.session,
        people["cadre"],
        flag.id,
        {"outcome": "no_change", "visited_on": DAY + timedelta(days=3), "close": True},
    )
    db.session.commit()
    flagged = select(FollowUp.household_id).where(FollowUp.closed_on.is_(None))
    # Closed: not flagged again before WATCH_DAYS more days without work (the recent one now is) ...
    tick.run(db.session, DAY + timedelta(days=20))
    assert set(db.session.scalars(flagged)) == {recent.id}
    # ... and flagged again after them.
    tick.run(db.session, DAY + timedelta(days=34))
    assert set(db.session.scalars(flagged)) == {recent.id, household.id}
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 3


def test_an_unvisited_follow_up_is_marked_overdue_once(factory, people):
    laborer = factory.laborer(_old_household(factory))
    _ended(factory, laborer, DAY)
    db.session.commit()
    tick.run(db.session, DAY)
    db.session.commit()
    flag = db.session.scalar(select(FollowUp))
    assert tick.run(db.session, flag.due_on)["follow_ups_overdue"] == 0
    assert tick.run(db.session, flag.due_on + timedelta(days=1))["follow_ups_overdue"] == 1
    db.session.commit()
    assert flag.overdue_on == flag.due_on + timedelta(days=1)
    late = select(func.count()).where(Message.kind == MessageKind.FOLLOW_UP_OVERDUE)
    assert db.session.scalar(late) == 2  # cadre and office
    assert tick.run(db.session, flag.due_on + timedelta(days=2))["follow_ups_overdue"] == 0
    assert db.session.scalar(late) == 2


def test_a_visit_is_checked_and_recorded(factory, people, monkeypatch):
    laborer = factory.laborer(_old_household(factory))
    _ended(factory, laborer, DAY)
    db.session.commit()
    tick.run(db.session, DAY)
    db.session.commit()
    flag = db.session.scalar(select(FollowUp))
    freeze_day(monkeypatch, DAY + timedelta(days=5))
    with pytest.raises(ValidationError) as refused:
        watch.record_visit(db.session, people["cadre"], flag.id, {"outcome": "bogus", "visited_on": "2026-06-30"})
    assert set(refused.value.fields) == {"outcome", "visited_on"}
    db.session.rollback()
    assert db.session.get(FollowUp, flag.id).visited_on is None

    watch.record_visit(
        db.session,
        people["cadre"],
        flag.id,
        {"outcome": "referred", "visited_on": "2026-05-08", "note": "介绍到扶贫车间", "close": False},
    )
    db.session.commit()
    row = db.session.get(FollowUp, flag.id)
    assert (row.visited_on, row.outcome, row.closed_on) == (date(2026, 5, 8), VisitOutcome.REFERRED, None)
    assert not row.is_overdue(row.due_on + timedelta(days=3))  # visited in time: the clock has stopped
    watch.record_visit(db.session, people["cadre"], flag.id, {"outcome": "found_work", "close": True})
    db.session.commit()
    assert db.session.get(FollowUp, flag.id).closed_on == DAY + timedelta(days=5)
    with pytest.raises(ConflictError):
        watch.record_visit(db.session, people["cadre"], flag.id, {"outcome": "found_work"})
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "follow_up")).all()
    assert {"follow_up_visited", "follow_up_closed"} <= set(actions)


def test_one_open_follow_up_per_household_is_held_by_the_database(factory, people):
    household = _old_household(factory)
    db.session.add(FollowUp(household_id=household.id, reason="long_without_work", flagged_on=DAY, due_on=DAY))
    db.session.commit()
    db.session.add(FollowUp(household_id=household.id, reason="long_without_work", flagged_on=DAY, due_on=DAY))
    with pytest.raises(Exception, match="(?i)unique"):
        db.session.commit()
    db.session.rollback()


def test_the_matcher_reads_the_flag_and_counts_by_township(factory, people):
    laborer = factory.laborer(_old_household(factory))
    other = factory.laborer(_old_household(factory), status="employed")
    _ended(factory, laborer, DAY)
    db.session.commit()
    tick.run(db.session, DAY)
    db.session.commit()
    assert load_laborer(db.session, laborer.id).household_flagged is True
    assert load_laborer(db.session, other.id).household_flagged is False
    (row,) = watch.by_township(db.session, "141030", DAY + timedelta(days=16))
    direct = db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.closed_on.is_(None)))
    assert (row.code, row.open_flags, row.overdue) == ("141030100", direct, 1)


@pytest.mark.parametrize("mode", ["optimal", "stable"])
def test_a_county_plan_gives_the_contested_slot_to_the_household_under_watch(app, factory, people, mode):
    from web.models import Plan, PlanAssignment
    from web.services import plans
    from web.services.convert import matcher_config

    near = factory.laborer(_old_household(factory))
    watched_household = _old_household(factory)
    watched = factory.laborer(watched_household, lat=watched_household.lat - 0.01)
    factory.opening(slots=1)
    db.session.add(FollowUp(household_id=watched_household.id, reason="last_worker_ended", flagged_on=DAY, due_on=DAY))
    db.session.flush()
    # Both households are without work and poor; the nearer laborer would win on score alone.
    plan = Plan(region_code="141030", mode=mode, status="queued")
    db.session.add(plan)
    db.session.commit()
    plans.run_plan(db.session, plan, matcher_config(app.config))
    db.session.commit()
    placed = db.session.scalars(select(PlanAssignment.laborer_id).where(PlanAssignment.plan_id == plan.id)).all()
    assert placed == [watched.id]
    # Without the flag the same plan gives it to the nearer one.
    db.session.execute(FollowUp.__table__.delete())
    again = Plan(region_code="141030", mode=mode, status="queued")
    db.session.add(again)
    db.session.commit()
    plans.run_plan(db.session, again, matcher_config(app.config))
    db.session.commit()
    placed = db.session.scalars(select(PlanAssignment.laborer_id).where(PlanAssignment.plan_id == again.id)).all()
    assert placed == [near.id]
