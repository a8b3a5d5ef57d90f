"""Learned success: will a placement last 90 days? A scikit-learn estimator and its acceptance test.

``SuccessModel`` follows the scikit-learn estimator contract (``__init__`` only stores
parameters, ``fit`` returns ``self``, fitted state ends in ``_``, ``random_state`` is a
parameter). Its probability may become the ``learned`` score factor only once
``compare_with_hand_score`` shows it ranks held-out placements better (AUC) than the
hand-weighted score does; until then ``Config.weight_learned`` stays 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from matcher.arrays import KIND_CODE, POVERTY_CODE, LaborerColumns, TargetColumns, age_years
from matcher.scoring import factor_columns
from matcher.types import Config, Laborer, Target

FEATURE_NAMES: tuple[str, ...] = (
    "distance_fit",
    "preference_fit",
    "physical_fit",
    "age_fit",
    "age_years",
    "ability_rank",
    "demand_rank",
    "distance_km",
    "is_batch",
    "is_welfare_post",
    "is_female",
    "is_registered_poor",
    "needs_flexible_hours",
    "is_flexible",
    "pay_cents",
)
"""Columns of ``placement_features``, in order."""


def placement_features(
    laborers: LaborerColumns,
    li: np.ndarray,
    targets: TargetColumns,
    ti: np.ndarray,
    distance_km: np.ndarray,
    config: Config,
) -> np.ndarray:
    """One row of ``FEATURE_NAMES`` per placement (laborer row ``li[k]`` in target row ``ti[k]``)."""
    L, T = laborers, targets
    values = factor_columns(L, li, T, ti, distance_km, config)
    return np.column_stack(
        [
            *values,
            age_years(L.birth_y[li], L.birth_md[li], T.start_y[ti], T.start_md[ti]),
            L.ability[li],
            T.demand[ti],
            distance_km,
            T.kind[ti] == KIND_CODE["batch"],
            T.kind[ti] == KIND_CODE["welfare_post"],
            L.is_female[li],
            L.poverty[li] == POVERTY_CODE["registered_poor"],
            L.needs_flexible[li],
            T.is_flexible[ti],
            T.pay_cents[ti],
        ]
    ).astype(float)


def features_for(placements: Sequence[tuple[Laborer, Target, float]], config: Config) -> np.ndarray:
    """Feature rows for (laborer, target, distance_km) placements given as objects."""
    T = TargetColumns.from_targets([t for _, t, _ in placements])
    L = LaborerColumns.from_laborers([p for p, _, _ in placements], T.skills, T.job_types)
    rows = np.arange(len(placements))
    return placement_features(L, rows, T, rows, np.array([d for _, _, d in placements], float), config)


class SuccessModel(ClassifierMixin, BaseEstimator):
    """Probability that a placement lasts 90 days, by gradient-boosted trees over placement features.

    Parameters are those of ``HistGradientBoostingClassifier`` that matter here; ``random_state``
    makes fits reproducible.
    """

    def __init__(
        self,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 1.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Fit on feature rows ``X`` and outcomes ``y`` (1 = still working after 90 days); returns self."""
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.estimator_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
        ).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """Class probabilities per row (columns follow ``classes_``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        proba: np.ndarray = self.estimator_.predict_proba(X)
        return proba

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Most likely outcome per row."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        outcome: np.ndarray = self.estimator_.predict(X)
        return outcome


@dataclass(frozen=True, slots=True)
class Comparison:
    """Held-out AUC of the learned model and of the hand-weighted score, and whether the model wins."""

    model_auc: float
    hand_auc: float
    n_train: int
    n_test: int

    @property
    def model_beats_hand(self) -> bool:
        """True when the learned probability ranks held-out placements strictly better."""
        return self.model_auc > self.hand_auc


def compare_with_hand_score(
    features: np.ndarray,
    hand_scores: np.ndarray,
    lasted: np.ndarray,
    *,
    test_size: float = 0.3,
    random_state: int = 0,
    model: SuccessModel | None = None,
) -> Comparison:
    """Fit on a training split, then compare AUCs on the held-out split (stratified by outcome)."""
    X_train, X_test, _, hand_test, y_train, y_test = train_test_split(
        features,
        hand_scores,
        lasted,
        test_size=test_size,
        random_state=random_state,
        stratify=lasted,
    )
    model = (model or SuccessModel(random_state=random_state)).fit(X_train, y_train)
    positive = list(model.classes_).index(1)
    model_auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, positive])
    return Comparison(float(model_auc), float(roc_auc_score(y_test, hand_test)), len(y_train), len(y_test))


@dataclass(frozen=True, slots=True)
class Figure:
    """One held-out figure and its 95 % bootstrap confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Held-out AUC and Brier score of the learned model, the hand score and, where known, the truth.

    ``truth`` is the generator's own probability (synthetic outcomes only): the ceiling no model can
    pass. The hand score is not a probability; for its Brier score it is calibrated on the training
    split (a logistic regression of the outcome on the score), which leaves its AUC as it is.
    """

    auc: dict[str, Figure]
    brier: dict[str, Figure]
    n_train: int
    n_test: int
    n_boot: int

    @property
    def model_beats_hand(self) -> bool:
        """True when the learned probability ranks held-out placements strictly better than the hand score."""
        return self.auc["model"].value > self.auc["hand"].value


def evaluate(
    features: np.ndarray,
    hand_scores: np.ndarray,
    lasted: np.ndarray,
    truth: np.ndarray | None = None,
    *,
    test_size: float = 0.3,
    random_state: int = 0,
    n_boot: int = 200,
    model: SuccessModel | None = None,
) -> Evaluation:
    """Fit on a training split; AUC and Brier on the held-out split, with paired bootstrap intervals.

    Each bootstrap resample of the held-out placements scores every predictor on the same rows,
    so the intervals of model, hand score and truth can be read side by side.
    """
    arrays = [features, hand_scores, lasted] + ([truth] if truth is not None else [])
    split = train_test_split(*arrays, test_size=test_size, random_state=random_state, stratify=lasted)
    X_train, X_test, hand_train, hand_test, y_train, y_test = split[:6]
    model = (model or SuccessModel(random_state=random_state)).fit(X_train, y_train)
    positive = list(model.classes_).index(1)
    calibrate = LogisticRegression().fit(hand_train.reshape(-1, 1), y_train)
    predictions = {
        "model": model.predict_proba(X_test)[:, positive],
        "hand": calibrate.predict_proba(hand_test.reshape(-1, 1))[:, list(calibrate.classes_).index(1)],
    }
    if truth is not None:
        predictions["truth"] = split[7]
    rng = np.random.default_rng(random_state)
    samples = [rng.integers(0, len(y_test), len(y_test)) for _ in range(n_boot)]
    samples = [s for s in samples if 0 < y_test[s].sum() < len(s)]  # both outcomes in each resample

    def figure(metric: Callable[[np.ndarray, np.ndarray], float], p: np.ndarray) -> Figure:
        values = [metric(y_test[s], p[s]) for s in samples]
        low, high = np.percentile(values, [2.5, 97.5]) if values else (np.nan, np.nan)
        return Figure(float(metric(y_test, p)), float(low), float(high))

    return Evaluation(
        auc={name: figure(roc_auc_score, p) for name, p in predictions.items()},
        brier={name: figure(brier_score_loss, p) for name, p in predictions.items()},
        n_train=len(y_train),
        n_test=len(y_test),
        n_boot=len(samples),
    )
