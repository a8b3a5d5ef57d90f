"""Pages of the answer clocks and the requests for welfare posts (issue 13, parts 1 and 2), in zh and en:
employers see waiting offers with deadlines (past half-way highlighted), cadres see waiting and lapsed offers,
a cadre records a request and gets its receipt, an office lists requests oldest first and refuses one, the
dashboard shows answer rates and the share of requests answered on time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import OFFERED_ON, freeze_day
from web.extensions import db
from web.models import AuditEvent, PostRequest, PostRequestStatus
from web.services import post_requests
from web.services import tick as tick_service


@pytest.mark.parametrize(("lang", "words"), [("zh", "提醒：请尽快答复"), ("en", "Reminder: please answer soon")])
def test_the_employer_home_lists_waiting_offers_with_their_deadline(
    client, login, waiting_offer, monkeypatch, lang, words
):
    login(waiting_offer["employer_user"])
    client.get(f"/lang/{lang}")
    answer_by = (OFFERED_ON + timedelta(days=7)).isoformat()
    early = client.get("/employer/").get_data(as_text=True)
    assert answer_by in early and waiting_offer["laborer"].name in early and words not in early
    freeze_day(monkeypatch, OFFERED_ON + timedelta(days=5))
    late = client.get("/employer/").get_data(as_text=True)
    assert 'class="half-way"' in late and words in late


@pytest.mark.parametrize(("lang", "words"), [("zh", "可以重新匹配"), ("en", "may be matched again")])
def test_the_cadre_home_shows_waiting_then_lapsed_offers(client, login, waiting_offer, monkeypatch, lang, words):
    login(waiting_offer["cadre"])
    client.get(f"/lang/{lang}")
    waiting = client.get("/cadre/").get_data(as_text=True)
    assert (OFFERED_ON + timedelta(days=7)).isoformat() in waiting and words not in waiting
    tick_service.run(db.session, OFFERED_ON + timedelta(days=8))
    db.session.commit()
    freeze_day(monkeypatch, OFFERED_ON + timedelta(days=8))
    lapsed = client.get("/cadre/").get_data(as_text=True)
    assert words in lapsed and ("到期无人应答" if lang == "zh" else "no answer in time") in lapsed


def test_a_cadre_records_a_request_and_gets_a_printable_receipt(client, login, factory, monkeypatch):
    freeze_day(monkeypatch, date(2026, 4, 1))
    cadre = factory.user("cadre")
    laborer = factory.laborer()
    login(cadre)
    form = client.get(f"/cadre/laborers/{laborer.id}/post-request")
    assert form.status_code == 200 and "2026-04-01" in form.get_data(as_text=True)
    refused = client.post(f"/cadre/laborers/{laborer.id}/post-request", data={"requested_on": "2026-05-01"})
    assert refused.status_code == 422 and "申请日期不能晚于今天" in refused.get_data(as_text=True)
    made = client.post(
        f"/cadre/laborers/{laborer.id}/post-request", data={"requested_on": "2026-03-30", "note": "独居"}
    )
    assert made.status_code == 302
    receipt = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "141030-2026-00001" in receipt and "2026-04-14" in receipt and "回执" in receipt and "独居" in receipt
    twice = client.post(f"/cadre/laborers/{laborer.id}/post-request", data={"requested_on": "2026-03-31"})
    assert twice.status_code == 422 and "该户已有一件待答复的公益岗位申请" in twice.get_data(as_text=True)
    row = db.session.scalar(select(PostRequest))
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "post_request", AuditEvent.action == "read")
    ).all()
    assert row.note == "独居" and len(reads) == 1 and reads[0].user_id == cadre.id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_office_sees_requests_by_age_and_refuses_one_with_a_reason(client, login, factory, monkeypatch, lang):
    freeze_day(monkeypatch, date(2026, 4, 1))
    cadre, office = factory.user("cadre"), factory.user("office")
    recent = post_requests.record_request(db.session, cadre, factory.laborer().id)
    old = post_requests.record_request(db.session, cadre, factory.laborer().id, requested_on=date(2026, 3, 1))
    db.session.commit()
    login(office)
    client.get(f"/lang/{lang}")
    listed = client.get("/office/post-requests").get_data(as_text=True)
    assert listed.index(old.receipt_no) < listed.index(recent.receipt_no)
    assert 'class="overdue"' in listed and ("已逾期" if lang == "zh" else "overdue") in listed
    assert client.get("/office/post-requests?overdue=1").get_data(as_text=True).count("141030-2026-") == 1
    empty = client.post(f"/office/post-requests/{old.id}/refuse", data={"reason": ""})
    assert empty.status_code == 422
    done = client.post(f"/office/post-requests/{old.id}/refuse", data={"reason": "该户已有务工收入"})
    assert done.status_code == 302
    db.session.refresh(old)
    assert old.status is PostRequestStatus.REFUSED and old.answered_by_id == office.id
    page = client.get(f"/office/post-requests/{old.id}").get_data(as_text=True)
    assert "该户已有务工收入" in page and ("超期" if lang == "zh" else "late") in page


def test_the_dashboard_shows_answer_rates_and_requests_answered_on_time(client, login, waiting_offer, factory):
    tick_service.run(db.session, OFFERED_ON + timedelta(days=8))
    db.session.commit()
    login(waiting_offer["office"])
    client.get("/lang/en")
    body = client.get("/dashboard").get_data(as_text=True)
    assert "How employers answer offers" in body and waiting_offer["opening"].employer.name in body
    assert "0.0 %" in body  # one offer, lapsed: nobody answered it
    assert "answered on time" in body
