"""The fairness report on the plan page, in the plan's XLSX file and on the dashboard; the what-if page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from web.extensions import db
from web.models import AuditEvent, Base, Plan


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def plan(client, factory, login):
    """An optimal plan of Daning: one slot in 安古村 for two seekers there, a man of 68 and a woman in 曲峨村."""
    factory.opening(slots=1, min_age=18, max_age=60)
    factory.laborer(birth_on=date(1988, 1, 1))
    factory.laborer(birth_on=date(1990, 1, 1))
    factory.laborer(factory.household(poverty_status="non_poor"), birth_on=date(1958, 1, 1), sex="M")
    factory.laborer(factory.household("141030101201"), birth_on=date(1972, 1, 1))
    login(factory.user("office"))
    assert client.post("/office/plans", data={"region_code": "141030", "mode": "optimal"}).status_code == 302
    return db.session.scalar(select(Plan))


def test_the_plan_page_shows_who_the_plan_helps_in_both_languages(client, plan):
    en = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Fairness: who this plan helps" in en
    for words in ("By sex", "By age", "By village", "By poverty status", "By physical ability", "60 and over"):
        assert words in en
    assert "曲峨村" in en and "not poor" in en and "female" in en
    assert "▼" in en and 'class="num below"' in en  # the man of 68 and 曲峨村 are placed at none of the rate
    zh = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "按性别" in zh and "60岁及以上" in zh and "女" in zh


def test_the_plans_xlsx_carries_the_report_and_both_breakdowns_in_chinese(client, plan):
    response = client.get(f"/office/plans/{plan.id}/report.xlsx", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["计划报告", "公平性", "公平性（手工基线）"]
    report = {row[0]: row[1:] for row in book["计划报告"].iter_rows(values_only=True)}
    assert report["安置劳动力"][0] == plan.report["placed"] == 1
    rows = list(book["公平性"].iter_rows(values_only=True))
    assert rows[0][:4] == ("维度", "群体", "劳动力", "已安置")
    by_group = {(r[0], r[1]): r for r in rows[1:]}
    assert by_group[("全部", "全部")][2:4] == (4, 1)
    old = by_group[("按年龄", "60岁及以上")]
    assert old[2:4] == (1, 0) and old[5] == "0.00" and old[-1] == "是"
    assert by_group[("按村", "曲峨村")][2] == 1
    assert all(not (isinstance(c, str) and c.startswith("=")) for r in rows for c in r)


def test_what_if_page_shows_both_runs_and_writes_only_its_audit(client, plan):
    page = client.get(f"/office/plans/{plan.id}/what-if", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "曲峨村 (141030101201)" in page.get_data(as_text=True)
    before = _counts()
    response = client.post(
        f"/office/plans/{plan.id}/what-if",
        data={"workshop_village": "141030101201", "workshop_slots": "3", "commute_extra_km": "0"},
        headers={"Accept-Language": "en"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text
    assert "Today’s records beside your changes" in text and "Fairness, as it is and with your changes" in text
    after = _counts()
    assert after.pop("audit_event") == before.pop("audit_event") + 1 and after == before
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "plan_whatif"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"workshop_slots": "3"}, "choose a place for this number"),
        ({"posts_township": "141030100"}, "give a number for this place"),
        ({"workshop_slots": "0", "workshop_village": "141030101201"}, "Number must be between 1 and 10000"),
        ({}, "add a workshop, a batch, welfare posts or a longer commute limit"),
    ],
)
def test_what_if_refusals_name_the_field_in_the_pages_language(client, plan, data, message):
    before = _counts()
    response = client.post(f"/office/plans/{plan.id}/what-if", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _counts() == before
    zh = client.post(f"/office/plans/{plan.id}/what-if", data=data, headers={"Accept-Language": "zh"})
    assert zh.status_code == 422 and message not in zh.get_data(as_text=True)


def test_the_dashboard_shows_the_county_breakdown_and_asks_for_a_county_above_it(client, factory, login):
    factory.laborer(sex="M")
    login(factory.user("office", region_code="1410"))
    en = client.get("/dashboard?region=141030", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Fairness: who is at work" in en and "Households with someone at work" in en and "male" in en
    city = client.get("/dashboard?region=1410", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Choose a county or a smaller region" in city and "Households with someone at work" not in city
