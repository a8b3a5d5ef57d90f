"""Welfare posts month by month through the pages and the API (issue 13, part 3): the cadre's attendance form
and XLSX sheet (all or nothing, complaints naming row and column, in the page's language), the office's
payroll page and XLSX (sums equal to direct SQL, no formulas), terms, flags and the re-assignment page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from tests.conftest import freeze_day
from web.extensions import db
from web.models import Placement, PlacementEvent, WelfareAttendance, WelfarePost, WelfareTermStep

TODAY = date(2026, 3, 20)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def holders(factory, monkeypatch):
    """Two holders in 安古村 (the cadre's village), one in 曲峨村 (another township), a cadre and an office."""
    freeze_day(monkeypatch, TODAY)
    made = []
    for village, stipend in (("141030100201", 60000), ("141030100201", 80000), ("141030101201", 50000)):
        household = factory.household(village)
        laborer = factory.laborer(household)
        post = factory.welfare_post(region_code=village, stipend_cents=stipend, term_start_on=date(2026, 1, 1))
        row = Placement(
            laborer_id=laborer.id,
            household_id=household.id,
            welfare_post_id=post.id,
            status="working",
            started_on=date(2026, 1, 5),
            events=[PlacementEvent(to_status="working")],
        )
        db.session.add(row)
        made.append(row)
    db.session.flush()
    return {"rows": made, "cadre": factory.user("cadre"), "office": factory.user("office")}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(WelfareAttendance))


def test_the_cadre_records_a_villages_month_on_one_page(client, login, holders):
    a, b, _other = holders["rows"]
    login(holders["cadre"])
    page = client.get("/cadre/attendance?month=2026-02")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and a.laborer.name in body and b.laborer.name in body
    assert _other.laborer.name not in body
    saved = client.post("/cadre/attendance?month=2026-02", data={f"days_{a.id}": "20", f"days_{b.id}": "10"})
    assert saved.status_code == 302
    due = dict(db.session.execute(select(WelfareAttendance.placement_id, WelfareAttendance.due_cents)).all())
    assert due == {a.id: 60000, b.id: 40000}  # February 2026: 20 working days


@pytest.mark.parametrize(("lang", "words"), [("zh", "0 到 20"), ("en", "from 0 to 20")])
def test_a_wrong_day_count_saves_nothing_and_says_so_in_the_page_language(client, login, holders, lang, words):
    a, b, _other = holders["rows"]
    login(holders["cadre"])
    client.get(f"/lang/{lang}")
    refused = client.post("/cadre/attendance?month=2026-02", data={f"days_{a.id}": "20", f"days_{b.id}": "21"})
    assert refused.status_code == 422
    assert words in refused.get_data(as_text=True)
    assert _count() == 0
    assert client.get("/cadre/attendance?month=2026-13").status_code == 422
    assert client.get("/cadre/attendance?village=141030101201").status_code == 404


