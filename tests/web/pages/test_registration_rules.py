"""Registration rules that fit the people (issue 11, part 1): working age from configuration, the
over-age confirmation, and ID address codes in force at any time from the birth year to today."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from web import clock
from web.extensions import db
from web.models import Laborer

from .test_cadre import laborer_form
from .test_import import csv_bytes, row, upload


def years_ago(years: int) -> date:
    """A birth date that makes a person exactly `years` old today."""
    today = clock.today()
    return date(today.year - years, today.month, 1)


def test_under_16_is_refused_on_the_form_naming_the_field_in_zh_and_en(client, factory, login):
    household = factory.household()
    login(factory.user("cadre"))
    number = factory.id_number(birth_on=years_ago(15))
    en = client.post("/cadre/laborers/new", data=laborer_form(household.id, number), headers={"Accept-Language": "en"})
    page = en.get_data(as_text=True)
    assert en.status_code == 422
    assert 'id="id_number-error">the person is 15, under the working age of 16, and cannot be registered<' in page
    zh = client.post("/cadre/laborers/new", data=laborer_form(household.id, number))
    assert zh.status_code == 422
    assert 'id="id_number-error">此人 15 岁，未满劳动年龄 16 岁，不能登记<' in zh.get_data(as_text=True)
    assert db.session.scalar(select(Laborer.id)) is None
    # The check as it is typed says so too, instead of "✓ born …".
    data = client.get(f"/cadre/check-id?value={number}", headers={"Accept-Language": "en"}).json
    assert data == {"ok": False, "error": "the person is 15, under the working age of 16, and cannot be registered"}


def test_an_80_year_old_needs_the_cadres_confirmation_on_the_form(client, factory, login):
    household = factory.household()
    login(factory.user("cadre"))
    number = factory.id_number(birth_on=years_ago(80))
    form = client.get("/cadre/laborers/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="over_age_confirmed" type="checkbox"' in form
    refused = client.post(
        "/cadre/laborers/new", data=laborer_form(household.id, number), headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 422
    assert "the person is 80, older than 75: confirm that they still want and are able to work" in refused.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Laborer.id)) is None
    saved = client.post("/cadre/laborers/new", data=laborer_form(household.id, number, over_age_confirmed="y"))
    assert saved.status_code == 302
    laborer = db.session.scalar(select(Laborer).where(Laborer.id_number == number))
    assert laborer.over_age_confirmed is True and laborer.age_on(clock.today()) == 80


def test_max_labor_age_comes_from_configuration(app, client, factory, login):
    app.config["MAX_LABOR_AGE"] = 85
    household = factory.household()
    login(factory.user("cadre"))
    number = factory.id_number(birth_on=years_ago(80))
    assert client.post("/cadre/laborers/new", data=laborer_form(household.id, number)).status_code == 302
    laborer = db.session.scalar(select(Laborer).where(Laborer.id_number == number))
    assert laborer.over_age_confirmed is False


def test_a_person_registered_after_2000_with_todays_code_is_accepted(client, factory, login):
    household = factory.household()
    login(factory.user("cadre"))
    # Born 1985, number issued after 2000 under Daning's present code 141030 (created in 2000).
    response = client.post("/cadre/laborers/new", data=laborer_form(household.id, "141030198506153810"))
    assert response.status_code == 302, response.get_data(as_text=True)
    laborer = db.session.scalar(select(Laborer).where(Laborer.id_number == "141030198506153810"))
    assert laborer.birth_on == date(1985, 6, 15) and laborer.sex.value == "M"


def test_a_code_that_never_existed_since_the_birth_year_is_refused(client, factory, login):
    household = factory.household()
    login(factory.user("cadre"))
    number = "14263320010308002"  # 142633, Daning's code until 2000, for someone born in 2001
    from stdnum.cn import ric

    number += ric.calc_check_digit(number + "0")
    response = client.post(
        "/cadre/laborers/new", data=laborer_form(household.id, number), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "not a region code that existed at any time from the birth year to today" in response.get_data(as_text=True)


def test_import_applies_the_working_age_with_the_column_named(client, factory, login):
    login(factory.user("cadre"))
    young = factory.id_number(birth_on=years_ago(15))
    old = factory.id_number(birth_on=years_ago(80))
    data = csv_bytes([row(factory, 身份证号=young), row(factory, 身份证号=old, 姓名="赵老")])
    page = upload(client, data).get_data(as_text=True)
    assert "ID number — the person is 15, under the working age of 16, and cannot be registered" in page
    assert "Over the working age, still able to work — the person is 80, older than 75: confirm" in page
    zh = client.post(
        "/cadre/import",
        data={"upload": (io.BytesIO(data), "laborers.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "zh"},
    ).get_data(as_text=True)
    assert "身份证号 — 此人 15 岁，未满劳动年龄 16 岁，不能登记" in zh
    confirmed = csv_bytes([row(factory, 身份证号=old, 姓名="赵老", 超龄仍能工作="是")])
    page = upload(client, confirmed).get_data(as_text=True)
    assert "All 1 rows are correct" in page
