"""The inbox (issue 13, part 6): the clocks' messages on a page in the reader's language, the unread count
in the navigation, and the API's list and mark-read, each user seeing only their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import OFFERED_ON
from web.extensions import db
from web.models import Message, User
from web.services import inbox
from web.services import tick as tick_service


def _lapse(waiting_offer) -> None:
    tick_service.run(db.session, OFFERED_ON + timedelta(days=8))
    db.session.commit()


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh", "无人应答"), ("en", "no answer in time")],
)
def test_the_inbox_page_shows_the_message_in_the_page_language(client, login, waiting_offer, lang, words):
    _lapse(waiting_offer)
    login(waiting_offer["cadre"])
    home = client.get("/cadre/")
    assert 'class="count"' in home.get_data(as_text=True)
    client.get(f"/lang/{lang}")
    page = client.get("/inbox")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert words in body and waiting_offer["laborer"].name in body
    assert client.post("/inbox/read").status_code == 302
    assert inbox.unread_count(db.session, db.session.get(User, waiting_offer["cadre"].id)) == 0
    assert 'class="count"' not in client.get("/cadre/").get_data(as_text=True)


def test_the_api_lists_and_marks_only_the_callers_messages(client, waiting_offer, api_token):
    _lapse(waiting_offer)
    cadre_header = api_token(waiting_offer["cadre"])
    listed = client.get("/api/v1/messages", headers=cadre_header)
    assert listed.status_code == 200
    assert listed.json["unread"] == 1 and listed.json["meta"]["total"] == 1
    (item,) = listed.json["items"]
    assert item["kind"] == "offer_lapsed" and item["entity_type"] == "placement"
    employer_message = db.session.scalar(select(Message.id).where(Message.user_id == waiting_offer["employer_user"].id))
    marked = client.post("/api/v1/messages/read", json={"ids": [employer_message]}, headers=cadre_header)
    assert marked.json == {"marked": 0, "unread": 1}
    marked = client.post("/api/v1/messages/read", json={"ids": [item["id"]]}, headers=cadre_header)
    assert marked.json == {"marked": 1, "unread": 0}
    assert inbox.unread_count(db.session, db.session.get(User, waiting_offer["employer_user"].id)) == 1
