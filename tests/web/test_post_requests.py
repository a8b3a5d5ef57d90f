"""Requests for welfare posts (issue 13, part 2): a dated receipt numbered per county and year, answered by
an offered post or a refusal with a reason, overdue after POST_REQUEST_DAYS (marked once by the tick), the
dashboard's figures checked against direct queries; and the answer clock's figures per employer (part 1)."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import OFFERED_ON, freeze_day
from web.errors import ConflictError, PermissionDeniedError, ValidationError
from web.extensions import db
from web.models import (
    AuditEvent,
    Message,
    MessageKind,
    Placement,
    PlacementEvent,
    PlacementStatus,
    Plan,
    PlanAssignment,
    PlanStatus,
    PostRequest,
    PostRequestStatus,
    TextMessage,
)
from web.services import offers, plans, post_requests
from web.services import tick as tick_service
from web.services.convert import matcher_config

DAY = date(2026, 3, 2)


@pytest.fixture
def people(app, factory, monkeypatch):
    """A cadre of 安古村, the county office, a laborer of a poor household there, and a welfare post."""
    freeze_day(monkeypatch, DAY)
    made = {
        "cadre": factory.user("cadre"),
        "office": factory.user("office"),
        "laborer": factory.laborer(phone="13800138001"),
        "post": factory.welfare_post(),
    }
    db.session.commit()
    return made


def _record(people, laborer=None, **kw) -> PostRequest:
    row = post_requests.record_request(db.session, people["cadre"], (laborer or people["laborer"]).id, **kw)
    db.session.commit()
    return row


def test_a_request_gets_a_receipt_numbered_per_county_and_year_and_a_due_day(people, factory):
    first = _record(people, note="家里只有一位能干活的")
    second = _record(people, factory.laborer(), requested_on=DAY - timedelta(days=3))
    assert (first.receipt_no, second.receipt_no) == ("141030-2026-00001", "141030-2026-00002")
    assert first.requested_on == DAY and first.due_on == DAY + timedelta(days=15)
    assert second.due_on == DAY + timedelta(days=12)
    assert first.status is PostRequestStatus.PENDING and first.recorded_by_id == people["cadre"].id
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "post_request_recorded", AuditEvent.entity_id == str(first.id))
    )
    assert event.user_id == people["cadre"].id and event.detail["receipt"] == "141030-2026-00001"


def test_one_open_request_per_household_and_no_day_in_the_future(people, factory):
    _record(people)
    other = factory.laborer(people["laborer"].household)
    db.session.commit()
    with pytest.raises(ConflictError) as refused:
        post_requests.record_request(db.session, people["cadre"], other.id)
    assert "laborer_id" in refused.value.fields
    with pytest.raises(ValidationError) as future:
        post_requests.record_request(db.session, people["cadre"], other.id, requested_on=DAY + timedelta(days=1))
    assert list(future.value.fields) == ["requested_on"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PostRequest)) == 1


def test_an_offered_welfare_post_answers_the_request_with_who_and_when(app, people):
    row = _record(people)
    placement = offers.make_offer(
        db.session,
        people["office"],
        people["laborer"].id,
        "welfare_post",
        people["post"].id,
        matcher_config(app.config),
    )
    db.session.commit()
    db.session.refresh(row)
    assert row.status is PostRequestStatus.ASSIGNED and row.placement_id == placement.id
    assert (row.answered_on, row.answered_by_id, row.is_on_time) == (DAY, people["office"].id, True)
    told = db.session.scalars(select(Message.user_id).where(Message.kind == MessageKind.POST_REQUEST_ANSWERED.value))
    assert set(told) == {people["cadre"].id}


def test_an_office_refuses_with_a_reason_once_and_a_cadre_may_not(people):
    row = _record(people)
    with pytest.raises(PermissionDeniedError):
        post_requests.refuse(db.session, people["cadre"], row.id, "no post")
    with pytest.raises(ValidationError) as no_reason:
        post_requests.refuse(db.session, people["office"], row.id, "  ")
    assert list(no_reason.value.fields) == ["reason"]
    post_requests.refuse(db.session, people["office"], row.id, "该户已有人外出务工")
    db.session.commit()
    assert (row.status, row.refusal_reason, row.answered_by_id) == (
        PostRequestStatus.REFUSED,
        "该户已有人外出务工",
        people["office"].id,
    )
    with pytest.raises(ConflictError):
        post_requests.refuse(db.session, people["office"], row.id, "again")


def test_the_tick_marks_a_request_overdue_once_the_day_after_its_due_day(people):
    row = _record(people)
    due = row.due_on
    assert tick_service.run(db.session, due)["post_requests_overdue"] == 0
    first = tick_service.run(db.session, due + timedelta(days=1))
    db.session.commit()
    messages = db.session.scalar(select(func.count()).select_from(Message))
    again = tick_service.run(db.session, due + timedelta(days=1))
    later = tick_service.run(db.session, due + timedelta(days=2))
    db.session.commit()
    assert (first["post_requests_overdue"], again["post_requests_overdue"], later["post_requests_overdue"]) == (1, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages
    db.session.refresh(row)
    assert row.overdue_on == due + timedelta(days=1) and row.status is PostRequestStatus.PENDING
    told = db.session.scalars(select(Message.user_id).where(Message.kind == MessageKind.POST_REQUEST_OVERDUE.value))
    assert set(told) == {people["cadre"].id, people["office"].id}


def test_the_dashboard_figures_agree_with_a_direct_query(people, factory, monkeypatch):
    laborers = [factory.laborer() for _ in range(5)]
    db.session.commit()
    ages = (40, 30, 5, 20, 0)
    rows = [
        _record(people, laborer, requested_on=DAY - timedelta(days=n))
        for laborer, n in zip(laborers, ages, strict=True)
    ]
    # Answered on time (day 5 of 15), late (day 30), on time (day 5); one open and overdue, one open in time.
    freeze_day(monkeypatch, DAY - timedelta(days=35))
    post_requests.refuse(db.session, people["office"], rows[0].id, "on time")
    freeze_day(monkeypatch, DAY)
    post_requests.refuse(db.session, people["office"], rows[2].id, "on time too")
    post_requests.refuse(db.session, people["office"], rows[1].id, "late")
    db.session.commit()
    got = post_requests.figures(db.session, "141030", DAY)
    direct = db.session.execute(
        text(
            "SELECT count(*), "
            " sum(CASE WHEN r.answered_on IS NULL THEN 1 ELSE 0 END),"
            " sum(CASE WHEN r.answered_on IS NULL AND r.due_on < :day THEN 1 ELSE 0 END),"
            " sum(CASE WHEN r.answered_on IS NOT NULL THEN 1 ELSE 0 END),"
            " sum(CASE WHEN r.answered_on <= r.due_on THEN 1 ELSE 0 END)"
            " FROM post_request r JOIN household h ON h.id = r.household_id"
            " WHERE h.village_code LIKE '141030%'"
        ),
        {"day": DAY},
    ).one()
    assert (got.requests, got.open, got.overdue, got.answered, got.answered_on_time) == tuple(direct)
    assert (got.requests, got.open, got.overdue, got.answered, got.answered_on_time) == (5, 2, 1, 3, 2)
    assert got.on_time_pct == pytest.approx(66.7)
    # On an earlier day, what was answered later was still open (and the oldest one overdue).
    before = post_requests.figures(db.session, "141030", DAY - timedelta(days=12))
    assert (before.requests, before.open, before.overdue, before.answered) == (3, 2, 1, 1)


def _answered(placement: Placement, status: PlacementStatus, by, hours: float) -> None:
    at = placement.offered_at + timedelta(hours=hours)
    placement.events.append(
        PlacementEvent(from_status=PlacementStatus.OFFERED, to_status=status, by_user_id=by.id, at=at)
    )
    placement.status = status


def test_answer_rate_and_median_answer_time_agree_with_a_direct_query(app, factory, monkeypatch):
    freeze_day(monkeypatch, OFFERED_ON)
    office = factory.user("office")
    opening = factory.opening(slots=10)
    other = factory.opening(slots=10)
    boss = factory.user("employer", employer_id=opening.employer_id)
    made = []
    for target in (opening, opening, opening, opening, other):
        laborer = factory.laborer()
        db.session.commit()
        made.append(offers.make_offer(db.session, office, laborer.id, "opening", target.id, matcher_config(app.config)))
    db.session.commit()
    _answered(made[0], PlacementStatus.ACCEPTED, boss, 5)
    _answered(made[1], PlacementStatus.DECLINED, boss, 30)
    _answered(made[4], PlacementStatus.ACCEPTED, office, 2)
    db.session.commit()
    tick_service.run(db.session, OFFERED_ON + timedelta(days=8))  # made[2] and made[3] lapse
    db.session.commit()
    figures = {row.employer_id: row for row in offers.answer_figures(db.session, "141030")}
    mine = figures[opening.employer_id]
    assert (mine.offers, mine.answered, mine.lapsed, mine.waiting) == (4, 2, 2, 0)
    assert mine.answer_rate_pct == 50.0 and mine.median_answer_hours == pytest.approx(17.5)
    assert figures[other.employer_id].answer_rate_pct == 100.0
    # The same figures straight from the tables.
    rows = db.session.execute(
        text(
            "SELECT o.employer_id, p.offered_at, min(e.at) FROM placement p JOIN opening o ON o.id = p.opening_id"
            " LEFT JOIN placement_event e ON e.placement_id = p.id AND e.from_status = 'offered'"
            "  AND e.to_status IN ('accepted', 'declined') AND e.by_user_id IS NOT NULL"
            " WHERE p.offered_at IS NOT NULL GROUP BY p.id, o.employer_id, p.offered_at"
        )
    ).all()
    for employer_id, row in figures.items():
        times = [(offers._utc(at) - offers._utc(start)) for eid, start, at in rows if eid == employer_id and at]
        assert row.answered == len(times)
        assert row.median_answer_hours == pytest.approx(
            round(statistics.median(t.total_seconds() / 3600 for t in times), 1)
        )


def test_a_lapse_queues_a_chinese_text_to_the_laborer_once(app, waiting_offer):
    tick_service.run(db.session, OFFERED_ON + timedelta(days=8))
    tick_service.run(db.session, OFFERED_ON + timedelta(days=8))
    db.session.commit()
    (sms,) = db.session.scalars(select(TextMessage))
    assert sms.phone == "13800138000" and sms.kind == MessageKind.OFFER_LAPSED.value
    assert waiting_offer["laborer"].name in sms.body and "已自动取消" in sms.body and "03月09日" in sms.body


def test_half_way_is_the_reminder_day(waiting_offer):
    placement = db.session.get(Placement, waiting_offer["placement_id"])
    assert offers.half_way_day(placement.answer_by) == OFFERED_ON + timedelta(days=4)
    assert not offers.is_half_way(placement, OFFERED_ON + timedelta(days=3))
    assert offers.is_half_way(placement, OFFERED_ON + timedelta(days=4))


def test_a_confirmed_plans_welfare_post_answers_the_request_too(people):
    row = _record(people)
    plan = Plan(region_code="141030", mode="optimal", status=PlanStatus.DONE)
    plan.assignments = [
        PlanAssignment(
            laborer_id=people["laborer"].id,
            welfare_post_id=people["post"].id,
            stage="welfare",
            score=0.8,
            distance_km=1.0,
        )
    ]
    db.session.add(plan)
    db.session.commit()
    (placement,) = plans.confirm_plan(db.session, people["office"], plan.id)
    db.session.commit()
    db.session.refresh(row)
    assert (row.status, row.placement_id, row.answered_by_id) == (
        PostRequestStatus.ASSIGNED,
        placement.id,
        people["office"].id,
    )
