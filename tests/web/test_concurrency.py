"""Many clients at the same moment never overbook a slot nor give a household a second post (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import POSTGRES_URL
from web.errors import ConflictError
from web.extensions import db
from web.models import Placement, PlacementStatus, Plan, PostRequest, User
from web.services import convert, offers, plans, post_requests

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="row-lock behaviour is tested on PostgreSQL (JIUYE_TEST_DATABASE_URL)"),
]


def _all_at_once(app, work, n: int) -> list[str]:
    """Run work(i) in n threads released together, each in its own app context and session."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = [""] * n

    def worker(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                work(i)
                db.session.commit()
                outcomes[i] = "ok"
            except ConflictError:
                db.session.rollback()
                outcomes[i] = "conflict"
            except Exception as error:  # anything else is a bug the test must show
                db.session.rollback()
                outcomes[i] = f"error: {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_offers_never_exceed_an_openings_slots(app, factory):
    opening = factory.opening(slots=3)
    laborers = [factory.laborer() for _ in range(12)]
    cadre = factory.user("cadre")
    db.session.commit()
    ids, opening_id, cadre_id = [lab.id for lab in laborers], opening.id, cadre.id
    config = convert.matcher_config(app.config)

    def offer(i: int) -> None:
        offers.make_offer(db.session, db.session.get(User, cadre_id), ids[i], "opening", opening_id, config)

    outcomes = _all_at_once(app, offer, len(ids))
    assert outcomes.count("ok") == 3, outcomes
    assert outcomes.count("conflict") == 9, outcomes
    held = db.session.scalar(
        select(func.count(Placement.id)).where(
            Placement.opening_id == opening_id, Placement.status == PlacementStatus.OFFERED
        )
    )
    assert held == 3


def test_concurrent_welfare_offers_give_a_household_one_post(app, factory):
    household = factory.household(poverty_status="registered_poor")
    members = [factory.laborer(household, birth_on=date(1960 + i, 1, 1)) for i in range(4)]
    posts = [factory.welfare_post(post_type=t) for t in ("cleaner", "patrol", "water_keeper", "road_keeper")]
    office = factory.user("office")
    db.session.commit()
    pairs = [(m.id, p.id) for m, p in zip(members, posts, strict=True)]
    office_id = office.id
    config = convert.matcher_config(app.config)

    def offer(i: int) -> None:
        laborer_id, post_id = pairs[i]
        offers.make_offer(db.session, db.session.get(User, office_id), laborer_id, "welfare_post", post_id, config)

    outcomes = _all_at_once(app, offer, len(pairs))
    assert outcomes.count("ok") == 1, outcomes
    assert db.session.scalar(select(func.count(Placement.id)).where(Placement.household_id == household.id)) == 1


def test_two_offices_confirming_plans_for_the_same_slots(app, factory):
    opening = factory.opening(slots=2)
    for _ in range(4):
        factory.laborer()
    office_a, office_b = factory.user("office"), factory.user("office")
    db.session.commit()
    config = convert.matcher_config(app.config)
    plan_ids = []
    for office in (office_a, office_b):
        plan = plans.create_plan(db.session, office, "141030", "greedy")
        plans.run_plan(db.session, plan, config)
        db.session.commit()
        plan_ids.append((plan.id, office.id))

    def confirm(i: int) -> None:
        plan_id, office_id = plan_ids[i]
        plans.confirm_plan(db.session, db.session.get(User, office_id), plan_id)

    outcomes = _all_at_once(app, confirm, 2)
    assert sorted(outcomes) == ["conflict", "ok"], outcomes
    held = db.session.scalar(select(func.count(Placement.id)).where(Placement.opening_id == opening.id))
    assert held <= 2
    statuses = sorted(db.session.scalars(select(Plan.status)).all())
    assert [s.value for s in statuses] == ["confirmed", "done"]


def test_concurrent_requests_get_distinct_receipts_and_one_per_household(app, factory):
    """Ten cadres' requests at once in one county: ten receipt numbers 1..10; a household asking twice at
    once gets one receipt (the county's row lock numbers them in turn, the partial index keeps one open)."""
    laborers = [factory.laborer() for _ in range(10)]
    twin = factory.laborer(laborers[0].household)
    cadre = factory.user("cadre")
    db.session.commit()
    ids, cadre_id = [lab.id for lab in laborers] + [twin.id], cadre.id

    def record(i: int) -> None:
        post_requests.record_request(db.session, db.session.get(User, cadre_id), ids[i])

    outcomes = _all_at_once(app, record, len(ids))
    assert outcomes.count("ok") == 10 and outcomes.count("conflict") == 1, outcomes
    assert sorted(db.session.scalars(select(PostRequest.receipt_seq))) == list(range(1, 11))
