"""The catalogue of hostile and mistaken input (issue 5, part 5): each case answers a clear 4xx that
names the field, and writes nothing. The API answers in its one JSON error format; the pages put the
complaint next to the field and answer 422; the import refuses the file or lists the rows."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from flask import g
from flask_babel import refresh
from openpyxl import Workbook
from sqlalchemy import func, select
from stdnum.cn import ric

from tests.conftest import PASSWORD
from tests.web.import_rows import HEADERS, import_row
from web.extensions import db
from web.models import Household, Laborer, Opening, TransportBatch, WelfarePost


def _id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


GOOD_ID = _id("14263319620308002")
BAD_CHECKSUM = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")
IMPOSSIBLE_BIRTH = _id("14263319620230002")  # 30 February
FUTURE = date.today() + timedelta(days=400)
FUTURE_BIRTH = _id(f"142633{FUTURE:%Y%m%d}002")


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def refused(response, field: str, status: int = 422) -> None:
    """The API's one error format, with this status, naming the field."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["status"] == status and field in error["fields"], error


@pytest.fixture
def people(factory, api_token):
    """A cadre of 安古村 with one household, a household of 白村, an employer and an office."""
    household = factory.household()
    other = factory.household("141030100202")
    cadre = factory.user("cadre")
    employer = factory.user("employer")
    office = factory.user("office")
    db.session.commit()
    return {
        "household": household.id,
        "other_household": other.id,
        "cadre": api_token(cadre),
        "employer": api_token(employer),
        "office": api_token(office),
        "users": {"cadre": cadre, "employer": employer, "office": office},
    }


def laborer_body(household_id: int, changes: dict | None = None) -> dict:
    body = {
        "household_id": household_id,
        "name": "张桂花",
        "id_number": GOOD_ID,
        "phone": "13912345678",
        "physical_ability": "light",
        "work_area": "local",
    }
    body.update(changes or {})
    return {k: v for k, v in body.items() if v is not ...}


LABORER_CASES = {
    "bad ID checksum": ({"id_number": BAD_CHECKSUM}, "id_number"),
    "impossible birth date": ({"id_number": IMPOSSIBLE_BIRTH}, "id_number"),
    "future birth date": ({"id_number": FUTURE_BIRTH}, "id_number"),
    "birth date disagrees with the ID": ({"birth_on": "1970-01-01"}, "id_number"),
    "15-digit ID": ({"id_number": "142633620308002"}, "id_number"),
    "latitude out of range": ({"lat": 95.0, "lon": 110.7}, "lat"),
    "longitude out of range": ({"lat": 36.4, "lon": 181.0}, "lon"),
    "position outside China": ({"lat": 48.85, "lon": 2.35}, "lon"),
    "latitude without longitude": ({"lat": 36.4}, "lon"),
    "unknown ability": ({"physical_ability": "strong"}, "physical_ability"),
    "unknown work area": ({"work_area": "moon"}, "work_area"),
    "household id as text": ({"household_id": "abc"}, "household_id"),
    "commute as text": ({"max_commute_km": "far"}, "max_commute_km"),
    "commute of 0 km": ({"max_commute_km": 0}, "max_commute_km"),
    "skills not a list": ({"skills": "sewing"}, "skills"),
    "bad phone": ({"phone": "12345"}, "phone"),
    "missing name": ({"name": ...}, "name"),
    "missing ID number": ({"id_number": ...}, "id_number"),
    "empty name": ({"name": ""}, "name"),
}


@pytest.mark.parametrize("case", list(LABORER_CASES))
def test_api_refuses_a_bad_laborer(client, people, case):
    changes, field = LABORER_CASES[case]
    response = client.post("/api/v1/laborers", json=laborer_body(people["household"], changes), headers=people["cadre"])
    refused(response, field)
    assert count(Laborer) == 0


def test_api_refuses_a_laborer_of_another_villages_household(client, people):
    response = client.post("/api/v1/laborers", json=laborer_body(people["other_household"]), headers=people["cadre"])
    refused(response, "household_id")
    assert count(Laborer) == 0


