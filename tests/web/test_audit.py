"""The audit trail: reads of a person's record, changes, exports, plans and logins are recorded; an
office searches the events of its region's users on /office/audit; nothing can edit an event."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import g
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import AuditEvent, Laborer, Region
from web.services.accounts import AuditTrailError, audit
from web.services.imports import COLUMNS


@pytest.fixture
def page(app):
    """A function: a test client logged in through the form as `user`."""

    def log_in(user):
        db.session.commit()
        client = app.test_client()
        g.pop("_login_user", None)
        assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        return client

    return log_in


def actions(**where) -> list[tuple]:
    db.session.expire_all()
    query = select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.execute(query))


def test_reading_a_persons_record_on_the_pages_is_audited(page, factory):
    laborer = factory.laborer()
    cadre = factory.user("cadre")
    office = factory.user("office")
    client = page(cadre)
    for url in (
        f"/cadre/laborers/{laborer.id}",
        f"/cadre/laborers/{laborer.id}/edit",
        f"/cadre/households/{laborer.household_id}",
        f"/cadre/households/{laborer.household_id}/edit",
    ):
        g.pop("_login_user", None)
        assert client.get(url).status_code == 200, url
    reads = actions(user_id=cadre.id, action="read")
    assert reads == [("read", "laborer", str(laborer.id))] * 2 + [("read", "household", str(laborer.household_id))] * 2
    client = page(office)
    assert client.get(f"/office/laborers/{laborer.id}/welfare").status_code == 200
    assert actions(user_id=office.id, action="read") == [("read", "laborer", str(laborer.id))]


def test_logins_logouts_plans_and_imports_are_audited(page, factory):
    factory.laborer()
    office = factory.user("office")
    client = page(office)
    client.post("/login", data={"username": office.username, "password": "wrong"})
    assert client.post("/office/plans", data={"region_code": "141030", "mode": "greedy"}).status_code == 302
    plan_id = db.session.scalar(select(AuditEvent.entity_id).where(AuditEvent.action == "plan_created"))
    assert client.post(f"/office/plans/{plan_id}/confirm", data={"is_reviewed": "y"}).status_code == 302
    g.pop("_login_user", None)
    client.post("/logout")
    done = [a for a, _, _ in actions(user_id=office.id)]
    assert done[0] == "login" and "plan_created" in done and "plan_confirmed" in done and done[-1] == "logout"
    cadre = factory.user("cadre")
    client = page(cadre)
    book = Workbook()
    values = {
        "户编号": "141030100201-7001",
        "村代码": "141030100201",
        "户主姓名": "赵大",
        "贫困属性": "建档立卡户",
        "姓名": "赵二",
        "身份证号": factory.id_number(),
        "劳动能力": "弱劳力",
        "就业意向": "本地",
    }
    book.active.append([h for _, h, _ in COLUMNS])
    book.active.append([values.get(h, "") for _, h, _ in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    preview = client.post(
        "/cadre/import",
        data={"upload": (out.getvalue() and io.BytesIO(out.getvalue()), "a.xlsx")},
        content_type="multipart/form-data",
    )
    token = preview.get_data(as_text=True).split('name="token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/cadre/import/commit", data={"token": token}).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    laborer = db.session.scalar(select(Laborer).order_by(Laborer.id.desc()).limit(1))  # the imported one
    household = laborer.household
    assert event.user_id == cadre.id and event.detail == {
        "rows": 1,
        "laborers": 1,
        "households": 1,
        "refused": 0,
        "laborer_ids": [laborer.id],
        "household_ids": [household.id],
        "refused_token": None,
    }


def test_office_searches_the_trail_of_its_region(page, factory):
    db.session.merge(
        Region(
            code="1401", name="太原市", level="city", parent_code="14", lat=37.8, lon=112.5, position_source="gazetteer"
        )
    )
    office = factory.user("office")
    cadre = factory.user("cadre", username="anguzhang")
    employer = factory.user("employer", username="chejian")
    stranger = factory.user("office", username="taiyuan", region_code="1401")
    laborer = factory.laborer()
    audit(db.session, "read", user=cadre, entity=laborer, remote_addr="10.0.0.7")
    audit(db.session, "update", user=employer, entity=laborer.household)
    audit(db.session, "read", user=stranger, entity=laborer)
    audit(db.session, "login_failed", username="anguzhang")
    audit(db.session, "login_failed", username="taiyuan")
    db.session.add(
        AuditEvent(
            action="export", user_id=cadre.id, username=cadre.username, at=datetime.now(UTC) - timedelta(days=40)
        )
    )
    db.session.commit()
    client = page(office)
    text = client.get("/office/audit").get_data(as_text=True)
    assert "anguzhang" in text and "chejian" in text and "10.0.0.7" in text and "taiyuan" not in text
    text = client.get("/office/audit?user=anguzhang&action=read&entity=laborer").get_data(as_text=True)
    # Actions are shown by their names in the page's language (登录失败 = login_failed).
    assert "10.0.0.7" in text and "登录失败" not in text.split("<tbody>")[1]
    since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    recent = client.get(f"/office/audit?user=anguzhang&action=export&from={since}").get_data(as_text=True)
    exported = '">导出（身份证号已隐去）</td>'  # a table cell (its column's name in data-label for phones)
    assert exported not in recent
    assert exported in client.get("/office/audit?action=export").get_data(as_text=True)
    # Every action jiuye records can be chosen, by name, even before it happened in this region.
    assert '<option value="export_full_ids">导出（含完整身份证号）</option>' in text
    assert '<option value="already_registered">' in text and '<option value="list">' in text
    assert client.get("/office/audit?from=2024-13-01").status_code == 422
    assert client.get("/office/audit?from=2024-02-01&to=2024-01-01").status_code == 422
    assert page(cadre).get("/office/audit").status_code == 403


def test_an_audit_event_cannot_be_changed_or_deleted(factory):
    written = audit(db.session, "login", user=factory.user("office"))
    db.session.commit()
    event = db.session.get(AuditEvent, written.id)  # audit() writes with Core: the row, not the object it returns
    event.action = "nothing"
    with pytest.raises(AuditTrailError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditTrailError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).action == "login"


# -- reads of many people's records (issue 10 part 3) -----------------------------------------------


def _reads(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_every_list_of_people_is_one_audit_row_naming_filter_count_and_ids(page, factory, api_token, client):
    laborers = [factory.laborer() for _ in range(3)]
    opening = factory.opening()
    cadre = factory.user("cadre")
    office = factory.user("office")
    employer = factory.user("employer", employer_id=opening.employer_id)
    db.session.commit()
    headers = api_token(office)
    for url in (
        "/api/v1/laborers?status=seeking",
        "/api/v1/households?poverty_status=registered_poor",
        "/api/v1/placements",
        f"/api/v1/openings/{opening.id}/candidates?ineligible=5",
    ):
        assert client.get(url, headers=headers).status_code == 200, url
    lists = _reads("list")
    assert [(e.entity_type, e.user_id) for e in lists] == [
        ("laborer", office.id),
        ("household", office.id),
        ("placement", office.id),
    ]
    assert lists[0].detail["filter"] == {"status": "seeking", "page": "1", "per_page": "50"}
    assert lists[0].detail["rows"] == 3 and sorted(lists[0].detail["ids"]) == sorted(row.id for row in laborers)
    [candidates] = _reads("candidates")
    assert candidates.detail["target"] == f"opening {opening.id}" and candidates.detail["rows"] == 3
    pages = page(cadre)
    for url in ("/cadre/laborers?show=seeking", "/cadre/households", "/cadre/placements", "/reports/welfare-roster"):
        g.pop("_login_user", None)
        assert pages.get(url).status_code == 200, url
    mine = [e for e in _reads("list") if e.user_id == cadre.id]
    assert [e.entity_type for e in mine] == ["laborer", "household", "placement"]
    assert mine[0].detail["filter"] == {"show": "seeking", "page": "1"}
    [report] = _reads("report")
    assert report.user_id == cadre.id and report.detail["report"] == "welfare-roster"
    g.pop("_login_user", None)
    assert page(employer).get(f"/employer/openings/{opening.id}").status_code == 200
    assert [e.user_id for e in _reads("candidates")] == [office.id, employer.id]


def test_an_audit_row_names_at_most_so_many_ids(factory):
    from web.services.accounts import AUDIT_MAX_IDS, audit_read

    event = audit_read(db.session, "list", user=factory.user("office"), subject="laborer", ids=list(range(250)))
    assert event.detail["rows"] == 250 and len(event.detail["ids"]) == AUDIT_MAX_IDS


@pytest.mark.app_config(EXISTENCE_REFUSALS_PER_HOUR=2)
def test_already_registered_names_no_village_is_kept_though_refused_and_is_limited(client, factory, api_token):
    taken = factory.laborer(factory.household("141030101201"))  # another village than the cadre's
    household = factory.household()
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre)
    body = {"household_id": household.id, "name": "试探", "physical_ability": "light", "work_area": "local"}
    for _ in range(2):
        refused = client.post("/api/v1/laborers", json={**body, "id_number": taken.id_number}, headers=headers)
        assert refused.status_code == 422 and refused.json["error"]["fields"] == {"id_number": ["已登记过"]}
        assert "曲峨" not in refused.get_data(as_text=True) and "141030101201" not in refused.get_data(as_text=True)
    # The refused requests were rolled back, yet each answer was recorded.
    assert [e.user_id for e in _reads("already_registered")] == [cadre.id, cadre.id]
    # Past the limit every question of existence is refused, whether the number exists or not.
    fresh = client.post(
        "/api/v1/laborers", json={**body, "id_number": factory.id_number(date(1980, 1, 1))}, headers=headers
    )
    assert fresh.status_code == 429 and "id_number" in fresh.json["error"]["fields"]
    again = client.post(
        "/api/v1/households",
        headers=headers,
        json={"code": household.code, "village_code": "141030100201", "head_name": "某", "poverty_status": "non_poor"},
    )
    assert again.status_code == 429 and "code" in again.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Laborer)) == 1
    assert len(_reads("already_registered")) == 2
