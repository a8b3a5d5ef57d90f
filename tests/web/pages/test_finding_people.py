"""Finding people (issue 11, part 9): the cadre's search boxes, the household picker, the reports link."""

from __future__ import annotations

import re

from sqlalchemy import select

from web.extensions import db
from web.models import AuditEvent, Laborer
from web.services import search


def _names(page: str) -> set[str]:
    return set(re.findall(r'laborers/\d+">([^<]+)</a>', page))


def test_laborers_are_found_by_name_full_id_its_last_four_and_phone(client, factory, login):
    wang = factory.laborer(name="王秀英", phone="13912340001")
    li = factory.laborer(name="李桂花", phone="13912340002")
    factory.laborer(factory.household(village_code="141030101201"), name="王秀英", phone="13912340001")  # elsewhere
    login(factory.user("cadre"))

    def found(term: str) -> set[str]:
        response = client.get("/cadre/laborers", query_string={"q": term})
        assert response.status_code == 200
        return _names(response.get_data(as_text=True))

    assert found("秀英") == {"王秀英"}
    assert found(wang.id_number) == {"王秀英"}
    assert found(wang.id_number.lower()) == {"王秀英"}  # a check character typed as x
    assert found(li.id_number[-4:]) == {"李桂花"}
    assert found("139 1234 0002") == {"李桂花"}
    assert found("+8613912340001") == {"王秀英"}
    assert found("0001") == {"王秀英"}  # a phone's last four digits
    assert found(li.household.code) == {"李桂花"}
    assert found("张三") == set()
    # Out of the cadre's villages, the same name and phone find nothing more: one 王秀英 above, not two.
    page = client.get("/cadre/laborers", query_string={"q": "13912340001"}).get_data(as_text=True)
    assert page.count(">王秀英<") == 1


def test_a_search_shows_no_more_of_a_person_and_the_audit_keeps_the_term_masked(client, factory, login):
    wang = factory.laborer(name="王秀英", phone="13912340001")
    login(factory.user("cadre"))
    page = client.get("/cadre/laborers", query_string={"q": wang.id_number}).get_data(as_text=True)
    assert "王秀英" in page
    # The box keeps what was typed; the list itself shows no ID characters or phone.
    assert page.count(wang.id_number) == 1 and f'value="{wang.id_number}"' in page
    assert "13912340001" not in page
    client.get("/cadre/laborers", query_string={"q": "13912340001"})
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "list", AuditEvent.entity_type == "laborer")
        .order_by(AuditEvent.id)
    ).all()
    terms = [event.detail["filter"].get("q") for event in events[-2:]]
    assert terms == [wang.id_number[:6] + "*" * 11 + wang.id_number[-1], "139****0001"]


def test_households_are_found_by_code_or_head_name_within_scope(client, factory, login):
    mine = factory.household(head_name="刘桂花")
    other = factory.household(head_name="赵大山")
    factory.household(village_code="141030101201", head_name="刘桂花")  # not the cadre's village
    login(factory.user("cadre"))
    page = client.get("/cadre/households", query_string={"q": "桂花"}).get_data(as_text=True)
    assert mine.code in page and other.code not in page and "141030101201-" not in page
    page = client.get("/cadre/households", query_string={"q": other.code}).get_data(as_text=True)
    assert other.code in page and mine.code not in page
    assert 'id="f-q"' in page and "户编号或户主姓名" in page


def test_the_household_picker_takes_a_code_or_a_head_name(client, factory, login):
    from tests.web.pages.test_cadre import laborer_form

    cadre = factory.user("cadre")
    liu = factory.household(head_name="刘桂花")
    zhao = [factory.household(head_name="赵大山"), factory.household(head_name="赵大山")]
    outside = factory.household(village_code="141030101201", head_name="钱多多")
    db.session.commit()
    login(cadre)
    form = client.get("/cadre/laborers/new").get_data(as_text=True)
    # No select of every household: a text field with suggestions (code, head's name).
    assert '<select id="household"' not in form
    assert 'list="household-list"' in form and f'<option value="{liu.code}">刘桂花</option>' in form
    assert outside.code not in form

    data = laborer_form(liu.id, factory.id_number(), household_code="刘桂花")
    assert client.post("/cadre/laborers/new", data=data).status_code == 302
    assert db.session.scalar(select(Laborer).order_by(Laborer.id.desc())).household_id == liu.id

    data = laborer_form(liu.id, factory.id_number(), household_code="赵大山")
    ambiguous = client.post("/cadre/laborers/new", data=data)
    assert ambiguous.status_code == 422
    text = ambiguous.get_data(as_text=True)
    assert 'id="household_code-error"' in text and zhao[0].code in text and zhao[1].code in text
    assert "有几户的户主同名" in text

    for term in (outside.code, "钱多多", ""):
        data = laborer_form(liu.id, factory.id_number(), household_code=term)
        refused = client.post("/cadre/laborers/new", data=data)
        assert refused.status_code == 422 and 'id="household_code-error"' in refused.get_data(as_text=True), term

    # A suggestion picked with its head's name after the code is still that household.
    data = laborer_form(liu.id, factory.id_number(), household_code=f"{zhao[1].code} 赵大山")
    assert client.post("/cadre/laborers/new", data=data).status_code == 302
    row = db.session.scalar(select(Laborer).order_by(Laborer.id.desc()))
    assert row.household_id == zhao[1].id
    edit = client.get(f"/cadre/laborers/{row.id}/edit").get_data(as_text=True)
    assert re.search(rf'<input [^>]*id="household_code"[^>]*value="{zhao[1].code}"', edit)
    prefilled = client.get(f"/cadre/laborers/new?household_id={liu.id}").get_data(as_text=True)
    assert re.search(rf'<input [^>]*id="household_code"[^>]*value="{liu.code}"', prefilled)


def test_the_cadre_navigation_links_their_reports_and_exports(client, factory, login):
    login(factory.user("cadre"))
    home = client.get("/cadre/").get_data(as_text=True)
    nav = home[home.index("<nav>") : home.index("</nav>")]
    assert '<a href="/reports">报表与导出</a>' in nav
    reports = client.get("/reports").get_data(as_text=True)
    assert "/reports/households-without-work.xlsx" in reports
    assert client.get("/reports/households-without-work").status_code == 200


def test_search_terms_read_as_numbers():
    assert search.number_term(" 141030 19620308 002x ") == "14103019620308002X"
    assert search.number_term("+86 139-1234-5678") == "13912345678"
    assert search.audit_term("王秀英") == "王秀英"
