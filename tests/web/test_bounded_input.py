"""Bounded input (issue 10, part 7): every case that once answered 500 now answers one promised 4xx
naming the field, and writes nothing: integers beyond the database's range, page numbers, deep
JSON, lone surrogates, dates outside 1900–2100, unbounded lists, request names handed to url_for,
oversize bodies; and the import measures a workbook before it parses it."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_babel import refresh
from openpyxl import Workbook
from sqlalchemy import func, select
from stdnum.cn import ric

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import Laborer, Opening, TransportBatch, WelfarePost
from web.services.imports import COLUMNS

BIG = [2**31, 2**63, 10**30]
GOOD_ID = "14263319620308002" + ric.calc_check_digit("14263319620308002" + "0")
HEADERS = [header for _, header, _ in COLUMNS]


class FreshClient(FlaskClient):
    """Each request as on a real server: no user or language left in `g` by the previous one."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        refresh()
        return super().open(*args, **kwargs)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def refused(response, field: str, status: int = 422) -> None:
    """The API's one error format, with this status, naming the field."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert field in response.json["error"]["fields"], response.json


@pytest.fixture
def people(app, factory, api_token):
    household = factory.household()
    users = {role: factory.user(role) for role in ("cadre", "employer", "office")}
    db.session.commit()
    return {
        "household": household.id,
        "users": users,
        **{role: api_token(user) for role, user in users.items()},
    }


@pytest.fixture
def page(app, people):
    """A function: a browser logged in as the given role."""

    def log_in(role: str) -> FlaskClient:
        app.test_client_class = FreshClient
        client = app.test_client()
        user = people["users"][role]
        assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        return client

    return log_in


# -- integers ---------------------------------------------------------------------------------------


def test_api_path_ids_beyond_the_database_are_not_found(client, people):
    for path in ("/api/v1/laborers/{}", "/api/v1/plans/{}", "/api/v1/openings/{}/candidates", "/api/v1/placements/{}"):
        for number in (2**31, 2**63, "9" * 5000):
            response = client.get(path.format(number), headers=people["office"])
            assert response.status_code == 404 and response.json["error"]["status"] == 404, path


def test_a_path_id_within_range_still_reaches_the_view(client, people):
    assert client.get(f"/api/v1/laborers/{2**31 - 1}", headers=people["office"]).status_code == 404
    assert (
        client.get("/api/v1/openapi.json").json["paths"]["/api/v1/laborers/{laborer_id}"]["parameters"][0]["schema"][
            "maximum"
        ]
        == 2**31 - 1
    )


def test_page_path_ids_beyond_the_database_are_not_found(page):
    client = page("cadre")
    for number in (2**31, 2**63):
        assert client.get(f"/cadre/laborers/{number}").status_code == 404


def test_api_page_numbers_are_bounded(client, people):
    for value in ("9223372036854775808", "0", "-1", "abc", "1e30"):
        refused(client.get(f"/api/v1/laborers?page={value}", headers=people["cadre"]), "page")


def test_api_page_size_is_bounded(client, people):
    refused(client.get(f"/api/v1/households?per_page={2**63}", headers=people["cadre"]), "per_page")
    assert client.get("/api/v1/households?page=1000000", headers=people["cadre"]).status_code == 200


def test_page_page_numbers_are_bounded(page):
    client = page("cadre")
    for value in ("9223372036854775808", "1e30", "0", "x"):
        response = client.get(f"/cadre/laborers?page={value}")
        assert response.status_code == 422 and "page" in response.get_data(as_text=True), value


def opening_body(**kw) -> dict:
    body = {
        "title": "手套包装",
        "job_type": "packaging",
        "slots": 5,
        "physical_demand": "light",
        "pay_type": "piece",
        "start_on": (date.today() + timedelta(days=3)).isoformat(),
    }
    return {**body, **kw}


@pytest.mark.parametrize("number", BIG)
def test_api_integers_beyond_int32_are_refused(client, people, number):
    for field in ("slots", "pay_cents", "employer_id", "min_age"):
        response = client.post("/api/v1/openings", json=opening_body(**{field: number}), headers=people["office"])
        refused(response, field)
    post = {
        "post_type": "cleaner",
        "title": "保洁员",
        "region_code": "141030100201",
        "slots": 1,
        "physical_demand": "light",
        "stipend_cents": number,
        "term_start_on": "2030-01-10",
    }
    refused(client.post("/api/v1/welfare-posts", json=post, headers=people["office"]), "stipend_cents")
    refused(client.post("/api/v1/batches", json=batch_body(seats=number), headers=people["employer"]), "seats")
    laborer = {
        "household_id": number,
        "name": "张桂花",
        "id_number": GOOD_ID,
        "physical_ability": "light",
        "work_area": "local",
    }
    refused(client.post("/api/v1/laborers", json=laborer, headers=people["cadre"]), "household_id")
    offer = {"laborer_id": number, "kind": "opening", "target_id": 1}
    refused(client.post("/api/v1/placements", json=offer, headers=people["cadre"]), "laborer_id")
    assert count(Opening) == count(WelfarePost) == count(TransportBatch) == count(Laborer) == 0


def test_page_offer_of_a_huge_target_id_is_refused(page, factory, people):
    laborer = factory.laborer(db.session.get(factory.household().__class__, people["household"]))
    db.session.commit()
    response = page("cadre").post(
        f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": str(2**63)}
    )
    assert response.status_code == 400


# -- JSON ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000])
def test_deeply_nested_json_is_refused_before_parsing(client, people, depth):
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = client.post(
        "/api/v1/laborers", data=body, headers={**people["cadre"], "Content-Type": "application/json"}
    )
    refused(response, "body")


def test_brackets_inside_strings_do_not_count_as_nesting(client, people):
    body = {
        "household_id": people["household"],
        "name": "[" * 100 + '"{',
        "id_number": "bad",
        "physical_ability": "light",
        "work_area": "local",
    }
    refused(client.post("/api/v1/laborers", json=body, headers=people["cadre"]), "id_number")


def test_lone_surrogates_are_refused_at_the_door(client, people):
    body = {
        "household_id": people["household"],
        "name": "张桂花",
        "id_number": GOOD_ID,
        "physical_ability": "light",
        "work_area": "local",
        "skills": ["缝纫"],
    }
    for changes, field in (
        ({"name": "张\ud800"}, "name"),
        ({"\ud800": 1}, "\ud800"),
        ({"skills": ["ok", "\udfff"]}, "skills"),
    ):
        refused(client.post("/api/v1/laborers", json={**body, **changes}, headers=people["cadre"]), field)
    assert count(Laborer) == 0


def test_a_real_astral_character_is_kept(client, people):
    body = {
        "household_id": people["household"],
        "name": "张𠀀",
        "id_number": GOOD_ID,
        "physical_ability": "light",
        "work_area": "local",
    }
    response = client.post("/api/v1/laborers", json=body, headers=people["cadre"])
    assert response.status_code == 201 and response.json["name"] == "张𠀀"


# -- dates ---------------------------------------------------------------------------------------------


def batch_body(**kw) -> dict:
    body = {
        "title": "专车",
        "destination": "太原",
        "job_type": "assembly",
        "physical_demand": "moderate",
        "pay_type": "monthly",
        "departs_at": "2030-01-01T08:00:00+08:00",
        "seats": 40,
        "pickup_points": [{"name": "昕水镇", "region_code": "141030100"}],
    }
    return {**body, **kw}


def test_api_departures_outside_1900_2100_are_refused(client, people):
    for moment in (
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1899-12-31T23:00:00+00:00",
        "2101-01-01T00:00:00+08:00",
    ):
        response = client.post("/api/v1/batches", json=batch_body(departs_at=moment), headers=people["employer"])
        refused(response, "departs_at")
    assert count(TransportBatch) == 0


def test_api_dates_outside_1900_2100_are_refused(client, people):
    for day in ("0001-01-01", "9999-12-31", "1899-12-31"):
        response = client.post("/api/v1/openings", json=opening_body(start_on=day), headers=people["office"])
        refused(response, "start_on")
        refused(client.get(f"/api/v1/stats?on={day}", headers=people["office"]), "on")


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard?on={}",
        "/office/audit?from={}",
        "/office/audit?to={}",
        "/reports/households-without-work?on={}",
        "/reports/placements-by-channel.xlsx?start={}",
    ],
)
def test_page_dates_outside_1900_2100_are_refused(page, path):
    client = page("office")
    for day in ("0001-01-01", "9999-12-31"):
        response = client.get(path.format(day))
        assert response.status_code == 422 and "1900" in response.get_data(as_text=True), day


def test_batch_form_refuses_a_departure_in_year_one(page):
    form = {
        "title": "专车",
        "job_type": "assembly",
        "physical_demand": "moderate",
        "pay_type": "monthly",
        "destination": "太原",
        "departs_at": "0001-01-01T00:30",
        "seats": "40",
        "pickup_points-0-name": "昕水镇",
        "pickup_points-0-region_code": "141030100",
    }
    response = page("employer").post("/employer/batches/new", data=form)
    assert response.status_code == 422 and 'id="departs_at-error"' in response.get_data(as_text=True)
    assert count(TransportBatch) == 0


# -- lists ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [21, 110_000])
def test_api_lists_of_skills_and_job_types_are_bounded(client, people, size):
    laborer = {
        "household_id": people["household"],
        "name": "张桂花",
        "id_number": GOOD_ID,
        "physical_ability": "light",
        "work_area": "local",
    }
    tags = [f"t{i}" for i in range(size)]
    refused(client.post("/api/v1/laborers", json={**laborer, "skills": tags}, headers=people["cadre"]), "skills")
    refused(client.post("/api/v1/laborers", json={**laborer, "job_types": tags}, headers=people["cadre"]), "job_types")
    refused(client.post("/api/v1/openings", json=opening_body(skills=tags), headers=people["employer"]), "skills")
    assert count(Laborer) == count(Opening) == 0


def test_api_pickup_points_are_bounded(client, people):
    points = [{"name": f"点{i}", "region_code": "141030100"} for i in range(51)]
    refused(
        client.post("/api/v1/batches", json=batch_body(pickup_points=points), headers=people["employer"]),
        "pickup_points",
    )
    assert (
        client.post(
            "/api/v1/batches", json=batch_body(pickup_points=points[:50]), headers=people["employer"]
        ).status_code
        == 201
    )


@pytest.mark.app_config(MAX_LIST_ITEMS=2)
def test_list_bounds_come_from_configuration(client, people):
    laborer = {
        "household_id": people["household"],
        "name": "张桂花",
        "id_number": GOOD_ID,
        "physical_ability": "light",
        "work_area": "local",
        "skills": ["a", "b", "c"],
    }
    refused(client.post("/api/v1/laborers", json=laborer, headers=people["cadre"]), "skills")


# -- links ---------------------------------------------------------------------------------------------


def test_request_names_never_reach_url_for(page):
    client = page("office")
    for query in (
        "name=x",
        "_method=POST",
        "_external=1&_scheme=javascript",
        "_anchor=x",
        "region=141030&on=2020-06-30&name=x",
    ):
        response = client.get(f"/reports/welfare-roster?{query}")
        assert response.status_code == 200, query
        text = response.get_data(as_text=True)
        assert "javascript" not in text and "_method" not in text and "name=x" not in text
    kept = client.get("/reports/welfare-roster?region=141030&on=2020-06-30&name=x").get_data(as_text=True)
    assert "/reports/welfare-roster.xlsx?region=141030&amp;on=2020-06-30" in kept


def test_pager_links_keep_filters_but_drop_url_for_names(page, factory, people):
    for _ in range(30):
        factory.household()
    db.session.commit()
    response = page("cadre").get("/cadre/households?page=1&poverty=registered_poor&_method=POST&_external=1")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'rel="next"' in text
    link = text.split('rel="next" href="')[1].split('"')[0]
    assert link.startswith("/cadre/households?") and "page=2" in link and "poverty=registered_poor" in link
    assert "_method" not in link and "_external" not in link


# -- sizes and error pages -----------------------------------------------------------------------------


@pytest.mark.app_config(MAX_CONTENT_LENGTH=64 * 1024)
def test_an_oversize_upload_answers_a_localised_413_page(page):
    client = page("cadre")
    data = {"upload": (io.BytesIO(b"x" * 100_000), "laborers.csv")}
    chinese = client.post("/cadre/import", data=data, content_type="multipart/form-data")
    assert chinese.status_code == 413 and "上传的内容太大：最多 64 KB" in chinese.get_data(as_text=True)
    data = {"upload": (io.BytesIO(b"x" * 100_000), "laborers.csv")}
    english = client.post(
        "/cadre/import", data=data, content_type="multipart/form-data", headers={"Accept-Language": "en"}
    )
    assert english.status_code == 413 and "The upload is too large: at most 64 KB" in english.get_data(as_text=True)


def test_not_found_page_is_localised(page):
    client = page("office")
    assert "该页面不存在" in client.get("/no-such-page").get_data(as_text=True)
    english = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "There is no such page" in english.get_data(as_text=True)


# -- the import measures a workbook before parsing it ---------------------------------------------------


def bomb(unpacked_mb: int) -> bytes:
    """A real XLSX whose first sheet holds one inline string of `unpacked_mb` MB of one letter."""
    book = Workbook()
    book.active.append(HEADERS)
    template = io.BytesIO()
    book.save(template)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(template.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, source.read(item))
                continue
            with target.open("xl/worksheets/sheet1.xml", "w") as sheet:
                sheet.write(
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
                )
                chunk = b"A" * 2**20
                for _ in range(unpacked_mb):
                    sheet.write(chunk)
                sheet.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


def upload(client, data: bytes, name: str):
    return client.post(
        "/cadre/import",
        data={"upload": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )


def test_import_refuses_a_workbook_that_unpacks_too_far(page):
    data = bomb(64)
    assert len(data) < 256 * 1024  # small on the wire, 64 MB unpacked
    response = upload(page("cadre"), data, "laborers.xlsx")
    assert response.status_code == 422 and "unpacks to 64 MB, more than 20 MB" in response.get_data(as_text=True)


def test_import_refuses_an_overlong_cell_before_parsing(page):
    response = upload(page("cadre"), bomb(1), "laborers.xlsx")  # 1 MB unpacked: in bounds, one huge cell
    assert response.status_code == 422 and "a cell holds more than 1000 characters" in response.get_data(as_text=True)


def test_import_refuses_an_overlong_csv_cell_naming_row_and_column(page):
    data = ("\n".join([",".join(HEADERS), ",".join(["x" * 1001] + [""] * (len(HEADERS) - 1))]) + "\n").encode()
    response = upload(page("cadre"), data, "laborers.csv")
    assert response.status_code == 422
    assert "row 2, column A（户编号） holds more than 1000 characters" in response.get_data(as_text=True)
