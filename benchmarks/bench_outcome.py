"""Outcome-model choices measured, not assumed: class weighting (``scale_pos_weight``) on or
off, a fixed 300 trees vs the number early stopping picks, and the plain baseline (logistic
regression) on the same 5 stratified folds, on both built-in datasets. Prints ROC AUC, log loss
and Brier score (mean over folds). Usage: python benchmarks/bench_outcome.py [rows]"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from engine.analysis.outcome import DEFAULTS, OutcomeClassifier
from engine.demo import write_customers, write_demo
from engine.schema import check_frame, load_schema, read_table
from engine.training.baseline import baseline_model


def dataset(kind: str, rows: int):
    with tempfile.TemporaryDirectory() as tmp:
        files = write_customers(tmp, n=rows) if kind == "customers" else write_demo(tmp, n_companies=rows)
        schema = load_schema(files["schema"])
        frame = check_frame(read_table(files[kind]), schema)
    frame = frame[frame[schema.target.column].notna()].reset_index(drop=True)
    return schema, frame, frame[schema.target.column].to_numpy(int)


def variants(schema):
    common = {"features": tuple(schema.numeric_names), "categorical": tuple(schema.segments) + tuple(schema.category_names), "n_jobs": 1}
    return {
        "XGBoost, balanced, 300 trees": lambda: OutcomeClassifier(**common, **DEFAULTS, balanced=True),
        "XGBoost, unweighted, 300 trees": lambda: OutcomeClassifier(**common, **DEFAULTS),
        "XGBoost, unweighted, early-stopped": lambda: OutcomeClassifier(**common, **{**DEFAULTS, "n_estimators": 1000}),
        "XGBoost, depth 2, early-stopped": lambda: OutcomeClassifier(**common, **{**DEFAULTS, "n_estimators": 3000, "max_depth": 2, "learning_rate": 0.1}),
        "logistic regression (baseline)": lambda: baseline_model(schema),
    }


def main(rows: int) -> None:
    print(f"{rows:,} rows per dataset, 5-fold stratified CV; xgboost {xgb.__version__}, scikit-learn {sklearn.__version__}, "
          f"n_jobs=1, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n")
    print("| dataset | model | ROC AUC | log loss | Brier | trees |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in ("companies", "customers"):
        schema, frame, y = dataset(kind, rows)
        for name, make in variants(schema).items():
            scores, trees = [], []
            for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(frame, y):
                model = make()
                if "early" in name:  # stop on an inner split of the training folds, never on the test fold
                    inner = np.random.default_rng(0).random(len(train)) < 0.2
                    fit, val = train[~inner], train[inner]
                    model.fit(frame.iloc[fit], y[fit], eval_set=(frame.iloc[val], y[val]))
                    trees.append(model.best_trees_)
                else:
                    model.fit(frame.iloc[train], y[train])
                p = model.predict_proba(frame.iloc[test])[:, 1]
                scores.append((roc_auc_score(y[test], p), log_loss(y[test], p), brier_score_loss(y[test], p)))
            s = np.mean(scores, axis=0)
            print(f"| {kind} | {name} | {s[0]:.4f} | {s[1]:.4f} | {s[2]:.4f} | {int(np.median(trees)) if trees else '—'} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
