"""Evaluation of the outcome model: stratified 5-fold cross-validation, a held-out split,
curves for the UI, and an optional time-boxed hyperparameter search."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone, is_regressor
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from engine.schema import as_times

HOLDOUT_SHARE = 0.2
# Extra columns of a version's holdout.parquet (its held-out labelled rows).
ROW_KEY, VALIDATION_PREDICTION = "benchai_row_key", "benchai_validation_prediction"
SEARCH_SPACE = {
    "n_estimators": [100, 200, 300, 500],
    "max_depth": [2, 3, 4, 5, 6],
    "learning_rate": [0.02, 0.05, 0.1, 0.2],
    "subsample": [0.6, 0.8, 0.9, 1.0],
}


def row_keys(df: pd.DataFrame, schema) -> np.ndarray:
    """A key per row that every version computes alike: the entity id where the row has one,
    else ``row:`` and a hash of the row's schema values (so an unchanged row without an id is
    recognised across tables; a row whose values changed is a new row)."""
    has_id = bool(schema.id) and schema.id in df.columns
    present = df[schema.id].notna().to_numpy() if has_id else np.zeros(len(df), dtype=bool)
    keys = np.empty(len(df), dtype=object)
    if has_id:
        keys[present] = df.loc[present, schema.id].astype(str).to_numpy()
    if not present.all():
        columns = [c for c in [*schema.segments, *schema.feature_names, schema.target.column if schema.target else None] if c and c in df.columns]
        hashed = pd.util.hash_pandas_object(df.loc[~present, columns].astype(str), index=False).to_numpy()
        keys[~present] = [f"row:{h}" for h in hashed]
    return keys.astype(str)


def holdout_mask(df: pd.DataFrame, schema, y: np.ndarray | None = None) -> np.ndarray:
    """Rows held out for evaluation, chosen by a hash of the row key, so the same entity is held
    out in every version and no version trains on another version's held-out rows. With binary
    outcomes ``y``, each class keeps at least one row on each side: the class's lowest-hash row
    joins the held-out rows (or its highest-hash row leaves them), deterministically."""
    return _held_out(row_keys(df, schema), y)


def _held_out(keys: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    digests = np.array([int(hashlib.sha256(k.encode()).hexdigest()[:8], 16) % 1000 for k in keys], dtype=np.int64)
    held = digests < HOLDOUT_SHARE * 1000
    if y is not None:
        for outcome in np.unique(y):
            rows = np.flatnonzero(y == outcome)
            if len(rows) >= 2 and not held[rows].any():
                held[rows[np.argmin(digests[rows])]] = True
            if len(rows) >= 2 and held[rows].all():
                held[rows[np.argmax(digests[rows])]] = False
    return held


MIN_LABELLED_ROWS = 30  # to train, cross-validate and hold out anything at all
MIN_CLASS_ROWS = 10  # rows of the rarer class of a binary target, for stratified folds


@dataclass(frozen=True)
class LabelledSplit:
    """The outcome model's rows: the labelled rows, their target values, their row keys and
    which of them are held out."""

    frame: pd.DataFrame
    y: np.ndarray
    keys: np.ndarray
    held: np.ndarray


@dataclass(frozen=True)
class Holdout:
    """A training's held-out rows as the quality gate needs them and the version keeps them:
    the split, the validation model (fitted without the held-out rows) and its predictions on
    them (probabilities or values, in row order)."""

    split: LabelledSplit
    validation_model: object
    prediction: np.ndarray
    schema: object

    @property
    def frame(self) -> pd.DataFrame:
        return self.split.frame.loc[self.split.held]

    @property
    def keys(self) -> np.ndarray:
        return self.split.keys[self.split.held]

    @property
    def train_keys(self) -> np.ndarray:
        return self.split.keys[~self.split.held]

    def table(self) -> pd.DataFrame:
        """``holdout.parquet``: the held-out rows' schema columns, key and validation prediction,
        so that a later version is compared with this one on rows neither trained on (the
        validation prediction speaks for this version there: a refitted served model saw them)."""
        s, frame = self.schema, self.frame
        columns = [c for c in [s.id, *s.segments, *s.feature_names, s.target.column] if c and c in frame.columns]
        return frame[columns].assign(**{ROW_KEY: self.keys, VALIDATION_PREDICTION: self.prediction}).reset_index(drop=True)


def labelled_split(df: pd.DataFrame, schema) -> LabelledSplit:
    """The one definition of the outcome model's rows and of those held out. Raises DataError
    when there are too few labelled rows to train and validate a prediction model."""
    from engine.errors import DataError

    target = schema.target.column
    frame = df[df[target].notna()].reset_index(drop=True)
    y = frame[target].to_numpy(dtype=float)
    numeric = schema.target.kind == "numeric"
    if not numeric:
        y = y.astype(int)
    rarer = len(y) if numeric else int(np.bincount(y, minlength=2).min())
    if len(y) < MIN_LABELLED_ROWS or rarer < MIN_CLASS_ROWS:
        need = f"at least {MIN_LABELLED_ROWS} labelled rows" + ("" if numeric else f" and {MIN_CLASS_ROWS} of each outcome")
        found = f"{len(y)} labelled rows" + ("" if numeric else f", {rarer} of the rarer outcome")
        raise DataError(f"target column '{target}': {found}; a prediction model needs {need}.")
    keys = row_keys(frame, schema)
    return LabelledSplit(frame, y, keys, _held_out(keys, None if numeric else y))


def classification_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict:
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "positive_rate": float(np.mean(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p)),
        "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """RMSE, MAE (the target's units) and R² of a numeric prediction."""
    error = pred - y
    return {
        "n": int(len(y)),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": float(r2_score(y, pred)) if len(y) > 1 else None,
    }


REGRESSION_KEYS = ["rmse", "mae", "r2"]
CLASSIFICATION_KEYS = ["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier"]


def is_numeric_task(model) -> bool:
    """A regression model (ours or a scikit-learn one), as opposed to a binary classifier."""
    return getattr(model, "task", None) == "numeric" if hasattr(model, "task") else is_regressor(model)


def curves(y: np.ndarray, p: np.ndarray, max_points: int = 200) -> dict:
    """ROC, precision-recall and calibration curve data, thinned for charts."""
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    return {
        "roc": _thin({"fpr": fpr, "tpr": tpr}, max_points),
        "pr": _thin({"recall": recall, "precision": precision}, max_points),
        "calibration": {"predicted": prob_pred.tolist(), "observed": prob_true.tolist()},
    }


def _thin(columns: dict, max_points: int) -> dict:
    n = len(next(iter(columns.values())))
    idx = np.unique(np.linspace(0, n - 1, min(n, max_points)).astype(int))
    return {k: np.asarray(v)[idx].round(5).tolist() for k, v in columns.items()}


EARLY_STOPPING_SHARE = 0.2  # of each fold's training rows, to choose the number of trees
# Above this many training rows the held-out rows alone validate (at 20,000 held-out rows a
# ROC AUC is known to about +-0.005) and the five folds would cost most of the training time.
CV_MAX_ROWS = 20_000
STOP_SHARE = 10  # above CV_MAX_ROWS, one training row in STOP_SHARE decides when to stop adding trees


def stopping_rows(keys: np.ndarray) -> np.ndarray:
    """The training rows whose loss decides when to stop adding trees, where no folds are run:
    chosen by a hash of the row key, so in-process and Dask training choose the same rows."""
    return pd.util.hash_pandas_object(pd.Series(keys), index=False).to_numpy() % STOP_SHARE == 0


LATER_SHARE = 0.2  # out-of-time: the latest share of the rows (by the time column) is the test


def out_of_time(model, baseline, X: pd.DataFrame, y: np.ndarray, time_column: str | None) -> dict | None:
    """Train on the earlier rows, test on the latest ``LATER_SHARE`` (by the schema's time
    column): how well a version predicts a later period, which a random split overstates.
    -> {"model": metrics, "baseline": metrics, "words": what it measured}; None without a
    usable time column (missing, unparsable, or one period only)."""
    if not time_column or time_column not in X.columns:
        return None
    when = as_times(X[time_column])
    known = when.notna().to_numpy()
    if known.sum() < 50 or when[known].nunique() < 2:
        return None
    cut = when[known].quantile(1.0 - LATER_SHARE)
    later = known & (when > cut).to_numpy() if (when > cut).any() else known & (when >= cut).to_numpy()
    earlier = known & ~later
    numeric = is_numeric_task(model)
    if earlier.sum() < 20 or later.sum() < 10 or (not numeric and (len(np.unique(y[earlier])) < 2 or len(np.unique(y[later])) < 2)):
        return None
    score = regression_metrics if numeric else classification_metrics
    out = {}
    for name, m in (("model", model), ("baseline", baseline)):
        fitted = clone(m).fit(X.loc[earlier], y[earlier])
        pred = fitted.predict(X.loc[later]) if numeric else fitted.predict_proba(X.loc[later])[:, 1]
        out[name] = score(y[later], pred)
    first, last = when[later].min(), when[later].max()
    out["words"] = f"trained on the {int(earlier.sum()):,} rows up to {cut:%Y-%m-%d}, tested on the {int(later.sum()):,} later rows ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
    return out


def cross_validate(model, X: pd.DataFrame, y: np.ndarray, *, folds: int = 5, seed: int = 0, early_stopping: bool = False) -> dict:
    """Stratified k-fold: mean and std of every metric. With ``early_stopping`` each fold's model
    stops adding trees when the log loss of 20% of that fold's training rows stops improving
    (never the fold's test rows), and ``trees`` lists how many each fold kept: the whole
    procedure is what is validated, and the median is the final model's size."""
    numeric = is_numeric_task(model)
    splitter = KFold(folds, shuffle=True, random_state=seed) if numeric else StratifiedKFold(folds, shuffle=True, random_state=seed)
    oof = np.zeros(len(y))
    per_fold, trees = [], []
    for train, test in splitter.split(X, y):
        if early_stopping:
            try:
                fit_rows, val_rows = train_test_split(train, test_size=EARLY_STOPPING_SHARE, stratify=None if numeric else y[train], random_state=seed)
            except ValueError:  # a class too small to stratify: a plain random split
                fit_rows, val_rows = train_test_split(train, test_size=EARLY_STOPPING_SHARE, random_state=seed)
            fitted = clone(model).fit(X.iloc[fit_rows], y[fit_rows], eval_set=(X.iloc[val_rows], y[val_rows]))
            trees.append(int(fitted.best_trees_))
        else:
            fitted = clone(model).fit(X.iloc[train], y[train])
        if numeric:
            oof[test] = fitted.predict(X.iloc[test])
            per_fold.append(regression_metrics(y[test], oof[test]))
        else:
            oof[test] = fitted.predict_proba(X.iloc[test])[:, 1]
            per_fold.append(classification_metrics(y[test], oof[test]))
    keys = REGRESSION_KEYS if numeric else CLASSIFICATION_KEYS
    values = {k: np.array([np.nan if m[k] is None else m[k] for m in per_fold], dtype=float) for k in keys}
    summary = {k: float(np.nanmean(v)) if np.isfinite(v).any() else None for k, v in values.items()}
    summary.update({f"{k}_std": float(np.nanstd(v)) if np.isfinite(v).any() else None for k, v in values.items()})
    summary["folds"] = folds
    if trees:
        summary["trees"] = trees
    return summary


def search(model, X: pd.DataFrame, y: np.ndarray, *, budget_s: float = 60.0, max_trials: int = 20, seed: int = 0) -> dict:
    """Randomised search over SEARCH_SPACE by 3-fold ROC AUC, stopped by a time budget.

    The same seed tries the same candidates in the same order; the budget only cuts the list.
    """
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    trials = []
    for _ in range(max_trials):
        params = {k: v[rng.integers(len(v))] for k, v in SEARCH_SPACE.items()}
        params = {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}
        aucs = []
        for train, test in StratifiedKFold(3, shuffle=True, random_state=seed).split(X, y):
            fitted = clone(model).set_params(**params).fit(X.iloc[train], y[train])
            aucs.append(roc_auc_score(y[test], fitted.predict_proba(X.iloc[test])[:, 1]))
        trials.append({"params": params, "roc_auc": float(np.mean(aucs))})
        if time.monotonic() - started > budget_s:
            break
    best = max(trials, key=lambda t: t["roc_auc"])
    return {"best_params": best["params"], "best_roc_auc": best["roc_auc"], "trials": trials, "seconds": time.monotonic() - started}
