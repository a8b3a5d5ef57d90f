"""/api/v1/laborers: registration with a checked ID number, masking, audit, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from web.extensions import db
from web.models import AuditEvent, Laborer

from .conftest import assert_refused, count


def _id(body: str) -> str:
    """A valid ID number from its first 17 digits (142633: 大宁县's code in the 1960s)."""
    return body + ric.calc_check_digit(body + "0")


GOOD_ID = _id("14263319620308002")
BAD_CHECKSUM = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")


def _body(household_id: int, **kw) -> dict:
    body = {
        "household_id": household_id,
        "name": "张桂花",
        "id_number": _id("14263319620308002"),
        "phone": "139 1234 5678",
        "physical_ability": "light",
        "work_area": "local",
        "job_types": ["packaging"],
        "pay_type": "piece",
        "needs_flexible_hours": True,
    }
    body.update(kw)
    return body


def test_cadre_registers_a_laborer_with_derived_identity(client, factory, cadre):
    user, headers = cadre
    household = factory.household()
    db.session.commit()
    response = client.post("/api/v1/laborers", json=_body(household.id), headers=headers)
    assert response.status_code == 201, response.json
    data = response.json
    assert data["birth_on"] == "1962-03-08"
    assert data["sex"] == "F"
    assert data["phone"] == "13912345678"  # the cadre of the village sees it whole
    assert data["id_number"] == _id("14263319620308002")
    assert data["max_commute_km"] == 10.0
    assert data["status"] == "seeking"
    # No position given: the laborer lives at the household's point, with its source.
    assert (data["lat"], data["lon"]) == (household.lat, household.lon)
    assert data["position_source"] == "synthetic"
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "create"))
    assert created.entity_type == "laborer" and created.user_id == user.id


def test_a_single_read_shows_the_office_the_full_identity_and_is_audited(client, factory, office):
    user, headers = office
    laborer = factory.laborer()
    db.session.commit()
    response = client.get(f"/api/v1/laborers/{laborer.id}", headers=headers)
    assert response.status_code == 200
    assert response.json["id_number"] == laborer.id_number
    assert response.json["phone"] == "13912345678"
    assert response.json["birth_on"] == "1962-03-08"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "read"))
    assert (event.user_id, event.entity_type, event.entity_id) == (
        user.id,
        "laborer",
        str(laborer.id),
    )


def test_list_is_masked_even_for_the_cadre_and_carries_no_birth_date(client, factory, cadre):
    user, headers = cadre
    laborer = factory.laborer()
    db.session.commit()
    items = client.get("/api/v1/laborers?status=seeking", headers=headers).json["items"]
    assert [item["id"] for item in items] == [laborer.id]
    assert items[0]["id_number"] == laborer.id_number[:6] + "*" * 11 + laborer.id_number[-1]
    assert items[0]["phone"] == "139****5678"
    assert "birth_on" not in items[0] and items[0]["age"] == laborer.age_on(date.today())
    # One audit row for the list: who, which filter, how many rows, which ids.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "list"))
    assert (event.user_id, event.entity_type) == (user.id, "laborer")
    assert event.detail["filter"]["status"] == "seeking"
    assert (event.detail["rows"], event.detail["ids"]) == (1, [laborer.id])


def test_list_pages_and_filters(client, factory, office):
    _, headers = office
    for _ in range(3):
        factory.laborer()
    other = factory.household("141030101201")
    factory.laborer(other, status="employed")
    db.session.commit()
    page = client.get("/api/v1/laborers?per_page=2&page=2", headers=headers).json
    assert page["meta"] == {"page": 2, "per_page": 2, "total": 4, "pages": 2}
    assert len(page["items"]) == 2
    by_village = client.get("/api/v1/laborers?region=141030101201", headers=headers).json
    assert by_village["meta"]["total"] == 1
    by_township = client.get("/api/v1/laborers?region=141030100", headers=headers).json
    assert by_township["meta"]["total"] == 3
    employed = client.get("/api/v1/laborers?status=employed", headers=headers).json
    assert [i["status"] for i in employed["items"]] == ["employed"]


