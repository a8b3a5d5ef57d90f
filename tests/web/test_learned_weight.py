"""The learned model weighs in the score only by an office's audited decision, refused unless it beats the hand
score; the ranking then shows its factor. Check-in histories from the seed have a known truth."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from matcher.types import Config
from seed.outcomes import seed_checkins
from web.errors import ConflictError, PermissionDeniedError
from web.extensions import db
from web.models import AuditEvent, LearnedWeight, Placement, RetentionCheckin
from web.services import ranking, retention
from web.services.convert import matcher_config


def _history(factory, n: int, lasts) -> None:
    """``n`` ended placements with a 90-day check-in; ``lasts(opening, i)`` says whether each lasted."""
    rng = random.Random(7)
    openings = [factory.opening(is_flexible_hours=flexible, slots=50) for flexible in (True, False)]
    for i in range(n):
        opening = openings[i % 2]
        laborer = factory.laborer(needs_flexible_hours=False, birth_on=date(1956 + i % 40, 3, 8))
        placement = Placement(
            laborer_id=laborer.id,
            household_id=laborer.household_id,
            opening_id=opening.id,
            status="ended",
            started_on=date.today() - timedelta(days=200),
            ended_on=date.today() - timedelta(days=10),
        )
        placement.checkins.append(
            RetentionCheckin(day=90, checked_on=date.today(), is_still_working=lasts(opening, rng))
        )
        db.session.add(placement)
    db.session.flush()


def test_a_weight_above_zero_is_refused_until_the_model_beats_the_hand_score(app, factory):
    config = matcher_config(app.config)
    office = factory.user("office")
    with force_locale("en"), pytest.raises(ConflictError, match="not enough"):
        retention.decide_learned_weight(db.session, office, 0.3, config)
    # Outcomes the hand score sees perfectly: those it scores best stay (age fit varies), the others leave.
    _history(factory, 80, lambda opening, rng: True)
    _, hand, _, _ = retention.training_data(db.session, config)
    checkins = db.session.scalars(select(RetentionCheckin).order_by(RetentionCheckin.placement_id)).all()
    for checkin, score in zip(checkins, hand, strict=True):
        checkin.is_still_working = bool(score >= hand.max() - 1e-9)
    db.session.flush()
    assert retention.evaluate_learned_model(db.session, config).auc["hand"].value == 1.0
    with force_locale("en"), pytest.raises(ConflictError, match="does not beat"):
        retention.decide_learned_weight(db.session, office, 0.3, config)
    assert db.session.scalars(select(LearnedWeight)).all() == []
    assert retention.decide_learned_weight(db.session, office, 0.0, config).weight == 0.0  # back to 0: always


def test_an_office_decision_is_recorded_audited_and_used_by_the_ranking(app, factory):
    config = matcher_config(app.config)
    # Flexible hours keep people at work; the hand score cannot see it (it is no factor of it).
    _history(factory, 120, lambda opening, rng: rng.random() < (0.9 if opening.is_flexible_hours else 0.15))
    office = factory.user("office", username="office-learn")
    seeker = factory.laborer()
    db.session.commit()
    before = ranking.matches_for_laborer(db.session, office, seeker.id, config)[1].matches
    assert before and all(f.name != "learned" for m in before for f in m.factors)

    decision = retention.decide_learned_weight(db.session, office, 0.3, config)
    db.session.commit()
    assert decision.model_auc > decision.hand_auc and decision.decided_by_id == office.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "learned_weight"))
    assert event is not None and event.username == "office-learn" and event.entity_id == str(decision.id)

    after = ranking.matches_for_laborer(db.session, office, seeker.id, config)[1].matches
    learned = {m.target_id: f for m in after for f in m.factors if f.name == "learned"}
    assert set(learned) == {m.target_id for m in after}
    flexible = {
        m.target_id for m in after if ranking.ranker(db.session, config).target(m.kind, m.target_id).is_flexible
    }
    assert all(learned[t].value > learned[u].value for t in flexible for u in set(learned) - flexible)

    retention.decide_learned_weight(db.session, office, 0.0, config)
    db.session.commit()
    again = ranking.matches_for_laborer(db.session, office, seeker.id, config)[1].matches
    assert all(f.name != "learned" for m in again for f in m.factors)


def test_only_offices_decide(app, factory):
    cadre = factory.user("cadre")
    with pytest.raises(PermissionDeniedError):
        retention.decide_learned_weight(db.session, cadre, 0.0, Config())


def test_seeded_histories_have_consistent_checkins_and_a_known_truth(app, factory):
    for _ in range(3):
        factory.opening(slots=10)
    for _ in range(40):
        factory.laborer()
    db.session.flush()
    written = seed_checkins(db.session, 100, matcher_config(app.config), date.today(), random_state=1)
    assert written == db.session.query(Placement).count() > 0
    by_placement: dict[int, dict[int, bool]] = {}
    for c in db.session.scalars(select(RetentionCheckin)):
        by_placement.setdefault(c.placement_id, {})[c.day] = c.is_still_working
    assert all(set(days) == {30, 90, 180} for days in by_placement.values())
    # Never back at work after having left: 30 ≥ 90 ≥ 180.
    assert all(d[30] >= d[90] >= d[180] for d in by_placement.values())
    evaluation = retention.evaluate_learned_model(db.session, matcher_config(app.config))
    assert evaluation is not None and "truth" in evaluation.auc  # all synthetic: the ceiling is known


def test_learn_commands_print_the_table_and_refuse_a_weight_without_evidence(app, runner, factory):
    factory.user("office", username="office-cli")
    db.session.commit()
    refused = runner.invoke(args=["learn", "decide", "--weight", "0.3", "--user", "office-cli"])
    # The console's language, whatever the deployment's (zh here): not a line of English around Chinese.
    assert refused.exit_code != 0 and "refused: not enough 90-day check-ins" in refused.output
    assert db.session.scalars(select(LearnedWeight)).all() == []
    for _ in range(3):
        factory.opening(slots=10)
    for _ in range(60):
        factory.laborer()
    db.session.flush()
    seed_checkins(db.session, 150, matcher_config(app.config), date.today(), random_state=2)
    db.session.commit()
    shown = runner.invoke(args=["learn", "evaluate"])
    assert shown.exit_code == 0
    assert "| learned model |" in shown.output and "| generator's true probability (ceiling) |" in shown.output
    assert "Its weight in the score now: 0." in shown.output
    back = runner.invoke(args=["learn", "decide", "--weight", "0", "--user", "office-cli"])
    assert back.exit_code == 0 and db.session.scalars(select(LearnedWeight)).one().weight == 0.0


def test_the_evaluation_is_kept_until_a_check_in_changes(app, factory):
    """The office's page does not refit on every visit, and never shows figures older than the check-ins."""
    config = matcher_config(app.config)
    _history(factory, 80, lambda opening, rng: rng.random() < (0.8 if opening.is_flexible_hours else 0.3))
    # Not committed yet: the data versions have not moved, so they cannot tell these records apart.
    unsure = retention.evaluate_learned_model(db.session, config)
    assert retention.evaluate_learned_model(db.session, config) is not unsure
    db.session.commit()
    first = retention.evaluate_learned_model(db.session, config)
    db.session.commit()
    assert first is not None
    assert retention.evaluate_learned_model(db.session, config) is first  # kept: no refit
    # An offer made meanwhile moves the held slots, which are no feature: still kept.
    opening, laborer = factory.opening(slots=5), factory.laborer()
    db.session.commit()
    first = retention.evaluate_learned_model(db.session, config)
    db.session.commit()
    db.session.add(
        Placement(laborer_id=laborer.id, household_id=laborer.household_id, opening_id=opening.id, status="offered")
    )
    db.session.commit()
    assert retention.evaluate_learned_model(db.session, config) is first
    # One check-in's answer changed, then more check-ins recorded: each time the figures are fitted afresh.
    checkin = db.session.scalars(select(RetentionCheckin).order_by(RetentionCheckin.id)).first()
    checkin.is_still_working = not checkin.is_still_working
    db.session.commit()
    changed = retention.evaluate_learned_model(db.session, config)
    db.session.commit()
    assert changed is not first and changed == retention._evaluate(db.session, config, 0)
    _history(factory, 20, lambda opening, rng: rng.random() < 0.5)
    db.session.commit()
    more = retention.evaluate_learned_model(db.session, config)
    assert more is not changed and more.n_test > first.n_test


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_evaluates_the_learned_model_before_the_office_asks(app, runner, factory, monkeypatch, workers):
    """Alone, in a thread beside the server; under gunicorn, in the master before the fork, so that no
    worker fits it again on its first visit."""
    import threading

    import waitress

    from web.cli import serve as serve_command

    _history(factory, 60, lambda opening, rng: rng.random() < 0.5)
    db.session.commit()
    config = matcher_config(app.config)
    seen_at_start = []

    def evaluated_yet() -> bool:
        url = str(db.engine.url)
        return url in retention._evaluated

    monkeypatch.setattr(retention, "_evaluated", {})
    monkeypatch.setattr(waitress, "serve", lambda wsgi, **kw: seen_at_start.append(evaluated_yet()))
    monkeypatch.setattr(serve_command, "serve_with_gunicorn", lambda *a: seen_at_start.append(evaluated_yet()))
    result = runner.invoke(args=["serve", "--port", "5998", "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    for thread in threading.enumerate():
        if thread.name == "warm-learning":
            thread.join()
    assert len(seen_at_start) == 1  # the server was started (its start patched away)
    if workers > 1:
        assert seen_at_start == [True]  # ready before the fork
    kept = retention._evaluated[str(db.engine.url)][1]
    monkeypatch.setattr(retention, "_evaluate", lambda *a: pytest.fail("evaluated again"))
    assert retention.evaluate_learned_model(db.session, config) is kept is not None
