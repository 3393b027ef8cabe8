"""The outcome model: an XGBoost classifier behind a scikit-learn estimator, its evaluation,
and exact TreeSHAP contributions.

Segment columns and category features are one-hot encoded (their SHAP values are summed back
to one row per original column). A missing value is left to XGBoost's learned default direction
only for a column that had gaps in training (a missing category is then all zeros); a column
that never had one gives the trees no learned direction (a gap would go down an arbitrary
branch and read like an extreme value), so it is filled with the training median (numbers) or
most frequent value (categories) before predicting; class imbalance is handled
with ``scale_pos_weight`` only when ``balanced`` (measured: it costs ranking and calibration). Contributions come from XGBoost's own TreeSHAP (``pred_contribs``),
the algorithm shap.TreeExplainer runs; a test checks both agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from engine.analysis.explanations import fold_onehot
from engine.analysis.peers import text_codes
from engine.schema.model import OUTPUTS

# n_estimators is the cap: training keeps the number of trees early stopping picks (evaluation).
# Class weighting is off: measured on both built-in datasets it cost log loss and Brier score
# and gained no ROC AUC (benchmarks/bench_outcome.py).
DEFAULTS = {"n_estimators": 1000, "max_depth": 4, "learning_rate": 0.05, "subsample": 0.9}


class OutcomeClassifier(ClassifierMixin, BaseEstimator):
    """XGBoost on numeric features (scores, metrics, 0/1 flags) + one-hot categorical columns
    (segment columns and category features). X: DataFrame with those columns."""

    def __init__(
        self,
        *,
        features: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        n_estimators: int = 300,
        max_depth: int = 4,
        learning_rate: float = 0.05,
        subsample: float = 0.9,
        balanced: bool = False,
        seed: int = 0,
        n_jobs: int = 2,
    ):
        self.features = features
        self.categorical = categorical
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.balanced = balanced
        self.seed = seed
        self.n_jobs = n_jobs

    task = "binary"  # what ``predict_design`` returns: a probability
    output = OUTPUTS["binary"]  # its name in tables (batch scores, drift)

    def fit(self, X: pd.DataFrame, y, *, eval_set: tuple[pd.DataFrame, np.ndarray] | None = None, early_stopping_rounds: int = 50) -> OutcomeClassifier:
        """Fit; with ``eval_set`` (X, y) stop adding trees once its loss has not improved for
        ``early_stopping_rounds`` and keep ``best_trees_`` (how many trees validation wants)."""
        y = np.asarray(y, dtype=float)
        self.classes_ = np.array([0, 1])
        self._learn_columns(X)
        pos = max(y.sum(), 1.0)
        weight = (len(y) - pos) / pos if self.balanced else 1.0
        self._fit_booster(xgb.XGBClassifier(scale_pos_weight=weight, eval_metric="logloss", **self._booster_params(eval_set, early_stopping_rounds)), X, y, eval_set)
        return self

    def _booster_params(self, eval_set, early_stopping_rounds: int) -> dict:
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "random_state": self.seed,
            "n_jobs": self.n_jobs,
            "tree_method": "hist",
            "early_stopping_rounds": early_stopping_rounds if eval_set is not None else None,
        }

    def _learn_columns(self, X: pd.DataFrame) -> None:
        """Categories, design columns and the fill values of columns training never saw missing."""
        self.categories_ = {c: sorted(X[c].dropna().astype(str).unique()) for c in self.categorical}
        self.columns_ = list(self.features) + [f"{c}={v}" for c in self.categorical for v in self.categories_[c]]
        numbers = X[list(self.features)].to_numpy(dtype=float)
        gaps = np.isnan(numbers).any(axis=0)
        self.fill_ = np.where(gaps, np.nan, np.nanmedian(np.where(np.isnan(numbers).all(axis=0), 0.0, numbers), axis=0))
        self.fill_categories_ = {c: X[c].astype(str).mode().iloc[0] for c in self.categorical if X[c].notna().all()}

    def _fit_booster(self, model, X: pd.DataFrame, y: np.ndarray, eval_set) -> None:
        if eval_set is None:
            model.fit(self.design(X), y)
            self.best_trees_ = self.n_estimators
        else:
            model.fit(self.design(X), y, eval_set=[(self.design(eval_set[0]), np.asarray(eval_set[1], dtype=float))], verbose=False)
            self.best_trees_ = int(model.best_iteration) + 1
        # Keep only the trees validation wanted: predictions and SHAP then agree by construction.
        self.booster_ = model.get_booster()[: self.best_trees_]

    def design(self, X: pd.DataFrame) -> np.ndarray:
        """DataFrame -> (n, columns) float32: features as-is (gaps filled only where training had
        none), categorical one-hot."""
        numbers = X[list(self.features)].to_numpy(dtype=np.float32)
        parts = [np.where(np.isnan(numbers), self.fill_.astype(np.float32), numbers)]
        for c in self.categorical:
            values = X[c].where(X[c].notna(), self.fill_categories_.get(c)) if c in self.fill_categories_ else X[c]
            codes = text_codes(values, self.categories_[c])
            onehot = np.zeros((len(X), len(self.categories_[c])), dtype=np.float32)
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
        return np.hstack(parts)

    def design_row(self, x: np.ndarray, seg: dict) -> np.ndarray:
        """Fast path for one profile: numeric values (f,) + categorical values -> (1, columns)."""
        row = np.zeros(len(self.columns_), dtype=np.float32)
        row[: len(self.features)] = np.where(np.isnan(x), self.fill_, x)
        offset = len(self.features)
        for c in self.categorical:
            cats = self.categories_[c]
            v = seg.get(c)
            v = str(self.fill_categories_.get(c) if v is None else v)
            if v in cats:
                row[offset + cats.index(v)] = 1.0
            offset += len(cats)
        return row[None, :]

    def margin_design(self, D: np.ndarray) -> np.ndarray:
        return self.booster_.inplace_predict(D, predict_type="margin")

    def proba_design(self, D: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.margin_design(D)))

    def predict_design(self, D: np.ndarray) -> np.ndarray:
        """The number the product serves for design rows: the probability of the target."""
        return self.proba_design(D)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.proba_design(self.design(X))
        return np.column_stack([1.0 - p, p])

    def contributions_design(self, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (contributions (n, features + categorical) in log-odds for a probability, in the
        target's units for a regression, base value (n,)).

        One-hot columns are summed back to their original column, which keeps additivity:
        base + contributions.sum(axis=1) equals the margin.
        """
        # nthread=1: building a DMatrix with the default thread pool costs ~10 ms per call.
        raw = self.booster_.predict(xgb.DMatrix(D, missing=np.nan, nthread=1), pred_contribs=True)
        base = raw[:, -1]
        raw = raw[:, :-1]
        return fold_onehot(raw, self).astype(np.float64), base.astype(np.float64)

    @property
    def explained_columns(self) -> list[str]:
        return list(self.features) + list(self.categorical)


class OutcomeRegressor(RegressorMixin, OutcomeClassifier):
    """The same design and explanations for a numeric target: XGBoost regression (squared
    error); the margin is the predicted value, so SHAP contributions are in the target's units."""

    task = "numeric"
    output = OUTPUTS["numeric"]

    def fit(self, X: pd.DataFrame, y, *, eval_set: tuple[pd.DataFrame, np.ndarray] | None = None, early_stopping_rounds: int = 50) -> OutcomeRegressor:
        self._learn_columns(X)
        params = self._booster_params(eval_set, early_stopping_rounds)
        self._fit_booster(xgb.XGBRegressor(objective="reg:squarederror", eval_metric="rmse", **params), X, np.asarray(y, dtype=float), eval_set)
        return self

    def predict_design(self, D: np.ndarray) -> np.ndarray:
        return self.margin_design(D)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_design(self.design(X))
