"""Quotas on plans through the API and the office's form: recorded, kept, reported, refused by field."""

from __future__ import annotations

from sqlalchemy import select

from tests.web.api.conftest import assert_refused
from web.extensions import db
from web.models import Laborer, Plan

VILLAGE_CAP = {"bound": "at_most", "groups": ["village"], "channel": "opening", "per": "posting", "percent": 50}


def _two_villages(factory, *, first: int = 4, second: int = 2, slots: int = 4) -> None:
    """One opening of `slots` and laborers of two villages: `first` of 安古村, `second` of the other."""
    factory.opening(slots=slots)
    for _ in range(first):
        factory.laborer(factory.household("141030100201"))
    for _ in range(second):
        factory.laborer(factory.household("141030100202"))
    db.session.commit()


def _villages(plan_json: dict) -> list[str]:
    ids = [a["laborer_id"] for a in plan_json["assignments"]]
    rows = db.session.scalars(select(Laborer).where(Laborer.id.in_(ids))).all()
    return sorted(row.household.village_code for row in rows)


def test_a_village_cap_round_trips_and_spreads_the_slots(client, factory, office):
    _, headers = office
    _two_villages(factory)
    free = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=headers).json
    assert free["quotas"] == [] and free["report"]["quotas"] == []
    created = client.post(
        "/api/v1/plans", json={"county_code": "141030", "mode": "optimal", "quotas": [VILLAGE_CAP]}, headers=headers
    )
    assert created.status_code == 201, created.json
    plan = created.json
    assert plan["status"] == "done"
    assert plan["quotas"] == [{**VILLAGE_CAP, "percent": 50.0, "count": None}]
    assert _villages(plan) == ["141030100201"] * 2 + ["141030100202"] * 2  # at most 2 of 4 slots per village
    (kept,) = plan["report"]["quotas"]
    assert kept["met"] and kept["number"] == 1 and kept["placed"] == 4 and kept["unmet"] == 0
    again = client.get(f"/api/v1/plans/{plan['id']}", headers=headers).json
    assert again["quotas"] == plan["quotas"] and again["report"]["quotas"] == plan["report"]["quotas"]
    assert db.session.get(Plan, plan["id"]).quotas == plan["quotas"]


def test_malformed_quotas_are_refused_naming_the_field(client, factory, office):
    _, headers = office
    _two_villages(factory)
    before = db.session.scalars(select(Plan.id)).all()
    for quota, field in [
        ({**VILLAGE_CAP, "percent": 120}, "percent"),
        ({**VILLAGE_CAP, "bound": "at_least"}, "groups"),
        ({**VILLAGE_CAP, "count": 2}, "percent"),
        ({**VILLAGE_CAP, "channel": "bus"}, "channel"),
    ]:
        refused = client.post(
            "/api/v1/plans", json={"county_code": "141030", "mode": "optimal", "quotas": [quota]}, headers=headers
        )
        assert_refused(refused, "quotas")
        assert field in refused.json["error"]["fields"]["quotas"]["0"], refused.json
    greedy = client.post(
        "/api/v1/plans", json={"county_code": "141030", "mode": "greedy", "quotas": [VILLAGE_CAP]}, headers=headers
    )
    assert_refused(greedy, "quotas")
    db.session.expire_all()
    assert db.session.scalars(select(Plan.id)).all() == before  # nothing half-written


def test_the_reserve_is_kept_for_people_with_disabilities(client, factory, office):
    _, headers = office
    factory.opening(slots=2)
    for _ in range(3):
        factory.laborer(physical_ability="moderate")  # fit better than the light-work laborers below
    disabled = [factory.laborer(has_disability=True) for _ in range(2)]
    db.session.commit()
    reserve = {"bound": "at_least", "groups": ["disability"], "channel": "opening", "per": "plan", "count": 1}
    plan = client.post(
        "/api/v1/plans", json={"county_code": "141030", "mode": "optimal", "quotas": [reserve]}, headers=headers
    ).json
    assert plan["status"] == "done", plan
    placed = {a["laborer_id"] for a in plan["assignments"]}
    assert len(placed) == 2 and len(placed & {row.id for row in disabled}) >= 1
    assert plan["report"]["quotas"][0] | {"met": True, "needed": 1} == plan["report"]["quotas"][0]


def test_a_cadre_records_a_disability_through_the_api(client, factory, cadre):
    _, headers = cadre
    laborer = factory.laborer()
    db.session.commit()
    changed = client.patch(f"/api/v1/laborers/{laborer.id}", json={"has_disability": True}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["has_disability"] is True
    db.session.expire_all()
    assert db.session.get(Laborer, laborer.id).has_disability is True
