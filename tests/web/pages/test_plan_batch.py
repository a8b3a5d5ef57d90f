"""One action queues a plan per county: the API's `POST /api/v1/plans/batch` and the office page's
"every county" button, with their refusals naming the field (the runs themselves on workers:
tests/web/test_plan_workers.py)."""

from __future__ import annotations

from sqlalchemy import select

from tests.web.test_plan_leases import _county
from web.extensions import db
from web.models import Plan, PlanStatus


def test_the_api_queues_one_plan_per_county_of_a_city(client, factory, api_token):
    _county(factory)
    headers = api_token(factory.user("office", region_code="14"))
    db.session.commit()
    created = client.post("/api/v1/plans/batch", json={"region": "1410", "mode": "greedy"}, headers=headers)
    assert created.status_code == 201, created.json
    # The tests run plans inline: the county's plan is done at once.
    assert [(p["region_code"], p["mode"], p["status"]) for p in created.json] == [("141030", "greedy", "done")]


def test_the_api_refuses_a_batch_naming_the_field(client, factory, api_token):
    _county(factory)
    headers = api_token(factory.user("office"))  # Daning County's office
    db.session.commit()
    outside = client.post("/api/v1/plans/batch", json={"region": "14", "mode": "optimal"}, headers=headers)
    assert outside.status_code == 422 and list(outside.json["error"]["fields"]) == ["region"]
    town = {"region": "141030", "mode": "optimal", "per": "town"}
    per = client.post("/api/v1/plans/batch", json=town, headers=headers)
    assert per.status_code == 422 and list(per.json["error"]["fields"]) == ["per"]
    assert db.session.scalars(select(Plan)).all() == []


def test_the_office_page_runs_a_plan_for_every_county(client, factory, login):
    _county(factory)
    login(factory.user("office", region_code="14"))
    page = client.get("/office/plans").get_data(as_text=True)
    assert "为每个县运行方案" in page
    done = client.post(
        "/office/plans", data={"region_code": "1410", "mode": "greedy", "per": "county"}, follow_redirects=True
    )
    assert "已开始 1 个县的方案" in done.get_data(as_text=True)
    rows = db.session.scalars(select(Plan)).all()
    assert [(p.region_code, p.status) for p in rows] == [("141030", PlanStatus.DONE)]
