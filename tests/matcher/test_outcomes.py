"""On outcomes drawn from a known truth, the learned model comes within 0.03 AUC of it and beats the hand score."""

from __future__ import annotations

import numpy as np

from matcher import learn, outcomes


def test_learned_model_nears_the_ceiling_and_beats_the_hand_score():
    X, hand, truth, lasted = outcomes.generated_placements(6_000, random_state=0)
    assert 0.3 < lasted.mean() < 0.9  # both outcomes are common
    result = learn.evaluate(X, hand, lasted, truth, random_state=0, n_boot=100)
    auc = {name: figure.value for name, figure in result.auc.items()}
    assert auc["truth"] - auc["model"] <= 0.03
    assert auc["model"] > auc["hand"]
    assert result.model_beats_hand
    assert result.brier["truth"].value <= result.brier["model"].value < result.brier["hand"].value
    for figure in (*result.auc.values(), *result.brier.values()):
        assert figure.low <= figure.value <= figure.high
    assert result.n_train + result.n_test == len(lasted) and result.n_boot == 100


def test_the_truth_is_what_the_outcomes_are_drawn_from():
    X, _, truth, _ = outcomes.generated_placements(2_000, random_state=1)
    draws = np.mean([outcomes.draw(truth, seed) for seed in range(200)], axis=0)
    assert np.abs(draws - truth).max() < 0.15  # 200 draws per placement: within a few standard errors
    assert np.allclose(outcomes.retention_probability(X), truth)
