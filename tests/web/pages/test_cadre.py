"""The cadre's pages: households, laborers, ID check, matches and offers, in scope only."""

from __future__ import annotations

from sqlalchemy import select

from web.extensions import db
from web.models import Household, Laborer, Placement


def household_form(**kw):
    data = {
        "code": "141030100201-7001",
        "village_code": "141030100201",
        "head_name": "王大娘",
        "poverty_status": "registered_poor",
        "lat": "",
        "lon": "",
        "position_source": "typed",
    }
    data.update(kw)
    return data


def laborer_form(household_id, id_number, **kw):
    """The laborer form's fields; the household picked by its code, as a cadre types it."""
    data = {
        "household_code": db.session.get(Household, household_id).code,
        "name": "王秀英",
        "id_number": id_number,
        "phone": "13912345678",
        "physical_ability": "light",
        "skills": "缝纫, 包装",
        "work_area": "local",
        "max_commute_km": "10",
        "job_types": "packaging",
        "pay_type": "piece",
        "status": "seeking",
        "lat": "",
        "lon": "",
        "position_source": "typed",
    }
    data.update(kw)
    return data


def test_households_list_filters_and_scope(client, factory, login):
    mine = factory.household(poverty_status="monitored")
    factory.household(village_code="141030101201")  # not the cadre's village
    login(factory.user("cadre"))
    page = client.get("/cadre/households").get_data(as_text=True)
    assert mine.code in page and "141030101201-" not in page
    page = client.get("/cadre/households?poverty=registered_poor").get_data(as_text=True)
    assert mine.code not in page
    assert client.get("/cadre/households?without_work=1").status_code == 200


def test_out_of_scope_records_are_not_found(client, factory, login):
    other = factory.laborer(factory.household(village_code="141030101201"))
    login(factory.user("cadre"))
    assert client.get(f"/cadre/laborers/{other.id}").status_code == 404
    assert client.get(f"/cadre/households/{other.household_id}").status_code == 404
    assert client.get(f"/cadre/laborers/{other.id}/edit").status_code == 404


