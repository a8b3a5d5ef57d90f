"""Who may see what (DESIGN §7): out of scope is 404, a role that may never is 403, no token 401."""

from __future__ import annotations

from web.extensions import db
from web.models import Employer, Laborer, Region

from .conftest import count


def test_no_token_is_401(client, factory):
    for path in ("/api/v1/laborers", "/api/v1/openings", "/api/v1/employers/1"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json["error"]["status"] == 401
    bad = client.get("/api/v1/laborers", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_cadre_cannot_read_another_villages_laborer(client, factory, cadre):
    _, headers = cadre
    elsewhere = factory.laborer(factory.household("141030101201"))
    db.session.commit()
    response = client.get(f"/api/v1/laborers/{elsewhere.id}", headers=headers)
    assert response.status_code == 404
    assert "error" in response.json
    patched = client.patch(f"/api/v1/laborers/{elsewhere.id}", json={"name": "x"}, headers=headers)
    assert patched.status_code == 404
    assert client.get("/api/v1/laborers", headers=headers).json["meta"]["total"] == 0


def test_cadre_reads_postings_of_their_county_only(client, factory, cadre):
    _, headers = cadre
    factory.opening()
    far = factory.employer(region_code="1410")  # the city, not the cadre's county
    factory.opening(far)
    db.session.commit()
    assert client.get("/api/v1/openings", headers=headers).json["meta"]["total"] == 1
    assert client.get("/api/v1/employers", headers=headers).json["meta"]["total"] == 1
    patched = client.patch("/api/v1/openings/1", json={"slots": 9}, headers=headers)
    assert patched.status_code == 403


def test_employer_cannot_read_another_employers_opening(client, factory, employer):
    _, headers = employer
    other = factory.opening()
    db.session.commit()
    assert client.get(f"/api/v1/openings/{other.id}", headers=headers).status_code == 404
    response = client.patch(f"/api/v1/openings/{other.id}", json={"slots": 1}, headers=headers)
    assert response.status_code == 404
    assert client.get("/api/v1/openings", headers=headers).json["meta"]["total"] == 0
    assert client.get(f"/api/v1/employers/{other.employer_id}", headers=headers).status_code == 404


def test_employer_cannot_touch_people(client, factory, employer):
    user, headers = employer
    laborer = factory.laborer()
    db.session.commit()
    assert client.get("/api/v1/laborers", headers=headers).status_code == 403
    assert client.get(f"/api/v1/laborers/{laborer.id}", headers=headers).status_code == 403
    assert client.get("/api/v1/households", headers=headers).status_code == 403
    assert client.get("/api/v1/welfare-posts", headers=headers).status_code == 403
    body = {
        "household_id": laborer.household_id,
        "name": "x",
        "id_number": factory.id_number(),
        "physical_ability": "light",
        "work_area": "local",
    }
    assert client.post("/api/v1/laborers", json=body, headers=headers).status_code == 403
    assert count(Laborer) == 1


def test_employer_cannot_post_for_another_employer(client, factory, employer):
    _, headers = employer
    other = factory.employer()
    db.session.commit()
    body = {
        "employer_id": other.id,
        "title": "x",
        "job_type": "packaging",
        "slots": 1,
        "physical_demand": "light",
        "pay_type": "piece",
        "start_on": "2030-01-01",
    }
    response = client.post("/api/v1/openings", json=body, headers=headers)
    assert response.status_code == 422
    assert "employer_id" in response.json["error"]["fields"]


def test_office_sees_only_its_region(client, factory, api_token):
    db.session.add(
        Region(
            code="141031",
            name="隰县",
            level="county",
            parent_code="1410",
            lat=36.69,
            lon=110.94,
            position_source="gazetteer",
        )
    )
    other_county = factory.user("office", region_code="141031")
    factory.laborer()
    db.session.commit()
    headers = api_token(other_county)
    assert client.get("/api/v1/laborers", headers=headers).json["meta"]["total"] == 0
    assert client.get("/api/v1/laborers/1", headers=headers).status_code == 404
    body = {"name": "x", "kind": "workshop", "region_code": "141030100"}
    response = client.post("/api/v1/employers", json=body, headers=headers)
    assert response.status_code == 422
    assert count(Employer) == 0
