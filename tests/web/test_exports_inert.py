"""Exports never carry a live formula, and the import refuses text a spreadsheet would run (issue 10,
part 5). Every file is opened with openpyxl, as an office's spreadsheet would open it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.web.import_rows import HEADERS, import_row
from web.extensions import db
from web.models import Laborer, Placement
from web.services import reports
from web.spreadsheets import append_row, is_formula_like

#: Text that a spreadsheet would run, or that a cell edit would turn into a formula.
HOSTILE = ['=HYPERLINK("http://x","y")', " =1+1", "+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1"]
#: The same as read back: XML turns a carriage return into a line feed.
READ_BACK = [value.replace("\r", "\n") for value in HOSTILE]


def cells_of(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_inert(data: bytes, expected: list[str]) -> None:
    """No cell is a formula; each hostile text is there as a string, as typed."""
    cells = cells_of(data)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if c.data_type == "s"}
    assert {value.replace("\r", "\n") for value in expected} <= texts
    assert all(c.quotePrefix for c in cells if is_formula_like(c.value))


def test_a_cell_is_inert_text_exactly_when_it_looks_like_a_formula():
    book = Workbook()
    sheet = book.active
    append_row(sheet, [*HOSTILE, -5, 2.5, "安古村", "a=b", "5-3", date(2020, 1, 2), None])
    out = io.BytesIO()
    book.save(out)
    row = next(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())
    assert [c.value for c in row[: len(HOSTILE)]] == READ_BACK
    assert {c.data_type for c in row[: len(HOSTILE)]} == {"s"}
    number, decimal, village, inner, difference, day = row[len(HOSTILE) : len(HOSTILE) + 6]
    assert (number.value, number.data_type) == (-5, "n")  # a negative number stays a number
    assert (decimal.value, decimal.data_type) == (2.5, "n")
    assert not any(c.quotePrefix for c in (village, inner, difference))
    assert day.is_date


def login(client, user) -> None:
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def hostile(factory):
    """Every kind of record an export shows, named by an attacker."""
    shop = factory.employer(kind="workshop", name=HOSTILE[0])
    opening = factory.opening(shop, title=HOSTILE[1])
    batch = factory.batch(title=HOSTILE[2], destination=HOSTILE[3])
    post = factory.welfare_post(title=HOSTILE[4])
    people = []
    for name in HOSTILE:
        household = factory.household(head_name=name)
        people.append(factory.laborer(household, name=name))
        people.append(factory.laborer(factory.household(), name=name))
    targets = [
        {"opening_id": opening.id},
        {"batch_id": batch.id},
        {"welfare_post_id": post.id},
    ]
    for laborer, target in zip(people[1::2], targets * 3, strict=False):
        db.session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                status="working",
                started_on=date.today(),
                **target,
            )
        )
    db.session.commit()
    return {"batch": batch, "employer": shop}


@pytest.mark.parametrize("name", reports.REPORTS)
def test_every_report_export_is_inert(client, factory, hostile, name):
    """Each report's file; all but the monthly counts show names the attacker chose."""
    login(client, factory.user("office"))
    response = client.get(f"/reports/{name}.xlsx")
    assert response.status_code == 200
    cells = cells_of(response.data)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    shown = [c for c in cells if isinstance(c.value, str) and is_formula_like(c.value)]
    assert bool(shown) == (name != "placements-by-channel")
    assert all(c.data_type == "s" and c.quotePrefix and c.value in READ_BACK for c in shown)


def test_passenger_manifest_is_inert(client, factory, hostile):
    user = factory.user("employer", employer_id=hostile["batch"].employer_id)
    login(client, user)
    response = client.get(f"/employer/batches/{hostile['batch'].id}/manifest.xlsx")
    assert response.status_code == 200
    riders = db.session.scalars(
        select(Laborer.name).join(Placement).where(Placement.batch_id == hostile["batch"].id)
    ).all()
    assert_inert(response.data, [HOSTILE[2], HOSTILE[3], *riders])


def test_import_template_is_inert(client, factory):
    login(client, factory.user("cadre"))
    response = client.get("/cadre/import/template.xlsx")
    assert [c.coordinate for c in cells_of(response.data) if c.data_type == "f"] == []


def sheet_row(factory, **kw) -> list[str]:
    return import_row(factory, **kw)


def upload(client, data: bytes, name: str):
    return client.post("/cadre/import", data={"upload": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_import_refuses_formula_like_text_naming_row_and_column(client, factory, kind, value):
    login(client, factory.user("cadre"))
    rows = [sheet_row(factory), sheet_row(factory, 户编号="141030100201-8002", 技能=value)]
    if kind == "xlsx":
        book = Workbook()
        for row in [HEADERS, *rows]:
            book.active.append(row)
        book.active["I3"].data_type = "s"  # typed text, not a formula openpyxl would write
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
    else:
        data = "\n".join(",".join(f'"{v}"' for v in row) for row in [HEADERS, *rows]).encode()
    response = upload(client, data, f"laborers.{kind}")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 3 行 I（技能） 列含有公式" in text  # the page's language: Chinese
    assert db.session.scalar(select(func.count()).select_from(Laborer)) == 0


def test_import_refuses_a_real_formula_cell(client, factory):
    login(client, factory.user("cadre"))
    book = Workbook()
    book.active.append(HEADERS)
    book.active.append(sheet_row(factory))
    book.active["K2"] = "=4+4"  # 最远通勤公里 as a formula
    out = io.BytesIO()
    book.save(out)
    response = upload(client, out.getvalue(), "laborers.xlsx")
    assert response.status_code == 422
    assert "第 2 行 K（最远通勤公里） 列含有公式" in response.get_data(as_text=True)