def test_api_refuses_moving_a_laborer_to_another_villages_household(client, factory, people):
    laborer = factory.laborer(db.session.get(Household, people["household"]))
    db.session.commit()
    response = client.patch(
        f"/api/v1/laborers/{laborer.id}", json={"household_id": people["other_household"]}, headers=people["cadre"]
    )
    refused(response, "household_id")
    db.session.expire_all()
    assert db.session.get(Laborer, laborer.id).household_id == people["household"]


def test_api_refuses_a_duplicate_id_number(client, factory, people):
    factory.laborer(db.session.get(Household, people["other_household"]), id_number=GOOD_ID)
    db.session.commit()
    response = client.post("/api/v1/laborers", json=laborer_body(people["household"]), headers=people["cadre"])
    refused(response, "id_number")
    assert count(Laborer) == 1


def test_api_refuses_a_household_in_another_village_or_with_unknown_status(client, people):
    body = {"code": "141030100202-9", "village_code": "141030100202", "head_name": "李", "poverty_status": "poor"}
    refused(client.post("/api/v1/households", json=body, headers=people["cadre"]), "poverty_status")
    body["poverty_status"] = "monitored"
    refused(client.post("/api/v1/households", json=body, headers=people["cadre"]), "village_code")
    body["village_code"] = "14103010020"  # 11 digits
    refused(client.post("/api/v1/households", json=body, headers=people["cadre"]), "village_code")
    assert count(Household) == 2


def opening_body(**kw) -> dict:
    body = {
        "title": "手套包装",
        "job_type": "packaging",
        "slots": 5,
        "physical_demand": "light",
        "pay_type": "piece",
        "start_on": (date.today() + timedelta(days=3)).isoformat(),
    }
    body.update(kw)
    return body


OPENING_CASES = {
    "min_age above max_age": ({"min_age": 60, "max_age": 30}, "min_age"),
    "no slots": ({"slots": 0}, "slots"),
    "negative slots": ({"slots": -3}, "slots"),
    "slots as text": ({"slots": "five"}, "slots"),
    "slots as a float": ({"slots": 2.5}, "slots"),
    "age below 16": ({"min_age": 12}, "min_age"),
    "unknown pay type": ({"pay_type": "barter"}, "pay_type"),
    "unknown demand": ({"physical_demand": "extreme"}, "physical_demand"),
    "impossible start date": ({"start_on": "2026-02-30"}, "start_on"),
    "negative pay": ({"pay_cents": -1}, "pay_cents"),
    "position outside China": ({"lat": -33.9, "lon": 151.2}, "lat"),
}


@pytest.mark.parametrize("case", list(OPENING_CASES))
def test_api_refuses_a_bad_opening(client, people, case):
    changes, field = OPENING_CASES[case]
    refused(client.post("/api/v1/openings", json=opening_body(**changes), headers=people["employer"]), field)
    assert count(Opening) == 0


def test_api_refuses_min_age_above_max_age_after_a_partial_change(client, factory, people):
    user = people["users"]["employer"]
    opening = factory.opening(db.session.get(type(user.employer), user.employer_id), min_age=18, max_age=40)
    db.session.commit()
    response = client.patch(f"/api/v1/openings/{opening.id}", json={"min_age": 50}, headers=people["employer"])
    refused(response, "min_age")
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).min_age == 18


