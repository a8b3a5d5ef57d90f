"""Cached rankers stay exact: data versions move with the transactions that change their inputs,
capacity changes update the cached Ranker in place (equal to a rebuild), other changes rebuild it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from matcher.rank import Ranker
from web.extensions import db
from web.services import offers, ranking, scope, versions
from web.services.convert import load_laborer, load_targets, matcher_config


def _config(app):
    return matcher_config(app.config)


def test_versions_move_with_the_changes_they_cover(app, factory):
    before = versions.current(db.session)
    opening = factory.opening(slots=2)
    db.session.commit()
    after_opening = versions.current(db.session)
    assert after_opening["targets"] > before["targets"]
    laborer = factory.laborer()
    db.session.commit()
    after_laborer = versions.current(db.session)
    assert after_laborer["laborers"] > after_opening["laborers"]
    assert after_laborer["targets"] == after_opening["targets"]

    assert after_laborer["accounts"] == after_opening["accounts"]

    office = factory.user("office")
    db.session.commit()
    after_user = versions.current(db.session)
    assert after_user["accounts"] > after_laborer["accounts"]  # a user (or a token) moves only the accounts
    assert {k: after_user[k] for k in ("targets", "holdings", "laborers")} == {
        k: after_laborer[k] for k in ("targets", "holdings", "laborers")
    }
    offers.make_offer(db.session, office, laborer.id, "opening", opening.id, _config(app))
    db.session.commit()
    now = versions.current(db.session)
    assert now["holdings"] > after_laborer["holdings"]
    assert now["targets"] == after_opening["targets"]
    assert now["accounts"] == after_user["accounts"]
    assert versions.held_changed_since(db.session, after_laborer["holdings"]) == [("opening", opening.id)]
    assert versions.held_changed_since(db.session, now["holdings"]) == []


def test_a_rolled_back_change_moves_nothing(app, factory):
    factory.opening()
    db.session.commit()
    before = versions.current(db.session)
    factory.opening(title="回滚")
    db.session.rollback()
    db.session.commit()
    assert versions.current(db.session) == before


def test_an_offer_updates_the_cached_ranker_in_place_as_a_rebuild_would(app, factory):
    config = _config(app)
    opening = factory.opening(slots=2)
    factory.opening(slots=3, title="缝纫")
    factory.welfare_post()
    first, second = factory.laborer(), factory.laborer()
    office = factory.user("office")
    db.session.commit()
    cached = ranking.ranker(db.session, config)
    assert cached.target("opening", opening.id).capacity == 2

    offers.make_offer(db.session, office, first.id, "opening", opening.id, config)
    db.session.commit()
    updated = ranking.ranker(db.session, config)
    assert updated is cached  # not rebuilt
    rebuilt = Ranker(load_targets(db.session), config)
    assert updated.target("opening", opening.id).capacity == 1
    assert updated.targets.targets == rebuilt.targets.targets
    assert updated.targets.capacity.tolist() == rebuilt.targets.capacity.tolist()
    laborer = load_laborer(db.session, second.id)
    assert updated.for_laborer(laborer) == rebuilt.for_laborer(laborer)


def test_a_changed_target_rebuilds_the_cached_ranker(app, factory):
    config = _config(app)
    opening = factory.opening()
    factory.laborer()
    db.session.commit()
    cached = ranking.ranker(db.session, config)
    opening.title = "新名字"
    db.session.commit()
    rebuilt = ranking.ranker(db.session, config)
    assert rebuilt is not cached
    assert rebuilt.target("opening", opening.id).title == "新名字"


def test_candidates_follow_a_new_seeker_and_keep_to_the_cadres_villages(app, factory, client, api_token):
    opening = factory.opening(slots=3)
    mine = factory.laborer()
    elsewhere = factory.laborer(factory.household("141030101201"))
    cadre = factory.user("cadre")  # 安古村 only
    db.session.commit()
    headers = api_token(cadre)
    seen = client.get(f"/api/v1/openings/{opening.id}/candidates", headers=headers).json
    assert [m["laborer_id"] for m in seen["matches"]] == [mine.id]
    newcomer = factory.laborer(birth_on=date(1980, 1, 1))
    db.session.commit()
    seen = client.get(f"/api/v1/openings/{opening.id}/candidates", headers=headers).json
    assert sorted(m["laborer_id"] for m in seen["matches"]) == sorted([mine.id, newcomer.id])
    assert elsewhere.id not in {m["laborer_id"] for m in seen["matches"]}
    office = factory.user("office")
    db.session.commit()
    everyone = client.get(f"/api/v1/openings/{opening.id}/candidates", headers=api_token(office)).json
    assert elsewhere.id in {m["laborer_id"] for m in everyone["matches"]}


@pytest.mark.parametrize("role", ["cadre", "office"])
def test_a_laborer_outside_the_scope_is_not_found(app, factory, client, api_token, role):
    factory.opening()
    outside = factory.laborer(factory.household("141030101201"))
    user = factory.user(role, **({"region_code": "141030100"} if role == "office" else {}))
    db.session.commit()
    response = client.get(f"/api/v1/laborers/{outside.id}/matches", headers=api_token(user))
    assert response.status_code == 404


def test_sees_posting_agrees_with_the_visible_clause(app, factory):
    other = factory.employer(region_code="141030101201", name="曲峨车间")
    rows = [
        factory.opening(),
        factory.opening(other, region_code="141030101201"),
        factory.opening(other, region_code="14"),
        factory.batch(),
        factory.batch(region_code="1410"),
        factory.welfare_post(),
        factory.welfare_post(region_code="141030101201"),
    ]
    users = [
        factory.user("cadre"),
        factory.user("cadre", village_codes=["141030101201"]),
        factory.user("office"),
        factory.user("office", region_code="141030100"),
        factory.user("office", region_code="14"),
        factory.user("employer", employer_id=other.id),
        factory.user("employer"),
    ]
    db.session.commit()
    for user in users:
        for row in rows:
            model = type(row)
            found = db.session.scalar(select(model.id).where(model.id == row.id, scope.visible(model, user)))
            assert scope.sees_posting(user, model, row.region_code, getattr(row, "employer_id", None)) is (
                found is not None
            ), (user.username, model.__name__, row.region_code)


def test_each_scope_is_shown_its_own_candidates_from_one_cached_ranker(app, factory, client, api_token):
    # The rows a user may see are worked out once per scope and kept beside the cached ranker: users
    # asking in turn, with scopes that differ by a village or a region, each get exactly their own.
    opening = factory.opening(slots=5)
    angu = factory.laborer()
    quer = factory.laborer(factory.household("141030101201"))
    users = {
        "angu cadre": factory.user("cadre"),
        "quer cadre": factory.user("cadre", village_codes=["141030101201"]),
        "both cadre": factory.user("cadre", village_codes=["141030100201", "141030101201"]),
        "township office": factory.user("office", region_code="141030100"),
        "county office": factory.user("office", region_code="141030"),
    }
    db.session.commit()
    expected = {
        "angu cadre": {angu.id},
        "quer cadre": {quer.id},
        "both cadre": {angu.id, quer.id},
        "township office": {angu.id},
        "county office": {angu.id, quer.id},
    }
    for _round in range(2):  # the second round reads what the first kept
        for name, user in users.items():
            seen = client.get(f"/api/v1/openings/{opening.id}/candidates", headers=api_token(user)).json
            assert {m["laborer_id"] for m in seen["matches"]} == expected[name], name


def test_matches_take_a_seeking_laborer_from_the_current_candidate_cache_and_read_the_row_otherwise(
    app, factory, monkeypatch
):
    from web.models import Laborer

    config = _config(app)
    factory.opening(slots=2)
    factory.opening(slots=1, title="缝纫", job_type="sewing")
    laborer = factory.laborer(job_types=["sewing"])
    office = factory.user("office")
    db.session.commit()
    read: list[int] = []
    load = ranking.load_laborer
    monkeypatch.setattr(ranking, "load_laborer", lambda session, i, *w: read.append(i) or load(session, i, *w))

    def matches():
        found = ranking.matches_for_laborer(db.session, office, laborer.id, config)
        db.session.commit()
        return found

    before = matches()  # no cache built yet: the row is read, and no cache is built for it
    assert read == [laborer.id]
    ranking.candidate_ranker(db.session, config)
    db.session.commit()
    assert matches() == before and read == [laborer.id]  # current: taken from the cache, no query

    # A committed change moves the laborers version: the stale cache is passed over, the row read.
    db.session.get(Laborer, laborer.id).job_types = ["packaging"]
    db.session.commit()
    changed = matches()
    assert read == [laborer.id] * 2
    assert changed[0].job_types == frozenset({"packaging"}) and changed != before

    # Current again; then a change this transaction has made but not committed is seen, as a query sees it.
    ranking.candidate_ranker(db.session, config)
    db.session.commit()
    assert matches() == changed and read == [laborer.id] * 2
    db.session.get(Laborer, laborer.id).job_types = ["sewing"]
    pending = ranking.matches_for_laborer(db.session, office, laborer.id, config)
    assert read == [laborer.id] * 3 and pending[0].job_types == frozenset({"sewing"})
    db.session.rollback()

    # Not seeking: not in the cache, read.
    db.session.get(Laborer, laborer.id).status = "not_seeking"
    db.session.commit()
    ranking.candidate_ranker(db.session, config)
    db.session.commit()
    matches()
    assert read == [laborer.id] * 4
