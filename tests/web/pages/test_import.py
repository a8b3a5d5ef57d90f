"""Bulk import of laborers: template, preview with row errors, all-or-nothing commit, refusals."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from web.extensions import db
from web.models import Household, Laborer
from web.services.imports import COLUMNS

HEADERS = [header for _, header, _ in COLUMNS]


def csv_bytes(rows, encoding="utf-8"):
    lines = [",".join(HEADERS)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def row(factory, code="141030100201-8001", **kw):
    values = {
        "户编号": code,
        "村代码": "141030100201",
        "户主姓名": "赵大",
        "贫困属性": "建档立卡户",
        "姓名": "赵二",
        "身份证号": factory.id_number(),
        "手机号": "",
        "劳动能力": "弱劳力",
        "技能": "",
        "就业意向": "本地",
        "最远通勤公里": "8",
        "意向工种": "packaging",
        "工资方式": "计件",
        "需要弹性工时": "是",
        "就业状态": "求职",
    }
    values.update(kw)
    return [values[h] for h in HEADERS]


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
