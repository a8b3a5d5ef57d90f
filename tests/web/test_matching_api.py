"""Matching through the API: matches with reasons, candidates, offers, plans confirmed once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.statements import statements
from web.extensions import db
from web.models import Placement, PlacementStatus


def _small_county(factory):
    """Two laborers of 安古村, a nearby light opening with one slot, a far heavy one, a welfare post."""
    glove = factory.opening(slots=1, title="手套包装")
    heavy = factory.opening(title="搬运工", physical_demand="heavy", max_age=50, job_type="construction")
    old = factory.laborer(birth_on=date(1958, 1, 5))  # 68: too old for the heavy opening
    young = factory.laborer(birth_on=date(1990, 5, 1), physical_ability="full", sex="M")
    post = factory.welfare_post()
    db.session.commit()
    return glove, heavy, old, young, post


def test_matches_explain_eligible_and_ineligible(client, factory, api_token):
    glove, heavy, old, _young, _post = _small_county(factory)
    cadre = factory.user("cadre")
    db.session.commit()
    response = client.get(
        f"/api/v1/laborers/{old.id}/matches?limit=5", headers={**api_token(cadre), "Accept-Language": "en"}
    )
    assert response.status_code == 200, response.json
    body = response.json
    top = body["matches"][0]
    assert (top["kind"], top["target_id"]) == ("opening", glove.id)
    assert top["title"] == "手套包装"
    assert 0 < top["score"] <= 1
    names = {f["name"] for f in top["factors"]}
    assert {"distance", "physical", "age"} <= names
    assert any("km" in f["en"] and "公里" in f["zh"] for f in top["factors"])
    missed = {(m["kind"], m["target_id"]): m for m in body["ineligible"]}
    reasons = {r["code"] for r in missed[("opening", heavy.id)]["reasons"]}
    assert {"age_above_max", "ability_below_demand"} <= reasons


def test_matches_sent_as_built_are_exactly_what_the_documented_schema_gives(client, factory, api_token):
    # The endpoint skips the schema's dump for speed: what it sends must be what the dump would send.
    from web.api.matching import MatchListSchema

    _glove, _heavy, old, _young, _post = _small_county(factory)
    office = factory.user("office")
    db.session.commit()
    body = client.get(f"/api/v1/laborers/{old.id}/matches", headers=api_token(office)).json
    assert body["matches"] and body["ineligible"]  # both lists, with factors, reasons and congestion
    assert MatchListSchema().dump(body) == body
    assert MatchListSchema().validate(body) == {}


def test_kind_filter_and_bad_kind(client, factory, api_token):
    _glove, _heavy, old, _young, _post = _small_county(factory)
    cadre = factory.user("cadre")
    db.session.commit()
    laborer_id = old.id
    headers = api_token(cadre)
    only_posts = client.get(f"/api/v1/laborers/{laborer_id}/matches?kind=welfare_post", headers=headers)
    assert only_posts.status_code == 200
    assert all(m["kind"] == "welfare_post" for m in only_posts.json["matches"])
    bad = client.get(f"/api/v1/laborers/{laborer_id}/matches?kind=spaceship", headers=headers)
    assert bad.status_code == 422 and "kind" in bad.json["error"]["fields"]


def test_candidates_show_the_employer_no_id_digits(client, factory, api_token):
    glove, _heavy, old, young, _post = _small_county(factory)
    owner = factory.user("employer", employer_id=glove.employer_id)
    db.session.commit()
    response = client.get(f"/api/v1/openings/{glove.id}/candidates", headers=api_token(owner))
    assert response.status_code == 200, response.json
    ids = [m["laborer_id"] for m in response.json["matches"]]
    assert set(ids) == {old.id, young.id}
    assert all(m["id_number"] is None and isinstance(m["age"], int) for m in response.json["matches"])
    other = factory.user("employer")
    db.session.commit()
    assert client.get(f"/api/v1/openings/{glove.id}/candidates", headers=api_token(other)).status_code == 404


def test_offer_then_lifecycle(client, factory, api_token):
    glove, _heavy, old, young, _post = _small_county(factory)
    cadre = factory.user("cadre")
    owner = factory.user("employer", employer_id=glove.employer_id)
    db.session.commit()
    headers = api_token(cadre)
    offer = client.post(
        "/api/v1/placements", json={"laborer_id": old.id, "kind": "opening", "target_id": glove.id}, headers=headers
    )
    assert offer.status_code == 201, offer.json
    assert offer.json["status"] == "offered" and offer.json["events"][0]["to_status"] == "offered"
    # The only slot is held now: a second offer for it is refused and nothing is written.
    second = client.post(
        "/api/v1/placements", json={"laborer_id": young.id, "kind": "opening", "target_id": glove.id}, headers=headers
    )
    assert second.status_code == 409
    assert any(r for r in second.json["error"]["fields"]["target"])
    assert db.session.scalar(select(func.count(Placement.id))) == 1
    owner_headers = api_token(owner)
    no_reason = client.patch(
        f"/api/v1/placements/{offer.json['id']}", json={"status": "declined"}, headers=owner_headers
    )
    assert no_reason.status_code == 422 and "note" in no_reason.json["error"]["fields"]
    accepted = client.patch(
        f"/api/v1/placements/{offer.json['id']}", json={"status": "accepted"}, headers=owner_headers
    )
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    backwards = client.patch(
        f"/api/v1/placements/{offer.json['id']}", json={"status": "offered"}, headers=owner_headers
    )
    assert backwards.status_code == 409
    working = client.patch(f"/api/v1/placements/{offer.json['id']}", json={"status": "working"}, headers=headers)
    assert working.json["status"] == "working" and working.json["started_on"]
    assert [e["to_status"] for e in working.json["events"]] == ["offered", "accepted", "working"]


def test_plan_created_read_confirmed_once(client, factory, api_token):
    glove, _heavy, old, young, _post = _small_county(factory)
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    created = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=headers)
    assert created.status_code == 201, created.json
    plan = created.json
    assert plan["status"] == "done"
    assert plan["report"]["placed"] >= 1 and plan["baseline_report"]["mode"] == "greedy"
    assert plan["report"]["objective"] >= plan["baseline_report"]["objective"]
    read = client.get(f"/api/v1/plans/{plan['id']}", headers=headers).json
    assert read["assignments"] and all(a["factors"] for a in read["assignments"])
    confirmed = client.post(f"/api/v1/plans/{plan['id']}/confirm", headers=headers)
    assert confirmed.status_code == 200 and confirmed.json["placements"] == len(read["assignments"])
    offered = db.session.scalar(
        select(func.count(Placement.id)).where(
            Placement.status == PlacementStatus.OFFERED, Placement.plan_id == plan["id"]
        )
    )
    assert offered == len(read["assignments"])
    again = client.post(f"/api/v1/plans/{plan['id']}/confirm", headers=headers)
    assert again.status_code == 409
    assert db.session.scalar(select(func.count(Placement.id))) == offered


def test_confirm_refused_when_a_slot_filled_meanwhile(client, factory, api_token):
    glove, _heavy, old, young, _post = _small_county(factory)
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    plan = client.post("/api/v1/plans", json={"region": "141030", "mode": "greedy"}, headers=headers).json
    taken = [a for a in plan["assignments"] if a["kind"] == "opening" and a["target_id"] == glove.id]
    assert taken, plan["assignments"]
    other = young.id if taken[0]["laborer_id"] == old.id else old.id
    # Meanwhile a cadre offers the glove workshop's only slot to the other laborer...
    db.session.add(
        Placement(
            laborer_id=other,
            household_id=(young if other == young.id else old).household_id,
            opening_id=glove.id,
            status="offered",
        )
    )
    db.session.commit()
    before = db.session.scalar(select(func.count(Placement.id)))
    refused = client.post(f"/api/v1/plans/{plan['id']}/confirm", headers=headers)
    assert refused.status_code == 409, refused.json
    assert db.session.scalar(select(func.count(Placement.id))) == before
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=headers).json["status"] == "done"


def test_plans_are_office_only_and_scoped(client, factory, api_token):
    _small_county(factory)
    from web.models import Region

    db.session.add(
        Region(
            code="1401",
            name="太原市",
            level="city",
            parent_code="14",
            lat=37.87,
            lon=112.55,
            position_source="gazetteer",
        )
    )
    cadre = factory.user("cadre")
    elsewhere = factory.user("office", region_code="1401")
    db.session.commit()
    assert (
        client.post(
            "/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=api_token(cadre)
        ).status_code
        == 403
    )
    outside = client.post(
        "/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=api_token(elsewhere)
    )
    assert outside.status_code == 422 and "region" in outside.json["error"]["fields"]
    both = client.post(
        "/api/v1/plans", json={"county_code": "141030", "region": "14", "mode": "optimal"}, headers=api_token(elsewhere)
    )
    assert both.status_code == 422


def test_the_placements_list_costs_the_same_statements_however_many_it_shows(client, factory, api_token):
    from web.models import PlacementEvent

    office = factory.user("office")
    opening = factory.opening(slots=20)
    db.session.commit()
    headers = api_token(office)

    def add_placements(n):
        for _ in range(n):
            laborer = factory.laborer()
            row = Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                opening_id=opening.id,
                status="working",
                started_on=date(2020, 3, 2),
            )
            db.session.add(row)
            db.session.flush()
            db.session.add(PlacementEvent(placement_id=row.id, to_status="working", note="上岗"))
        db.session.commit()

    def listed():
        with statements() as seen:
            body = client.get("/api/v1/placements", headers=headers).json
        return body, len(seen)

    add_placements(2)
    client.get("/api/v1/placements", headers=headers)  # the token is read once (accounts._Known)
    few, with_few = listed()
    add_placements(5)
    client.get("/api/v1/placements", headers=headers)
    many, with_many = listed()
    assert len(few) == 2 and len(many) == 7 and all(p["events"][0]["note"] == "上岗" for p in many)
    assert with_many == with_few
