"""/api/v1/plans/{id}/fairness and /api/v1/plans/{id}/what-if: the breakdowns, and nothing written by a what-if."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from web.extensions import db
from web.models import Base

from .conftest import assert_refused


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def plan_id(client, factory, office):
    factory.opening(slots=1, max_age=55)
    factory.laborer(birth_on=date(1985, 1, 1))
    factory.laborer(factory.household("141030101201"), birth_on=date(1960, 1, 1), sex="M")
    db.session.commit()
    created = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=office[1])
    assert created.status_code == 201, created.json
    return created.json["id"]


def test_fairness_of_a_plan(client, office, plan_id):
    answer = client.get(f"/api/v1/plans/{plan_id}/fairness", headers=office[1])
    assert answer.status_code == 200
    body = answer.json
    assert body["min_ratio"] == 0.8 and body["baseline"] is not None
    overall = body["plan"]["overall"]
    assert (overall["laborers"], overall["placed"], overall["placed_rate"]) == (2, 1, 0.5)
    men = {g["group"]: g for g in body["plan"]["dimensions"]["sex"]}["M"]
    assert men["placed"] == 0 and men["placed_ratio"] == 0.0 and men["below"] == ["placed_rate", "moved_rate"]
    assert set(body["plan"]["dimensions"]) == {"sex", "age_band", "village", "poverty", "ability"}


def test_what_if_answers_both_runs_and_writes_nothing_but_its_audit(client, office, plan_id):
    before = _counts()
    answer = client.post(
        f"/api/v1/plans/{plan_id}/what-if",
        json={"workshops": [{"region_code": "141030101201", "count": 1}]},
        headers=office[1],
    )
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["current"]["report"]["placed"] == 1 and body["what_if"]["report"]["placed"] == 2
    assert body["added"] == {"opening": 1, "batch": 0, "welfare_post": 0}
    assert body["what_if"]["fairness"]["dimensions"]["sex"][1]["placed"] == 1
    after = _counts()
    assert after.pop("audit_event") == before.pop("audit_event") + 1 and after == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"workshops": [{"region_code": "141030100", "count": 2}]}, "workshops"),
        ({"workshops": [{"region_code": "141030101201", "count": 0}]}, "workshops"),
        ({"commute_extra_km": 500}, "commute_extra_km"),
        ({}, "changes"),
    ],
)
def test_what_if_refusals_name_the_field(client, office, plan_id, payload, field):
    before = _counts()
    assert_refused(client.post(f"/api/v1/plans/{plan_id}/what-if", json=payload, headers=office[1]), field)
    assert _counts() == before


def test_a_cadre_may_not_simulate(client, cadre, plan_id):
    answer = client.post(f"/api/v1/plans/{plan_id}/what-if", json={"commute_extra_km": 5}, headers=cadre[1])
    assert answer.status_code == 403


def test_unknown_and_out_of_range_plans_are_not_found(client, office):
    for plan in (999_999, 2**31, 10**12):
        assert client.get(f"/api/v1/plans/{plan}/fairness", headers=office[1]).status_code == 404
        answer = client.post(f"/api/v1/plans/{plan}/what-if", json={"commute_extra_km": 1}, headers=office[1])
        assert answer.status_code == 404
