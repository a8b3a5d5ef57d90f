"""The employer's pages: profile, openings, batches, candidates with masked IDs, offers, manifest."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from web.extensions import db
from web.models import Employer, Opening, Placement, TransportBatch
from web.services import convert, offers


def opening_form(**kw):
    data = {
        "title": "手套包装",
        "job_type": "packaging",
        "slots": "3",
        "min_age": "18",
        "max_age": "70",
        "physical_demand": "light",
        "skills": "",
        "pay_type": "piece",
        "pay_yuan": "60",
        "is_flexible_hours": "y",
        "start_on": (date.today() + timedelta(days=3)).isoformat(),
        "lat": "",
        "lon": "",
        "position_source": "typed",
    }
    data.update(kw)
    return data


def offer(factory, app, laborer, kind, target_id):
    cadre = factory.user("cadre")
    db.session.commit()  # reload the factory's rows with their enumerations
    placement = offers.make_offer(db.session, cadre, laborer.id, kind, target_id, convert.matcher_config(app.config))
    db.session.commit()
    return placement


def test_profile_update_and_refusal(client, factory, login):
    user = factory.user("employer")
    login(user)
    response = client.post("/employer/profile", data={"name": "新名字", "contact_name": "王", "phone": "123"})
    assert response.status_code == 422 and "error-text" in response.get_data(as_text=True)
    response = client.post("/employer/profile", data={"name": "新名字", "contact_name": "王", "phone": "13900000001"})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.employer.name == "新名字"


def test_post_edit_pause_and_close_an_opening(client, factory, login):
    login(factory.user("employer"))
    refused = client.post("/employer/openings/new", data=opening_form(min_age="60", max_age="30"))
    assert refused.status_code == 422 and 'value="手套包装"' in refused.get_data(as_text=True)
    response = client.post("/employer/openings/new", data=opening_form())
    assert response.status_code == 302
    row = db.session.scalar(select(Opening))
    assert row.pay_cents == 6000 and row.is_flexible_hours
    assert client.post(f"/employer/openings/{row.id}/edit", data=opening_form(slots="5")).status_code == 302
    client.post(f"/employer/openings/{row.id}/status/paused")
    db.session.expire_all()
    assert row.status.value == "paused"
    confirm = client.get(f"/employer/openings/{row.id}/status/closed")
    assert confirm.status_code == 200 and row.status.value == "paused"
    client.post(f"/employer/openings/{row.id}/status/closed")
    db.session.expire_all()
    assert row.status.value == "closed" and row.slots == 5


def test_candidates_show_no_id_digits_and_other_employers_are_404(client, factory, login):
    user = factory.user("employer")
    opening = factory.opening(employer=user.employer)
    laborer = factory.laborer()
    other = factory.opening()
    login(user)
    page = client.get(f"/employer/openings/{opening.id}").get_data(as_text=True)
    assert laborer.name in page and laborer.id_number not in page
    assert laborer.id_number[:6] not in page and "*****" not in page
    assert client.get(f"/employer/openings/{other.id}").status_code == 404


def test_batch_with_pickup_points_and_manifest(client, factory, login, app):
    user = factory.user("employer")
    login(user)
    data = {
        "title": "太原专车",
        "destination": "太原",
        "job_type": "assembly",
        "departs_at": (date.today() + timedelta(days=5)).isoformat() + "T07:30",
        "seats": "30",
        "min_age": "18",
        "max_age": "55",
        "physical_demand": "moderate",
        "skills": "",
        "pay_type": "monthly",
        "pay_yuan": "4000",
    }
    refused = client.post("/employer/batches/new", data=data, headers={"Accept-Language": "en"})
    assert "at least one pickup point" in refused.get_data(as_text=True)
    data.update({"pickup_points-0-name": "昕水镇广场", "pickup_points-0-region_code": "141030100"})
    response = client.post("/employer/batches/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    batch = db.session.scalar(select(TransportBatch))
    assert batch.pickup_points[0].position_source.value == "county_seat"
    assert batch.departs_at.hour in (23,)  # 07:30 in Shanxi is 23:30 UTC the day before
    laborer = factory.laborer(birth_on=date(1985, 1, 1), work_area="migrant", physical_ability="full")
    offer(factory, app, laborer, "batch", batch.id)
    assert laborer.name in client.get(f"/employer/batches/{batch.id}").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get(f"/employer/batches/{batch.id}/manifest.xlsx").data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    # The offices' manifest, without the ID number column: employers see no ID digits at all.
    assert header[3:6] == ("出发时间", "姓名", "性别") and "身份证号" not in header
    assert [row[4] for row in rows] == [laborer.name]
    assert not any(laborer.id_number[:6] in str(cell) for row in rows for cell in row)
    # The coach leaves at 07:30 local time: that local day, not the UTC day before, is on the manifest.
    assert rows[0][3] == data["departs_at"][:10] + " 07:30"  # local date and time, as written down


def test_employer_answers_offers(client, factory, login, app):
    user = factory.user("employer")
    opening = factory.opening(employer=user.employer)
    first = offer(factory, app, factory.laborer(), "opening", opening.id)
    second = offer(factory, app, factory.laborer(), "opening", opening.id)
    login(user)
    assert "offered" in client.get("/employer/placements?status=offered", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    client.post(f"/employer/placements/{first.id}/to/accepted")
    confirm = client.get(f"/employer/placements/{second.id}/to/declined")
    assert confirm.status_code == 200
    client.post(f"/employer/placements/{second.id}/to/declined", data={"note": "人已招满"})
    db.session.expire_all()
    assert db.session.get(Placement, first.id).status.value == "accepted"
    declined = db.session.get(Placement, second.id)
    assert declined.status.value == "declined" and declined.decline_reason == "人已招满"
    page = client.get(f"/employer/placements/{second.id}").get_data(as_text=True)
    assert "人已招满" in page and declined.laborer.id_number not in page


def test_an_unlisted_kind_of_work_is_typed_and_a_listed_one_typed_in_chinese_is_recognised(client, factory, login):
    from web.models import Opening

    owner = factory.user("employer")
    db.session.commit()
    login(owner)
    base = {
        "title": "剪纸",
        "slots": "3",
        "min_age": "18",
        "max_age": "70",
        "physical_demand": "light",
        "pay_type": "piece",
        "pay_yuan": "50",
        "start_on": "2027-01-10",
        "is_flexible_hours": "y",
        "lat": "",
        "lon": "",
        "position_source": "typed",
    }
    missing = client.post("/employer/openings/new", data={**base, "job_type": "other", "other_job_type": ""})
    assert missing.status_code == 422
    assert (
        client.post("/employer/openings/new", data={**base, "job_type": "other", "other_job_type": "剪纸"}).status_code
        == 302
    )
    assert (
        client.post("/employer/openings/new", data={**base, "job_type": "other", "other_job_type": "包装"}).status_code
        == 302
    )
    kinds = db.session.scalars(select(Opening.job_type).order_by(Opening.id)).all()
    assert kinds == ["剪纸", "packaging"]


def test_a_batch_boards_departs_and_cannot_go_back(client, factory, login):
    owner = factory.user("employer")
    batch = factory.batch(employer=db.session.get(Employer, owner.employer_id))
    db.session.commit()
    login(owner)
    url = f"/employer/batches/{batch.id}/status"
    page = client.get(f"/employer/batches/{batch.id}").get_data(as_text=True)
    assert 'value="boarding"' in page and 'value="departed"' not in page
    unsure = client.post(url, data={"status": "cancelled"})
    assert unsure.status_code == 302 and db.session.get(TransportBatch, batch.id).status.value == "planning"
    assert client.post(url, data={"status": "boarding"}).status_code == 302
    assert client.post(url, data={"status": "departed"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TransportBatch, batch.id).status.value == "departed"
    client.post(url, data={"status": "planning"})
    db.session.expire_all()
    assert db.session.get(TransportBatch, batch.id).status.value == "departed"


def test_the_api_refuses_to_move_a_batch_backwards(client, factory, api_token):
    owner = factory.user("employer")
    batch = factory.batch(employer=db.session.get(Employer, owner.employer_id), status="departed")
    db.session.commit()
    headers = api_token(owner)
    response = client.patch(f"/api/v1/batches/{batch.id}", json={"status": "planning"}, headers=headers)
    assert response.status_code == 422 and "status" in response.json["error"]["fields"]
    waiting = factory.batch(employer=db.session.get(Employer, owner.employer_id))
    db.session.commit()
    forward = client.patch(f"/api/v1/batches/{waiting.id}", json={"status": "boarding"}, headers=headers)
    assert forward.status_code == 200 and forward.json["status"] == "boarding"