def test_api_refuses_bad_batches_and_welfare_posts(client, people):
    batch = {
        "title": "专车",
        "destination": "太原",
        "job_type": "assembly",
        "physical_demand": "moderate",
        "pay_type": "monthly",
        "departs_at": "2030-01-01T08:00:00+08:00",
        "seats": 0,
        "pickup_points": [{"name": "昕水镇", "region_code": "141030100"}],
    }
    refused(client.post("/api/v1/batches", json=batch, headers=people["employer"]), "seats")
    batch.update(seats=40, pickup_points=[])
    refused(client.post("/api/v1/batches", json=batch, headers=people["employer"]), "pickup_points")
    batch.update(pickup_points=[{"name": "x", "region_code": "141030100", "lat": 36.4, "lon": 10.0}])
    refused(client.post("/api/v1/batches", json=batch, headers=people["employer"]), "pickup_points")
    assert count(TransportBatch) == 0
    post = {
        "post_type": "cleaner",
        "title": "保洁员",
        "region_code": "141030100201",
        "slots": 0,
        "physical_demand": "light",
        "stipend_cents": 50000,
        "term_start_on": "2030-01-10",
    }
    refused(client.post("/api/v1/welfare-posts", json=post, headers=people["office"]), "slots")
    post.update(slots=1, term_end_on="2030-01-01")
    refused(client.post("/api/v1/welfare-posts", json=post, headers=people["office"]), "term_end_on")
    post.update(term_end_on=None, post_type="astronaut")
    refused(client.post("/api/v1/welfare-posts", json=post, headers=people["office"]), "post_type")
    assert count(WelfarePost) == 0


#: A body that is not a JSON object: status, and the one field message, in Chinese and in English.
NOT_AN_OBJECT = {
    b"{not json": (400, "json", "请求体不是有效的 JSON。", "Invalid JSON body."),
    b"[1, 2]": (422, "_schema", "必须是对象（JSON object）", "must be an object"),
    b'"text"': (422, "_schema", "必须是对象（JSON object）", "must be an object"),
    b"\xff\xfe": (400, "json", "请求体不是有效的 JSON。", "Invalid JSON body."),
}


@pytest.mark.parametrize("body", list(NOT_AN_OBJECT))
def test_api_refuses_bodies_that_are_not_a_json_object(client, people, body):
    status, field, zh, en = NOT_AN_OBJECT[body]
    for language, message in (("zh", zh), ("en", en)):
        refresh()  # the app context outlives the request here; let Flask-Babel pick the language again
        headers = {**people["cadre"], "Content-Type": "application/json", "Accept-Language": language}
        response = client.post("/api/v1/laborers", data=body, headers=headers)
        refused(response, field, status)
        assert response.json["error"]["fields"][field] == [message]
    assert count(Laborer) == 0


