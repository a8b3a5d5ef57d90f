"""/api/v1/employers, /openings, /batches, /welfare-posts: create, read, list, update, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from web.extensions import db
from web.models import Employer, Opening, TransportBatch, WelfarePost

from .conftest import assert_refused, count

START = (date.today() + timedelta(days=7)).isoformat()


def _opening(**kw) -> dict:
    body = {
        "title": "手套包装",
        "job_type": "packaging",
        "slots": 5,
        "min_age": 18,
        "max_age": 70,
        "physical_demand": "light",
        "pay_type": "piece",
        "pay_cents": 6000,
        "is_flexible_hours": True,
        "start_on": START,
    }
    body.update(kw)
    return body


def _batch(**kw) -> dict:
    body = {
        "title": "点对点专车",
        "destination": "太原市",
        "job_type": "assembly",
        "departs_at": "2030-03-01T06:00:00+08:00",
        "seats": 40,
        "min_age": 18,
        "max_age": 55,
        "physical_demand": "moderate",
        "pay_type": "monthly",
        "pickup_points": [{"name": "昕水镇政府", "region_code": "141030100"}],
    }
    body.update(kw)
    return body


def _welfare(**kw) -> dict:
    body = {
        "post_type": "road_keeper",
        "title": "护路员",
        "region_code": "141030100201",
        "physical_demand": "light",
        "stipend_cents": 50000,
        "term_start_on": "2030-01-01",
    }
    body.update(kw)
    return body


# --- employers ---------------------------------------------------------------------------------


def test_office_registers_and_updates_an_employer(client, factory, office):
    _, headers = office
    body = {"name": "大宁县手套车间", "kind": "workshop", "region_code": "141030100"}
    response = client.post("/api/v1/employers", json=body, headers=headers)
    assert response.status_code == 201, response.json
    # A township's gazetteer point would say "township"; this one is already the county seat.
    assert response.json["position_source"] == "county_seat"
    url = f"/api/v1/employers/{response.json['id']}"
    changed = client.patch(url, json={"is_marked_resumed": True}, headers=headers)
    assert changed.json["is_marked_resumed"] is True


def test_employer_updates_itself_but_not_its_resumed_mark(client, factory, employer):
    user, headers = employer
    url = f"/api/v1/employers/{user.employer_id}"
    assert client.patch(url, json={"contact_name": "王厂长"}, headers=headers).status_code == 200
    assert client.patch(url, json={"is_marked_resumed": True}, headers=headers).status_code == 403
    listed = client.get("/api/v1/employers", headers=headers).json
    assert [e["id"] for e in listed["items"]] == [user.employer_id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region_code": "149999"}, "region_code"),
        ({"region_code": "140105"}, "region_code"),  # no such region here
        ({"kind": "factory"}, "kind"),
        ({"phone": "call me"}, "phone"),
        ({"lat": 36.4, "lon": 181.0}, "lon"),
    ],
)
def test_bad_employer_is_refused(client, factory, office, changes, field):
    _, headers = office
    body = {"name": "车间", "kind": "workshop", "region_code": "141030100", **changes}
    assert_refused(client.post("/api/v1/employers", json=body, headers=headers), field)
    assert count(Employer) == 0


def test_only_offices_register_employers(client, factory, cadre, employer):
    body = {"name": "车间", "kind": "workshop", "region_code": "141030100"}
    for _, headers in (cadre, employer):
        response = client.post("/api/v1/employers", json=body, headers=headers)
        assert response.status_code == 403
    assert count(Employer) == 1  # the employer user's own


# --- openings ----------------------------------------------------------------------------------


def test_employer_posts_reads_lists_and_updates_an_opening(client, factory, employer):
    user, headers = employer
    response = client.post("/api/v1/openings", json=_opening(), headers=headers)
    assert response.status_code == 201, response.json
    opening = response.json
    assert opening["employer_id"] == user.employer_id
    site = db.session.get(Employer, user.employer_id)
    assert (opening["lat"], opening["lon"], opening["position_source"]) == (
        site.lat,
        site.lon,
        "typed",
    )
    url = f"/api/v1/openings/{opening['id']}"
    assert client.get(url, headers=headers).json["title"] == "手套包装"
    changed = client.patch(url, json={"status": "paused", "slots": 8}, headers=headers)
    assert (changed.json["status"], changed.json["slots"]) == ("paused", 8)
    closed = client.get("/api/v1/openings?status=closed", headers=headers).json
    assert closed["meta"]["total"] == 0
    paused = client.get("/api/v1/openings?status=paused&region=141030", headers=headers).json
    assert paused["meta"]["total"] == 1


def test_office_lists_openings_by_region(client, factory, office):
    _, headers = office
    factory.opening()
    factory.opening(factory.employer(region_code="141030101201"))
    db.session.commit()
    township = client.get("/api/v1/openings?region=141030101", headers=headers).json
    assert township["meta"]["total"] == 1
    assert client.get("/api/v1/openings", headers=headers).json["meta"]["total"] == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_age": 60, "max_age": 40}, "min_age"),
        ({"slots": 0}, "slots"),
        ({"slots": -3}, "slots"),
        ({"slots": "many"}, "slots"),
        ({"physical_demand": "extreme"}, "physical_demand"),
        ({"start_on": "2030-02-30"}, "start_on"),
        ({"min_age": 12}, "min_age"),
        ({"pay_cents": -1}, "pay_cents"),
        ({"lat": 91.0, "lon": 110.0}, "lat"),
        ({"region_code": "141030100299"}, "region_code"),
        ({"employer_id": 999999}, "employer_id"),
    ],
)
def test_bad_opening_is_refused(client, factory, employer, changes, field):
    _, headers = employer
    response = client.post("/api/v1/openings", json=_opening(**changes), headers=headers)
    assert_refused(response, field)
    assert count(Opening) == 0


@pytest.mark.parametrize("missing", ["title", "slots", "physical_demand", "start_on"])
def test_opening_missing_field(client, factory, employer, missing):
    _, headers = employer
    body = _opening()
    del body[missing]
    assert_refused(client.post("/api/v1/openings", json=body, headers=headers), missing)
    assert count(Opening) == 0


def test_partial_update_cannot_invert_the_age_range(client, factory, employer):
    user, headers = employer
    opening = factory.opening(db.session.get(Employer, user.employer_id), max_age=50)
    db.session.commit()
    response = client.patch(f"/api/v1/openings/{opening.id}", json={"min_age": 60}, headers=headers)
    assert_refused(response, "min_age")
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).min_age == 18


def test_office_posts_for_an_employer_of_its_region(client, factory, office):
    _, headers = office
    workshop = factory.employer()
    db.session.commit()
    missing = client.post("/api/v1/openings", json=_opening(), headers=headers)
    assert_refused(missing, "employer_id")
    response = client.post("/api/v1/openings", json=_opening(employer_id=workshop.id), headers=headers)
    assert response.status_code == 201, response.json


# --- batches -----------------------------------------------------------------------------------


def test_batch_with_pickup_points(client, factory, employer):
    _, headers = employer
    response = client.post("/api/v1/batches", json=_batch(), headers=headers)
    assert response.status_code == 201, response.json
    batch = response.json
    assert batch["region_code"] == "141030"
    assert batch["departs_at"].startswith("2030-02-28T22:00:00")  # stored in UTC
    [point] = batch["pickup_points"]
    assert point["position_source"] == "county_seat"  # borrowed from the township's point
    url = f"/api/v1/batches/{batch['id']}"
    points = [
        {"name": "曲峨镇", "region_code": "141030101"},
        {"name": "安古村口", "region_code": "141030100201", "lat": 36.47, "lon": 110.76},
    ]
    changed = client.patch(url, json={"pickup_points": points, "status": "boarding"}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert [p["name"] for p in changed.json["pickup_points"]] == ["曲峨镇", "安古村口"]
    assert changed.json["pickup_points"][1]["position_source"] == "typed"
    listed = client.get("/api/v1/batches?region=141030101&status=boarding", headers=headers).json
    assert listed["meta"]["total"] == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"seats": 0}, "seats"),
        ({"pickup_points": []}, "pickup_points"),
        ({"pickup_points": [{"region_code": "141030100"}]}, "pickup_points"),
        (
            {"pickup_points": [{"name": "x", "region_code": "141030100299"}]},
            "pickup_points.0.region_code",
        ),
        ({"departs_at": "soon"}, "departs_at"),
        ({"min_age": 50, "max_age": 20}, "min_age"),
        ({"status": "flying"}, "status"),
    ],
)
def test_bad_batch_is_refused(client, factory, employer, changes, field):
    _, headers = employer
    response = client.post("/api/v1/batches", json=_batch(**changes), headers=headers)
    assert_refused(response, field)
    assert count(TransportBatch) == 0


# --- welfare posts -----------------------------------------------------------------------------


def test_office_creates_and_updates_a_welfare_post(client, factory, office):
    _, headers = office
    response = client.post("/api/v1/welfare-posts", json=_welfare(), headers=headers)
    assert response.status_code == 201, response.json
    post = response.json
    assert post["slots"] == 1 and post["position_source"] == "synthetic"
    url = f"/api/v1/welfare-posts/{post['id']}"
    changed = client.patch(url, json={"status": "closed"}, headers=headers)
    assert changed.json["status"] == "closed"
    listed = client.get("/api/v1/welfare-posts?status=closed&region=141030100201", headers=headers)
    assert listed.json["meta"]["total"] == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"post_type": "astronaut"}, "post_type"),
        ({"region_code": "141030"}, "region_code"),  # a county: not a village or township
        ({"region_code": "141030100299"}, "region_code"),
        ({"stipend_cents": -5}, "stipend_cents"),
        ({"term_end_on": "2029-01-01"}, "term_end_on"),
        ({"slots": 0}, "slots"),
        ({"min_age": 70, "max_age": 60}, "min_age"),
    ],
)
def test_bad_welfare_post_is_refused(client, factory, office, changes, field):
    _, headers = office
    response = client.post("/api/v1/welfare-posts", json=_welfare(**changes), headers=headers)
    assert_refused(response, field)
    assert count(WelfarePost) == 0


def test_cadres_read_welfare_posts_but_do_not_create_them(client, factory, cadre):
    _, headers = cadre
    factory.welfare_post()
    db.session.commit()
    assert client.get("/api/v1/welfare-posts", headers=headers).json["meta"]["total"] == 1
    response = client.post("/api/v1/welfare-posts", json=_welfare(), headers=headers)
    assert response.status_code == 403
    assert count(WelfarePost) == 1
