"""Bulk import of laborers: template, preview with row errors, all-or-nothing commit, refusals."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.web.import_rows import HEADERS, import_row
from web.extensions import db
from web.models import Household, Laborer
from web.services.imports import COLUMNS


def csv_bytes(rows, encoding="utf-8"):
    lines = [",".join(HEADERS)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def row(factory, code="141030100201-8001", **kw):
    return import_row(factory, code, **kw)


def upload(client, data, name="laborers.csv"):
    return client.post(
        "/cadre/import",
        data={"upload": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_template_has_chinese_headers(client, factory, login):
    login(factory.user("cadre"))
    response = client.get("/cadre/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == HEADERS


def test_preview_then_commit_imports_every_row(client, factory, login):
    login(factory.user("cadre"))
    data = csv_bytes([row(factory), row(factory, 姓名="赵三")])
    preview = upload(client, data)
    page = preview.get_data(as_text=True)
    assert "All 2 rows are correct" in page and count(Laborer) == 0
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post("/cadre/import/commit", data={"token": token})
    assert done.status_code == 302
    assert count(Laborer) == 2 and count(Household) == 1
    # The page it leads to lists what was imported: each laborer by name, linked, and the new household.
    page = client.get(done.location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Laborers imported (2)" in page
    for laborer in db.session.scalars(select(Laborer)):
        assert f'href="/cadre/laborers/{laborer.id}">{laborer.name}</a>' in page
    household = db.session.scalars(select(Household)).one()
    assert f'href="/cadre/households/{household.id}">{household.code} 赵大</a>' in page


def test_row_errors_are_listed_and_nothing_is_saved(client, factory, login):
    login(factory.user("cadre"))
    data = csv_bytes([row(factory), row(factory, 身份证号="123"), row(factory, 劳动能力="超人")])
    page = upload(client, data).get_data(as_text=True)
    assert "2 of 3 rows have errors" in page
    assert "Row 3" in page and "18" in page and "Row 4" in page and "超人" in page
    assert "Import all rows" not in page
    assert count(Laborer) == 0 and count(Household) == 0


def test_commit_is_all_or_nothing(client, factory, login):
    login(factory.user("cadre"))
    number = factory.id_number()
    page = upload(client, csv_bytes([row(factory, 身份证号=number)])).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    factory.laborer(id_number=number)  # someone registers the same person meanwhile
    db.session.commit()
    response = client.post("/cadre/import/commit", data={"token": token}, headers={"Accept-Language": "en"})
    assert "Nothing was imported" in response.get_data(as_text=True)
    assert count(Household) == 1  # only the factory's


def test_refuses_formulas_non_utf8_and_too_many_rows(client, factory, login):
    login(factory.user("cadre"))
    book = Workbook()
    book.active.append(HEADERS)
    book.active.append(["=1+1"] + row(factory)[1:])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, out.getvalue(), "laborers.xlsx")
    assert response.status_code == 422 and "formula" in response.get_data(as_text=True)
    response = upload(client, csv_bytes([row(factory)], encoding="gb18030"))
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)
    # Only the required columns, so that the body stays small (the test client spools big ones).
    big = ("户编号,姓名,身份证号,劳动能力,就业意向\n" + "c,n,1,弱劳力,本地\n" * 5001).encode()
    response = upload(client, big)
    assert response.status_code == 422 and "more than 5000 rows" in response.get_data(as_text=True)
    refused = upload(client, b"x", "laborers.txt")
    assert refused.status_code == 422 and "error-text" in refused.get_data(as_text=True)
    assert count(Laborer) == 0


def test_a_failure_injected_mid_import_leaves_nothing_written(app, client, factory, login, monkeypatch):
    from web.services import registry

    login(factory.user("cadre"))
    data = csv_bytes([row(factory), row(factory, 姓名="赵三"), row(factory, 姓名="赵四")])
    page = upload(client, data).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    households_before, laborers_before = count(Household), count(Laborer)
    real_create = registry.create_laborer
    calls = []

    def dies_on_the_third_row(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # two laborers are already flushed when the process dies
            raise RuntimeError("injected: the worker died mid-import")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(registry, "create_laborer", dies_on_the_third_row)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/cadre/import/commit", data={"token": token})
    assert response.status_code == 500 and len(calls) == 3
    db.session.rollback()
    assert (count(Household), count(Laborer)) == (households_before, laborers_before)


# -- issue 11, part 7: imports for real offices -------------------------------------------------------


def xlsx_bytes(rows, headers=HEADERS):
    book = Workbook()
    book.active.append(headers)
    for values in rows:
        book.active.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_row_with_three_errors_reports_all_three_at_once(client, factory, login):
    login(factory.user("cadre"))
    bad_id = factory.id_number()[:17] + "0"
    bad_id = bad_id if bad_id != factory.id_number() else bad_id[:17] + "1"
    data = xlsx_bytes([row(factory, 身份证号=bad_id[:17] + "Y", 手机号="12345", 劳动能力="超人")])
    page = upload(client, data, "laborers.xlsx").get_data(as_text=True)
    errors = page[page.index("Row 2</strong>") : page.index("</li>", page.index("Row 2</strong>"))]
    assert "ID number — only digits, with X allowed as the last character" in errors
    assert "Phone — not a phone number" in errors
    assert "Physical ability — unknown value “超人”" in errors
    assert count(Laborer) == 0 and count(Household) == 0


def test_a_new_household_error_and_the_laborers_errors_come_together(client, factory, login):
    login(factory.user("cadre"))
    data = csv_bytes([row(factory, 村代码="141030100299", 手机号="12345")])
    page = upload(client, data).get_data(as_text=True)
    assert "Village code — unknown region" in page and "Phone — not a phone number" in page


def test_the_forms_words_and_the_poverty_registration_terms_are_synonyms(client, factory, login):
    login(factory.user("cadre"))
    words = {
        "普通劳动力": "full",
        "技能劳动力": "full",
        "弱劳动力或半劳动力": "light",
        "丧失劳动力": "none",
        "无劳动力": "none",
        "轻体力": "light",  # the form's own labels (web.labels)
        "中等": "moderate",
        "全劳力": "full",
        "moderate": "moderate",  # the code, and the English label
        "Light": "light",
    }
    rows = [row(factory, 姓名=f"赵{n}", 劳动能力=word) for n, word in enumerate(words)]
    rows.append(row(factory, 姓名="钱一", 就业意向="外出务工", 就业状态="求职中", 工资方式="monthly"))
    page = upload(client, csv_bytes(rows)).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/cadre/import/commit", data={"token": token}).status_code == 302
    saved = dict(db.session.execute(select(Laborer.name, Laborer.physical_ability)).all())
    for n, code in enumerate(words.values()):
        assert saved[f"赵{n}"].value == code
    qian = db.session.scalar(select(Laborer).where(Laborer.name == "钱一"))
    assert (qian.work_area.value, qian.status.value, qian.pay_type.value) == ("migrant", "seeking", "monthly")


def test_the_template_has_dropdowns_and_its_example_row_imports(client, factory, login):
    login(factory.user("cadre"))
    data = client.get("/cadre/import/template.xlsx").data
    book = load_workbook(io.BytesIO(data))
    sheet, options = book["劳动力"], book["选项"]
    assert options.sheet_state == "hidden"
    letters = {name: chr(ord("A") + index) for index, (name, _, _) in enumerate(COLUMNS)}
    found = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        sheet_name, cells = validation.formula1.split("!")
        assert sheet_name == "'选项'"
        first, last = cells.replace("$", "").split(":")
        found[str(validation.sqref).split(":")[0][0]] = [
            options[f"{first[0]}{n}"].value for n in range(2, int(last[1:]) + 1)
        ]
    enumerated = [
        "poverty_status",
        "physical_ability",
        "work_area",
        "pay_type",
        "status",
        "needs_flexible_hours",
        "over_age_confirmed",
    ]
    assert set(found) == {letters[name] for name in enumerated}
    assert found[letters["physical_ability"]][:4] == ["全劳力", "中等", "轻体力", "无劳动能力"]
    assert "弱劳动力或半劳动力" in found[letters["physical_ability"]]
    assert found[letters["poverty_status"]][:3] == ["建档立卡户", "监测户", "非贫困户"]
    assert found[letters["needs_flexible_hours"]] == ["是", "否"]
    # Every example value is one of its column's options, and the example row imports as it is.
    example = [cell.value for cell in sheet[2]]
    for name in enumerated:
        assert example[ord(letters[name]) - ord("A")] in found[letters[name]]
    page = upload(client, data, "laborers-template.xlsx").get_data(as_text=True)
    assert "All 1 rows are correct: 1 laborers, 1 new households" in page, page
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/cadre/import/commit", data={"token": token}).status_code == 302
    assert db.session.scalar(select(Laborer.id_number)) == "141030196203080029"


def test_import_the_valid_rows_returns_the_refused_ones_as_a_workbook(client, factory, login):
    login(factory.user("cadre"))
    good = [row(factory, 姓名="赵三"), row(factory, code="141030100201-8002", 户主姓名="孙大", 姓名="孙二")]
    bad = row(factory, code="141030100201-8003", 户主姓名="周大", 姓名="周二", 身份证号="123", 劳动能力="超人")
    page = upload(client, xlsx_bytes([good[0], bad, good[1]]), "laborers.xlsx").get_data(as_text=True)
    assert "1 of 3 rows have errors" in page and "Import the 2 valid rows" in page
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    # Without asking, it stays all or nothing.
    refused = client.post("/cadre/import/commit", data={"token": token}, headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and count(Laborer) == 0
    done = client.post("/cadre/import/commit", data={"token": token, "mode": "valid"})
    assert done.status_code == 302
    # Only the valid rows are kept: the refused row's new household is not half-written.
    assert sorted(db.session.scalars(select(Laborer.name))) == ["孙二", "赵三"]
    assert sorted(db.session.scalars(select(Household.head_name))) == ["孙大", "赵大"]
    page = client.get(done.location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 of 3 rows were not imported" in page and ">赵三</a>" in page and ">孙二</a>" in page
    link = re.search(r'href="(/cadre/import/refused/[^"]+\.xlsx)"', page).group(1)
    returned = load_workbook(io.BytesIO(client.get(link).data)).active
    assert [c.value for c in returned[1]] == [*HEADERS, "错误"]
    assert returned.max_row == 2
    values = [c.value for c in returned[2]]
    assert values[HEADERS.index("姓名")] == "周二" and values[HEADERS.index("户编号")] == "141030100201-8003"
    assert "身份证号" in values[-1] and "劳动能力" in values[-1] and "超人" in values[-1]
    # Fixed, the returned workbook uploads again as it is (its error column is ignored).
    returned.cell(row=2, column=HEADERS.index("身份证号") + 1, value=factory.id_number())
    returned.cell(row=2, column=HEADERS.index("劳动能力") + 1, value="中等")
    out = io.BytesIO()
    returned.parent.save(out)
    page = upload(client, out.getvalue(), "fixed.xlsx").get_data(as_text=True)
    assert "All 1 rows are correct" in page


def test_the_done_page_is_only_the_importers(app, client, factory, login):
    login(factory.user("cadre"))
    page = upload(client, csv_bytes([row(factory)])).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post("/cadre/import/commit", data={"token": token})
    other = factory.user("cadre")
    db.session.commit()
    with app.app_context():  # its own g: Flask-Login keeps the logged-in user there
        stranger = app.test_client()
        assert stranger.post("/login", data={"username": other.username, "password": PASSWORD}).status_code == 302
        assert stranger.get(done.location).status_code == 404


def test_the_example_row_is_placed_in_the_cadres_own_village(client, factory, login):
    login(factory.user("cadre", village_codes=["141030101201"]))
    data = client.get("/cadre/import/template.xlsx").data
    example = {
        c.value: v.value
        for c, v in zip(
            load_workbook(io.BytesIO(data))["劳动力"][1], load_workbook(io.BytesIO(data))["劳动力"][2], strict=True
        )
    }
    assert (example["村代码"], example["户编号"]) == ("141030101201", "141030101201-0999")
    page = upload(client, data, "laborers-template.xlsx").get_data(as_text=True)
    assert "All 1 rows are correct" in page
