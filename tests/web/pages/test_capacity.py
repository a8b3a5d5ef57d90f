"""Capacity rules on the pages: refusals say why, in the page's language, and nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.web.api.test_capacity import hold
from tests.web.pages.test_employer import opening_form
from web.extensions import db
from web.models import Opening, Placement, Plan


def _placements() -> int:
    return db.session.scalar(select(func.count(Placement.id)))


def test_an_employer_cannot_lower_slots_below_those_held(client, factory, login):
    user = factory.user("employer")
    opening = factory.opening(employer=user.employer, slots=3)
    hold(factory, "opening", opening, 3)
    login(user)
    refused = client.post(f"/employer/openings/{opening.id}/edit", data=opening_form(slots="1"))
    assert refused.status_code == 422
    assert "少于已被推荐和在岗人员占用的名额" in refused.get_data(as_text=True)
    english = client.post(
        f"/employer/openings/{opening.id}/edit", data=opening_form(slots="2"), headers={"Accept-Language": "en"}
    )
    assert english.status_code == 422
    assert "fewer than are already held by offers and placements" in english.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).slots == 3


def test_a_cadre_is_told_why_a_second_offer_is_refused(client, factory, login):
    first, second = factory.opening(title="手套包装"), factory.opening(title="编织")
    laborer = factory.laborer()
    login(factory.user("cadre"))
    made = client.post(f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": first.id})
    assert made.status_code == 302
    # The laborer's page says why instead of offering what would be refused...
    page = client.get(f"/cadre/laborers/{laborer.id}").get_data(as_text=True)
    assert "该劳动力待答复的推荐已达上限" in page and f"/cadre/laborers/{laborer.id}/offer" not in page
    # ...and an offer posted all the same is refused, saying so.
    refused = client.post(
        f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": second.id}, follow_redirects=True
    )
    assert "该劳动力待答复的推荐已达上限" in refused.get_data(as_text=True)
    english = client.post(
        f"/cadre/laborers/{laborer.id}/offer",
        data={"kind": "opening", "target_id": second.id},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "already holds as many unanswered offers as allowed" in english.get_data(as_text=True)
    assert _placements() == 1


def test_the_cadres_rematch_view_offers_work_to_someone_who_accepted_an_offer(client, factory, login):
    taken, other = factory.opening(title="手套包装"), factory.opening(title="编织")
    (laborer,) = hold(factory, "opening", taken, 1, status="accepted")
    login(factory.user("cadre"))
    page = client.get(f"/cadre/laborers/{laborer.id}").get_data(as_text=True)
    rematch_link = f"/cadre/laborers/{laborer.id}?rematch=1"
    assert rematch_link in page and "该劳动力已接受推荐或正在工作" in page
    assert f"/cadre/laborers/{laborer.id}/offer" not in page  # no offer buttons outside the re-match view
    plain = client.post(
        f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": other.id}, follow_redirects=True
    )
    assert "该劳动力已接受推荐或正在工作" in plain.get_data(as_text=True)
    assert _placements() == 1
    rematch_page = client.get(rematch_link).get_data(as_text=True)
    action = f"/cadre/laborers/{laborer.id}/offer?rematch=1"
    assert action in rematch_page  # the re-match view's offer buttons ask for re-matching
    made = client.post(action, data={"kind": "opening", "target_id": other.id})
    assert made.status_code == 302 and "/cadre/placements/" in made.location
    assert _placements() == 2


def test_an_office_is_told_which_laborers_stopped_a_confirmation(client, factory, login):
    factory.opening(slots=2)
    first, second = factory.laborer(), factory.laborer()
    login(factory.user("office"))
    client.post("/office/plans", data={"region_code": "141030", "mode": "greedy"})
    plan = db.session.scalar(select(Plan))
    elsewhere = factory.opening(title="别处")
    db.session.add(
        Placement(laborer_id=first.id, household_id=first.household_id, opening_id=elsewhere.id, status="offered")
    )
    db.session.commit()
    refused = client.post(f"/office/plans/{plan.id}/confirm", data={"is_reviewed": "y"}, follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "方案运行后，以下劳动力已接受工作或推荐已达上限" in text and f"{first.name} ({first.id})" in text
    assert second.name not in text.split("方案运行后")[1].split("</")[0]
    assert _placements() == 1
