"""/api/v1/laborers and the working age (issue 11, part 1): under 16 refused, over 75 only confirmed."""

from __future__ import annotations

from datetime import date

from flask_babel import refresh
from sqlalchemy import select

from web import clock
from web.extensions import db
from web.models import Laborer

from .conftest import assert_refused, count
from .test_laborers import _body


def years_ago(years: int) -> date:
    today = clock.today()
    return date(today.year - years, today.month, 1)


def test_under_16_is_refused_naming_the_field_in_zh_and_en(client, factory, cadre):
    _, headers = cadre
    household = factory.household()
    db.session.commit()
    body = _body(household.id, id_number=factory.id_number(birth_on=years_ago(15)))
    en = client.post("/api/v1/laborers", json=body, headers={**headers, "Accept-Language": "en"})
    assert_refused(en, "id_number")
    assert en.json["error"]["fields"]["id_number"] == [
        "the person is 15, under the working age of 16, and cannot be registered"
    ]
    refresh()  # the test app context keeps the first request's locale; a server starts afresh
    zh = client.post("/api/v1/laborers", json=body, headers={**headers, "Accept-Language": "zh"})
    assert_refused(zh, "id_number")
    assert zh.json["error"]["fields"]["id_number"] == ["此人 15 岁，未满劳动年龄 16 岁，不能登记"]
    assert count(Laborer) == 0


def test_an_80_year_old_is_saved_only_with_the_confirmation_recorded(client, factory, cadre):
    _, headers = cadre
    household = factory.household()
    db.session.commit()
    body = _body(household.id, id_number=factory.id_number(birth_on=years_ago(80)))
    refused = client.post("/api/v1/laborers", json=body, headers={**headers, "Accept-Language": "en"})
    assert_refused(refused, "over_age_confirmed")
    assert "older than 75" in refused.json["error"]["fields"]["over_age_confirmed"][0]
    assert count(Laborer) == 0
    saved = client.post("/api/v1/laborers", json={**body, "over_age_confirmed": True}, headers=headers)
    assert saved.status_code == 201, saved.json
    assert saved.json["over_age_confirmed"] is True and saved.json["age"] == 80
    assert db.session.scalar(select(Laborer.over_age_confirmed)) is True
    # Taking the confirmation back is refused while the person is that old.
    patch = client.patch(f"/api/v1/laborers/{saved.json['id']}", json={"over_age_confirmed": False}, headers=headers)
    assert_refused(patch, "over_age_confirmed")


def test_todays_code_for_a_person_born_1985_is_accepted(client, factory, cadre):
    _, headers = cadre
    household = factory.household()
    db.session.commit()
    response = client.post(
        "/api/v1/laborers", json=_body(household.id, id_number="141030198506153810"), headers=headers
    )
    assert response.status_code == 201, response.json
    assert response.json["birth_on"] == "1985-06-15"
