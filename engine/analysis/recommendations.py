"""Next best actions drawn from similar entities, with the outcome model's estimated effect.

An action is an actionable feature where similar entities with the desirable outcome are
clearly ahead of this one (for a yes/no flag: have the other value; for a category: have
another value), and where being ahead goes with a better outcome rate among those neighbours
(the peer uplift). The outcome model, when there is one, adds its estimate of the effect of moving
only that feature to the target (the model effect, a change in the predicted probability of the
target). Both are turned into benefits (for an undesirable target such as churn a lower
probability is the benefit), an action the model expects to do harm is dropped, one it expects
to change nothing is never ranked above one it expects to help, and the two benefits are
averaged to rank actions.
"""

from __future__ import annotations

import numpy as np

from engine.analysis import wording

MIN_GAP = 0.25  # robust-sd units: smaller gaps are noise, not an action
MIN_SUPPORT = 5  # desirable neighbours needed ahead of the entity to suggest anything
MIN_UPLIFT = 0.05  # outcome-rate difference (probability points) that counts as evidence


def action_directions(features, x: np.ndarray) -> np.ndarray:
    """Per numeric feature, the direction an action may move it for profile x: +1 up, -1 down,
    0 none. Scores and metrics follow their ``better``; a yes/no flag may switch to its other
    value (the neighbours' outcomes then say whether that helps); non-actionable ones never."""
    out = np.zeros(len(features))
    for i, f in enumerate(features):
        if not f.actionable or np.isnan(x[i]):
            continue
        out[i] = (1.0 if x[i] < 0.5 else -1.0) if f.kind == "binary" else f.sign
    return out


