"""Fitting every model of a version from one checked table.

``fit_version`` is the one training routine: it reports progress as (stage, fraction) through
an optional callback and returns plain data plus the fitted ``Analyzer``; ``engine.registry.versions``
writes it to disk and ``engine.api.train`` wires the two together.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.decomposition import PCA

from engine.analysis.analyzer import Analyzer
from engine.analysis.anomalies import (
    VALUE_ANOMALY_SHARE,
    GapModel,
    MultivariateScorer,
    calibrated_cut,
    robust_z,
)
from engine.analysis.explanations import global_importance
from engine.analysis.features import FeatureSpace
from engine.analysis.neighbours import NeighbourIndex
from engine.analysis.outcome import DEFAULTS, OutcomeClassifier, OutcomeRegressor
from engine.analysis.peers import FrequencyStats, PeerGroups, PeerStats
from engine.analysis.scaling import FeatureScaler
from engine.analysis.segments import SegmentModel
from engine.errors import DataError
from engine.schema import Schema
from engine.training import evaluation
from engine.training.baseline import NAMES as BASELINE_NAMES
from engine.training.baseline import baseline_model

Progress = Callable[[str, float], None]
APP_SAMPLE = 5_000
RARE_MIN_PEERS = 100  # a 1% share needs about a hundred peers to mean anything


@dataclass
class FittedVersion:
    analyzer: Analyzer
    params: dict
    metrics: dict
    explanations: dict  # global SHAP importance and dependence data
    insights: dict  # segment summary and 2-D projection for the UI
    sample: pd.DataFrame  # a seeded sample of the training table for the UI's distributions
    reference: dict  # drift reference profile (JSON-ready)
    seconds: float
    holdout: evaluation.Holdout | None = None  # for the quality gate and holdout.parquet


@dataclass
class OutcomeFit:
    model: object  # served: refitted on every labelled row, or the validation model of a large table
    metrics: dict
    explanations: dict | None  # global SHAP importance; None until fit_version computes it
    params: dict
    holdout: evaluation.Holdout


def fit_version(
    df: pd.DataFrame,
    schema: Schema,
    *,
    seed: int = 0,
    k: int | None = None,
    min_peers: int = 20,
    search: bool = False,
    search_budget_s: float = 60.0,
    progress: Progress | None = None,
    groups: PeerGroups | None = None,
    outcome: OutcomeFit | None = None,
    stats: PeerStats | None = None,
    frequencies: FrequencyStats | None = None,
) -> FittedVersion:
    """Fit every model on a table already checked by ``engine.schema.tables.check_frame``.

    Training on Dask (``engine.scale.training``) passes a sample of the table here with what it
    fitted on every row: the peer ``groups``, ``stats`` and ``frequencies`` and the ``outcome``
    model."""
    started = time.monotonic()
    report = progress or (lambda stage, fraction: None)
    schema = fitting_schema(df, schema)
    space = FeatureSpace(schema)
    X = space.numeric_table(df)
    C = space.discrete_table(df)

    report("prepare", 0.02)
    cluster_index = _cluster_features(space)  # refuses a schema without any numeric feature
    y = _outcomes(df, schema)  # refuses a target with one outcome
    with ThreadPoolExecutor(1) as pool:
        # The outcome model trains on XGBoost's threads while the analysis models, mostly one
        # numpy thread, are fitted beside it: alone, each left a core idle much of the time.
        pending = pool.submit(_fit_outcome, df, schema, y, seed, search, search_budget_s) if y is not None and outcome is None else None
        scaler = FeatureScaler().fit(X, binary=space.binary)
        Z = scaler.transform(X)
        report("segments", 0.05)
        segments = _segments(space, Z, cluster_index, k, seed)
        report("peer statistics", 0.2)
        groups = groups or PeerGroups().fit(df, schema.segments)
        codes = groups.codes(df)
        stats = stats or PeerStats(min_peers=min_peers).fit(X, codes, groups.n_groups)
        frequencies = frequencies or FrequencyStats(min_peers=max(min_peers, RARE_MIN_PEERS)).fit(C, space.widths, codes, groups.n_groups)
        report("anomaly models", 0.3)
        score_index = [i for i, f in enumerate(space.numeric) if f.kind == "score"]
        gaps = GapModel().fit(X, score_index)
        multivariate = MultivariateScorer(seed=seed).fit(Z)

        good = _desirable(df, schema, X, y, space)
        ids = df[schema.id].astype(str).to_numpy() if schema.id and schema.id in df.columns else df.index.astype(str).to_numpy()
        report("neighbours", 0.4)
        neighbours = NeighbourIndex(seed=seed).fit(space.neighbour_space(Z, C), X, ids, good, y, codes=C)

        # What does not need the outcome model is done while it trains.
        ranked = np.array([f.numeric for f in space.numeric])
        z_cut = calibrated_cut(robust_z(stats, X, stats.choose(codes))[:, ranked])
        report("insights", 0.45)
        sample_rows = np.sort(np.random.default_rng(seed).choice(len(df), min(APP_SAMPLE, len(df)), replace=False))
        sample = df.iloc[sample_rows].reset_index(drop=True)
        insights = _insights(segments, space, sample, Z[sample_rows][:, cluster_index], X[sample_rows], y[sample_rows] if y is not None else None)
        report("drift reference", 0.5)
        reference = _feature_reference(df, schema)

        fitted, metrics, explanations, params = None, {}, {}, {"seed": seed, "k": k, "min_peers": min_peers}
        if y is not None:
            report("hyperparameter search and outcome model" if search and pending else "outcome model", 0.55)
            fitted = outcome or pending.result()
            report("explanations", 0.85)
            # Global SHAP importance on the other thread while the outputs are profiled here.
            explaining = pool.submit(global_importance, fitted.model, fitted.holdout.split.frame, seed) if fitted.explanations is None else None
            reference = _with_output(reference, df, fitted.model)
            metrics, explanations, params["outcome"] = fitted.metrics, explaining.result() if explaining else fitted.explanations, fitted.params
        else:
            reference = _with_output(reference, df, None)
    outcome = fitted.model if fitted else None

    analyzer = Analyzer(schema=schema, scaler=scaler, cluster_index=cluster_index, segments=segments, groups=groups, stats=stats, frequencies=frequencies, gaps=gaps, multivariate=multivariate, neighbours=neighbours, outcome=outcome)
    analyzer.z_cut = z_cut
    metrics["anomalies"] = {"z_cut": analyzer.z_cut, "share_with_value_anomaly_at_most": VALUE_ANOMALY_SHARE}
    metrics["segments"] = {"k": len(segments.names_), "silhouettes": {str(k_): v for k_, v in segments.silhouettes_.items()}}
    report("done", 1.0)
    return FittedVersion(analyzer, params, metrics, explanations, insights, sample, reference, time.monotonic() - started, fitted.holdout if fitted else None)


def _segments(space: FeatureSpace, Z: np.ndarray, cluster_index: list[int], k: int | None, seed: int) -> SegmentModel:
    labels = [space.numeric[i].label.lower().replace(" maturity", "") for i in cluster_index]
    directed = all(space.numeric[i].sign > 0 for i in cluster_index)
    return SegmentModel(k=k, seed=seed).fit(Z[:, cluster_index], labels, directed=directed, plural=space.schema.entity.plural)


def fitting_schema(df: pd.DataFrame, schema: Schema) -> Schema:
    """The schema the models are fitted with: the values of every segment column and category
    feature, declared or else learned from ``df`` (a schema saved with a version gives itself)."""
    return schema.with_learned_values(_known_values(df, schema))


def _known_values(df: pd.DataFrame, schema: Schema) -> dict[str, tuple[str, ...]]:
    """The values seen in the training table of every segment column and category feature."""
    columns = list(schema.segments) + schema.category_names
    return {c: tuple(sorted(df[c].dropna().astype(str).unique())) for c in columns}


def _cluster_features(space: FeatureSpace) -> list[int]:
    """Personas are maturity profiles: cluster on the assessment scores when there are any, else
    on the business metrics, else on every numeric feature."""
    for kinds in (("score",), ("metric",), ("score", "metric", "binary")):
        index = [i for i, f in enumerate(space.numeric) if f.kind in kinds]
        if index:
            return index
    raise DataError("the schema has no score, metric or binary feature; segments need at least one numeric feature.")


def _outcomes(df: pd.DataFrame, schema: Schema) -> np.ndarray | None:
    """The target per row (0/1, or a number for a numeric target; NaN unlabelled), or None
    without a target (``check_training_columns`` refused a table without its values)."""
    if schema.target is None:
        return None
    y = df[schema.target.column].to_numpy(dtype=float)
    check_outcomes(np.unique(y[~np.isnan(y)]), schema)
    return y


def check_outcomes(seen: np.ndarray, schema: Schema) -> None:
    """Training needs both outcomes: ``seen``, the distinct labelled target values (0/1 for a
    binary target), must hold at least two; DataError otherwise, naming the positive value
    when it never occurs (often a spelling that differs from the data)."""
    seen = np.unique(np.asarray(seen, dtype=float))
    if schema.target.kind != "numeric" and seen.tolist() == [0.0]:
        raise DataError(
            f"target column '{schema.target.column}' never equals the positive value "
            f"{schema.target.positive!r} on a labelled row; expected both outcomes to train the "
            "prediction model (is [target] positive spelled as in the data?)."
        )
    if len(seen) < 2:
        raise DataError(
            f"target column '{schema.target.column}' has one outcome on every labelled row; "
            "expected both outcomes to train the prediction model."
        )


def _desirable(df: pd.DataFrame, schema: Schema, X: np.ndarray, y: np.ndarray | None, space: FeatureSpace) -> np.ndarray:
    """Which entities count as successes for recommendations: the desirable target class or,
    without a target, the better half on a performance index (mean direction-aware rank of
    the features with a direction)."""
    if y is not None and schema.target.kind == "numeric":
        median = np.nanmedian(y)
        with np.errstate(invalid="ignore"):
            return (y >= median) if schema.target.desirable else (y <= median)
    if y is not None:
        positive = y == 1
        return positive if schema.target.desirable else (~positive & ~np.isnan(y))
    signs = np.array([f.sign for f in space.numeric])
    use = signs != 0
    if not use.any():
        return np.zeros(len(df), dtype=bool)
    ranks = pd.DataFrame(X[:, use] * signs[use]).rank(pct=True).mean(axis=1).to_numpy()
    return ranks >= np.nanmedian(ranks)


def _fit_outcome(df, schema, y, seed, search, budget_s):
    """The outcome model (binary: classifier; numeric: regressor) with its validation and the
    baseline on the same rows (``fit_version`` explains it)."""
    numeric = schema.target.kind == "numeric"
    split = evaluation.labelled_split(df, schema)
    frame, y, held = split.frame, split.y, split.held
    categorical = tuple(schema.segments) + tuple(schema.category_names)
    base = (OutcomeRegressor if numeric else OutcomeClassifier)(features=tuple(schema.numeric_names), categorical=categorical, seed=seed, **DEFAULTS)
    train, y_train = frame.loc[~held].reset_index(drop=True), y[~held]
    searched = None
    if search and not numeric:
        searched = evaluation.search(base, train, y_train, budget_s=budget_s, seed=seed)
        base = base.set_params(**searched["best_params"])

    baseline = baseline_model(schema)
    if len(train) > evaluation.CV_MAX_ROWS:
        # A large table: one model, stopped early on a hash-chosen tenth of the training rows
        # (as on Dask), is validated by the held-out rows and served as it is, so the numbers
        # shown are the served model's own (a refit on every row, one more fit, was ahead by
        # under 0.001 ROC AUC on fresh rows at 30k and 100k rows: benchmarks/RESULTS.md).
        stop = evaluation.stopping_rows(split.keys[~held])
        validation_model = clone(base).fit(train.loc[~stop], y_train[~stop], eval_set=(train.loc[stop], y_train[stop]))
        trees, cv, baseline_cv = validation_model.best_trees_, None, None
        model = validation_model.set_params(n_estimators=trees)
        base = base.set_params(n_estimators=trees)
        served_rows = int((~stop).sum())
        words = holdout_words(trees, served_rows, int(stop.sum()), int(held.sum()), numeric, f"no cross-validation above {evaluation.CV_MAX_ROWS:,} training rows")
        # The baseline is a yardstick: a seeded sample of that size fits it as well.
        baseline_rows = np.sort(np.random.default_rng(seed).choice(len(train), evaluation.CV_MAX_ROWS, replace=False))
    else:
        cv = evaluation.cross_validate(base, train, y_train, seed=seed, early_stopping=True)
        base = base.set_params(n_estimators=max(1, int(np.median(cv["trees"]))))
        baseline_cv = evaluation.cross_validate(baseline, train, y_train, seed=seed)
        words = _validation_words(cv, len(train), int(held.sum()), len(frame), numeric)
        # Validation model: fitted without the held-out rows, it gives the held-out numbers and
        # is what the quality gate compares with the champion.
        validation_model = clone(base).fit(train, y_train)
        # The served model is refitted on every labelled row with the trees validation chose.
        model = clone(base).fit(frame, y)
        served_rows = len(frame)
        baseline_rows = np.arange(len(train))

    baseline.fit(train.iloc[baseline_rows], y_train[baseline_rows])
    holdout = frame.loc[held]
    held_prediction = validation_model.predict_design(validation_model.design(holdout))  # probability or value
    metrics = {"validation": words, "train_rows": len(train), "final_rows": served_rows} | ({"cv": cv} if cv else {})
    if numeric:
        metrics["holdout"] = evaluation.regression_metrics(y[held], held_prediction)
        held_baseline = evaluation.regression_metrics(y[held], baseline.predict(holdout))
    else:
        metrics |= {"holdout": evaluation.classification_metrics(y[held], held_prediction), "curves": evaluation.curves(y[held], held_prediction), "calibration_map": _calibration_map(held_prediction, y[held])}
        held_baseline = evaluation.classification_metrics(y[held], baseline.predict_proba(holdout)[:, 1])
    sampled = f", fitted on a sample of {len(baseline_rows):,} training rows" if len(baseline_rows) < len(train) else ""
    metrics["baseline"] = {"model": BASELINE_NAMES[schema.target.kind] + sampled, "holdout": held_baseline} | ({"cv": baseline_cv} if baseline_cv else {})
    later = evaluation.out_of_time(base, baseline_model(schema), frame, y, schema.time)
    if later is not None:
        metrics["out_of_time"], metrics["baseline"]["out_of_time"] = later["model"], later["baseline"]
        metrics["validation"]["out_of_time"] = later["words"]
    if searched:
        metrics["search"] = searched

    params = {k: getattr(model, k) for k in DEFAULTS}
    return OutcomeFit(model, metrics, None, params, evaluation.Holdout(split, validation_model, held_prediction, schema))


def _validation_words(cv: dict, n_train: int, n_held: int, n_all: int, numeric: bool) -> dict:
    """What each reported number measures, in words for the Model page."""
    folds = "folds" if numeric else "stratified folds"
    loss = "squared error" if numeric else "log loss"
    return {
        "cv": f"{cv['folds']} {folds} of the {n_train:,} training rows (each fold scored by a model that never saw it)",
        "holdout": f"{n_held:,} rows held out by a hash of the id (of the row's values where there is no id), the same ones in every version; the validation model never saw them",
        "trees": f"the served model is refitted on all {n_all:,} labelled rows with {int(np.median(cv['trees']))} trees: the median of where each fold's validation {loss} stopped improving ({', '.join(map(str, cv['trees']))})",
    }


def holdout_words(trees: int, n_fit: int, n_stop: int, n_held: int, numeric: bool, why: str) -> dict:
    """What each reported number measures when no folds are run (a large table, or Dask) and
    the validation model is served; ``why``: why there are no folds, in words."""
    loss = "squared error" if numeric else "log loss"
    return {
        "holdout": f"{n_held:,} rows held out by a hash of the id (of the row's values where there is no id), the same ones in every version; the served model never saw them, so these numbers are its own",
        "trees": f"the served model is the validation model: {trees} trees fitted on {n_fit:,} training rows, stopped where its {loss} on {n_stop:,} other hash-chosen training rows stopped improving ({why})",
    }


def _calibration_map(p: np.ndarray, y: np.ndarray) -> dict:
    """Isotonic map raw -> calibrated probability, fitted on held-out rows (for monitoring's
    label-free performance estimate; scale_pos_weight leaves raw probabilities uncalibrated)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
    return {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}