ABILITIES = "full, moderate, light, none"
#: Mistakes marshmallow itself judges (types, lengths, ranges, choices, unknown and missing fields,
#: a list's item), and what each field is told in each language (web/field_errors.py).
TOLD = {
    "household_id": ("abc", "必须是整数", "must be a whole number"),
    "name": ("", "长度须在 1 到 40 之间", "must have a length from 1 to 40"),
    "max_commute_km": (900, "须大于 0，且不大于 500", "must be more than 0 and at most 500"),
    "physical_ability": (
        "strong",
        # The codes the client must send, each with its word where the word is not the code itself.
        "必须是以下之一：full（全劳力）, moderate（中等）, light（轻体力）, none（无劳动能力）",
        "must be one of: full, moderate, light, none",
    ),
    "birth_on": ("1990-13-01", "必须是日期，格式为 YYYY-MM-DD", "must be a date as YYYY-MM-DD"),
    "needs_flexible_hours": ("perhaps", "必须是 true 或 false", "must be true or false"),
    "extra": (1, "此请求没有这个字段", "not a field of this request"),
    "id_number": (..., "此项必填", "this field is required"),
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_api_field_messages_are_in_the_language_of_the_request(client, people, language):
    body = laborer_body(people["household"], {name: value for name, (value, _, _) in TOLD.items()} | {"skills": [1]})
    headers = {**people["cadre"], "Accept-Language": language}
    response = client.post("/api/v1/laborers", json=body, headers=headers)
    refused(response, "household_id")
    told = {name: [zh if language == "zh" else en] for name, (_, zh, en) in TOLD.items()}
    told["skills"] = {"0": ["必须是文字" if language == "zh" else "must be text"]}
    assert response.json["error"]["fields"] == told
    assert count(Laborer) == 0


@pytest.mark.parametrize(
    ("language", "told"),
    [
        ("zh", "必须是以下之一：opening（就近岗位）, batch（点对点专车）, welfare_post（公益岗位）"),
        ("en", "must be one of: opening (nearby opening), batch (transport batch), welfare_post (welfare post)"),
    ],
)
def test_a_wrong_choice_is_told_the_codes_to_send_with_their_words(client, people, factory, language, told):
    laborer = factory.laborer(factory.household())
    db.session.commit()
    headers = {**people["office"], "Accept-Language": language}
    response = client.get(f"/api/v1/laborers/{laborer.id}/matches?kind=factory", headers=headers)
    refused(response, "kind")
    assert response.json["error"]["fields"]["kind"] == [told]


@pytest.mark.app_config(MAX_CONTENT_LENGTH=64 * 1024)
def test_api_refuses_an_oversize_body_with_413_in_the_one_error_format(client, people):
    big = laborer_body(people["household"], {"name": "张" * 100_000})
    response = client.post("/api/v1/laborers", json=big, headers=people["cadre"])
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413 and response.json["error"]["message"]
    assert count(Laborer) == 0


# -- pages -------------------------------------------------------------------------------------------


@pytest.fixture
def page(app, people):
    """A function: a test client logged in through the form as the given role."""

    def log_in(role: str):
        client = app.test_client()
        g.pop("_login_user", None)
        user = people["users"][role]
        assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        return client

    return log_in


def field_error(response, field: str) -> bool:
    """The page puts a complaint right under the field."""
    return f'id="{field}-error"' in response.get_data(as_text=True)


def laborer_form(household_id: int, **kw) -> dict:
    data = {
        "household_code": db.session.get(Household, household_id).code,
        "name": "王秀英",
        "id_number": GOOD_ID,
        "phone": "",
        "physical_ability": "light",
        "skills": "",
        "work_area": "local",
        "max_commute_km": "10",
        "pay_type": "",
        "status": "seeking",
        "lat": "",
        "lon": "",
        "position_source": "typed",
    }
    data.update(kw)
    return data


PAGE_LABORER_CASES = {
    "bad ID checksum": ({"id_number": BAD_CHECKSUM}, "id_number"),
    "future birth date": ({"id_number": FUTURE_BIRTH}, "id_number"),
    "latitude out of range": ({"lat": "95", "lon": "110.7"}, "lat"),
    "position outside China": ({"lat": "48.85", "lon": "2.35"}, "lon"),
    "unknown ability": ({"physical_ability": "strong"}, "physical_ability"),
    "commute as text": ({"max_commute_km": "far"}, "max_commute_km"),
    "missing name": ({"name": ""}, "name"),
}


@pytest.mark.parametrize("case", list(PAGE_LABORER_CASES))
def test_laborer_form_refuses_bad_input_next_to_the_field(page, people, case):
    changes, field = PAGE_LABORER_CASES[case]
    response = page("cadre").post("/cadre/laborers/new", data=laborer_form(people["household"], **changes))
    assert response.status_code == 422 and field_error(response, field), case
    assert count(Laborer) == 0


def test_laborer_form_refuses_another_villages_household_and_a_duplicate_id(page, factory, people):
    client = page("cadre")
    response = client.post("/cadre/laborers/new", data=laborer_form(people["other_household"]))
    assert response.status_code == 422 and field_error(response, "household_code")
    factory.laborer(db.session.get(Household, people["other_household"]), id_number=GOOD_ID)
    db.session.commit()
    response = client.post("/cadre/laborers/new", data=laborer_form(people["household"]))
    assert response.status_code == 422 and field_error(response, "id_number")
    assert count(Laborer) == 1


def test_opening_and_welfare_post_forms_refuse_bad_ages_and_slots(page):
    form = {
        "title": "手套包装",
        "job_type": "packaging",
        "slots": "0",
        "min_age": "",
        "max_age": "",
        "physical_demand": "light",
        "skills": "",
        "pay_type": "piece",
        "pay_yuan": "",
        "start_on": date.today().isoformat(),
        "lat": "",
        "lon": "",
    }
    client = page("employer")
    assert field_error(response := client.post("/employer/openings/new", data=form), "slots")
    assert response.status_code == 422
    form.update(slots="5", min_age="60", max_age="30")
    response = client.post("/employer/openings/new", data=form)
    assert response.status_code == 422 and field_error(response, "max_age")
    form.update(min_age="", max_age="", physical_demand="extreme")
    response = client.post("/employer/openings/new", data=form)
    assert response.status_code == 422 and field_error(response, "physical_demand")
    assert count(Opening) == 0
    post = {
        "post_type": "cleaner",
        "title": "保洁员",
        "region_code": "141030100201",
        "slots": "0",
        "min_age": "",
        "max_age": "",
        "physical_demand": "light",
        "stipend_yuan": "500",
        "term_start_on": date.today().isoformat(),
        "term_end_on": "",
    }
    response = page("office").post("/office/welfare-posts/new", data=post)
    assert response.status_code == 422 and field_error(response, "slots")
    assert count(WelfarePost) == 0


# -- import ------------------------------------------------------------------------------------------


def sheet_row(factory, code="141030100201-8001", **kw) -> list[str]:
    return import_row(factory, code, **kw)


def xlsx(rows, blank_rows_after: int = 0, blank_rows_between: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)

    def blank(count: int) -> None:
        # Blank cells that exist, as spreadsheet programs leave them in a sheet formatted far down.
        last = sheet.max_row
        for number in range(last + 1, last + 1 + count):
            sheet.cell(row=number, column=1, value=" ")

    for index, values in enumerate(rows):
        if index:
            blank(blank_rows_between)
        sheet.append(values)
    blank(blank_rows_after)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, name: str):
    refresh()  # the app context outlives the request here; let Flask-Babel pick the language again
    return client.post(
        "/cadre/import",
        data={"upload": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )


def test_import_refuses_non_utf8_csv_formulas_and_garbage(page, factory):
    client = page("cadre")
    csv_gb = ("\n".join([",".join(HEADERS), ",".join(sheet_row(factory))]) + "\n").encode("gb18030")
    response = upload(client, csv_gb, "laborers.csv")
    assert (
        response.status_code == 422 and field_error(response, "upload") and "UTF-8" in response.get_data(as_text=True)
    )
    with_formula = xlsx([sheet_row(factory, 姓名='=HYPERLINK("http://x")')])
    response = upload(client, with_formula, "laborers.xlsx")
    assert response.status_code == 422 and "formula" in response.get_data(as_text=True)
    csv_formula = ("\n".join([",".join(HEADERS), ",".join(sheet_row(factory, 姓名="=1+2"))]) + "\n").encode()
    assert upload(client, csv_formula, "laborers.csv").status_code == 422
    for garbage, name in (
        (b"PK\x03\x04 not a zip", "laborers.xlsx"),
        (b"\x00\x01\x02", "laborers.csv"),
        (b"", "laborers.csv"),
    ):
        response = upload(client, garbage, name)
        assert response.status_code == 422 and field_error(response, "upload"), name
    assert count(Laborer) == 0 and count(Household) == 2


def test_import_ignores_thousands_of_empty_rows(page, factory):
    client = page("cadre")
    rows = [sheet_row(factory), sheet_row(factory, 姓名="赵三")]
    # More blank rows than the 5,000-row limit, between the two laborers and after them.
    response = upload(client, xlsx(rows, blank_rows_after=3000, blank_rows_between=5500), "laborers.xlsx")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "All 2 rows are correct" in text, text[-2000:]
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', text).group(1)
    assert client.post("/cadre/import/commit", data={"token": token}).status_code == 302
    assert count(Laborer) == 2


def test_import_row_numbers_are_the_spreadsheets_despite_blank_rows(page, factory):
    client = page("cadre")
    rows = [sheet_row(factory), sheet_row(factory, 身份证号=BAD_CHECKSUM)]
    response = upload(client, xlsx(rows, blank_rows_between=3), "laborers.xlsx")
    # Header on row 1, the first laborer on row 2, three blank rows, the bad one on row 6.
    assert response.status_code == 422 and re.search(r">\s*6\s*<", response.get_data(as_text=True))
    assert count(Laborer) == 0


def test_import_refuses_duplicate_ids_in_the_file_and_in_the_database(page, factory, people):
    client = page("cadre")
    twice = factory.id_number()
    rows = [sheet_row(factory, 身份证号=twice), sheet_row(factory, 姓名="赵三", 身份证号=twice)]
    response = upload(client, xlsx(rows), "laborers.xlsx")
    assert response.status_code == 422 and "already registered" in response.get_data(as_text=True)
    factory.laborer(db.session.get(Household, people["other_household"]), id_number=twice)
    db.session.commit()
    response = upload(client, xlsx([sheet_row(factory, 身份证号=twice)]), "laborers.xlsx")
    assert response.status_code == 422 and "already registered" in response.get_data(as_text=True)
    assert count(Laborer) == 1


def test_import_refuses_a_laborer_of_another_villages_household(page, people):
    client = page("cadre")
    other = db.session.get(Household, people["other_household"])
    factory_row = {
        "户编号": other.code,
        "村代码": "",
        "户主姓名": "",
        "贫困属性": "",
        "姓名": "赵二",
        "身份证号": GOOD_ID,
        "手机号": "",
        "劳动能力": "弱劳力",
        "技能": "",
        "就业意向": "本地",
        "最远通勤公里": "8",
        "意向工种": "",
        "工资方式": "",
        "需要弹性工时": "否",
        "就业状态": "",
    }
    response = upload(client, xlsx([[factory_row.get(h, "") for h in HEADERS]]), "laborers.xlsx")
    assert response.status_code == 422
    assert count(Laborer) == 0 and count(Household) == 2


@pytest.mark.app_config(MAX_CONTENT_LENGTH=64 * 1024)
def test_an_oversize_upload_is_refused_with_413(page):
    response = upload(page("cadre"), b"x" * (128 * 1024), "laborers.csv")
    assert response.status_code == 413
    assert count(Laborer) == 0


@pytest.mark.parametrize(
    ("language", "told"),
    [("zh", "没有地区 990000（或不在您的管辖范围内）"), ("en", "unknown region 990000 (or outside your scope)")],
)
def test_a_refusal_that_names_a_value_is_worded_in_the_language_of_the_request(client, people, language, told):
    headers = {**people["office"], "Accept-Language": language}
    response = client.post("/api/v1/plans", json={"region": "990000", "mode": "greedy"}, headers=headers)
    refused(response, "region")
    assert response.json["error"]["fields"]["region"] == [told]
    assert response.json["error"]["message"] == f"region: {told}"


@pytest.mark.parametrize(
    ("language", "told"),
    [
        ("zh", "状态为“筹备中”的专车只能改为上车中或已取消"),
        ("en", "a planning batch can only become boarding or cancelled"),
    ],
)
def test_a_batch_is_told_which_statuses_it_may_take_in_words(client, factory, api_token, language, told):
    from web.models import Employer

    owner = factory.user("employer")
    batch = factory.batch(employer=db.session.get(Employer, owner.employer_id))
    db.session.commit()
    headers = {**api_token(owner), "Accept-Language": language}
    response = client.patch(f"/api/v1/batches/{batch.id}", json={"status": "departed"}, headers=headers)
    refused(response, "status")
    assert response.json["error"]["fields"]["status"] == [told]
    assert count(TransportBatch) == 1 and db.session.get(TransportBatch, batch.id).status.value == "planning"
