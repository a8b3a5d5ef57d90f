"""Quotas on the office's plan form and plan page: recorded, reported as met, failures named in the page's language."""

from __future__ import annotations

from sqlalchemy import select

from web.extensions import db
from web.models import Laborer, Plan, PlanStatus

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


def test_a_reserve_nobody_can_fill_fails_the_plan_naming_the_quota(client, factory, api_token, login):
    user = factory.user("office")
    db.session.commit()
    headers = api_token(user)
    _two_villages(factory)
    reserve = {"bound": "at_least", "groups": ["disability"], "channel": "opening", "per": "plan", "count": 2}
    plan = client.post(
        "/api/v1/plans",
        json={"county_code": "141030", "mode": "optimal", "quotas": [VILLAGE_CAP, reserve]},
        headers=headers,
    ).json
    assert plan["status"] == "failed"
    assert plan["error"] == "QuotaError: quota 2 cannot be met: 2 needed, at most 0 possible"
    assert plan["failure"] == {"code": "quota", "quota": 2, "reason": "too_few", "need": 2, "possible": 0}
    assert plan["assignments"] == []
    login(user)
    page = client.get(f"/office/plans/{plan['id']}").get_data(as_text=True)
    assert "第 2 项配额无法满足：需要 2 人，最多只能安排 0 人。" in page
    english = client.get(f"/office/plans/{plan['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Quota 2 cannot be met: it needs 2 placements, and at most 0 are possible." in english


def test_the_office_form_records_quotas_and_the_plan_page_says_they_were_met(client, factory, login):
    _two_villages(factory)
    login(factory.user("office"))
    form = {
        "region_code": "141030",
        "mode": "optimal",
        "quotas-0-bound": "at_most",
        "quotas-0-amount": "50",
        "quotas-0-unit": "percent",
        "quotas-0-channel": "opening",
        "quotas-0-per": "posting",
        "quotas-0-groups": ["village"],
        "quotas-1-bound": "",
        "quotas-2-bound": "",
    }
    done = client.post("/office/plans", data=form, follow_redirects=True)
    assert done.status_code == 200
    plan = db.session.scalars(select(Plan).order_by(Plan.id.desc())).first()
    assert plan.status is PlanStatus.DONE
    assert plan.quotas == [{**VILLAGE_CAP, "percent": 50.0, "count": None}]
    page = done.get_data(as_text=True)
    assert "配额与预留" in page and "已满足" in page and "任一村" in page
    english = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "at most 50% of the slots · nearby opening · in each posting · any one village" in english
    assert "met" in english


def test_the_form_refuses_a_half_filled_quota_and_a_greedy_plan_with_quotas(client, factory, login):
    _two_villages(factory)
    login(factory.user("office"))
    half = {"region_code": "141030", "mode": "optimal", "quotas-0-bound": "at_least", "quotas-0-unit": "count"}
    refused = client.post("/office/plans", data=half)
    assert refused.status_code == 422
    assert "请填写数量" in refused.get_data(as_text=True)
    greedy = {
        "region_code": "141030",
        "mode": "greedy",
        "quotas-0-bound": "at_most",
        "quotas-0-amount": "1",
        "quotas-0-unit": "count",
        "quotas-0-channel": "opening",
        "quotas-0-per": "posting",
        "quotas-0-groups": ["women"],
    }
    refused = client.post("/office/plans", data=greedy)
    assert refused.status_code == 422
    assert "配额只适用于最优模式" in refused.get_data(as_text=True)
    assert db.session.scalars(select(Plan.id)).all() == []
