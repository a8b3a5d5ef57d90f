"""/api/v1/households: create, read, list, update, and what is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from web.extensions import db
from web.models import AuditEvent, Household

from .conftest import assert_refused, count


def _body(**kw) -> dict:
    body = {
        "code": "141030100201-0001",
        "village_code": "141030100201",
        "head_name": "张有福",
        "poverty_status": "registered_poor",
    }
    body.update(kw)
    return body


def test_create_read_update(client, factory, cadre):
    _, headers = cadre
    response = client.post("/api/v1/households", json=_body(), headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    # No position given: the village's point, labelled as the village's point is.
    assert (created["lat"], created["lon"], created["position_source"]) == (
        36.475,
        110.762,
        "synthetic",
    )
    url = f"/api/v1/households/{created['id']}"
    assert client.get(url, headers=headers).json["code"] == "141030100201-0001"
    changed = client.patch(url, json={"poverty_status": "monitored"}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["poverty_status"] == "monitored"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["create", "read", "update"]


def test_list_filters_and_pages(client, factory, office):
    _, headers = office
    factory.household(poverty_status="non_poor")
    factory.household()
    factory.household("141030101201")
    db.session.commit()
    everything = client.get("/api/v1/households", headers=headers).json
    assert everything["meta"]["total"] == 3
    poor = client.get("/api/v1/households?poverty_status=registered_poor", headers=headers).json
    assert poor["meta"]["total"] == 2
    township = client.get("/api/v1/households?region=141030101", headers=headers).json
    assert [h["village_code"] for h in township["items"]] == ["141030101201"]
    second = client.get("/api/v1/households?per_page=2&page=2", headers=headers).json
    assert len(second["items"]) == 1 and second["meta"]["pages"] == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"village_code": "141030100299"}, "village_code"),  # no such village
        ({"village_code": "141030101201"}, "village_code"),  # not the cadre's village
        ({"village_code": "1410301"}, "village_code"),
        ({"poverty_status": "rich"}, "poverty_status"),
        ({"head_name": ""}, "head_name"),
        ({"code": 17}, "code"),
        ({"lat": -91.0, "lon": 110.0}, "lat"),
    ],
)
def test_bad_input_is_refused(client, factory, cadre, changes, field):
    _, headers = cadre
    response = client.post("/api/v1/households", json=_body(**changes), headers=headers)
    assert_refused(response, field)
    assert count(Household) == 0


def test_missing_and_duplicate_code(client, factory, cadre):
    _, headers = cadre
    body = _body()
    del body["code"]
    assert_refused(client.post("/api/v1/households", json=body, headers=headers), "code")
    factory.household(code="141030100201-0001")
    db.session.commit()
    assert_refused(client.post("/api/v1/households", json=_body(), headers=headers), "code")
    assert count(Household) == 1


def test_non_json_body_is_refused(client, factory, cadre):
    _, headers = cadre
    response = client.post("/api/v1/households", data="not json", headers={**headers, "Content-Type": "text/plain"})
    assert response.status_code == 422
    assert "error" in response.json