def candidate_actions(index, x: np.ndarray, idx: np.ndarray, signs: np.ndarray, scale: np.ndarray) -> list[dict]:
    """Candidate actions for raw profile x (f,) given its neighbours ``idx`` in ``index`` and
    the directions from ``action_directions``.

    Each: feature index, target (median of desirable neighbours), gap in robust units,
    uplift (outcome rate of neighbours ahead on the feature minus those not ahead) and
    evidence (ids of desirable neighbours ahead, nearest first). Every feature at once: a
    neighbour's value is ahead, not ahead, or unknown (NaN).
    """
    features = np.flatnonzero(signs != 0)
    if not len(features):
        return []
    X, good = index.X_[idx][:, features], index.good_[idx][:, None]
    direction, here = signs[features], x[features]
    known = ~np.isnan(X)
    with np.errstate(invalid="ignore"):
        ahead = known & (direction * (X - here) > 0)
    support, behind = ahead & good, known & ~ahead
    n_support, n_ahead, n_behind = support.sum(axis=0), ahead.sum(axis=0), behind.sum(axis=0)
    usable = ~np.isnan(here) & (known.sum(axis=0) >= 2 * MIN_SUPPORT) & (n_support >= MIN_SUPPORT) & (n_behind > 0)
    if not usable.any():
        return []
    # The median of each feature's supporting values, as np.median takes it: the middle value
    # of the sorted ones, or the mean of the two middle values when their count is even.
    ordered = np.sort(np.where(support, X, np.nan), axis=0)  # NaN (not supporting) sorts last
    columns = np.arange(len(features))
    middle = np.maximum(n_support, 1)
    low, high = ordered[(middle - 1) // 2, columns], ordered[middle // 2, columns]
    with np.errstate(over="ignore"):  # the even-count mean is not taken where the count is odd
        target = np.where(middle % 2 == 1, low, (low + high) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = direction * (target - here) / scale[features]
        uplift = (ahead & good).sum(axis=0) / n_ahead - (behind & good).sum(axis=0) / n_behind
    return [
        {
            "index": int(f),
            "target": float(target[j]),
            "gap": float(gap[j]),
            "uplift": float(uplift[j]),
            "evidence": [_plain(i) for i in index.ids_[idx[support[:, j]]][:10]],
        }
        for j, f in enumerate(features)
        if usable[j] and gap[j] >= MIN_GAP and uplift[j] >= MIN_UPLIFT
    ]


def category_actions(index, space, c: np.ndarray, idx: np.ndarray) -> list[dict]:
    """Candidate switches of an actionable category for a profile with discrete codes c: the
    value most desirable neighbours have, when at least MIN_SUPPORT of them have it and the
    neighbours with it do better (by MIN_UPLIFT) than those with the profile's own value (or,
    when the profile's value is not given, than the rest)."""
    out = []
    if index.C_.shape[1] == 0:
        return out
    good = index.good_[idx]
    for j, f in enumerate(space.discrete):
        if f.kind != "category" or not f.actionable or not f.values:
            continue
        codes = index.C_[idx, j]
        support = np.bincount(codes[good & (codes >= 0)], minlength=len(f.values))
        if c[j] >= 0:
            support[c[j]] = 0  # the value the profile already has is no action
        best = int(support.argmax())
        if support[best] < MIN_SUPPORT:
            continue
        others = codes == c[j] if c[j] >= 0 else (codes >= 0) & (codes != best)
        if not others.any():
            continue
        uplift = good[codes == best].mean() - good[others].mean()
        if uplift >= MIN_UPLIFT:
            out.append({"feature": f.name, "value": f.values[best], "uplift": float(uplift), "evidence": [_plain(i) for i in index.ids_[idx[good & (codes == best)]][:10]]})
    return out


def model_effects(outcome, x: np.ndarray, clean: dict, candidates: list[dict]) -> list[float]:
    """The outcome model's change in its prediction (probability, or the predicted value) when
    only each candidate's feature moves to its target (one batch prediction for all):
    numeric candidates carry ``index``/``target``, category ones ``feature``/``value``."""
    if not candidates:
        return []
    rows = np.repeat(x[None, :], len(candidates) + 1, axis=0)
    changed = [clean]
    for r, c in enumerate(candidates, start=1):
        if "index" in c:
            rows[r, c["index"]] = c["target"]
            changed.append(clean)
        else:
            changed.append({**clean, c["feature"]: c["value"]})
    D = np.vstack([outcome.design_row(row, seg) for row, seg in zip(rows, changed, strict=True)])
    p = outcome.predict_design(D)
    return [float(v) for v in p[1:] - p[0]]


def recommend(schema, x: np.ndarray, clean: dict, candidates: list[dict], effects: list[float] | None) -> list[dict]:
    """Candidates (numeric, then category) -> recommendations ranked by expected benefit."""
    recs = []
    features = schema.numeric_features
    note = wording.recommendation_note(schema.entity.plural, schema.target)
    good_sign = 1.0 if schema.target is None or schema.target.desirable else -1.0
    for c, effect in zip(candidates, effects if effects is not None else [None] * len(candidates), strict=True):
        if effect is not None and good_sign * effect < 0:
            continue  # the outcome model expects this change to make the outcome worse
        # A probability change and the peer uplift share a unit (outcome rate); a predicted value
        # does not, so for a numeric target the uplift alone ranks and the model only filters.
        numeric = schema.target is not None and schema.target.kind == "numeric"
        score = c["uplift"] if effect is None or numeric else 0.5 * c["uplift"] + 0.5 * good_sign * effect
        if "index" in c:
            feat = features[c["index"]]
            binary = feat.kind == "binary"
            # A flag's written action describes switching it on; switching off gets the plain wording.
            own = feat.action if not (binary and c["target"] < 0.5) else None
            change = {"action": own or wording.default_action(feat.label, c["target"], binary), "current": float(x[c["index"]]), "target": c["target"], "gap_sd": c["gap"]}
        else:
            feat = schema.feature(c["feature"])
            change = {"action": feat.action or wording.category_action(feat.label, c["value"]), "current": clean.get(feat.name), "target": c["value"], "gap_sd": None}
        recs.append(
            {
                "feature": feat.name,
                "label": feat.label,
                **change,
                "peer_uplift": c["uplift"],
                "model_effect": effect,
                "expected_effect": float(score),
                "evidence": c["evidence"],
                "note": note,
                "model_helps": None if effect is None else bool(good_sign * effect > 0),
            }
        )
    recs.sort(key=lambda r: (r["model_helps"] is False, -r["expected_effect"]))
    return recs


def _plain(value):
    return value.item() if hasattr(value, "item") else value
