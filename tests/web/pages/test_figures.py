"""Figures that agree, words in the page's language (issue 11, parts 2, 5 and the manifest of part 10):
one definition of households without work, year-on-year only on a base large enough, local times,
distances to 0.1 km, errors in the request's language, the manifest with pickup point and village."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from web.extensions import db
from web.models import Placement, PlacementEvent, Region


def _household_in_work(factory, **kw):
    household = factory.household(**kw)
    factory.laborer(household, status="employed")
    return household


def test_households_without_work_are_counted_alike_on_home_lists_reports_and_dashboard(client, factory, login):
    idle_poor = [factory.household() for _ in range(3)]
    for household in idle_poor:
        factory.laborer(household)
    not_poor = factory.household(poverty_status="non_poor")  # not poor: never counted as without work
    factory.laborer(not_poor)
    _household_in_work(factory)
    login(factory.user("cadre"))
    home = client.get("/cadre/").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> 户贫困户仍无人就业", home), home
    listed = client.get("/cadre/households?without_work=1").get_data(as_text=True)
    assert all(h.code in listed for h in idle_poor) and not_poor.code not in listed
    report = client.get("/reports/households-without-work").get_data(as_text=True)
    assert all(h.code in report for h in idle_poor) and report.count("<tr>") == 1 + 3
    client.post("/logout")
    login(factory.user("office"))
    office = client.get("/office/").get_data(as_text=True)
    assert re.search(r"<strong>3</strong>", office)
    dashboard = client.get("/dashboard?region=141030").get_data(as_text=True)
    assert re.search(r"<b>3</b><span>[^<]*贫困户", dashboard), dashboard


@pytest.mark.app_config(YOY_MIN_BASE=5)
def test_year_on_year_is_shown_only_on_a_base_large_enough(app):
    from flask_babel import force_locale

    from web.labels import year_on_year

    with app.test_request_context("/"), force_locale("zh"):
        assert year_on_year(2150.0, 2).text == "—" and "基数太小" in year_on_year(2150.0, 2).reason
        assert year_on_year(None, 0).text == "—" and year_on_year(None, 0).reason
        assert year_on_year(14.3, 7).text == "+14.3 %" and not year_on_year(14.3, 7).reason


def test_the_manifest_names_village_and_pickup_point_and_departs_in_local_time(client, factory, login):
    batch = factory.batch(pickups=2, departs_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    laborer = factory.laborer(work_area="migrant", sex="M")
    db.session.add(
        Placement(
            laborer_id=laborer.id,
            household_id=laborer.household_id,
            batch_id=batch.id,
            status="offered",
            distance_km=5.3599,
            events=[PlacementEvent(to_status="offered", note="test")],
        )
    )
    login(factory.user("office"))
    page = client.get(f"/reports/batch-manifest?batch={batch.id}").get_data(as_text=True)
    village = db.session.get(Region, laborer.household.village_code).name
    assert (
        re.search(r"<td[^>]*>上车点[12]</td>", page) and village in page and "2026-03-02 07:30" in page
    )  # Beijing time
    assert ">offered<" not in page and ">M<" not in page and "男" in page
    book = load_workbook(io.BytesIO(client.get(f"/reports/batch-manifest.xlsx?batch={batch.id}").data))
    header, row = list(book.active.iter_rows(values_only=True))
    cells = dict(zip(header, row, strict=True))
    assert cells["上车点"] in ("上车点1", "上车点2") and cells["村"] == village
    assert cells["出发时间"] == "2026-03-02 07:30"
    assert cells["性别"] == "男" and cells["状态"] == "已推荐"
    assert "村代码" not in header
    assert cells["离上车点公里"] == round(cells["离上车点公里"], 1)


def test_reports_show_names_of_codes_in_pages_and_xlsx(client, factory, login):
    factory.laborer(factory.household(poverty_status="monitored"))
    factory.welfare_post(post_type="elder_carer")
    login(factory.user("office"))
    page = client.get("/reports/households-without-work").get_data(as_text=True)
    assert "监测户" in page and "monitored" not in page and "Village code" not in page
    english = client.get("/reports/welfare-roster", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "elder carer" in english and "elder_carer" not in english
    client.get("/lang/en")  # the XLSX file is Chinese whatever the page's language
    book = load_workbook(io.BytesIO(client.get("/reports/welfare-roster.xlsx").data))
    values = [v for row in book.active.iter_rows(values_only=True) for v in row if v]
    assert "elder_carer" not in values and "护老员" in values


def test_error_pages_and_api_errors_speak_the_requests_language(client, factory, login, api_token):
    cadre = factory.user("cadre")
    headers = api_token(cadre)
    api = client.get("/api/v1/laborers/999999", headers=headers)
    assert api.status_code == 404 and api.json["error"]["message"] == "劳动力 999999 不存在"
    api_en = client.get("/api/v1/laborers/999999", headers={**headers, "Accept-Language": "en"})
    assert api_en.json["error"]["message"] == "laborer 999999 does not exist"
    refused = client.get("/api/v1/plans", headers={**headers, "Accept-Language": "en"})
    assert refused.status_code == 403 and "You don't have the permission" not in refused.json["error"]["message"]
    login(cadre)
    missing = client.get("/cadre/laborers/999999")
    assert missing.status_code == 404 and "劳动力 999999 不存在" in missing.get_data(as_text=True)
    english = client.get("/cadre/laborers/999999", headers={"Accept-Language": "en"})
    assert "laborer 999999 does not exist" in english.get_data(as_text=True)
    client.get("/lang/en")
    assert "laborer 999999 does not exist" in client.get("/cadre/laborers/999999").get_data(as_text=True)
    client.get("/lang/zh")
    forbidden = client.get("/office/")
    assert forbidden.status_code == 403 and "permission" not in forbidden.get_data(as_text=True)


def test_a_plan_confirmed_twice_says_so_in_the_requests_language(client, factory, api_token):
    from tests.web.test_plan_leases import _county, _plan
    from web.models import PlanStatus

    _county(factory)
    office = factory.user("office")
    plan = _plan(PlanStatus.CONFIRMED)
    headers = api_token(office)
    zh = client.post(f"/api/v1/plans/{plan.id}/confirm", headers=headers)
    assert zh.status_code == 409 and zh.json["error"]["message"] == f"方案 {plan.id} 已经确认过了"
    en = client.post(f"/api/v1/plans/{plan.id}/confirm", headers={**headers, "Accept-Language": "en"})
    assert en.json["error"]["message"] == f"plan {plan.id} was already confirmed"


def test_list_dates_are_local_days(client, factory, login):
    """A placement changed at 23:30 UTC was changed the next day in Beijing: the list says so."""
    opening = factory.opening()
    laborer = factory.laborer()
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    placement = Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        opening_id=opening.id,
        status="offered",
        distance_km=1.0,
        events=[PlacementEvent(to_status="offered", note="test")],
    )
    db.session.add(placement)
    db.session.flush()
    db.session.execute(Placement.__table__.update().values(updated_at=late, created_at=late))
    login(factory.user("cadre"))
    listing = client.get("/cadre/placements").get_data(as_text=True)
    assert "2026-03-02" in listing and "2026-03-01" not in listing
