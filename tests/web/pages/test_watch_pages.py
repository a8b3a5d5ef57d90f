"""Pages and API of the watch (issue 13, part 5) and of verifications (part 7): the cadre's follow-ups and
visit form, the office's overview by township and the dashboard's counts, verifications recorded and
listed for re-check, the public notice of welfare-post holders without ID numbers, phones or health."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import freeze_day
from web.extensions import db
from web.models import AuditEvent, FollowUp, Message, Placement, Verification
from web.services import tick

DAY = date(2026, 5, 4)


@pytest.fixture
def watched(app, factory, monkeypatch):
    """A household of the cadre's village whose last job ended on DAY, flagged by the tick, now overdue."""
    household = factory.household(head_name="张有田")
    household.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    laborer = factory.laborer(household, name="张小兰", phone="13912340000")
    db.session.add(
        Placement(
            laborer_id=laborer.id,
            household_id=household.id,
            opening_id=factory.opening().id,
            status="ended",
            started_on=DAY - timedelta(days=100),
            ended_on=DAY,
        )
    )
    cadre, office = factory.user("cadre"), factory.user("office")
    db.session.commit()
    tick.run(db.session, DAY)
    db.session.commit()
    freeze_day(monkeypatch, DAY + timedelta(days=20))
    follow_up = db.session.scalar(select(FollowUp))
    return {"household": household, "laborer": laborer, "cadre": cadre, "office": office, "follow_up": follow_up}


@pytest.mark.parametrize(("lang", "words"), [("zh", "最后一名务工人员停工"), ("en", "job ended")])
def test_the_cadre_sees_the_household_under_watch_first_and_records_the_visit(client, login, watched, lang, words):
    login(watched["cadre"])
    client.get(f"/lang/{lang}")
    home = client.get("/cadre/").get_data(as_text=True)
    assert watched["household"].code in home and words in home
    listed = client.get("/cadre/follow-ups?state=overdue").get_data(as_text=True)
    assert watched["household"].code in listed
    url = f"/cadre/follow-ups/{watched['follow_up'].id}"
    assert client.get(url).status_code == 200

    refused = client.post(url, data={"visited_on": "2026-06-30", "outcome": ""})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert ("走访日期不能晚于今天" if lang == "zh" else "a visit cannot be in the future") in body
    assert db.session.get(FollowUp, watched["follow_up"].id).visited_on is None

    saved = client.post(url, data={"visited_on": "2026-05-20", "outcome": "found_work", "note": "已上班", "close": "y"})
    assert saved.status_code == 302
    row = db.session.get(FollowUp, watched["follow_up"].id)
    db.session.refresh(row)
    assert (row.visited_on, row.outcome.value, row.closed_on) == (
        date(2026, 5, 20),
        "found_work",
        DAY + timedelta(days=20),
    )
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "follow_up_closed")) == 1


def test_the_office_overview_and_dashboard_count_by_township(client, login, watched):
    login(watched["office"])
    client.get("/lang/en")
    overview = client.get("/office/follow-ups").get_data(as_text=True)
    assert "昕水镇" in overview and watched["household"].code in overview
    dashboard = client.get("/dashboard?region=141030").get_data(as_text=True)
    assert "Households under watch, by township" in dashboard
    row = dashboard[dashboard.index("Households under watch, by township") :]
    assert "昕水镇" in row[:2000]
    # The counts add up to the records: one open flag, overdue.
    assert '<td class="num" data-label="Open flags">1</td>' in row
    assert '<td class="num" data-label="Overdue follow-ups">1</td>' in row


def test_the_api_lists_and_records_follow_ups_within_scope(client, watched, api_token, factory):
    headers = api_token(watched["cadre"])
    listed = client.get("/api/v1/follow-ups?state=overdue", headers=headers)
    assert listed.status_code == 200
    (item,) = listed.json["items"]
    assert item["household_code"] == watched["household"].code and item["reason"] == "last_worker_ended"
    bad = client.post(f"/api/v1/follow-ups/{item['id']}/visit", json={"outcome": "bogus"}, headers=headers)
    assert bad.status_code == 422 and "outcome" in bad.json["error"]["fields"]
    done = client.post(
        f"/api/v1/follow-ups/{item['id']}/visit",
        json={"outcome": "referred", "visited_on": "2026-05-10"},
        headers=headers,
    )
    assert done.status_code == 200 and done.json["visited_on"] == "2026-05-10" and done.json["closed_on"] is None
    other_cadre = factory.user("cadre", village_codes=["141030100202"])
    db.session.commit()
    hidden = client.get(f"/api/v1/follow-ups/{item['id']}", headers=api_token(other_cadre))
    assert hidden.status_code == 404
    employer = factory.user("employer")
    db.session.commit()
    assert client.get("/api/v1/follow-ups", headers=api_token(employer)).status_code == 403