def test_the_sheet_round_trips_and_a_wrong_row_is_named_by_row_and_column(client, login, holders):
    a, b, _other = holders["rows"]
    login(holders["cadre"])
    sheet = client.get("/cadre/attendance/sheet.xlsx?month=2026-02")
    assert sheet.status_code == 200 and sheet.mimetype == XLSX
    book = load_workbook(io.BytesIO(sheet.data))
    rows = list(book.active.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == [a.id, b.id] and [r[3].value for r in rows] == [20, 20]
    rows[0][4].value, rows[1][4].value = 18, 25  # the second is more than the days expected
    out = io.BytesIO()
    book.save(out)
    client.get("/lang/en")
    refused = client.post(
        "/cadre/attendance/import?month=2026-02", data={"upload": (io.BytesIO(out.getvalue()), "march.xlsx")}
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "row 3, column E" in body
    assert _count() == 0
    rows[1][4].value = 19
    out = io.BytesIO()
    book.save(out)
    done = client.post(
        "/cadre/attendance/import?month=2026-02", data={"upload": (io.BytesIO(out.getvalue()), "march.xlsx")}
    )
    assert done.status_code == 302
    assert dict(db.session.execute(select(WelfareAttendance.placement_id, WelfareAttendance.days_present)).all()) == {
        a.id: 18,
        b.id: 19,
    }
    # A formula in the sheet is refused as a whole.
    rows[0][4].value = "=20"
    out = io.BytesIO()
    book.save(out)
    formula = client.post(
        "/cadre/attendance/import?month=2026-02", data={"upload": (io.BytesIO(out.getvalue()), "march.xlsx")}
    )
    assert formula.status_code == 422 and "formula" in formula.get_data(as_text=True)


def _payroll_sql(month: date) -> tuple[int, int]:
    return db.session.execute(
        text(
            "SELECT COUNT(*), COALESCE(SUM(a.due_cents), 0) FROM welfare_attendance a"
            " JOIN welfare_post p ON p.id = a.welfare_post_id WHERE a.month = :m AND p.region_code LIKE '141030100%'"
        ),
        {"m": month},
    ).one()


def test_the_office_reads_and_downloads_the_payroll(client, login, holders):
    a, b, other = holders["rows"]
    login(holders["office"])
    client.post(
        "/office/attendance?month=2026-02&village=141030100201", data={f"days_{a.id}": "17", f"days_{b.id}": "3"}
    )
    client.post("/office/attendance?month=2026-02&village=141030101201", data={f"days_{other.id}": "20"})
    count, due = _payroll_sql(date(2026, 2, 1))
    assert (count, due) == (2, 51000 + 12000)
    client.get("/lang/en")
    page = client.get("/office/payroll?township=141030100&month=2026-02")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "630.00" in body and other.laborer.name not in body
    workbook = client.get("/office/payroll.xlsx?township=141030100&month=2026-02")
    assert workbook.status_code == 200 and workbook.mimetype == XLSX
    cells = list(load_workbook(io.BytesIO(workbook.data)).active.iter_rows(values_only=True))
    assert cells[1][0] == "在岗编号" and cells[-1][0] == "合计" and cells[-1][9] * 100 == due
    assert all(not str(v).startswith("=") for row in cells for v in row if v is not None)
    assert client.get("/office/payroll?township=141030999").status_code == 404


def test_the_office_renews_a_term_and_reads_flags_and_candidates(client, login, holders):
    a, _b, _other = holders["rows"]
    post = db.session.get(WelfarePost, a.welfare_post_id)
    post.term_end_on = date(2026, 4, 1)
    db.session.commit()
    login(holders["office"])
    terms = client.get("/office/welfare-terms")
    assert terms.status_code == 200 and post.title in terms.get_data(as_text=True)
    assert a.laborer.name in terms.get_data(as_text=True)
    renewed = client.post(
        f"/office/welfare-posts/{post.id}/term", data={"action": "renewed", "new_end_on": "2026-12-31"}
    )
    assert renewed.status_code == 302
    assert db.session.get(WelfarePost, post.id).term_end_on == date(2026, 12, 31)
    assert db.session.scalar(select(WelfareTermStep.by_user_id)) == holders["office"].id
    assert client.get("/office/welfare-flags").status_code == 200
    assert client.get(f"/office/welfare-posts/{post.id}/reassign").status_code == 200
    # The cadre has none of the office's pages.
    client.post("/logout")
    login(holders["cadre"])
    assert client.get("/office/payroll").status_code == 403


def test_the_api_records_attendance_and_answers_the_payroll(client, api_token, holders):
    a, b, _other = holders["rows"]
    cadre = api_token(holders["cadre"])
    put = client.put(
        "/api/v1/welfare-posts/attendance",
        json={"village_code": "141030100201", "month": "2026-02", "days": [{"placement_id": a.id, "days_present": 7}]},
        headers=cadre,
    )
    assert put.status_code == 200, put.json
    assert {r["placement_id"]: r["due_cents"] for r in put.json["rows"]} == {a.id: 21000, b.id: 0}
    bad = client.put(
        "/api/v1/welfare-posts/attendance",
        json={"village_code": "141030100201", "month": "2026-02", "days": [{"placement_id": b.id, "days_present": 30}]},
        headers=cadre,
    )
    assert bad.status_code == 422 and f"days_{b.id}" in str(bad.json)
    assert client.get("/api/v1/welfare-posts/payroll", headers=cadre).status_code == 403
    office = api_token(holders["office"])
    payroll = client.get("/api/v1/welfare-posts/payroll?township=141030100&month=2026-02", headers=office)
    assert payroll.status_code == 200
    count, due = _payroll_sql(date(2026, 2, 1))
    assert payroll.json["totals"] == {
        "holders": 2,
        "days_expected": 40,
        "days_present": 7,
        "due_cents": due,
        "missing": 1,
    }
    assert count == 1
    assert client.get("/api/v1/welfare-posts/terms", headers=office).status_code == 200
    assert client.get("/api/v1/welfare-posts/flags", headers=office).json["over_age"] == []
    step = client.post(f"/api/v1/welfare-posts/{a.welfare_post_id}/term", json={"action": "ended"}, headers=office)
    assert step.status_code == 201 and step.json["placement_id"] == a.id
