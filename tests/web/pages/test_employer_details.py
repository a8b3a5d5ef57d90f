"""Employer details (issue 11, part 10): the profile's labels, and the village cadre to call once a
placement is agreed — shown to its employer only, only then (services.disclosure.cadre_contact)."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import PlacementStatus
from web.services import convert, disclosure, offers
from web.services.accounts import create_user


def _label(page: str, field: str) -> str:
    return re.search(rf'<label for="{field}">([^<]+)</label>', page).group(1)


def test_the_profile_names_the_organisation_and_its_contact_person(client, factory, login):
    login(factory.user("employer"))
    page = client.get("/employer/profile").get_data(as_text=True)
    assert _label(page, "name") == "单位名称"
    assert _label(page, "contact_name") == "联系人"
    assert _label(page, "phone") == "联系电话"
    english = client.get("/employer/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _label(english, "name") == "Organisation name"


def _agreed(factory, app, *, offered_by):
    employer = factory.user("employer")
    opening = factory.opening(employer=employer.employer)
    laborer = factory.laborer()
    db.session.commit()
    config = convert.matcher_config(app.config)
    placement = offers.make_offer(db.session, offered_by, laborer.id, "opening", opening.id, config)
    db.session.commit()
    return employer, placement


def test_the_employer_of_an_accepted_placement_sees_the_offering_cadres_name_and_phone(
    client, factory, login, app, api_token
):
    cadre = factory.user("cadre", display_name="安古村 李书记", phone="13935700123")
    employer, placement = _agreed(factory, app, offered_by=cadre)
    login(employer)
    offered = client.get(f"/employer/placements/{placement.id}").get_data(as_text=True)
    assert "13935700123" not in offered and 'class="contact"' not in offered  # not before it is agreed
    offers.transition(db.session, employer, placement.id, "accepted")
    db.session.commit()
    page = client.get(f"/employer/placements/{placement.id}").get_data(as_text=True)
    contact = re.search(r"<dt>村干部</dt><dd class=\"contact\">(.*?)</dd>", page).group(1)
    assert "安古村 李书记" in contact and '<a href="tel:13935700123">13935700123</a>' in contact
    api = client.get(f"/api/v1/placements/{placement.id}", headers=api_token(employer))
    assert api.status_code == 200, api.json
    assert api.json["cadre_contact"] == {"name": "安古村 李书记", "phone": "13935700123"}


def test_the_cadre_and_office_pages_show_no_cadre_contact_and_other_employers_see_nothing(client, factory, login, app):
    cadre = factory.user("cadre", phone="13935700123")
    employer, placement = _agreed(factory, app, offered_by=cadre)
    offers.transition(db.session, employer, placement.id, "accepted")
    db.session.commit()
    assert disclosure.cadre_contact(db.session, cadre, placement) is None
    assert disclosure.cadre_contact(db.session, factory.user("office"), placement) is None
    stranger = factory.user("employer")
    assert disclosure.cadre_contact(db.session, stranger, placement) is None
    assert disclosure.cadre_contact(db.session, employer, placement) == disclosure.Contact(
        cadre.display_name, cadre.phone
    )
    login(cadre)
    assert 'dd class="contact"' not in client.get(f"/cadre/placements/{placement.id}").get_data(as_text=True)


def test_an_offer_from_an_office_plan_names_a_cadre_of_the_laborers_village(client, factory, login, app):
    factory.user("cadre", village_codes=["141030101201"], phone="13900000001")  # another village
    without_phone = factory.user("cadre", display_name="没电话的干部")
    village_cadre = factory.user("cadre", display_name="白书记", phone="13900000002")
    office = factory.user("office")
    employer, placement = _agreed(factory, app, offered_by=office)
    for step in (PlacementStatus.ACCEPTED, PlacementStatus.WORKING):
        offers.transition(db.session, employer, placement.id, step.value)
        db.session.commit()
        # The cadre with a phone comes before one without; a cadre of another village never.
        found = disclosure.cadre_contact(db.session, employer, placement)
        assert found == disclosure.Contact("白书记", "13900000002"), step
    assert without_phone.phone is None and village_cadre.village_codes == ["141030100201"]


def test_a_cadre_phone_is_checked_when_the_user_is_created(factory):
    from web.errors import ValidationError

    try:
        create_user(db.session, "cadre-bad-phone", PASSWORD, "cadre", village_codes=["141030100201"], phone="12")
    except ValidationError as error:
        assert "phone" in error.fields
    else:
        raise AssertionError("a bad phone was accepted")
    user = create_user(
        db.session, "cadre-phone", PASSWORD, "cadre", village_codes=["141030100201"], phone="139 1234 5678"
    )
    assert user.phone == "13912345678"
