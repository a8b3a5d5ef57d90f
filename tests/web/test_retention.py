"""Retention check-ins at 30/90/180 days, on the API and the pages, and the learned model they train."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from matcher.types import Config
from tests.conftest import PASSWORD
from web.extensions import db
from web.models import Placement, RetentionCheckin
from web.services.retention import due_checkins, evaluate_learned_model


def _working(factory, days_ago: int = 100, **opening_kw):
    opening = factory.opening(**opening_kw)
    laborer = factory.laborer()
    placement = Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        opening_id=opening.id,
        status="working",
        started_on=date.today() - timedelta(days=days_ago),
    )
    db.session.add(placement)
    db.session.flush()
    return placement


def test_checkins_through_the_api(client, factory, api_token):
    placement = _working(factory, days_ago=100)
    cadre, owner = factory.user("cadre"), factory.user("employer", employer_id=placement.opening.employer_id)
    db.session.commit()
    headers = api_token(cadre)
    url = f"/api/v1/placements/{placement.id}/checkins"
    first = client.post(url, json={"day": 30, "is_still_working": True}, headers=headers)
    assert first.status_code == 201, first.json
    assert [c["day"] for c in first.json["checkins"]] == [30]
    assert client.post(url, json={"day": 30, "is_still_working": True}, headers=headers).status_code == 409
    early = client.post(url, json={"day": 180, "is_still_working": True}, headers=headers)
    assert early.status_code == 422 and "day" in early.json["error"]["fields"]
    assert client.post(url, json={"day": 45, "is_still_working": True}, headers=headers).status_code == 422
    assert client.post(url, json={"day": 90, "is_still_working": False}, headers=api_token(owner)).status_code == 403
    assert db.session.scalar(select(func.count(RetentionCheckin.id))) == 1


def test_due_checkins_follow_the_start_date(factory):
    placement = _working(factory, days_ago=95)
    assert due_checkins(placement) == [30, 90]
    assert due_checkins(placement, today=date.today() + timedelta(days=90)) == [30, 90, 180]


def test_checkin_form_on_the_placement_page(client, factory):
    placement = _working(factory, days_ago=35)
    cadre = factory.user("cadre")
    db.session.commit()
    client.post("/login", data={"username": cadre.username, "password": PASSWORD})
    page = client.get(f"/cadre/placements/{placement.id}").get_data(as_text=True)
    assert "30 天回访" in page and "90 天回访" not in page
    done = client.post(
        f"/cadre/placements/{placement.id}/checkin",
        data={"day": "30", "is_still_working": "no", "note": "回家照顾老人"},
    )
    assert done.status_code == 302
    checkin = db.session.scalar(select(RetentionCheckin))
    assert (checkin.day, checkin.is_still_working, checkin.note) == (30, False, "回家照顾老人")


def test_learned_model_needs_enough_checkins_then_is_compared(factory):
    config = Config()
    assert evaluate_learned_model(db.session, config) is None
    rng = random.Random(4)
    for i in range(60):
        far = i % 2 == 0
        employer = factory.employer(lat=36.475 + (0.08 if far else 0.0), lon=110.762)
        placement = _working(factory, days_ago=120, employer=employer)
        # In this made-up county, far commutes rarely last: a pattern the model can learn.
        lasted = rng.random() < (0.2 if far else 0.85)
        placement.checkins.append(RetentionCheckin(day=90, checked_on=date.today(), is_still_working=lasted))
    db.session.flush()
    comparison = evaluate_learned_model(db.session, config)
    assert comparison is not None and comparison.n_train + comparison.n_test == 60
    assert 0.0 <= comparison.auc["model"].value <= 1.0 and 0.0 <= comparison.auc["hand"].value <= 1.0
    assert "truth" not in comparison.auc  # recorded check-ins: nobody knows the true probability


def test_learn_evaluate_command(runner, factory):
    result = runner.invoke(args=["learn", "evaluate"])
    assert result.exit_code == 0 and "Not enough 90-day check-ins" in result.output


def test_training_data_read_as_columns_equals_the_placements_read_as_objects(app, factory):
    """The learned model's training data, read with Core selects into the matcher's columns and scored
    vectorised, is what the placements read one ORM object at a time and scored one by one give."""
    import numpy as np
    from sqlalchemy.orm import selectinload

    from matcher import learn, scoring
    from matcher.geo import haversine_km
    from web.services import convert
    from web.services.convert import matcher_config
    from web.services.retention import SYNTHETIC_NOTE, training_data

    rng = random.Random(3)
    targets = [
        ("opening_id", factory.opening(skills=["sewing"], is_flexible_hours=False)),
        ("opening_id", factory.opening(job_type="farming", physical_demand="moderate")),
        ("batch_id", factory.batch(pickups=3)),
        ("welfare_post_id", factory.welfare_post(slots=30)),
    ]
    for i in range(48):
        column, target = targets[i % len(targets)]
        laborer = factory.laborer(
            birth_on=date(1958 + i % 35, 1 + i % 12, 1 + i % 27), sex="F" if i % 3 else "M", skills=["sewing"][: i % 2]
        )
        placement = Placement(
            laborer_id=laborer.id,
            household_id=laborer.household_id,
            status="ended",
            started_on=date.today() - timedelta(days=200),
            **{column: target.id},
        )
        for day in (30, 90):
            note = SYNTHETIC_NOTE if i % 5 else "回访：还在干"
            placement.checkins.append(
                RetentionCheckin(day=day, checked_on=date.today(), is_still_working=rng.random() < 0.6, note=note)
            )
        db.session.add(placement)
    unchecked = _working(factory)  # no 90-day check-in: not training data
    db.session.commit()
    config = matcher_config(app.config)

    features, hand, lasted, synthetic = training_data(db.session, config)

    rows = db.session.scalars(
        select(Placement)
        .join(RetentionCheckin)
        .where(RetentionCheckin.day == 90)
        .options(selectinload(Placement.checkins))
        .order_by(Placement.id)
    ).all()
    assert unchecked.id not in {p.id for p in rows} and len(rows) == 48
    laborers = {p.id: p for p in convert.to_matcher_laborers(db.session, [p.laborer for p in rows])}
    triples = []
    for p in rows:
        target = convert.to_target(p.channel.value, getattr(p, p.channel.value), free=1)
        laborer = laborers[p.laborer_id]
        distance = min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)
        triples.append((laborer, target, distance))
    assert {t.kind for _, t, _ in triples} == {"opening", "batch", "welfare_post"}
    np.testing.assert_allclose(features, learn.features_for(triples, config), rtol=0, atol=1e-9)
    by_one = [scoring.score(lab, tgt, dist, config).total for lab, tgt, dist in triples]
    np.testing.assert_allclose(hand, by_one, rtol=0, atol=1e-9)
    checkins = [next(c for c in p.checkins if c.day == 90) for p in rows]
    assert lasted.tolist() == [c.is_still_working for c in checkins]
    assert synthetic.tolist() == [c.note == SYNTHETIC_NOTE for c in checkins]
