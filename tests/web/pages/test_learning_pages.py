"""The office decides the learned model's weight on a page and through the API (issue 14, part 6): the
held-out figures are shown, a weight above 0 is refused while the model does not beat the hand score, and an
accepted decision is recorded and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.web.test_learned_weight import _history
from web.extensions import db
from web.models import AuditEvent, LearnedWeight


@pytest.fixture
def history(app, factory):
    """Ended placements with 90-day check-ins where flexible hours keep people at work, which the hand score
    cannot see: the learned model beats it (tests/web/test_learned_weight.py makes the same history)."""
    _history(factory, 120, lambda opening, rng: rng.random() < (0.9 if opening.is_flexible_hours else 0.15))
    db.session.commit()


@pytest.mark.parametrize(("lang", "words"), [("zh", "学习模型（安置稳定预测）"), ("en", "Learned success model")])
def test_the_office_reads_the_figures_and_records_a_weight(client, login, factory, history, lang, words):
    office = factory.user("office", username="office-page")
    db.session.commit()
    login(office)
    client.get(f"/lang/{lang}")
    page = client.get("/office/learning")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert words in body and "AUC" in body
    assert client.post("/office/learning", data={"weight": "0.2"}).status_code == 302
    (decision,) = db.session.scalars(select(LearnedWeight)).all()
    assert decision.weight == pytest.approx(0.2) and decision.decided_by_id == office.id
    assert db.session.scalar(select(AuditEvent.username).where(AuditEvent.action == "learned_weight")) == "office-page"


def test_a_weight_out_of_range_is_refused_naming_the_field(client, login, factory, history):
    login(factory.user("office"))
    answer = client.post("/office/learning", data={"weight": "3"}, headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    assert db.session.scalars(select(LearnedWeight)).all() == []


def test_the_api_shows_the_evaluation_and_refuses_without_evidence(client, factory, api_token):
    office = factory.user("office")
    cadre = factory.user("cadre")
    db.session.commit()
    headers = api_token(office)
    shown = client.get("/api/v1/learning", headers=headers)
    assert shown.status_code == 200 and shown.json == {"evaluation": None, "decision": None}
    refused = client.post("/api/v1/learning/decision", json={"weight": 0.3}, headers=headers)
    assert refused.status_code == 409
    assert client.post("/api/v1/learning/decision", json={"weight": 0.3}, headers=api_token(cadre)).status_code == 403
    assert client.post("/api/v1/learning/decision", json={"weight": 2}, headers=headers).status_code == 422
    assert db.session.scalars(select(LearnedWeight)).all() == []


def test_the_api_records_a_decision_when_the_model_beats_the_hand_score(client, factory, api_token, history):
    headers = api_token(factory.user("office", username="office-api"))
    shown = client.get("/api/v1/learning", headers=headers).json
    assert shown["evaluation"]["model_beats_hand"] is True
    assert shown["evaluation"]["auc"]["model"]["value"] > shown["evaluation"]["auc"]["hand"]["value"]
    made = client.post("/api/v1/learning/decision", json={"weight": 0.25}, headers=headers)
    assert made.status_code == 201 and made.json["weight"] == 0.25 and made.json["decided_by"] == "office-api"
