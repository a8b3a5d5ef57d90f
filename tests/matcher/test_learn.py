"""The learned success model follows scikit-learn's contract and is only trusted when it wins."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from matcher.learn import FEATURE_NAMES, SuccessModel, compare_with_hand_score, features_for
from matcher.synthetic import make_placements
from matcher.types import Config


def test_estimator_contract():
    model = SuccessModel(max_iter=20, random_state=3)
    assert model.get_params()["random_state"] == 3
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict_proba(np.zeros((1, len(FEATURE_NAMES))))
    X, _, y = make_placements(400, random_state=1)
    assert model.fit(X, y) is model
    assert model.n_features_in_ == len(FEATURE_NAMES)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {0, 1}
    again = SuccessModel(max_iter=20, random_state=3).fit(X, y)
    assert np.array_equal(again.predict_proba(X), proba)


def test_model_beats_hand_score_when_outcomes_hide_something():
    X, hand, y = make_placements(1_500, random_state=2, hidden_effect=3.0)
    result = compare_with_hand_score(X, hand, y, random_state=0)
    assert result.model_beats_hand
    assert result.n_train + result.n_test == len(y)


def test_model_does_not_beat_a_perfect_hand_score():
    X, hand, _ = make_placements(800, random_state=4)
    lasted = (hand > np.median(hand)).astype(int)
    result = compare_with_hand_score(X, hand, lasted, random_state=0)
    assert result.hand_auc == pytest.approx(1.0, abs=1e-12) and not result.model_beats_hand


def test_features_for_objects(make_laborer, make_target):
    rows = features_for(
        [
            (make_laborer(), make_target(), 2.0),
            (make_laborer(ability="full"), make_target(kind="batch"), 30.0),
        ],
        Config(),
    )
    assert rows.shape == (2, len(FEATURE_NAMES))
    col = dict(zip(FEATURE_NAMES, rows.T, strict=True))
    assert col["is_batch"].tolist() == [0.0, 1.0]
    assert col["distance_km"].tolist() == [2.0, 30.0]
