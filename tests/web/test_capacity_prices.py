"""An optimal plan keeps its capacity prices; ranking between plans deducts them and says why, until the
next plan or a change of the target's capacity."""

from __future__ import annotations

from sqlalchemy import select

from web.extensions import db
from web.models import CapacityPrice, Plan, PlanStatus
from web.services import plans, ranking
from web.services import prices as price_service
from web.services.convert import matcher_config

KM_PER_DEG = 111.2


def _contested(factory):
    """Two single-slot openings north of one village: A 1 km away, B 6 km. Near can reach only A,
    far reaches both; the plan gives A to near and B to far, so A's slot has a price."""
    household = factory.household()
    near = factory.laborer(factory.household(), max_commute_km=3.0)
    far = factory.laborer(household, max_commute_km=10.0)
    a = factory.opening(slots=1, title="近的车间", lat=household.lat + 1.0 / KM_PER_DEG, lon=household.lon)
    b = factory.opening(slots=1, title="远的车间", lat=household.lat + 6.0 / KM_PER_DEG, lon=household.lon)
    return near, far, a, b


def _run(app, factory, mode="optimal") -> Plan:
    office = factory.user("office")
    plan = plans.create_plan(db.session, office, "141030", mode)
    db.session.commit()
    plans.run_plan(db.session, plan, matcher_config(app.config))
    db.session.commit()
    return plan


def _ranked(app, factory, laborer_id, user=None):
    user = user or factory.user("office")
    _, result = ranking.matches_for_laborer(db.session, user, laborer_id, matcher_config(app.config), kinds=["opening"])
    return result.matches


def test_an_optimal_plan_stores_prices_and_ranking_steers_by_them(app, factory):
    near, far, a, b = _contested(factory)
    db.session.commit()
    office = factory.user("office", username="office-r")
    db.session.commit()
    before = _ranked(app, factory, far.id, office)
    assert [m.target_id for m in before] == [a.id, b.id]  # by score alone the nearer one first
    assert all(f.name != "crowding" for m in before for f in m.factors)

    plan = _run(app, factory)
    rows = {(r.opening_id, r.price, r.slots) for r in db.session.scalars(select(CapacityPrice))}
    priced = {opening_id: price for opening_id, price, _ in rows}
    assert priced[a.id] > 0 and priced[b.id] == 0  # nobody else wants B
    assert {slots for _, _, slots in rows} == {1}
    assert price_service.current(db.session) == {("opening", a.id): priced[a.id]}

    after = _ranked(app, factory, far.id, office)
    assert [m.target_id for m in after] == [b.id, a.id]  # the slot the near laborer needs comes second
    crowded = next(m for m in after if m.target_id == a.id)
    factor = next(f for f in crowded.factors if f.name == "crowding")
    assert factor.value == priced[a.id]
    shown = ranking.match_json(crowded, "en")
    assert "many others fit this post better" in [f["text"] for f in shown["factors"]]
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        zh = ranking.match_json(crowded, "zh")
    assert "很多人更适合这个岗位" in [f["text"] for f in zh["factors"]]
    assert plan.status is PlanStatus.DONE


def test_a_capacity_change_or_a_newer_plan_ends_a_price(app, factory):
    near, far, a, b = _contested(factory)
    db.session.commit()
    _run(app, factory)
    assert ("opening", a.id) in price_service.current(db.session)
    a.slots = 2  # room for both now: the old price says nothing of it
    db.session.commit()
    assert price_service.current(db.session) == {}
    assert [m.target_id for m in _ranked(app, factory, far.id)] == [a.id, b.id]

    a.slots = 1
    db.session.commit()
    assert ("opening", a.id) in price_service.current(db.session)  # the capacity priced is back
    near.status = "not_seeking"  # a newer plan finds nobody to compete with far for A
    db.session.commit()
    _run(app, factory)
    assert price_service.current(db.session) == {}


def test_plans_in_other_modes_store_no_prices(app, factory):
    _contested(factory)
    db.session.commit()
    _run(app, factory, "greedy")
    assert db.session.scalars(select(CapacityPrice)).all() == []


def held_scene(factory):
    """One slot, two registered-poor laborers and a non-poor one who all fit it alike: the plan gives it to
    a poor one, its price is what the other poor one would bring, more than the non-poor one is worth there."""
    village = factory.household()
    a = factory.opening(slots=1, title="唯一的名额", lat=village.lat + 1.0 / KM_PER_DEG, lon=village.lon)
    poor = [factory.laborer(factory.household()) for _ in range(2)]
    other = factory.laborer(factory.household(poverty_status="non_poor"))
    db.session.commit()
    return a, poor, other


def test_a_slot_worth_more_to_others_is_held_for_others(app, factory, client, api_token):
    a, poor, other = held_scene(factory)
    _run(app, factory)
    for laborer, held in ((poor[0], False), (poor[1], False), (other, True)):
        (match,) = _ranked(app, factory, laborer.id)
        assert (match.target_id, match.held_for_others) == (a.id, held)
    headers = api_token(factory.user("cadre", username="cadre-held"))
    for laborer, held in ((poor[1], False), (other, True)):
        body = client.get(f"/api/v1/laborers/{laborer.id}/matches?kind=opening", headers=headers).get_json()
        assert [(m["target_id"], m["held_for_others"]) for m in body["matches"]] == [(a.id, held)]
