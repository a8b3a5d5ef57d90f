"""Welfare posts month by month (issue 13, part 3): the stipend due follows attendance (integer cents, the
configured rules), a village's month is recorded all or nothing, the payroll's sums equal direct SQL, terms
are renewed or ended as recorded steps, a holder who starts other work leaves the post (and the office is
told, with the next candidate), flags are read from the data, and the tick's welfare steps are idempotent."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests.conftest import freeze_day
from web.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from web.extensions import db
from web.models import (
    OTHER_WORK_REASON,
    TERM_ENDED_REASON,
    AuditEvent,
    Message,
    MessageKind,
    Placement,
    PlacementEvent,
    PlacementStatus,
    PostingStatus,
    TermAction,
    WelfareAttendance,
    WelfarePost,
    WelfareTermStep,
)
from web.services import offers, welfare
from web.services import tick as tick_service

TODAY = date(2026, 3, 20)
MARCH, FEBRUARY = date(2026, 3, 1), date(2026, 2, 1)


def _holding(factory, *, village="141030100201", stipend=60000, started_on=date(2026, 1, 5), **post) -> Placement:
    household = factory.household(village)
    laborer = factory.laborer(household)
    row = factory.welfare_post(region_code=village, stipend_cents=stipend, term_start_on=date(2026, 1, 1), **post)
    placement = Placement(
        laborer_id=laborer.id,
        household_id=household.id,
        welfare_post_id=row.id,
        status="working",
        started_on=started_on,
        events=[PlacementEvent(to_status="working")],
    )
    db.session.add(placement)
    db.session.flush()
    return placement


@pytest.fixture
def today(monkeypatch):
    freeze_day(monkeypatch, TODAY)
    return TODAY


# -- the rules ---------------------------------------------------------------------------------------


def test_working_days_come_from_the_calendar_unless_configured(app):
    assert welfare.month_work_days(MARCH) == 22  # March 2026: 22 days Monday to Friday
    assert welfare.month_work_days(FEBRUARY) == 20
    # From Monday 16 February to the end: 10 working days; ended on 16 March (not at work that day): 10.
    assert welfare.expected_days(FEBRUARY, date(2026, 2, 16), None) == 10
    assert welfare.expected_days(MARCH, None, date(2026, 3, 16)) == 10
    assert welfare.expected_days(MARCH, date(2026, 4, 1), None) == 0
    app.config["WELFARE_WORK_DAYS"] = 26
    assert welfare.month_work_days(FEBRUARY) == 26
    # Half of March's 31 days (16 of them) of 26: 13.4 → 13.
    assert welfare.expected_days(MARCH, date(2026, 3, 16), None) == 13


def test_the_stipend_due_is_pro_rata_rounded_half_up_to_the_cent(app):
    assert welfare.stipend_due_cents(60000, 22, 22, 22) == 60000
    assert welfare.stipend_due_cents(60000, 0, 22, 22) == 0
    # 600 yuan × 7 / 22 = 190.909… → 190.91; 500.01 × 1 / 2 = 250.005 → 250.01 (half up).
    assert welfare.stipend_due_cents(60000, 7, 22, 22) == 19091
    assert welfare.stipend_due_cents(50001, 1, 2, 2) == 25001
    app.config["WELFARE_PAID_ABSENCE_DAYS"] = 2
    assert welfare.stipend_due_cents(60000, 20, 22, 22) == 60000  # two days of leave are paid
    assert welfare.stipend_due_cents(60000, 10, 11, 22) == 30000  # never more than the days expected
    app.config["WELFARE_MIN_PRESENT_SHARE"] = 0.5
    assert welfare.stipend_due_cents(60000, 10, 22, 22) == 0  # 10 + 2 paid, but under half present
    assert welfare.stipend_due_cents(60000, 11, 22, 22) == 35455  # (11 + 2) / 22 of 600, half up


# -- attendance ------------------------------------------------------------------------------------


def test_a_villages_month_is_recorded_and_the_due_computed(factory, today):
    a = _holding(factory, stipend=60000)
    b = _holding(factory, stipend=80000, started_on=date(2026, 3, 16))  # 12 working days of March
    other_village = _holding(factory, village="141030100202")
    cadre = factory.user("cadre")
    db.session.commit()
    village, rows = welfare.holders(db.session, cadre, "141030100201", MARCH)
    assert {r.placement.id: r.days_expected for r in rows} == {a.id: 22, b.id: 12}
    saved = welfare.record_attendance(db.session, cadre, "141030100201", MARCH, {a.id: 20, b.id: "12"})
    db.session.commit()
    due = {s.placement_id: (s.days_present, s.due_cents) for s in saved}
    assert due == {a.id: (20, 54545), b.id: (12, 43636)}  # 600×20/22, 800×12/22
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance")) == 2
    # A correction changes the row (one per holder and month) and is audited with what it was.
    welfare.record_attendance(db.session, cadre, "141030100201", MARCH, {a.id: 22})
    db.session.commit()
    row = db.session.scalar(select(WelfareAttendance).where(WelfareAttendance.placement_id == a.id))
    assert (row.days_present, row.due_cents) == (22, 60000)
    last = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance").order_by(AuditEvent.id.desc()))
    assert last.detail["from"] == 20
    # The cadre's villages only: the other village's holder is not theirs, and another village is a 404.
    with pytest.raises(ValidationError):
        welfare.record_attendance(db.session, cadre, "141030100201", MARCH, {other_village.id: 5})
    with pytest.raises(NotFoundError):
        welfare.holders(db.session, cadre, "141030100202", MARCH)


def test_one_wrong_row_saves_nothing_and_every_complaint_is_named(factory, today):
    a = _holding(factory)
    b = _holding(factory)
    c = _holding(factory)
    cadre = factory.user("cadre")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        welfare.record_attendance(db.session, cadre, None, MARCH, {a.id: 10, b.id: 23, c.id: "x", 999_999: 1})
    db.session.rollback()
    assert set(refused.value.fields) == {f"days_{b.id}", f"days_{c.id}", "days_999999"}
    assert db.session.scalar(select(func.count()).select_from(WelfareAttendance)) == 0
    with pytest.raises(ValidationError) as future:
        welfare.parse_month("2026-04")
    assert "month" in future.value.fields
    with pytest.raises(ValidationError):
        welfare.parse_month("March")


# -- the payroll -----------------------------------------------------------------------------------


def test_the_payroll_sums_equal_direct_sql(factory, today):
    holdings = [_holding(factory, stipend=50000 + 1000 * n) for n in range(4)]
    town2 = _holding(factory, village="141030101201", stipend=70000)
    office = factory.user("office")
    db.session.commit()
    welfare.record_attendance(
        db.session, office, "141030100201", FEBRUARY, {h.id: 20 - 3 * n for n, h in enumerate(holdings[:3])}
    )
    welfare.record_attendance(db.session, office, "141030101201", FEBRUARY, {town2.id: 20})
    db.session.commit()
    sheet = welfare.payroll(db.session, office, "141030100", FEBRUARY)
    sql = db.session.execute(
        text(
            "SELECT COUNT(*), SUM(a.due_cents), SUM(a.days_present) FROM welfare_attendance a"
            " JOIN welfare_post p ON p.id = a.welfare_post_id"
            " WHERE a.month = :month AND p.region_code LIKE '141030100%'"
        ),
        {"month": FEBRUARY},
    ).one()
    assert len(sheet.lines) == 4 and sheet.missing == 1  # the fourth holder is not recorded yet
    assert (sql[0], sql[1], sql[2]) == (3, sheet.due_cents, sheet.days_present)
    assert sheet.due_cents == 50000 + 51000 * 17 // 20 + (2 * 52000 * 14 + 20) // 40
    # The workbook carries the same lines and totals, as values: no formula anywhere.
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(welfare.payroll_xlsx(sheet)))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert not [c for c in cells if c.data_type == "f" or str(c.value or "").startswith("=")]
    rows = [[c.value for c in row] for row in book.active.iter_rows()]
    assert rows[-1][0] == "合计" and rows[-1][9] == sql[1] / 100 and rows[-1][8] == sql[2]
    assert sum(r[9] for r in rows[2:-1]) * 100 == pytest.approx(sql[1])
    # Offices only, and only townships of their region.
    cadre = factory.user("cadre")
    with pytest.raises(PermissionDeniedError):
        welfare.payroll(db.session, cadre, "141030100", FEBRUARY)
    far = factory.user("office", region_code="141030101")  # the other township's office
    with pytest.raises(NotFoundError):
        welfare.payroll(db.session, far, "141030100", FEBRUARY)


# -- terms -----------------------------------------------------------------------------------------


def test_terms_near_their_end_are_listed_renewed_and_ended_as_recorded_steps(factory, today):
    soon = _holding(factory, term_end_on=date(2026, 4, 10))
    later = _holding(factory, term_end_on=date(2026, 12, 31))
    office = factory.user("office")
    db.session.commit()
    listed = welfare.terms_ending(db.session, office, today)
    assert [(r.post.id, r.holding.id, r.days_left) for r in listed] == [(soon.welfare_post_id, soon.id, 21)]
    step = welfare.renew_term(db.session, office, soon.welfare_post_id)
    db.session.commit()
    assert (step.action, step.old_end_on, step.new_end_on, step.by_user_id) == (
        TermAction.RENEWED,
        date(2026, 4, 10),
        date(2027, 4, 10),
        office.id,
    )
    assert welfare.terms_ending(db.session, office, today) == []
    with pytest.raises(ValidationError):
        welfare.renew_term(db.session, office, later.welfare_post_id, new_end_on=date(2026, 6, 1))
    db.session.rollback()
    welfare.end_term(db.session, office, later.welfare_post_id, note="村里调整")
    db.session.commit()
    ended = db.session.get(Placement, later.id)
    assert (ended.status, ended.end_reason, ended.ended_on) == (PlacementStatus.ENDED, TERM_ENDED_REASON, today)
    assert db.session.get(WelfarePost, later.welfare_post_id).status is PostingStatus.CLOSED
    steps = db.session.scalars(select(WelfareTermStep).order_by(WelfareTermStep.id)).all()
    assert [(s.action, s.placement_id) for s in steps] == [(TermAction.RENEWED, None), (TermAction.ENDED, later.id)]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"term_renewed", "term_ended"} <= actions
    with pytest.raises(ConflictError):
        welfare.end_term(db.session, office, later.welfare_post_id)


def test_the_tick_tells_offices_of_terms_ending_once(factory, today):
    soon = _holding(factory, term_end_on=date(2026, 4, 10))
    office = factory.user("office")
    db.session.commit()
    assert tick_service.run(db.session, today)["welfare_terms_ending"] == 1
    db.session.commit()
    assert tick_service.run(db.session, today)["welfare_terms_ending"] == 0
    db.session.commit()
    message = db.session.scalar(select(Message).where(Message.kind == MessageKind.WELFARE_TERM_ENDING.value))
    assert message.user_id == office.id and message.entity_id == soon.welfare_post_id


# -- no two incomes from one post --------------------------------------------------------------------


def test_a_holder_who_starts_other_work_leaves_the_post_and_a_candidate_is_proposed(app, factory, today):
    holding = _holding(factory)
    laborer = holding.laborer
    opening = factory.opening(slots=1, start_on=date(2026, 3, 25))
    waiting = factory.laborer(factory.household(), name="下一户劳动力")  # a poor household without work
    office = factory.user("office")
    db.session.commit()
    offer = offers.make_offer(db.session, office, laborer.id, "opening", opening.id, _config(app), rematch=True)
    offers.transition(db.session, office, offer.id, "accepted")
    offers.transition(db.session, office, offer.id, "working")
    db.session.commit()
    ended = db.session.get(Placement, holding.id)
    assert (ended.status, ended.end_reason, ended.ended_on) == (PlacementStatus.ENDED, OTHER_WORK_REASON, today)
    message = db.session.scalar(select(Message).where(Message.kind == MessageKind.WELFARE_POST_VACATED.value))
    assert message.user_id == office.id and message.entity_id == holding.welfare_post_id
    assert message.params["laborer"] == laborer.name and message.params["candidate"] == waiting.name
    # The tick finds nothing more to do: the holding is ended already.
    assert tick_service.run(db.session, today)["welfare_other_work"] == 0


def test_the_tick_ends_a_holding_whose_holder_was_set_working_elsewhere_by_any_path(factory, today):
    holding = _holding(factory)
    opening = factory.opening()
    db.session.add(
        Placement(
            laborer_id=holding.laborer_id,
            household_id=holding.household_id,
            opening_id=opening.id,
            status="working",
            started_on=date(2026, 3, 1),
        )
    )
    factory.user("office")
    db.session.commit()
    office = factory.user("office")
    assert [p.id for p in welfare.flags(db.session, office, today).working_elsewhere] == [holding.id]
    assert tick_service.run(db.session, today)["welfare_other_work"] == 1
    db.session.commit()
    assert db.session.get(Placement, holding.id).status is PlacementStatus.ENDED
    assert tick_service.run(db.session, today)["welfare_other_work"] == 0
    assert welfare.flags(db.session, office, today).working_elsewhere == []


# -- flags -------------------------------------------------------------------------------------------


def test_flags_holders_past_the_age_limit_and_households_with_two_posts(factory, today):
    old = _holding(factory, max_age=60)  # the factory's laborer was born in 1962: 64 on TODAY
    young = _holding(factory, max_age=70)
    office = factory.user("office")
    db.session.commit()
    found = welfare.flags(db.session, office, today)
    assert [(p.id, age, limit) for p, age, limit in found.over_age] == [(old.id, 64, 60)]
    assert found.two_posts == []
    # The database refuses a second post for one household; with its index dropped, the check still sees it.
    db.session.execute(text("DROP INDEX uq_placement_household_welfare"))
    try:
        second = factory.welfare_post()
        db.session.add(
            Placement(
                laborer_id=young.laborer_id,
                household_id=young.household_id,
                welfare_post_id=second.id,
                status="working",
                started_on=date(2026, 2, 1),
            )
        )
        db.session.flush()
        found = welfare.flags(db.session, office, today)
        assert [(h.id, sorted(p.id for p in held)) for h, held in found.two_posts] == [
            (young.household_id, sorted([young.id, found.two_posts[0][1][1].id]))
        ]
        assert all(p.household_id == young.household_id for p in found.two_posts[0][1])
    finally:
        db.session.rollback()  # the DROP INDEX too: DDL is transactional on SQLite and PostgreSQL


def _config(app):
    from web.services.convert import matcher_config

    return matcher_config(app.config)