def _insights(model: SegmentModel, space: FeatureSpace, sample: pd.DataFrame, Zc: np.ndarray, X: np.ndarray, y: np.ndarray | None) -> dict:
    """Per-segment summary (sizes, outcome rate, the median of every numeric feature among the
    segment's members) and a PCA projection of a sample, for the Segments page."""
    seg, _ = model.predict(Zc)
    coords = PCA(n_components=2, random_state=0).fit_transform(Zc) if Zc.shape[1] >= 2 else np.column_stack([Zc[:, 0], np.zeros(len(Zc))])
    segments = []
    for s, name in enumerate(model.names_):
        mask = seg == s
        segments.append(
            {
                "id": s,
                "name": name,
                "description": model.descriptions_[s],
                "size": int(model.sizes_[s]),
                "outcome_rate": float(np.nanmean(y[mask])) if y is not None and mask.any() else None,
                "centroid": _medians(space.numeric_names, X[mask]),
            }
        )
    return {
        "segments": segments,
        "projection": {"x": coords[:, 0].round(4).tolist(), "y": coords[:, 1].round(4).tolist(), "segment": seg.tolist()},
    }


def _medians(names: list[str], X: np.ndarray) -> dict:
    if not len(X):
        return {n: None for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column has no median
        medians = np.nanmedian(X, axis=0)
    return {n: (None if np.isnan(v) else float(v)) for n, v in zip(names, medians, strict=True)}


def _feature_reference(df: pd.DataFrame, schema: Schema):
    """Drift reference of the features, from every training row."""
    from engine.monitoring.drift import ReferenceProfile

    categorical = list(schema.segments) + schema.category_names + [f.name for f in schema.features if f.kind == "binary"]
    numeric = [f.name for f in schema.features if f.numeric]
    return ReferenceProfile.from_frame(df, numeric=numeric, categorical=categorical)


def _with_output(reference, df: pd.DataFrame, outcome) -> dict:
    """The reference (JSON-ready) with the outcome model's output on every training row, the
    last numeric column."""
    if outcome is not None:
        from engine.monitoring.drift.profile import numeric_values, profile_numeric

        output = numeric_values(pd.Series(outcome.predict_design(outcome.design(df)), name=outcome.output))
        reference = dataclasses.replace(reference, numeric={**reference.numeric, outcome.output: profile_numeric(output)})
    return reference.to_dict()
