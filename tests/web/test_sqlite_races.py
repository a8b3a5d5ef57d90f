"""On the embedded SQLite default, forty offers for one free slot at the same moment: exactly one holds it.

Each offer is a real request through the app, from its own thread (so its own app context, session
and connection to the same database file), all released together by a barrier. Before transactions
took SQLite's write lock when they began (web.sqlite), eight of forty offers held the one slot.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import POSTGRES_URL
from web.extensions import db
from web.models import Placement

pytestmark = pytest.mark.skipif(
    bool(POSTGRES_URL), reason="SQLite's write lock; PostgreSQL is tested in test_concurrency.py"
)

N = 40


def _offer_all_at_once(app, headers: dict, offers: list[dict]) -> Counter:
    """POST every offer from its own thread, released together; count the answers' statuses."""
    barrier = threading.Barrier(len(offers))
    statuses: list[int | str] = [0] * len(offers)

    def worker(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            statuses[i] = client.post("/api/v1/placements", json=offers[i], headers=headers).status_code
        except Exception as error:  # a crash must show in the count, not hang the barrier
            statuses[i] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(offers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def _held(column, target_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Placement.id)).where(column == target_id))


def test_forty_offers_for_an_openings_last_slot_leave_one_holder(app, factory, api_token):
    opening = factory.opening(slots=1)
    laborers = [factory.laborer() for _ in range(N)]
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre)
    offers = [{"laborer_id": lab.id, "kind": "opening", "target_id": opening.id} for lab in laborers]
    opening_id = opening.id
    db.session.remove()  # the test's own connection holds nothing while the threads run

    statuses = _offer_all_at_once(app, headers, offers)

    assert statuses == Counter({201: 1, 409: N - 1})
    assert _held(Placement.opening_id, opening_id) == 1


def test_forty_offers_for_a_batchs_last_seat_leave_one_holder(app, factory, api_token):
    batch = factory.batch(seats=1)
    laborers = [
        factory.laborer(birth_on=date(1990, 5, 1), work_area="migrant", physical_ability="full") for _ in range(N)
    ]
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(cadre)
    offers = [{"laborer_id": lab.id, "kind": "batch", "target_id": batch.id} for lab in laborers]
    batch_id = batch.id
    db.session.remove()

    statuses = _offer_all_at_once(app, headers, offers)

    assert statuses == Counter({201: 1, 409: N - 1})
    assert _held(Placement.batch_id, batch_id) == 1


def test_forty_offers_for_a_welfare_posts_one_slot_leave_one_holder(app, factory, api_token):
    post = factory.welfare_post(slots=1)
    laborers = [factory.laborer() for _ in range(N)]  # each of her own poor household without work
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    offers = [{"laborer_id": lab.id, "kind": "welfare_post", "target_id": post.id} for lab in laborers]
    post_id = post.id
    db.session.remove()

    statuses = _offer_all_at_once(app, headers, offers)

    assert statuses == Counter({201: 1, 409: N - 1})
    assert _held(Placement.welfare_post_id, post_id) == 1


def test_forty_members_of_one_household_offered_forty_posts_get_one(app, factory, api_token):
    household = factory.household(poverty_status="registered_poor")
    members = [factory.laborer(household) for _ in range(N)]
    posts = [factory.welfare_post(slots=1) for _ in range(N)]
    office = factory.user("office")
    db.session.commit()
    headers = api_token(office)
    offers = [
        {"laborer_id": member.id, "kind": "welfare_post", "target_id": post.id}
        for member, post in zip(members, posts, strict=True)
    ]
    household_id = household.id
    db.session.remove()

    statuses = _offer_all_at_once(app, headers, offers)

    assert statuses == Counter({201: 1, 409: N - 1})
    assert _held(Placement.household_id, household_id) == 1
