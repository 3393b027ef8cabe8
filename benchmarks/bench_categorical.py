"""One-hot vs XGBoost's native categorical support for the outcome model, on the customers
dataset (three category predictors and two segment columns): 5-fold stratified ROC AUC and
log loss of the same booster settings, and the fit time. The product uses the encoding this
table favours. Usage: python benchmarks/bench_categorical.py [rows]"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from engine.analysis.outcome import DEFAULTS, OutcomeClassifier
from engine.demo import write_customers
from engine.schema import check_frame, load_schema, read_table


def native(train: pd.DataFrame, y, test: pd.DataFrame, features, categorical, seed) -> np.ndarray:
    def frame(df):
        out = df[list(features)].copy()
        for c in categorical:
            out[c] = pd.Categorical(df[c], categories=sorted(train[c].dropna().unique()))
        return out

    pos = max(y.sum(), 1.0)
    model = xgb.XGBClassifier(**DEFAULTS, scale_pos_weight=(len(y) - pos) / pos, random_state=seed, n_jobs=1, tree_method="hist", enable_categorical=True, max_cat_to_onehot=1)
    model.fit(frame(train), y)
    return model.predict_proba(frame(test))[:, 1]


def one_hot(train, y, test, features, categorical, seed) -> np.ndarray:
    model = OutcomeClassifier(features=tuple(features), categorical=tuple(categorical), seed=seed, n_jobs=1, **DEFAULTS).fit(train, y)
    return model.predict_proba(test)[:, 1]


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = write_customers(tmp, n=rows, seed=0)
        schema = load_schema(files["schema"])
        data = check_frame(read_table(files["customers"]), schema)
    y = data[schema.target.column].to_numpy(dtype=float)
    features = schema.numeric_names
    categorical = list(schema.segments) + schema.category_names
    results = {"one-hot (product)": [], "native categorical": []}
    for fold, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(data, y)):
        for name, fit in (("one-hot (product)", one_hot), ("native categorical", native)):
            t = time.perf_counter()
            p = fit(data.iloc[tr], y[tr], data.iloc[te], features, categorical, fold)
            results[name].append((roc_auc_score(y[te], p), log_loss(y[te], p), time.perf_counter() - t))
    print(f"customers dataset, {rows:,} rows, 5-fold stratified CV; xgboost {xgb.__version__}, scikit-learn {sklearn.__version__}, "
          f"pandas {pd.__version__}, n_jobs=1, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n")
    print("| encoding | ROC AUC (mean ± sd) | log loss | fit + predict s/fold |")
    print("| --- | --- | --- | --- |")
    for name, r in results.items():
        a = np.array(r)
        print(f"| {name} | {a[:, 0].mean():.4f} ± {a[:, 0].std():.4f} | {a[:, 1].mean():.4f} | {a[:, 2].mean():.2f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