def test_verifications_are_recorded_listed_when_expired_and_told_once(client, login, watched, api_token):
    laborer, household = watched["laborer"], watched["household"]
    login(watched["cadre"])
    client.get("/lang/zh")
    page = client.post(
        f"/cadre/households/{household.id}/verify",
        data={"fact": f"ability:{laborer.id}", "method": "visit", "verified_on": "2025-10-01", "value": "eligible"},
    )
    assert page.status_code == 302
    row = db.session.scalar(select(Verification))
    assert (row.subject.value, row.value, row.valid_until) == ("ability", "light", date(2026, 4, 1))
    refused = client.post(
        f"/cadre/households/{household.id}/verify", data={"fact": "poverty_status", "method": "", "verified_on": ""}
    )
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Verification)) == 1

    # Expired on 2026-04-01: listed for re-check, on the page and in the API.
    assert laborer.name in client.get("/cadre/verifications").get_data(as_text=True)
    headers = api_token(watched["office"])
    expired = client.get("/api/v1/verifications?expired=true", headers=headers).json
    assert [v["id"] for v in expired["items"]] == [row.id]
    # A fresh one of the same fact replaces it on the list.
    fresh = client.post(
        "/api/v1/verifications",
        json={"subject": "ability", "laborer_id": laborer.id, "method": "document", "verified_on": "2026-05-20"},
        headers=headers,
    )
    assert fresh.status_code == 201 and fresh.json["valid_until"] == "2026-11-20"
    assert client.get("/api/v1/verifications?expired=true", headers=headers).json["items"] == []
    future = client.post(
        "/api/v1/verifications",
        json={
            "subject": "poverty_status",
            "household_id": household.id,
            "method": "registry",
            "verified_on": "2027-01-01",
        },
        headers=headers,
    )
    assert future.status_code == 422 and "verified_on" in future.json["error"]["fields"]


def test_the_tick_tells_of_an_expired_verification_once(app, factory, watched):
    db.session.add(
        Verification(
            subject="poverty_status",
            household_id=watched["household"].id,
            value="registered_poor",
            method="registry",
            verified_on=date(2025, 9, 1),
            valid_until=date(2026, 3, 1),
            verified_by_id=watched["office"].id,
        )
    )
    db.session.commit()
    assert tick.run(db.session, date(2026, 3, 1))["verifications_expired"] == 0
    assert tick.run(db.session, date(2026, 3, 2))["verifications_expired"] == 1
    assert tick.run(db.session, date(2026, 3, 3))["verifications_expired"] == 0
    told = select(func.count()).where(Message.kind == "verification_expired")
    assert db.session.scalar(told) == 2  # the cadre and the office, once


def test_the_public_notice_shows_no_id_number_phone_or_health(client, login, factory, watched):
    post = factory.welfare_post(title="村道保洁", stipend_cents=60000, term_start_on=DAY)
    holder = factory.laborer(name="王公益", phone="13700001111", physical_ability="light")
    db.session.add(
        Placement(
            laborer_id=holder.id,
            household_id=holder.household_id,
            welfare_post_id=post.id,
            status="working",
            started_on=DAY,
        )
    )
    db.session.commit()
    login(watched["office"])
    client.get("/lang/en")
    page = client.get("/reports/welfare-public-notice").get_data(as_text=True)
    assert "王公益" in page and "村道保洁" in page and "600" in page
    download = client.get("/reports/welfare-public-notice.xlsx")
    assert download.status_code == 200
    cells = [
        str(c)
        for row in load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert (
        "王公益" in cells and "村道保洁" in cells and 600 in [float(c) for c in cells if c.replace(".", "").isdigit()]
    )
    for secret in (holder.id_number, holder.id_number[-4:], holder.phone, holder.phone[-4:]):
        assert not any(secret in c for c in cells) and secret not in page, secret
    # No health or ability detail either: the sheet's columns are fixed.
    assert not any(word in cells for word in ("light", "轻", "轻体力"))
    headers = [c for c in next(load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))]
    assert headers == ["乡镇", "村", "姓名", "岗位", "类型", "月补贴（元）", "上岗日期"]
