"""The quality gate: may a newly trained version replace the champion?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from engine.analysis.analyzer import Analyzer
from engine.errors import IntegrityError, ModelNotFoundError
from engine.training.evaluation import labelled_split

GATE_TOLERANCE = 0.01


def quality_gate(workspace, new: Analyzer, frame: pd.DataFrame, metrics: dict, *, tolerance: float = GATE_TOLERANCE, promote: bool = True, seed: int = 0) -> tuple[bool, str]:
    """-> (promote?, reason). Never promote a version that lacks what the champion serves (an
    outcome model, features); otherwise promote only if the new held-out ROC AUC is not worse
    than the champion's on the same held-out rows by more than ``tolerance``."""
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
    if "holdout" not in metrics or champion.outcome is None:
        return True, "champion has no outcome model to compare; promoted"
    needed = [*champion.outcome.features, *champion.outcome.categorical]
    same_target = (champion.schema.target.column, champion.schema.target.kind) == (new.schema.target.column, new.schema.target.kind)
    if any(c not in frame.columns for c in needed) or not same_target:
        return False, f"champion {champion_version} cannot be scored on these rows (other columns or target); kept as challenger (promote it by hand)"
    target = new.schema.target.column
    labelled, _, mask = labelled_split(frame, new.schema, seed)  # exactly the rows training held out
    held = labelled[mask]
    if new.outcome.task == "numeric":
        return _numeric_gate(champion, champion_version, held, target, metrics, tolerance)
    if held[target].nunique() < 2:
        return True, "held-out rows have one class; gate not applicable; promoted"
    champion_auc = roc_auc_score(held[target], champion.outcome.predict_proba(held)[:, 1])
    new_auc = metrics["holdout"]["roc_auc"]
    detail = f"held-out ROC AUC {new_auc:.4f} vs champion {champion_version} {champion_auc:.4f} on the same {len(held)} rows (tolerance {tolerance})"
    if new_auc >= champion_auc - tolerance:
        return True, f"passed quality gate: {detail}"
    return False, f"failed quality gate: {detail}; kept as challenger"


def _lost_capabilities(champion: Analyzer, new: Analyzer) -> str | None:
    """What the champion serves that the new version would not, in words (None if nothing)."""
    if champion.outcome is not None and new.outcome is None:
        return f"a prediction of '{champion.schema.target.label}'"
    missing = [n for n in champion.schema.feature_names if n not in new.schema.feature_names]
    if missing:
        return f"the feature(s) {missing}"
    return None


def _numeric_gate(champion: Analyzer, champion_version: str, held: pd.DataFrame, target: str, metrics: dict, tolerance: float) -> tuple[bool, str]:
    """A numeric target: the new held-out RMSE may exceed the champion's on the same rows by at
    most ``tolerance`` (as a share)."""
    if len(held) < 2:
        return True, "too few held-out rows to compare; promoted"
    error = champion.outcome.predict(held) - held[target].to_numpy(float)
    champion_rmse = float(np.sqrt(np.mean(error**2)))
    new_rmse = metrics["holdout"]["rmse"]
    detail = f"held-out RMSE {new_rmse:,.4g} vs champion {champion_version} {champion_rmse:,.4g} on the same {len(held)} rows (tolerance {tolerance:.0%})"
    if new_rmse <= champion_rmse * (1 + tolerance):
        return True, f"passed quality gate: {detail}"
    return False, f"failed quality gate: {detail}; kept as challenger"
