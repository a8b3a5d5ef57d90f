"""The access policy (web.services.scope), one role × one kind of row or region at a time.

Three places: 安古村 (the cadre's village, sites of the employer user's workshop), 白村 (the same
county, not the cadre's village: the "neighbour"), and 小店区 in Taiyuan (nobody's, "far"). Each
kind of row has one record in each place (the employer user owns only the 安古村 postings), and the
tables below say which of them each role sees; everything else is not found, and a role that may not
read a kind at all is refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from web.errors import NotFoundError, PermissionDeniedError
from web.extensions import db
from web.models import (
    AuditEvent,
    Employer,
    Household,
    Laborer,
    Opening,
    Placement,
    PlacementStatus,
    Plan,
    Region,
    TransportBatch,
    User,
    WelfarePost,
)
from web.services import scope
from web.services.accounts import audit

ANGU, BAICUN, FAR = "141030100201", "141030100202", "140105001201"
ROLES = ("cadre", "employer", "office")
MODELS = {
    "household": Household,
    "laborer": Laborer,
    "employer": Employer,
    "opening": Opening,
    "batch": TransportBatch,
    "welfare_post": WelfarePost,
    "placement": Placement,
    "plan": Plan,
    "audit_event": AuditEvent,
    "user": User,
}
FORBIDDEN = None  # the role may not read this kind at all: 403

#: kind → role → the places whose record the role sees.
SEES: dict[str, dict[str, set[str] | None]] = {
    "household": {"cadre": {"angu"}, "employer": FORBIDDEN, "office": {"angu", "neighbour"}},
    "laborer": {"cadre": {"angu"}, "employer": FORBIDDEN, "office": {"angu", "neighbour"}},
    # Cadres read the postings of their villages' county; employers only their own.
    "employer": {"cadre": {"angu", "neighbour"}, "employer": {"angu"}, "office": {"angu", "neighbour"}},
    "opening": {"cadre": {"angu", "neighbour"}, "employer": {"angu"}, "office": {"angu", "neighbour"}},
    "batch": {"cadre": {"angu", "neighbour"}, "employer": {"angu"}, "office": {"angu", "neighbour"}},
    "welfare_post": {"cadre": {"angu", "neighbour"}, "employer": FORBIDDEN, "office": {"angu", "neighbour"}},
    # Placements: by the laborer's village, or (employers) by whose posting they are on. The
    # neighbour's placement is on the employer user's opening; 安古村's second one on a neighbour's.
    "placement": {
        "cadre": {"angu", "angu_elsewhere"},
        "employer": {"angu", "neighbour"},
        "office": {"angu", "neighbour", "angu_elsewhere"},
    },
    "plan": {"cadre": FORBIDDEN, "employer": FORBIDDEN, "office": {"angu", "neighbour"}},
    # The audit trail: events of the office's own region's users.
    "audit_event": {"cadre": FORBIDDEN, "employer": FORBIDDEN, "office": {"angu", "neighbour"}},
    "user": {"cadre": FORBIDDEN, "employer": FORBIDDEN, "office": {"angu", "neighbour"}},
}


def _far_regions() -> None:
    for code, name, level, parent in (
        ("1401", "太原市", "city", "14"),
        ("140105", "小店区", "county", "1401"),
        ("140105001", "小店街道", "township", "140105"),
        (FAR, "远村", "village", "140105001"),
    ):
        db.session.merge(
            Region(
                code=code,
                name=name,
                level=level,
                parent_code=parent,
                lat=37.74,
                lon=112.56,
                position_source="gazetteer",
            )
        )
    db.session.flush()


def _placement(laborer: Laborer, **target) -> Placement:
    row = Placement(laborer_id=laborer.id, household_id=laborer.household_id, status="offered", **target)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(factory):
    """(users by role, place → kind → id)."""
    _far_regions()
    places: dict[str, dict[str, int]] = {}
    for place, village in (("angu", ANGU), ("neighbour", BAICUN), ("far", FAR)):
        household = factory.household(village)
        laborer = factory.laborer(household)
        employer = factory.employer(region_code=village)
        places[place] = {
            "household": household.id,
            "laborer": laborer.id,
            "employer": employer.id,
            "opening": factory.opening(employer).id,
            "batch": factory.batch(employer, region_code=village[:6]).id,
            "welfare_post": factory.welfare_post(region_code=village).id,
        }
        plan = Plan(region_code=village[:9], mode="greedy", status="queued")
        db.session.add(plan)
        db.session.flush()
        places[place]["plan"] = plan.id
    angu, neighbour, far = places["angu"], places["neighbour"], places["far"]
    angu_laborer = db.session.get(Laborer, angu["laborer"])
    angu["placement"] = _placement(angu_laborer, opening_id=angu["opening"]).id
    neighbour["placement"] = _placement(db.session.get(Laborer, neighbour["laborer"]), opening_id=angu["opening"]).id
    far["placement"] = _placement(db.session.get(Laborer, far["laborer"]), opening_id=far["opening"]).id
    places["angu_elsewhere"] = {"placement": _placement(angu_laborer, opening_id=neighbour["opening"]).id}
    users = {
        "cadre": factory.user("cadre", village_codes=[ANGU]),
        "employer": factory.user("employer", employer_id=angu["employer"]),
        "office": factory.user("office", region_code="141030"),
    }
    # Users and their events: the office reviews its region's cadres and employers, not Taiyuan's.
    other_cadre = factory.user("cadre", village_codes=[BAICUN])
    far_office = factory.user("office", region_code="140105")
    angu["user"], neighbour["user"], far["user"] = users["cadre"].id, other_cadre.id, far_office.id
    for place, user in (("angu", users["cadre"]), ("neighbour", other_cadre), ("far", far_office)):
        places[place]["audit_event"] = audit(db.session, "login", user=user).id
    db.session.commit()
    return users, places


def _ids_in(places: dict[str, dict[str, int]], kind: str) -> dict[int, str]:
    return {ids[kind]: place for place, ids in places.items() if kind in ids}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", list(SEES))
def test_each_role_sees_exactly_its_rows_of_each_kind(world, kind, role):
    users, places = world
    user, model, expected = users[role], MODELS[kind], SEES[kind][role]
    candidates = _ids_in(places, kind)
    if expected is FORBIDDEN:
        with pytest.raises(PermissionDeniedError):
            scope.scoped(model, user)
        for record_id in candidates:
            with pytest.raises(PermissionDeniedError):
                scope.get_visible(db.session, model, record_id, user)
        return
    listed = set(db.session.scalars(scope.scoped(model, user).with_only_columns(model.id)))
    seen = {place for record_id, place in candidates.items() if record_id in listed}
    assert seen == expected
    for record_id, place in candidates.items():
        if place in expected:
            assert scope.get_visible(db.session, model, record_id, user, for_update=True).id == record_id
        else:
            with pytest.raises(NotFoundError):
                scope.get_visible(db.session, model, record_id, user)


def test_an_employer_is_shown_candidates_from_everyone_seeking_others_from_their_scope(world):
    users, places = world
    pools = {
        role: set(db.session.scalars(select(Laborer.id).where(scope.candidate_pool(users[role])))) for role in ROLES
    }
    every = {ids["laborer"] for ids in places.values() if "laborer" in ids}
    assert pools["employer"] == every
    assert pools["cadre"] == {places["angu"]["laborer"]}
    assert pools["office"] == {places["angu"]["laborer"], places["neighbour"]["laborer"]}


def test_roles_gates(world):
    users, _ = world
    gates = {action: {role for role in ROLES if scope.may(users[role], action)} for action in scope.GATES}
    assert gates["dashboard"] == gates["plans"] == gates["audit_trail"] == {"office"}
    assert gates["stats"] == gates["reports"] == gates["offers"] == gates["checkins"] == {"cadre", "office"}
    assert gates["mark_resumed"] == {"office"}
    for role in ROLES:
        assert gates[f"{role}_pages"] == {role}
    with pytest.raises(PermissionDeniedError, match="only offices run plans"):
        scope.require(users["cadre"], "plans")


def test_placement_steps_by_role(world):
    users, _ = world
    answers = {PlacementStatus.ACCEPTED, PlacementStatus.DECLINED, PlacementStatus.WORKING, PlacementStatus.ENDED}
    for status in PlacementStatus:
        assert scope.may_step(users["employer"], status) is (status in answers)
        assert scope.may_step(users["cadre"], status) and scope.may_step(users["office"], status)


def test_where_each_role_may_register_and_post(world):
    users, _ = world
    cadre, employer, office = (users[r] for r in ROLES)
    assert scope.covers_village(cadre, ANGU) and not scope.covers_village(cadre, BAICUN)
    assert scope.covers_village(office, BAICUN) and not scope.covers_village(office, FAR)
    assert not scope.covers_village(employer, ANGU)
    assert scope.covers_region(office, "141030100") and not scope.covers_region(office, "140105")
    assert scope.covers_region(employer, FAR)  # employers post wherever their site or coach is
    assert not scope.covers_region(cadre, ANGU)


#: role → region → may the role read that region's figures as a whole?
REGION_FIGURES = {
    "office": {
        "14": False,
        "1410": False,
        "141030": True,
        "141030100": True,
        ANGU: True,
        BAICUN: True,
        "140105": False,
        FAR: False,
    },
    "cadre": {"14": False, "141030": False, "141030100": False, ANGU: True, BAICUN: False, FAR: False},
    "employer": {"141030": False, ANGU: False},
}


@pytest.mark.parametrize("role", ROLES)
def test_statistics_of_a_region(world, role):
    users, _ = world
    user = users[role]
    for code, allowed in REGION_FIGURES[role].items():
        assert scope.sees_region(user, code) is allowed, (role, code)
        if role == "employer":
            with pytest.raises(PermissionDeniedError):
                scope.statistics_region(user, code)
        elif allowed:
            assert scope.statistics_region(user, code) == code
        else:
            with pytest.raises(NotFoundError):
                scope.statistics_region(user, code)
    if role != "employer":
        assert scope.statistics_region(user) == {"office": "141030", "cadre": ANGU}[role]


def test_report_scopes_narrow_to_a_region_inside_the_users_area(world):
    users, _ = world
    cadre, employer, office = (users[r] for r in ROLES)
    assert scope.report_scope(office).prefix == "141030"
    assert scope.report_scope(office, "141030100").prefix == "141030100"
    for outside in ("14", "1401", "140105", "abc"):
        with pytest.raises(NotFoundError):
            scope.report_scope(office, outside)
    # A cadre's report reads their villages inside the region asked for, and 404s outside them.
    assert scope.report_scope(cadre).villages == scope.report_scope(cadre, "141030").villages == (ANGU,)
    for outside in (BAICUN, "141030101", "140105"):
        with pytest.raises(NotFoundError):
            scope.report_scope(cadre, outside)
    with pytest.raises(PermissionDeniedError):
        scope.report_scope(employer, report="welfare-roster")
    assert scope.report_scope(employer, report="batch-manifest").user is employer
    with pytest.raises(NotFoundError):
        scope.report_scope(employer, "141030", report="batch-manifest")


def test_report_scope_reads_only_its_own_rows(world):
    users, places = world
    households = {
        role: set(
            db.session.scalars(
                select(Household.id).where(scope.report_scope(users[role], report="batch-manifest").people())
            )
        )
        for role in ROLES
    }
    assert households == {
        "cadre": {places["angu"]["household"]},
        "office": {places["angu"]["household"], places["neighbour"]["household"]},
        "employer": set(),
    }
    placements = {
        role: set(
            db.session.scalars(
                select(Placement.id)
                .join(Household, Household.id == Placement.household_id)
                .where(scope.report_scope(users[role], report="batch-manifest").placements())
            )
        )
        for role in ROLES
    }
    assert placements["employer"] == {places["angu"]["placement"], places["neighbour"]["placement"]}
    assert placements["cadre"] == {places["angu"]["placement"], places["angu_elsewhere"]["placement"]}


def test_region_lists_of_an_office_and_a_cadre(world):
    users, _ = world
    codes = {
        role: set(db.session.scalars(select(Region.code).where(scope.in_scope(Region.code, users[role]))))
        for role in ROLES
    }
    assert codes["cadre"] == {ANGU}
    assert codes["office"] == {c for c in db.session.scalars(select(Region.code)) if c.startswith("141030")}
    assert codes["employer"] == set()