def test_register_household_uses_the_village_point_and_says_so(client, factory, login):
    login(factory.user("cadre"))
    assert "village" in client.get("/cadre/households/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    response = client.post("/cadre/households/new", data=household_form())
    assert response.status_code == 302
    row = db.session.scalar(select(Household).where(Household.code == "141030100201-7001"))
    assert row.position_source.value == "synthetic"
    assert "已登记" in client.get(response.location).get_data(as_text=True)


def test_register_household_refused_keeps_input_and_shows_error_by_field(client, factory, login):
    existing = factory.household()
    login(factory.user("cadre"))
    response = client.post(
        "/cadre/households/new",
        data=household_form(code=existing.code, head_name="李四"),
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="李四"' in page and "already registered" in page
    response = client.post("/cadre/households/new", data=household_form(lat="91", lon="110"))
    assert response.status_code == 422 and "error-text" in response.get_data(as_text=True)


def test_register_and_edit_laborer(client, factory, login):
    household = factory.household()
    login(factory.user("cadre"))
    number = factory.id_number()
    response = client.post("/cadre/laborers/new", data=laborer_form(household.id, number))
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db.session.scalar(select(Laborer).where(Laborer.id_number == number))
    assert row.skills == ["缝纫", "包装"] and row.sex.value == "F"
    response = client.post(f"/cadre/laborers/{row.id}/edit", data=laborer_form(household.id, number, name="王秀兰"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Laborer, row.id).name == "王秀兰"


def test_bad_id_number_is_refused_next_to_the_field_in_the_page_language(client, factory, login):
    household = factory.household()
    login(factory.user("cadre"))
    bad = factory.id_number()[:17] + ("0" if factory.id_number()[17] != "0" else "1")
    response = client.post(
        "/cadre/laborers/new", data=laborer_form(household.id, bad), headers={"Accept-Language": "en"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "check digit" in page and 'value="王秀英"' in page
    page = client.post("/cadre/laborers/new", data=laborer_form(household.id, "123")).get_data(as_text=True)
    assert "18" in page and "error-text" in page
    assert db.session.scalar(select(Laborer.id)) is None


def test_check_id_endpoint(client, factory, login):
    login(factory.user("cadre"))
    number = factory.id_number()
    data = client.get(f"/cadre/check-id?value={number}").json
    assert data["ok"] and data["birth_on"] == "1962-03-08" and data["sex"] == "F"
    data = client.get("/cadre/check-id?value=1410301962", headers={"Accept-Language": "en"}).json
    assert not data["ok"] and "18" in data["error"]


def test_laborer_page_shows_matches_misses_and_makes_an_offer(client, factory, login):
    laborer = factory.laborer()
    opening = factory.opening()
    factory.opening(max_age=40, title="年轻人岗位")
    login(factory.user("cadre"))
    page = client.get(f"/cadre/laborers/{laborer.id}").get_data(as_text=True)
    assert opening.title in page and "公里" in page  # reasons in Chinese
    assert "年轻人岗位" in page  # a near miss, with why
    en = client.get(f"/cadre/laborers/{laborer.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "km from home" in en
    response = client.post(f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": opening.id})
    assert response.status_code == 302
    placement = db.session.scalar(select(Placement))
    assert placement.status.value == "offered"
    detail = client.get(response.location).get_data(as_text=True)
    assert "offered" in detail or "已推荐" in detail or "已发出" in detail
    again = client.post(
        f"/cadre/laborers/{laborer.id}/offer",
        data={"kind": "opening", "target_id": opening.id},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "already holds an offer" in again.get_data(as_text=True)


def test_laborers_list_filters(client, factory, login):
    seeking = factory.laborer()
    factory.laborer(status="employed", name="已就业者")
    login(factory.user("cadre"))
    page = client.get("/cadre/laborers?show=seeking").get_data(as_text=True)
    assert seeking.name in page and "已就业者" not in page
    page = client.get("/cadre/laborers?show=working").get_data(as_text=True)
    assert "已就业者" in page and seeking.name not in page
    assert client.get("/cadre/laborers?show=without_work&poverty=monitored&q=x&page=3").status_code == 200


def test_cadre_ends_a_placement_only_after_confirming_with_a_reason(client, factory, login):
    laborer = factory.laborer()
    opening = factory.opening()
    login(factory.user("cadre"))
    client.post(f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": opening.id})
    placement = db.session.scalar(select(Placement))
    assert client.post(f"/cadre/placements/{placement.id}/to/accepted").status_code == 302
    confirm = client.get(f"/cadre/placements/{placement.id}/to/ended")
    assert confirm.status_code == 200 and "textarea" in confirm.get_data(as_text=True)
    refused = client.post(f"/cadre/placements/{placement.id}/to/ended", data={"note": ""})
    assert refused.status_code == 200
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status.value == "accepted"
    client.post(f"/cadre/placements/{placement.id}/to/ended", data={"note": "回家照顾老人"})
    db.session.expire_all()
    row = db.session.get(Placement, placement.id)
    assert row.status.value == "ended" and row.end_reason == "回家照顾老人"
    history = client.get(f"/cadre/placements/{placement.id}").get_data(as_text=True)
    assert "回家照顾老人" in history
    assert client.get("/cadre/placements?status=ended&channel=opening").status_code == 200


def test_kinds_of_work_are_chosen_by_name_and_stored_by_code(client, factory, login):
    cadre = factory.user("cadre")
    household = factory.household()
    db.session.commit()
    login(cadre)
    form = client.get("/cadre/laborers/new").get_data(as_text=True)
    assert 'type="checkbox"' in form and ">包装<" in form and ">缝纫<" in form
    data = laborer_form(
        household.id, factory.id_number(), job_types=["sewing", "packaging"], other_job_types="剪纸，包装"
    )
    response = client.post("/cadre/laborers/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    row = db.session.scalar(select(Laborer).order_by(Laborer.id.desc()))
    assert row.job_types == ["sewing", "packaging", "剪纸"]
    edit = client.get(f"/cadre/laborers/{row.id}/edit").get_data(as_text=True)
    assert '<input checked id="job_types-1" name="job_types" type="checkbox" value="sewing">' in edit
    assert 'name="other_job_types" type="text" value="剪纸"' in edit


def test_skills_are_typed_and_shown_by_name_and_stored_by_code(client, factory, login):
    cadre = factory.user("cadre")
    household = factory.household()
    db.session.commit()
    login(cadre)
    data = laborer_form(household.id, factory.id_number(), skills="叉车，缝纫机, 剪纸")
    response = client.post("/cadre/laborers/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    row = db.session.scalar(select(Laborer).order_by(Laborer.id.desc()))
    assert row.skills == ["forklift", "sewing_machine", "剪纸"]
    edit = client.get(f"/cadre/laborers/{row.id}/edit").get_data(as_text=True)
    assert 'name="skills" type="text" value="叉车，缝纫机，剪纸"' in edit and "sewing_machine" not in edit
    english = client.get(f"/cadre/laborers/{row.id}/edit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'value="forklift, sewing machine, 剪纸"' in english
