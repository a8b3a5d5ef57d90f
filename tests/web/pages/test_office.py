"""The office's pages: plans (run, status, report, confirm), welfare posts, households, workshops."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from web.extensions import db
from web.models import Placement, Plan, WelfarePost


def test_run_a_plan_see_its_report_and_confirm_it(client, factory, login):
    factory.opening()
    for _ in range(3):
        factory.laborer()
    login(factory.user("office"))
    response = client.post("/office/plans", data={"region_code": "141030", "mode": "optimal"})
    assert response.status_code == 302
    plan = db.session.scalar(select(Plan))
    assert client.get(f"/office/plans/{plan.id}/status").json["status"] == "done"
    page = client.get(response.location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Laborers placed" in page and "greedy" in page and "km from home" in page
    assert client.get(f"/office/plans/{plan.id}?channel=welfare_post").status_code == 200
    refused = client.post(f"/office/plans/{plan.id}/confirm", data={})
    assert refused.status_code == 422 and db.session.scalar(select(func.count()).select_from(Placement)) == 0
    client.post(f"/office/plans/{plan.id}/confirm", data={"is_reviewed": "y"})
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 3
    again = client.post(
        f"/office/plans/{plan.id}/confirm",
        data={"is_reviewed": "y"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "already confirmed" in again.get_data(as_text=True)


def test_plan_outside_the_region_is_refused(client, factory, login):
    login(factory.user("office", region_code="141030"))
    response = client.post("/office/plans", data={"region_code": "1410", "mode": "optimal"})
    assert response.status_code == 422 and db.session.scalar(select(Plan.id)) is None


def test_create_and_list_welfare_posts(client, factory, login):
    login(factory.user("office"))
    data = {
        "post_type": "road_keeper",
        "title": "护路员",
        "region_code": "141030100201",
        "slots": "1",
        "min_age": "",
        "max_age": "",
        "physical_demand": "light",
        "stipend_yuan": "500",
        "term_start_on": date.today().isoformat(),
        "term_end_on": (date.today() - timedelta(days=1)).isoformat(),
    }
    assert client.post("/office/welfare-posts/new", data=data).status_code == 422
    data["term_end_on"] = ""
    assert client.post("/office/welfare-posts/new", data=data).status_code == 302
    assert db.session.scalar(select(WelfarePost)).stipend_cents == 50000
    assert "护路员" in client.get("/office/welfare-posts").get_data(as_text=True)


def test_households_without_work_and_assigning_a_post(client, factory, login):
    laborer = factory.laborer(physical_ability="light")
    post = factory.welfare_post()
    login(factory.user("office"))
    page = client.get("/office/without-work").get_data(as_text=True)
    assert laborer.household.code in page and "安古村" in page
    page = client.get(f"/office/laborers/{laborer.id}/welfare", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert post.title in page and "km from home" in page
    response = client.post(
        f"/office/laborers/{laborer.id}/welfare", data={"kind": "welfare_post", "target_id": post.id}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Placement)).welfare_post_id == post.id
    second = factory.welfare_post(title="护林员")
    again = client.post(
        f"/office/laborers/{laborer.id}/welfare",
        data={"kind": "welfare_post", "target_id": second.id},
        follow_redirects=True,
    )
    assert "公益岗位" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 1


def test_workshop_recognition_and_resumed_mark(client, factory, login):
    workshop = factory.employer()
    opening = factory.opening(employer=workshop, slots=10)
    for _ in range(5):
        laborer = factory.laborer()
        db.session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                opening_id=opening.id,
                status="working",
                started_on=date.today() - timedelta(days=10),
            )
        )
    idle = factory.employer(name="空车间")
    login(factory.user("office"))
    page = client.get("/office/workshops", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count(">recognised<") == 1 and "not resumed" in page
    client.post(f"/office/workshops/{idle.id}/resumed")
    db.session.expire_all()
    assert idle.is_marked_resumed


def _counted(page: str) -> dict[str, str]:
    """The page's counts of households without work: region name → count."""
    listed = page.split('class="plain village-counts"', 1)[1].split("</ul>", 1)[0]
    return dict(re.findall(r">([^<>]+)</a> <strong>(\d+)</strong>", listed))


def test_a_province_office_counts_households_without_work_by_city_then_county_then_village(client, factory, login):
    """Not every village of a province in one page: the regions one level down, each a link further down."""
    for village in ("141030100201", "141030100201", "141030100202"):
        factory.laborer(factory.household(village))
    login(factory.user("office", region_code="14"))
    province = client.get("/office/without-work").get_data(as_text=True)
    assert "按市" in province and _counted(province) == {"临汾市": "3"}
    city = client.get("/office/without-work?region=1410").get_data(as_text=True)
    assert "按县" in city and _counted(city) == {"大宁县": "3"}
    assert '<a href="/office/without-work">山西省</a> › <span aria-current="page">临汾市</span>' in city
    county = client.get("/office/without-work?region=141030").get_data(as_text=True)
    assert "按村" in county and _counted(county) == {"安古村": "2", "白村": "1"}
    # A village keeps its neighbours in sight, and lists its own households only.
    village = client.get("/office/without-work?region=141030100202").get_data(as_text=True)
    assert _counted(village) == {"安古村": "2", "白村": "1"} and village.count('data-label="户编号"') == 1
    # Outside the office's region, or no region code at all: its own region, not an empty page nor an error.
    for elsewhere in ("15", "14ab"):
        page = client.get(f"/office/without-work?region={elsewhere}").get_data(as_text=True)
        assert _counted(page) == {"临汾市": "3"}
