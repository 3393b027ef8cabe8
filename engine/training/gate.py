"""The quality gate: may a newly trained version replace the champion?

The new version is judged by its validation model (fitted without any held-out row) against the
champion on two sets of rows nobody trained on: the rows this training held out, and the rows the
champion's own training held out (kept in its version as ``holdout.parquet``). Both must pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from engine.analysis.analyzer import Analyzer
from engine.errors import IntegrityError, ModelNotFoundError
from engine.training.evaluation import ROW_KEY, VALIDATION_PREDICTION, Holdout

GATE_TOLERANCE = 0.01


def quality_gate(workspace, new: Analyzer, holdout: Holdout | None, *, tolerance: float = GATE_TOLERANCE, promote: bool = True) -> tuple[bool, str]:
    """-> (promote?, reason). Never promote a version that lacks what the champion serves (an
    outcome model, features); otherwise promote only if, on each set of held-out rows, the new
    ROC AUC is not below the champion's by more than ``tolerance`` (numeric targets: RMSE not
    above it by more than ``tolerance`` as a share)."""
    if not promote:
        return False, "registered as challenger (--no-promote)"
    try:
        champion_version = workspace.version("champion")
        champion = workspace.model(champion_version)
    except ModelNotFoundError:
        return True, "first version: promoted"
    except IntegrityError as exc:
        return True, f"champion failed verification ({exc}); promoted"
    lost = _lost_capabilities(champion, new)
    if lost:
        return False, f"not promoted: champion {champion_version} serves {lost} and this version does not; kept as challenger"
    if holdout is None or champion.outcome is None:
        return True, "champion has no outcome model to compare; promoted"
    same_target = (champion.schema.target.column, champion.schema.target.kind) == (new.schema.target.column, new.schema.target.kind)
    held = holdout.frame  # exactly the rows training held out, with their validation predictions
    if not same_target or not _scorable(champion, held):
        return False, f"champion {champion_version} cannot be scored on these rows (other columns or target); kept as challenger (promote it by hand)"
    target, model = new.schema.target.column, holdout.validation_model
    unseen = np.ones(len(held), dtype=bool)
    checks = []
    own = workspace.table("holdout", champion_version)
    if own is not None and ROW_KEY in own.columns:
        own_keys = own[ROW_KEY].astype(str).to_numpy()
        # A champion refitted on all its rows (a table small enough for folds) saw its held-out
        # ones too.
        unseen = ~np.isin(holdout.keys, own_keys)
        # Neither validation model saw these (a row the new one trained on is left out).
        own = own[~np.isin(own_keys, holdout.train_keys)]
        if {VALIDATION_PREDICTION, target} <= set(own.columns) and _scorable(new, own):
            checks.append(_compare(own[VALIDATION_PREDICTION].to_numpy(float), model.predict_design(model.design(own)), own[target].to_numpy(float), new, tolerance, f"{champion_version}'s own held-out rows"))
    if unseen.any():
        rows = held[unseen]
        checks.append(_compare(champion.outcome.predict_design(champion.outcome.design(rows)), holdout.prediction[unseen], rows[target].to_numpy(float), new, tolerance, "this training's held-out rows the champion never saw"))
    checks = [c for c in checks if c is not None]
    if not checks:
        return True, "too few held-out rows (or one class) to compare; promoted"
    detail = "; ".join(text for _, text in checks) + f" (champion {champion_version}, tolerance {_tolerance_words(new, tolerance)})"
    if all(ok for ok, _ in checks):
        return True, f"passed quality gate: {detail}"
    return False, f"failed quality gate: {detail}; kept as challenger"


def _compare(old: np.ndarray, new: np.ndarray, y: np.ndarray, model: Analyzer, tolerance: float, where: str) -> tuple[bool, str] | None:
    """(passed?, words) for one set of rows, from both sides' predictions; None when the rows
    cannot tell the two apart (fewer than two, or one class)."""
    if model.outcome.task == "numeric":
        if len(y) < 2:
            return None
        new_rmse, old_rmse = _rmse(new, y), _rmse(old, y)
        return new_rmse <= old_rmse * (1 + tolerance), f"RMSE {new_rmse:,.4g} vs champion {old_rmse:,.4g} on {where} ({len(y):,})"
    if len(np.unique(y)) < 2:
        return None
    new_auc, old_auc = roc_auc_score(y, new), roc_auc_score(y, old)
    return new_auc >= old_auc - tolerance, f"ROC AUC {new_auc:.4f} vs champion {old_auc:.4f} on {where} ({len(y):,})"


def _rmse(predicted: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - y) ** 2)))


def _tolerance_words(new: Analyzer, tolerance: float) -> str:
    return f"{tolerance:.0%} of RMSE" if new.outcome.task == "numeric" else f"{tolerance} ROC AUC"


def _scorable(model: Analyzer, rows: pd.DataFrame) -> bool:
    return all(c in rows.columns for c in [*model.outcome.features, *model.outcome.categorical])


def _lost_capabilities(champion: Analyzer, new: Analyzer) -> str | None:
    """What the champion serves that the new version would not, in words (None if nothing)."""
    if champion.outcome is not None and new.outcome is None:
        return f"a prediction of '{champion.schema.target.label}'"
    missing = [n for n in champion.schema.feature_names if n not in new.schema.feature_names]
    if missing:
        return f"the feature(s) {missing}"
    return None
