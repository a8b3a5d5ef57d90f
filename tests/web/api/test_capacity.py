"""Capacity rules through the API: slots and seats never go below what is held; a laborer who has
said yes to work, or holds as many unanswered offers as allowed, gets no new offer; plans follow suit."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests.conftest import POSTGRES_URL
from tests.web.test_concurrency import _all_at_once
from web.errors import ConflictError, ValidationError
from web.extensions import db
from web.models import Opening, Placement, User
from web.services import convert, offers, registry

from .conftest import assert_refused


def hold(factory, kind: str, target, n: int, status: str = "offered") -> list:
    """`n` placements of fresh laborers (each of their own household) holding `target`."""
    laborers = [factory.laborer(birth_on=date(1985, 1, 1), work_area="any", physical_ability="full") for _ in range(n)]
    for laborer in laborers:
        db.session.add(
            Placement(
                laborer_id=laborer.id, household_id=laborer.household_id, status=status, **{f"{kind}_id": target.id}
            )
        )
    db.session.commit()
    return laborers


@pytest.mark.parametrize(
    ("kind", "make", "url", "field"),
    [
        ("opening", lambda f: f.opening(slots=5), "/api/v1/openings", "slots"),
        ("batch", lambda f: f.batch(seats=5), "/api/v1/batches", "seats"),
        ("welfare_post", lambda f: f.welfare_post(slots=5), "/api/v1/welfare-posts", "slots"),
    ],
)
def test_capacity_is_not_lowered_below_what_is_held(client, factory, office, kind, make, url, field):
    _, headers = office
    target = make(factory)
    hold(factory, kind, target, 2)
    hold(factory, kind, target, 1, status="working")
    hold(factory, kind, target, 2, status="declined")
    model = type(target)  # Opening, TransportBatch or WelfarePost
    refused = client.patch(f"{url}/{target.id}", json={field: 1}, headers=headers)
    assert_refused(refused, field)
    assert "3" in refused.json["error"]["message"]  # how many are held
    db.session.expire_all()
    assert getattr(db.session.get(model, target.id), field) == 5
    # Down to exactly what is held is allowed; declined and ended placements hold nothing.
    assert client.patch(f"{url}/{target.id}", json={field: 3}, headers=headers).status_code == 200
    db.session.expire_all()
    assert getattr(db.session.get(model, target.id), field) == 3


def test_other_changes_of_a_full_opening_still_save(client, factory, office):
    _, headers = office
    opening = factory.opening(slots=2)
    hold(factory, "opening", opening, 2)
    changed = client.patch(f"/api/v1/openings/{opening.id}", json={"title": "新名称"}, headers=headers)
    assert changed.status_code == 200 and changed.json["title"] == "新名称"


def _offer(client, headers, laborer, target, kind="opening", **extra):
    body = {"laborer_id": laborer.id, "kind": kind, "target_id": target.id, **extra}
    # Errors come in the request's language (Chinese by default): these read the English ones.
    return client.post("/api/v1/placements", json=body, headers={**headers, "Accept-Language": "en"})


def test_a_second_offer_to_a_laborer_with_a_live_offer_is_refused(client, factory, cadre):
    _, headers = cadre
    first, second = factory.opening(title="手套包装"), factory.opening(title="编织")
    laborer = factory.laborer()
    db.session.commit()
    assert _offer(client, headers, laborer, first).status_code == 201
    refused = _offer(client, headers, laborer, second)
    assert_refused(refused, "laborer_id", 409)
    assert "unanswered offers" in refused.json["error"]["message"]
    assert db.session.scalar(select(func.count(Placement.id))) == 1


@pytest.mark.app_config(MAX_LIVE_OFFERS=2)
def test_max_live_offers_comes_from_the_configuration(client, factory, cadre):
    _, headers = cadre
    openings = [factory.opening(title=f"岗位{i}") for i in range(3)]
    laborer = factory.laborer()
    db.session.commit()
    assert [_offer(client, headers, laborer, o).status_code for o in openings] == [201, 201, 409]


@pytest.mark.parametrize("status", ["accepted", "working"])
def test_a_laborer_who_said_yes_gets_an_offer_only_when_rematching(client, factory, cadre, status):
    _, headers = cadre
    taken, other = factory.opening(title="手套包装"), factory.opening(title="编织")
    (laborer,) = hold(factory, "opening", taken, 1, status=status)
    refused = _offer(client, headers, laborer, other)
    assert_refused(refused, "laborer_id", 409)
    assert "re-match" in refused.json["error"]["message"]
    assert _offer(client, headers, laborer, other, rematch=False).status_code == 409
    rematched = _offer(client, headers, laborer, other, rematch=True)
    assert rematched.status_code == 201, rematched.json
    assert rematched.json["target_id"] == other.id


def test_a_plan_proposes_nobody_who_holds_a_placement(client, factory, office):
    _, headers = office
    factory.opening(slots=5)
    free = factory.laborer()
    (offered,) = hold(factory, "opening", factory.opening(title="别处"), 1)
    plan = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "optimal"}, headers=headers).json
    assert plan["report"]["laborers"] == 1  # `offered` is not seeking, as far as plans go
    assert [a["laborer_id"] for a in plan["assignments"]] == [free.id]
    assert offered.id != free.id


def test_confirming_a_plan_is_refused_naming_laborers_who_took_an_offer_meanwhile(client, factory, office):
    _, headers = office
    factory.opening(slots=2)
    first, second = factory.laborer(), factory.laborer()
    db.session.commit()
    plan = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "greedy"}, headers=headers).json
    assert {a["laborer_id"] for a in plan["assignments"]} == {first.id, second.id}
    # Meanwhile a cadre offers `second` work elsewhere: confirming would give them a second offer.
    elsewhere = factory.opening(title="别处")
    db.session.add(
        Placement(laborer_id=second.id, household_id=second.household_id, opening_id=elsewhere.id, status="offered")
    )
    db.session.commit()
    refused = client.post(f"/api/v1/plans/{plan['id']}/confirm", headers=headers)
    assert_refused(refused, "laborers", 409)
    assert refused.json["error"]["fields"]["laborers"] == [f"{second.name} ({second.id})"]
    assert db.session.scalar(select(func.count(Placement.id)).where(Placement.plan_id == plan["id"])) == 0
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=headers).json["status"] == "done"


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="row-lock behaviour is tested on PostgreSQL (JIUYE_TEST_DATABASE_URL)")
def test_concurrent_offers_to_one_laborer_leave_one_live_offer(app, factory):
    openings = [factory.opening(title=f"岗位{i}") for i in range(6)]
    laborer = factory.laborer()
    cadre = factory.user("cadre")
    db.session.commit()
    ids, laborer_id, cadre_id = [o.id for o in openings], laborer.id, cadre.id
    config = convert.matcher_config(app.config)

    def offer(i: int) -> None:
        offers.make_offer(db.session, db.session.get(User, cadre_id), laborer_id, "opening", ids[i], config)

    outcomes = _all_at_once(app, offer, len(ids))
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"], outcomes
    assert db.session.scalar(select(func.count(Placement.id)).where(Placement.laborer_id == laborer_id)) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="row-lock behaviour is tested on PostgreSQL (JIUYE_TEST_DATABASE_URL)")
def test_slots_lowered_while_an_offer_is_being_made_wait_for_it_and_are_refused(app, factory):
    opening = factory.opening(slots=2)
    hold(factory, "opening", opening, 1)
    laborer = factory.laborer()
    office, cadre = factory.user("office"), factory.user("cadre")
    db.session.commit()
    opening_id, laborer_id, office_id, cadre_id = opening.id, laborer.id, office.id, cadre.id
    config = convert.matcher_config(app.config)
    offered = threading.Event()

    def blocked_on_a_lock() -> bool:
        """Another connection of this database waits for a row lock (the change of slots)."""
        with db.engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar()
            )

    def offer_then_lower(i: int) -> None:
        if i == 0:  # the offer takes the opening's lock, and commits only once the change waits for it
            offers.make_offer(db.session, db.session.get(User, cadre_id), laborer_id, "opening", opening_id, config)
            offered.set()
            deadline = time.monotonic() + 30
            while not blocked_on_a_lock():
                assert time.monotonic() < deadline, "the change of slots never waited for the offer"
            return
        assert offered.wait(30)
        try:
            registry.update_opening(db.session, opening_id, {"slots": 1}, db.session.get(User, office_id))
        except ValidationError as refused:  # counted as the refusal it is
            raise ConflictError(refused.message) from None

    assert _all_at_once(app, offer_then_lower, 2) == ["ok", "conflict"]
    db.session.expire_all()
    row = db.session.get(Opening, opening_id)
    assert (row.slots, convert.held_of(db.session, row)) == (2, 2)
