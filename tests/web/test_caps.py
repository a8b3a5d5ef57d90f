"""Congestion caps through the API: referrals and offers beyond REFERRAL_FACTOR × open slots are refused,
ranking shows postings at their cap below open ones (cached ranker kept current), plans respect the caps."""

from __future__ import annotations

from flask_babel import refresh
from sqlalchemy import func, select

from web.extensions import db
from web.models import Placement, PlacementStatus


def _refer(client, headers, laborer, opening, **extra):
    return client.post(
        "/api/v1/placements",
        json={"laborer_id": laborer.id, "kind": "opening", "target_id": opening.id, "refer": True, **extra},
        headers=headers,
    )


def test_referrals_beyond_the_cap_are_refused_naming_it(client, factory, api_token):
    opening = factory.opening(slots=1)
    people = [factory.laborer() for _ in range(5)]
    cadre = factory.user("cadre")
    db.session.commit()
    headers = {**api_token(cadre), "Accept-Language": "en"}
    for laborer in people[:3]:  # 1 open slot × 3
        made = _refer(client, headers, laborer, opening)
        assert made.status_code == 201, made.json
        assert made.json["status"] == "proposed"
    fourth = _refer(client, headers, people[3], opening)
    assert fourth.status_code == 409
    assert "its cap" in fourth.json["error"]["message"] and "at most 3" in fourth.json["error"]["message"]
    assert fourth.json["error"]["fields"]["target"]
    # A direct offer counts against the same cap (and would hold the one slot besides).
    body = {"laborer_id": people[4].id, "kind": "opening", "target_id": opening.id}
    offer = client.post("/api/v1/placements", json=body, headers=headers)
    assert offer.status_code == 409 and "at most 3" in offer.json["error"]["message"]
    refresh()  # the test app context keeps the first request's locale; a server starts afresh
    zh = _refer(client, {**headers, "Accept-Language": "zh"}, people[4], opening)
    assert zh.status_code == 409 and "上限" in zh.json["error"]["message"]
    assert db.session.scalar(select(func.count(Placement.id))) == 3  # nothing half-written


def test_a_referral_takes_its_slot_only_when_it_becomes_an_offer(client, factory, api_token):
    opening = factory.opening(slots=1)
    first, second = factory.laborer(), factory.laborer()
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre)
    a = _refer(client, headers, first, opening).json
    b = _refer(client, headers, second, opening).json
    offered = client.patch(f"/api/v1/placements/{a['id']}", json={"status": "offered"}, headers=headers)
    assert offered.status_code == 200 and offered.json["status"] == "offered"
    full = client.patch(f"/api/v1/placements/{b['id']}", json={"status": "offered"}, headers=headers)
    assert full.status_code == 409 and "status" in full.json["error"]["fields"]
    assert db.session.get(Placement, b["id"]).status is PlacementStatus.PROPOSED


def test_a_referral_becomes_an_offer_only_for_a_laborer_free_to_take_one(client, factory, api_token):
    one, other = factory.opening(slots=2), factory.opening(slots=2)
    laborer = factory.laborer()
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre)
    referral = _refer(client, headers, laborer, other).json  # a referral is not an offer: he may get one
    offered = client.post(
        "/api/v1/placements", json={"laborer_id": laborer.id, "kind": "opening", "target_id": one.id}, headers=headers
    )
    assert offered.status_code == 201
    again = client.patch(f"/api/v1/placements/{referral['id']}", json={"status": "offered"}, headers=headers)
    assert again.status_code == 409  # MAX_LIVE_OFFERS = 1 unanswered offer at once
    assert db.session.get(Placement, referral["id"]).status is PlacementStatus.PROPOSED


def test_ranking_puts_a_posting_at_its_cap_below_an_open_one(client, factory, api_token):
    near = factory.opening(slots=1, title="近处车间")
    far_employer = factory.employer(lat=36.4705 + 0.04, lon=110.75)
    far = factory.opening(far_employer, slots=1, title="远处车间")
    seeker, *others = [factory.laborer() for _ in range(4)]
    cadre = factory.user("cadre")
    db.session.commit()
    headers = {**api_token(cadre), "Accept-Language": "en"}

    def top():
        body = client.get(f"/api/v1/laborers/{seeker.id}/matches?kind=opening", headers=headers).json
        return [(m["target_id"], m["congestion"]) for m in body["matches"]]

    before = top()  # builds the cached ranker
    assert [t for t, _ in before] == [near.id, far.id]
    assert before[0][1] == {"live_offers": 0, "cap": 3, "is_at_cap": False, "text": None}
    for laborer in others:
        assert _refer(client, headers, laborer, near).status_code == 201
    after = top()  # the cached ranker recounts in place
    assert [t for t, _ in after] == [far.id, near.id]
    capped = after[1][1]
    assert capped["is_at_cap"] and capped["live_offers"] == 3 and capped["cap"] == 3
    assert "as many offers as allowed (3)" in capped["text"]
    refresh()
    zh = client.get(
        f"/api/v1/laborers/{seeker.id}/matches?kind=opening", headers={**headers, "Accept-Language": "zh"}
    ).json
    assert zh["matches"][1]["congestion"]["text"] == "该岗位的推荐已到上限（3 个），还没满的岗位排在前面"


def test_a_plan_proposes_no_more_than_the_cap_leaves_room_for(client, factory, api_token):
    opening = factory.opening(slots=2)  # 2 open slots: at most 6 live offers
    referred = [factory.laborer() for _ in range(5)]
    seekers = [factory.laborer() for _ in range(3)]
    cadre, office = factory.user("cadre"), factory.user("office")
    db.session.commit()
    for laborer in referred:
        assert _refer(client, api_token(cadre), laborer, opening).status_code == 201
    plan = client.post(
        "/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=api_token(office)
    ).json
    to_opening = [a for a in plan["assignments"] if a["kind"] == "opening" and a["target_id"] == opening.id]
    assert len(to_opening) == 1  # 2 free slots, but room for one more live offer only
    assert {a["laborer_id"] for a in to_opening} <= {s.id for s in seekers}
    confirmed = client.post(f"/api/v1/plans/{plan['id']}/confirm", headers=api_token(office))
    assert confirmed.status_code == 200, confirmed.json
    live = db.session.scalar(
        select(func.count(Placement.id)).where(
            Placement.opening_id == opening.id, Placement.status.in_(["proposed", "offered"])
        )
    )
    assert live == 6