@pytest.mark.app_config(API_PAGE_SIZE_MAX=2)
def test_page_size_is_capped(client, factory, office):
    _, headers = office
    for _ in range(3):
        factory.laborer()
    db.session.commit()
    page = client.get("/api/v1/laborers?per_page=500", headers=headers).json
    assert page["meta"]["per_page"] == 2 and len(page["items"]) == 2


def test_update_rederives_identity_and_is_audited(client, factory, cadre):
    _, headers = cadre
    laborer = factory.laborer()
    db.session.commit()
    new_id = _id("14263319700101001")
    response = client.patch(
        f"/api/v1/laborers/{laborer.id}",
        json={"id_number": new_id, "status": "not_seeking", "lat": 36.5, "lon": 110.8},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["birth_on"] == "1970-01-01" and response.json["sex"] == "M"
    assert response.json["position_source"] == "typed"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "update"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": BAD_CHECKSUM}, "id_number"),
        ({"id_number": "14103019620230002X"}, "id_number"),  # 30 February
        ({"id_number": "142633620308002"}, "id_number"),  # 15 digits
        ({"id_number": _id("14263319620308002"), "birth_on": "1962-03-09"}, "id_number"),
        ({"id_number": _id("14263319620308002"), "sex": "M"}, "id_number"),
        ({"household_id": "one"}, "household_id"),
        ({"max_commute_km": "far"}, "max_commute_km"),
        ({"max_commute_km": 0}, "max_commute_km"),
        ({"physical_ability": "superhuman"}, "physical_ability"),
        ({"work_area": None}, "work_area"),
        ({"phone": "12345"}, "phone"),
        ({"lat": 95.0, "lon": 110.0}, "lat"),
        ({"lat": 36.0, "lon": 200.0}, "lon"),
        ({"lat": 36.0}, "lon"),
        ({"lat": 36.0, "lon": 20.0}, "lon"),  # outside China
        ({"position_source": "county_seat", "lat": 36.0, "lon": 110.0}, "position_source"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(client, factory, cadre, changes, field):
    _, headers = cadre
    household = factory.household()
    db.session.commit()
    body = {**_body(household.id), **changes}
    response = client.post("/api/v1/laborers", json=body, headers=headers)
    assert_refused(response, field)
    assert count(Laborer) == 0


@pytest.mark.parametrize("missing", ["household_id", "name", "id_number", "physical_ability"])
def test_missing_required_field(client, factory, cadre, missing):
    _, headers = cadre
    household = factory.household()
    db.session.commit()
    body = _body(household.id)
    del body[missing]
    assert_refused(client.post("/api/v1/laborers", json=body, headers=headers), missing)
    assert count(Laborer) == 0


def test_duplicate_id_number_is_refused(client, factory, cadre):
    _, headers = cadre
    first = factory.laborer()
    db.session.commit()
    body = _body(first.household_id, id_number=first.id_number.lower())
    assert_refused(client.post("/api/v1/laborers", json=body, headers=headers), "id_number")
    assert count(Laborer) == 1


def test_duplicate_id_number_on_update_is_refused(client, factory, cadre):
    _, headers = cadre
    first, second = factory.laborer(), factory.laborer()
    db.session.commit()
    response = client.patch(f"/api/v1/laborers/{second.id}", json={"id_number": first.id_number}, headers=headers)
    assert_refused(response, "id_number")


def test_laborer_cannot_join_a_household_of_another_village(client, factory, cadre):
    _, headers = cadre
    elsewhere = factory.household("141030101201")
    db.session.commit()
    response = client.post("/api/v1/laborers", json=_body(elsewhere.id), headers=headers)
    assert_refused(response, "household_id")
    assert count(Laborer) == 0


def test_age_on_uses_the_derived_birth_date(client, factory, cadre):
    _, headers = cadre
    household = factory.household()
    db.session.commit()
    client.post("/api/v1/laborers", json=_body(household.id), headers=headers)
    laborer = db.session.scalar(select(Laborer))
    assert laborer.age_on(date(2022, 3, 8)) == 60
