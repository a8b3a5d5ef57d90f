"""/api/v1/post-requests and /api/v1/offers/waiting (issue 13, parts 1 and 2): receipts recorded and listed
oldest first within scope, refusals by offices only with a reason, bad input named by field; waiting offers
with their deadline, soonest first."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests.conftest import OFFERED_ON, freeze_day
from web.extensions import db
from web.models import AuditEvent, PostRequest


def test_a_cadre_records_and_lists_requests_oldest_first_and_an_office_refuses(
    client, factory, cadre, office, monkeypatch
):
    freeze_day(monkeypatch, date(2026, 5, 20))
    (_, cadre_h), (_, office_h) = cadre, office
    young, old = factory.laborer(), factory.laborer()
    db.session.commit()
    made = client.post("/api/v1/post-requests", json={"laborer_id": young.id, "note": "腿脚不便"}, headers=cadre_h)
    assert made.status_code == 201, made.json
    assert made.json["receipt_no"] == "141030-2026-00001" and made.json["due_on"] == "2026-06-04"
    older = client.post(
        "/api/v1/post-requests", json={"laborer_id": old.id, "requested_on": "2026-04-01"}, headers=cadre_h
    )
    assert older.json["is_overdue"] is True and older.json["status"] == "pending"
    listed = client.get("/api/v1/post-requests", headers=office_h)
    assert [r["receipt_no"] for r in listed.json["items"]] == ["141030-2026-00002", "141030-2026-00001"]
    assert [r["id"] for r in client.get("/api/v1/post-requests?overdue=true", headers=cadre_h).json["items"]] == [
        older.json["id"]
    ]
    assert (
        client.post(
            f"/api/v1/post-requests/{older.json['id']}/refuse", json={"reason": "x"}, headers=cadre_h
        ).status_code
        == 403
    )
    refused = client.post(
        f"/api/v1/post-requests/{older.json['id']}/refuse", json={"reason": "已有公益岗位"}, headers=office_h
    )
    assert refused.status_code == 200
    assert (refused.json["status"], refused.json["is_on_time"], refused.json["refusal_reason"]) == (
        "refused",
        False,
        "已有公益岗位",
    )
    again = client.post(f"/api/v1/post-requests/{older.json['id']}/refuse", json={"reason": "y"}, headers=office_h)
    assert again.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "list")) >= 2


def test_bad_input_is_refused_by_field_and_writes_nothing(client, factory, cadre, office):
    (_, cadre_h), (_, office_h) = cadre, office
    laborer = factory.laborer()
    db.session.commit()
    future = (date.today() + timedelta(days=30)).isoformat()
    cases = [
        ({"laborer_id": laborer.id, "requested_on": future}, 422, "requested_on"),
        ({"laborer_id": laborer.id, "requested_on": "2026-13-01"}, 422, "requested_on"),
        ({"requested_on": "2026-01-01"}, 422, "laborer_id"),
        ({"laborer_id": 999_999}, 404, None),
        ({"laborer_id": laborer.id, "note": "长" * 501}, 422, "note"),
    ]
    for body, status, field in cases:
        answer = client.post("/api/v1/post-requests", json=body, headers=cadre_h)
        assert answer.status_code == status, (body, answer.json)
        if field:
            assert field in str(answer.json), answer.json
    made = client.post("/api/v1/post-requests", json={"laborer_id": laborer.id}, headers=cadre_h).json
    no_reason = client.post(f"/api/v1/post-requests/{made['id']}/refuse", json={"reason": ""}, headers=office_h)
    assert no_reason.status_code == 422 and "reason" in str(no_reason.json)
    assert db.session.scalar(select(func.count()).select_from(PostRequest)) == 1


def test_employers_read_no_requests(client, employer):
    _, header = employer
    assert client.get("/api/v1/post-requests", headers=header).status_code == 403


def test_waiting_offers_carry_their_deadline_and_the_half_way_mark(client, waiting_offer, api_token, monkeypatch):
    header = api_token(waiting_offer["employer_user"])
    freeze_day(monkeypatch, OFFERED_ON + timedelta(days=1))
    (early,) = client.get("/api/v1/offers/waiting", headers=header).json
    assert early["answer_by"] == (OFFERED_ON + timedelta(days=7)).isoformat() and early["offered_at"]
    assert early["is_half_way"] is False
    freeze_day(monkeypatch, OFFERED_ON + timedelta(days=5))
    (late,) = client.get("/api/v1/offers/waiting", headers=header).json
    assert late["is_half_way"] is True
    placement = client.get(f"/api/v1/placements/{late['id']}", headers=header).json
    assert placement["answer_by"] == late["answer_by"] and placement["decline_reason"] is None
