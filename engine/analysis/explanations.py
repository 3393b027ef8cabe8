"""SHAP explanations of the outcome model: one profile's contributions (exact TreeSHAP from
XGBoost) and the global importance computed once at training time.

One-hot columns (segments, category features) are summed back to their column everywhere, which keeps
additivity: base value + contributions equal the model's raw output (log-odds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.analysis import wording

EXPLAIN_SAMPLE = 1_000  # rows explained for the global importance and dependence plots
CHECK_ROWS = 100  # of them, the rows shap.TreeExplainer explains again: a check, as slow as XGBoost


def fold_onehot(raw: np.ndarray, model) -> np.ndarray:
    """(n, design columns) contributions -> (n, features + categorical): one-hots summed."""
    n_f = len(model.features)
    parts, offset = [raw[:, :n_f]], n_f
    for c in model.categorical:
        width = len(model.categories_[c])
        parts.append(raw[:, offset : offset + width].sum(axis=1, keepdims=True))
        offset += width
    return np.hstack(parts)


def explain_profile(model, schema, x: np.ndarray, clean: dict) -> tuple[dict, float]:
    """One profile's prediction with its SHAP contributions -> (prediction dict, margin)."""
    D = model.design_row(x, clean)
    contrib, base = model.contributions_design(D)
    margin = float(base[0] + contrib[0].sum())
    values = [_num(v) for v in x] + [clean.get(c) for c in model.categorical]
    rows = [
        {"feature": n, "value": v, "contribution": float(c)}
        for n, v, c in zip(model.explained_columns, values, contrib[0], strict=True)
    ]
    rows.sort(key=lambda r: -abs(r["contribution"]))
    prediction = {"base_value": float(base[0]), "margin": margin, "contributions": rows}
    if model.task == "numeric":  # the margin is the predicted value; contributions in its units
        prediction |= {"value": margin, "label_text": wording.predicted_value(schema.target.label, margin)}
    else:
        probability = 1.0 / (1.0 + np.exp(-margin))
        prediction |= {"probability": float(probability), "label": int(probability >= 0.5), "label_text": wording.prediction_label(schema.target.label, probability)}
    return prediction, margin


def global_importance(model, frame: pd.DataFrame, seed: int) -> dict:
    """Mean |SHAP| per column and dependence points on a seeded sample, checked against
    shap.TreeExplainer (the contributions come from XGBoost's own exact TreeSHAP)."""
    import shap  # heavy import, needed only at training time

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), min(EXPLAIN_SAMPLE, len(frame)), replace=False)
    sample = frame.iloc[np.sort(rows)]
    D = model.design(sample)
    contrib, _ = model.contributions_design(D)
    raw = shap.TreeExplainer(model.booster_).shap_values(D[:CHECK_ROWS])
    names = model.explained_columns
    importance = np.abs(contrib).mean(axis=0)
    order = np.argsort(-importance)
    dependence = {}
    for i, name in enumerate(names):
        values = sample[name].tolist() if name in sample.columns else None
        dependence[name] = {"value": values, "shap": contrib[:, i].round(5).tolist()}
    return {
        "method": "shap.TreeExplainer (exact TreeSHAP), " + ("in the target's units" if model.task == "numeric" else "log-odds"),
        "sample_size": len(sample),
        "importance": [{"feature": names[i], "mean_abs_shap": float(importance[i])} for i in order],
        "dependence": dependence,
        "max_abs_difference_shap_vs_xgboost": float(np.abs(fold_onehot(raw, model) - contrib[:CHECK_ROWS]).max()),
        "shap_check_rows": min(CHECK_ROWS, len(sample)),
    }


def _num(v):
    v = float(v)
    return None if np.isnan(v) else v
