"""The demo's history after the match: lapsed, answered and waiting offers; requests for welfare posts answered
on time, late, and still open past their due day — enough for every new page to show real content."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from seed.demo import seed_demo
from web.extensions import db
from web.models import NO_ANSWER_REASON, Placement, PlacementStatus, PostRequest, PostRequestStatus, TextMessage
from web.services import offers, post_requests

TODAY = date(2026, 6, 30)


def test_the_demo_seeds_offers_and_requests_of_every_kind_deterministically(app):
    counts = seed_demo(db.session, random_seed=7, today=TODAY)
    db.session.commit()
    assert counts["offers"] == 45 and counts["post_requests"] == 30
    lapsed = db.session.scalar(select(func.count()).where(Placement.decline_reason == NO_ANSWER_REASON))
    waiting = db.session.scalar(select(func.count()).where(Placement.status == PlacementStatus.OFFERED))
    assert lapsed > 0 and waiting > 0
    assert db.session.scalar(select(func.count()).select_from(TextMessage)) > 0  # lapses texted the laborers
    assert all(p.answer_by >= TODAY for p in db.session.scalars(select(Placement).where(Placement.status == "offered")))
    figures = post_requests.figures(db.session, "141030", TODAY)
    assert figures.overdue > 0 and 0 < figures.answered_on_time < figures.answered
    assert db.session.scalar(select(func.count()).where(PostRequest.status == PostRequestStatus.ASSIGNED)) > 0
    assert db.session.scalar(select(func.count()).where(PostRequest.status == PostRequestStatus.REFUSED)) > 0
    receipts = db.session.scalars(select(PostRequest).order_by(PostRequest.requested_on, PostRequest.id)).all()
    assert [r.receipt_seq for r in receipts if r.receipt_year == 2026] == list(range(1, 31))
    rates = offers.answer_figures(db.session, "141030")
    assert rates and any(r.median_answer_hours for r in rates) and any(r.lapsed for r in rates)
