"""The outcome model on Dask (``xgboost.dask``), from every labelled row: the validation model,
fitted on the rows not held out and stopped early on a hash-chosen tenth of them, is the served
model (as in-process above ``evaluation.CV_MAX_ROWS`` training rows); held-out predictions and
metrics on the same hash-held-out rows as in-process. The baseline and the SHAP importance use
the sample (``engine.scale.training``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.analysis.outcome import DEFAULTS, OutcomeClassifier, OutcomeRegressor
from engine.schema import Schema
from engine.training import evaluation
from engine.training.baseline import NAMES as BASELINE_NAMES
from engine.training.baseline import baseline_model
from engine.training.fit import OutcomeFit, check_outcomes, holdout_words


@dataclass
class _Design:
    """What a partition's design needs, shipped to the workers."""

    model: object
    schema: Schema

    def __call__(self, part: pd.DataFrame) -> pd.DataFrame:
        keys = evaluation.row_keys(part, self.schema)
        held = evaluation.holdout_mask(part, self.schema)
        stop = evaluation.stopping_rows(keys) & ~held
        out = pd.DataFrame(self.model.design(part), columns=self.model.columns_, index=part.index)
        return out.assign(benchai_y=part[self.schema.target.column].to_numpy(dtype=float), benchai_held=held, benchai_stop=stop, benchai_key=keys)


def fit_outcome(client, table, sample: pd.DataFrame, schema: Schema, seed: int) -> OutcomeFit:
    """The outcome model from every labelled row of ``table`` (a persisted Dask frame of
    checked rows); the baseline and the SHAP importance from ``sample``."""
    from xgboost import dask as dxgb

    check_outcomes(table[schema.target.column].dropna().unique().compute().to_numpy(), schema)  # before any fit

    numeric = schema.target.kind == "numeric"
    target = schema.target.column
    labelled = table[~table[target].isna()]
    model = (OutcomeRegressor if numeric else OutcomeClassifier)(features=tuple(schema.numeric_names), categorical=tuple(schema.segments) + tuple(schema.category_names), seed=seed, **DEFAULTS)
    _learn_columns(model, labelled, sample[sample[target].notna()], schema)
    design = labelled.map_partitions(_Design(model, schema)).persist()
    columns = model.columns_
    fit, stop, held = design[~design.benchai_held & ~design.benchai_stop], design[design.benchai_stop], design.benchai_held
    params = {"objective": "reg:squarederror" if numeric else "binary:logistic", "eval_metric": "rmse" if numeric else "logloss", "max_depth": model.max_depth, "eta": model.learning_rate, "subsample": model.subsample, "seed": seed, "tree_method": "hist", "nthread": 1}
    validation = dxgb.train(client, params, dxgb.DaskDMatrix(client, fit[columns], fit.benchai_y), num_boost_round=model.n_estimators, evals=[(dxgb.DaskDMatrix(client, stop[columns], stop.benchai_y), "stop")], early_stopping_rounds=50, verbose_eval=False)["booster"]
    trees = int(validation.best_iteration) + 1
    served = _with_booster(model, validation[:trees], trees)

    held_frame = labelled[labelled.map_partitions(lambda p: pd.Series(evaluation.holdout_mask(p, schema), index=p.index), meta=(None, bool))].compute().reset_index(drop=True)
    train_keys = design.benchai_key[~held].compute().to_numpy().astype(str)
    n_train, n_stop = int((~held).sum().compute()), int(design.benchai_stop.sum().compute())
    y_held = held_frame[target].to_numpy(dtype=float)
    prediction = served.predict_design(served.design(held_frame))
    baseline = baseline_model(schema)
    lab_sample = sample[sample[target].notna()]
    sample_held = evaluation.holdout_mask(lab_sample, schema)
    baseline.fit(lab_sample.loc[~sample_held], lab_sample.loc[~sample_held, target].to_numpy(dtype=float if numeric else int))
    metrics = {
        "validation": holdout_words(trees, n_train - n_stop, n_stop, len(held_frame), numeric, "xgboost.dask on every row; no cross-validation"),
        "train_rows": n_train,
        "final_rows": n_train - n_stop,
    }
    if numeric:
        metrics["holdout"] = evaluation.regression_metrics(y_held, prediction)
        held_baseline = evaluation.regression_metrics(y_held, baseline.predict(held_frame))
    else:
        from engine.training.fit import _calibration_map

        metrics |= {"holdout": evaluation.classification_metrics(y_held, prediction), "curves": evaluation.curves(y_held, prediction), "calibration_map": _calibration_map(prediction, y_held)}
        held_baseline = evaluation.classification_metrics(y_held, baseline.predict_proba(held_frame)[:, 1])
    metrics["baseline"] = {"model": BASELINE_NAMES[schema.target.kind] + f", fitted on the sample's {int((~sample_held).sum()):,} training rows", "holdout": held_baseline}

    from engine.analysis.explanations import global_importance

    explanations = global_importance(served, lab_sample.reset_index(drop=True), seed)
    split = _held_split(held_frame, y_held, evaluation.row_keys(held_frame, schema), train_keys)
    return OutcomeFit(served, metrics, explanations, {k: getattr(served, k) for k in DEFAULTS}, evaluation.Holdout(split, served, prediction, schema))


def _learn_columns(model, labelled, sample: pd.DataFrame, schema: Schema) -> None:
    """The design's columns from every labelled row (category values, which columns ever miss a
    value) and its fill values from the sample (medians, most frequent categories)."""
    model._learn_columns(sample)
    model.categories_ = {c: list(schema.allowed_values(c)) for c in model.categorical}
    model.columns_ = list(model.features) + [f"{c}={v}" for c in model.categorical for v in model.categories_[c]]
    gaps = labelled[list(model.features) + list(model.categorical)].isna().any().compute()
    model.fill_ = np.where(gaps[list(model.features)].to_numpy(), np.nan, np.where(np.isnan(model.fill_), 0.0, model.fill_))
    model.fill_categories_ = {c: sample[c].dropna().astype(str).mode().iloc[0] for c in model.categorical if not gaps[c] and sample[c].notna().any()}


def _with_booster(model, booster, trees: int):
    """A copy of ``model`` (fitted columns) serving ``booster``: what an in-process fit makes."""
    import copy

    booster.feature_names, booster.feature_types = None, None  # as a fit on design arrays leaves it
    out = copy.copy(model)
    out.classes_ = np.array([0, 1])
    out.booster_, out.best_trees_, out.n_estimators, out.n_jobs = booster, trees, trees, 1
    return out


def _held_split(held: pd.DataFrame, y: np.ndarray, keys: np.ndarray, train_keys: np.ndarray) -> evaluation.LabelledSplit:
    """The split the quality gate reads: the held-out rows with their values and, as rows with
    no values, the keys of every training row (the gate leaves those out of a champion's
    held-out rows); the training rows themselves stay on the cluster."""
    frame = pd.concat([held, pd.DataFrame(index=range(len(train_keys)), columns=held.columns)], ignore_index=True)
    return evaluation.LabelledSplit(frame, np.concatenate([y, np.full(len(train_keys), np.nan)]), np.concatenate([keys, train_keys]), np.arange(len(frame)) < len(held))
