"""The fitted analysis models of one version, and the analysis of profiles and tables.

``Analyzer`` owns everything one training run fitted (scaler, segments, peer statistics,
anomaly models, neighbour index, outcome model) and answers ``analyze`` for one profile and
``score`` for a whole table. It is built by ``engine.training.fit`` and saved by
``engine.registry.versions``; the facade ``engine.api`` is what callers use.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from engine.analysis import anomalies as anom
from engine.analysis import percentiles as pct
from engine.analysis import wording
from engine.analysis.explanations import explain_profile
from engine.analysis.features import FeatureSpace
from engine.analysis.recommendations import (
    action_directions,
    candidate_actions,
    category_actions,
    model_effects,
    recommend,
)
from engine.analysis.results import Analysis
from engine.schema import Schema, missing_features, validate_profile

N_SIMILAR = 10
N_NEIGHBOURS = 50
RARE_SHARES = ((0.0, "high"), (0.005, "medium"), (0.01, "low"))  # share of peers with the value


class Analyzer:
    """Fitted models of one version. Built by ``engine.training.fit.fit_analyzer``."""

    version: str | None = None

    def __init__(self, *, schema, scaler, cluster_index, segments, groups, stats, frequencies, gaps, multivariate, neighbours, outcome=None):
        self.schema: Schema = schema
        self.space = FeatureSpace(schema)
        self.scaler = scaler
        self.cluster_index = np.asarray(cluster_index)
        self.segments = segments
        self.groups = groups
        self.stats = stats
        self.frequencies = frequencies
        self.gaps = gaps
        self.multivariate = multivariate
        self.neighbours = neighbours
        self.outcome = outcome
        self.signs = np.array([f.sign for f in self.space.numeric])
        self.population_group = groups.codes_one({})[0, -1]
        self.plural = schema.entity.plural
        self.z_cut = anom.Z_THRESHOLD  # set by training (``anomalies.calibrated_cut``)

    # ----- one profile -------------------------------------------------------------------
    def analyze(self, profile: dict) -> Analysis:
        """Validate and analyse one profile (dict of segment values and feature values); any
        feature not marked required may be missing (listed in the result's ``missing``)."""
        clean = validate_profile(self.schema, profile)
        x = self.space.numeric_row(clean)
        c = self.space.discrete_row(clean)
        codes = self.groups.codes_one(clean)
        z = self.scaler.transform(x[None, :])[0]
        chosen = self.stats.choose(codes)  # (1, f)

        prediction, base_margin = self._prediction(x, clean)
        entity_id = self.schema.entity_id(clean)
        recommendations, idx, dist, no_action = self._recommendations(x, z, c, clean, base_margin, entity_id)
        return Analysis(
            no_action_reason=no_action,
            model_version=self.version,
            profile=clean,
            segment=self._segment(z),
            anomalies=self._anomalies(x, z, chosen) + self._rare_values(c, codes),
            recommendations=recommendations,
            similar=self._similar(idx[:N_SIMILAR], dist[:N_SIMILAR]),
            percentiles=self._percentiles(x, chosen),
            prediction=prediction,
            entity_id=entity_id,
            entity={"singular": self.schema.entity.singular, "plural": self.plural},
            missing=missing_features(self.schema, clean),
        )

    def benchmark(self, profile: dict) -> list[dict]:
        """Percentile rows of the score and metric values given, against the peer group of the
        segment values given (the other features are not needed)."""
        clean = validate_profile(self.schema, profile, check_required=False)
        x = self.space.numeric_row(clean)
        return self._percentiles(x, self.stats.choose(self.groups.codes_one(clean)))

    def what_if(self, profile: dict, changes: dict) -> dict:
        """Probability and contributions after changing some fields; fast enough for a slider."""
        if self.outcome is None:
            return {"prediction": None}
        clean = validate_profile(self.schema, {**profile, **changes})
        prediction, _ = self._prediction(self.space.numeric_row(clean), clean)
        return {"profile": clean, "prediction": prediction}

    def _segment(self, z: np.ndarray) -> dict:
        idx, dist = self.segments.predict(z[self.cluster_index][None, :])
        s = int(idx[0])
        centroid = self.scaler.inverse_transform(self._full_centroid(s))
        names = self.space.numeric_names
        return {
            "id": s,
            "name": self.segments.names_[s],
            "description": self.segments.descriptions_[s],
            "distance": float(dist[0]),
            "size": int(self.segments.sizes_[s]),
            "centroid": {names[i]: float(centroid[i]) for i in self.cluster_index},
        }

    def _full_centroid(self, s: int) -> np.ndarray:
        full = np.zeros(len(self.space.numeric))
        full[self.cluster_index] = self.segments.centroids_[s]
        return full

    def _anomalies(self, x: np.ndarray, z: np.ndarray, chosen: np.ndarray) -> list[dict]:
        out = self._value_anomalies(x, chosen) + self._gap_anomalies(x)
        score = float(self.multivariate.score(z[None, :])[0])
        if score < self.multivariate.threshold_:
            out.append(
                {
                    "kind": "multivariate",
                    "feature": None,
                    "value": score,
                    "reference": self.multivariate.threshold_,
                    "z": None,
                    "scope": "population",
                    "severity": "medium",
                    "direction": "neutral",
                    "message": wording.multivariate_anomaly(self.plural),
                }
            )
        order = {"high": 0, "medium": 1, "low": 2}
        out.sort(key=lambda a: (order[a["severity"]], -abs(a["z"] or 0)))
        return out

    def _value_anomalies(self, x: np.ndarray, chosen: np.ndarray) -> list[dict]:
        X = x[None, :]
        z_peer = anom.robust_z(self.stats, X, chosen)[0]
        z_pop = anom.robust_z(self.stats, X, np.full_like(chosen, self.population_group))[0]
        out = []
        for i, feat in enumerate(self.space.numeric):
            if not feat.numeric:  # a yes/no flag is judged by how rare its value is, not by z
                continue
            # Judged against peers: metrics differ by industry and size, so population z-scores
            # would flag whole industries. The population z is reported alongside.
            g = chosen[0, i]
            zi, scope = (z_pop[i], "population") if g == self.population_group else (z_peer[i], "peer group")
            level = anom.severity(zi, self.z_cut) if not np.isnan(zi) else None
            if level is None:
                continue
            median = float(self.stats.grid_[g, i, 50])
            group = wording.peer_group(self.groups.describe(g), self.plural)
            out.append(
                {
                    "kind": "value",
                    "feature": feat.name,
                    "value": float(x[i]),
                    "reference": median,
                    "z": float(zi),
                    "z_population": _num(z_pop[i]),
                    "z_peer": _num(z_peer[i]),
                    "scope": scope,
                    "peer_group": group,
                    "severity": level,
                    "direction": wording.direction(feat.sign, zi),
                    "message": wording.value_anomaly(feat.label, zi, feat.sign, x[i], median, group),
                }
            )
        return out

    def _rare_values(self, c: np.ndarray, codes: np.ndarray) -> list[dict]:
        """Yes/no flags and categories whose value few peers share (frequency, not z)."""
        if not len(c):
            return []
        chosen = self.frequencies.choose(codes)
        share = self.frequencies.share(c[None, :], chosen)[0]
        out = []
        for j, feat in enumerate(self.space.discrete):
            g = chosen[0, j]
            peers = int(self.frequencies.count_[g, j])
            level = _rare_severity(share[j]) if peers >= self.frequencies.min_peers else None
            if level is None:
                continue
            value = self.space.value_text(j, int(c[j]))
            group = wording.peer_group(self.groups.describe(g), self.plural)
            out.append(
                {
                    "kind": "rare value",
                    "feature": feat.name,
                    "value": value,
                    "reference": None,
                    "z": None,
                    "frequency": float(share[j]),
                    "scope": "population" if g == self.population_group else "peer group",
                    "peer_group": group,
                    "severity": level,
                    "direction": "neutral",
                    "message": wording.rare_value(feat.label, value, float(share[j]), peers, group),
                }
            )
        return out

    def _gap_anomalies(self, x: np.ndarray) -> list[dict]:
        gaps, gz, flagged = self.gaps.z(x[None, :])
        out = []
        for p, (i, j) in enumerate(self.gaps.pairs_):
            gap, zg = gaps[0, p], gz[0, p]
            if not flagged[0, p]:
                continue
            hi, lo = (i, j) if gap > 0 else (j, i)
            fh, fl = self.space.numeric[hi], self.space.numeric[lo]
            out.append(
                {
                    "kind": "gap",
                    "feature": f"{fh.name}-{fl.name}",
                    "features": [fh.name, fl.name],
                    "value": float(abs(gap)),
                    "reference": float(abs(self.gaps.center_[p])),
                    "z": float(zg),
                    "scope": "population",
                    "severity": anom.severity(zg),
                    "direction": "neutral",
                    "message": wording.gap_anomaly(fh.label, x[hi], fl.label, x[lo], abs(gap), zg, self.plural),
                }
            )
        return out

    def _percentiles(self, x: np.ndarray, chosen: np.ndarray) -> list[dict]:
        ranks = pct.percentile_ranks(self.stats, x[None, :], chosen, self.signs)[0]
        out = []
        for i, feat in enumerate(self.space.numeric):
            g = chosen[0, i]
            if np.isnan(ranks[i]) or not feat.numeric:
                continue
            rank = None if feat.sign == 0 else float(ranks[i])
            q = self.stats.grid_[g, i]
            group = self.groups.describe(g)
            peers = int(self.stats.count_[g, i])
            out.append(
                {
                    "feature": feat.name,
                    "label": feat.label,
                    "kind": feat.kind,
                    "better": feat.better,
                    "value": float(x[i]),
                    "rank": rank,
                    "position": float(ranks[i] if feat.sign >= 0 else 100.0 - ranks[i]),  # share of peers below
                    "p10": float(q[10]),
                    "p25": float(q[25]),
                    "p50": float(q[50]),
                    "p75": float(q[75]),
                    "p90": float(q[90]),
                    "peer_group": group,
                    "peer_count": peers,
                    "interpretation": None if rank is None else wording.percentile_band(rank),
                    "message": wording.percentile_message(feat.label.lower(), x[i], q[50], ranks[i], feat.better, peers, group, self.plural),
                }
            )
        return out

    def _recommendations(self, x, z, c, clean, base_margin, entity_id) -> tuple[list[dict], np.ndarray, np.ndarray, str | None]:
        """-> (actions, neighbour indices, distances, why there is no action (None if any))."""
        point = self.space.neighbour_space(z[None, :], c[None, :])[0]
        idx, dist = self.neighbours.query(point, N_NEIGHBOURS + 1)
        if entity_id is not None:  # the entity itself is never its own neighbour or evidence
            keep = self.neighbours.ids_[idx].astype(str) != entity_id
            idx, dist = idx[keep], dist[keep]
        idx, dist = idx[:N_NEIGHBOURS], dist[:N_NEIGHBOURS]
        directions = action_directions(self.space.numeric, x)
        candidates = candidate_actions(self.neighbours, x, idx, directions, self.scaler.scale_) + category_actions(self.neighbours, self.space, c, idx)
        effects = model_effects(self.outcome, x, clean, candidates) if base_margin is not None else None
        actions = recommend(self.schema, x, clean, candidates, effects)
        reason = None
        if not actions:
            actionable = directions.any() or any(f.kind == "category" and f.actionable for f in self.space.discrete)
            why = "nothing actionable" if not actionable else "nobody ahead" if not candidates else "no expected benefit"
            reason = wording.no_action(why, self.plural)
        return actions, idx, dist, reason

    def _similar(self, idx: np.ndarray, dist: np.ndarray) -> list[dict]:
        out = []
        for i, d in zip(idx, dist, strict=True):
            out.append(
                {
                    "id": _plain(self.neighbours.ids_[i]),
                    "distance": float(d),
                    "outcome": _num(self.neighbours.outcome_[i]) if self.neighbours.outcome_ is not None else None,
                    "desirable": bool(self.neighbours.good_[i]),
                }
            )
        return out

    def _prediction(self, x: np.ndarray, clean: dict) -> tuple[dict | None, float | None]:
        if self.outcome is None:
            return None, None
        return explain_profile(self.outcome, self.schema, x, clean)

    # ----- a whole table -----------------------------------------------------------------
    def score(self, df: pd.DataFrame, *, chunk: int = 100_000, progress=None) -> pd.DataFrame:
        """Vectorised analysis of a checked table (see ``engine.schema.tables.check_frame``).

        Returns one row per input row: segment, anomaly count and worst z, the direction-aware
        percentile rank of every score and metric (``rank_<name>``; ``position_<name>`` for one
        without a better direction), and the outcome ``probability`` (binary target) or
        ``prediction`` (numeric target).
        """
        parts = []
        for start in range(0, len(df), chunk):
            parts.append(self._score_chunk(df.iloc[start : start + chunk]))
            if progress:
                progress("score", min(1.0, (start + chunk) / len(df)))
        return pd.concat(parts) if parts else pd.DataFrame()

    def _score_chunk(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.outcome is None:
            return pd.DataFrame(self._analysis_columns(df), index=df.index)
        # The outcome model predicts on its own thread (XGBoost releases the GIL) while the
        # analysis columns are computed on this one: about a tenth off a 100k-row chunk.
        with ThreadPoolExecutor(1) as pool:
            predicted = pool.submit(lambda: self.outcome.predict_design(self.outcome.design(df)))
            out = self._analysis_columns(df)
            out[self.outcome.output] = predicted.result()
        return pd.DataFrame(out, index=df.index)

    def _analysis_columns(self, df: pd.DataFrame) -> dict:
        X = self.space.numeric_table(df)
        Z = self.scaler.transform(X)
        codes = self.groups.codes(df)
        chosen = self.stats.choose(codes)
        seg, dist = self.segments.predict(Z[:, self.cluster_index])
        out = {}  # columns, made into one frame at the end (cheaper than adding them one by one)
        if self.schema.id and self.schema.id in df.columns:
            out[self.schema.id] = df[self.schema.id].to_numpy()
        out["segment_id"] = seg
        out["segment"] = np.asarray(self.segments.names_, dtype=object)[seg]
        out["segment_distance"] = dist

        numeric = np.array([f.numeric for f in self.space.numeric])
        z_peer = np.abs(np.nan_to_num(anom.robust_z(self.stats, X, chosen)))[:, numeric]
        _, gz, flagged = self.gaps.z(X)
        gz = np.where(flagged, np.abs(gz), 0.0)
        worst = np.concatenate([z_peer, gz], axis=1)
        multivariate = self.multivariate.score(Z)
        rare = self._rare_table(df, codes)
        flagged = np.concatenate([z_peer >= self.z_cut, gz >= anom.Z_THRESHOLD], axis=1)
        out["anomaly_count"] = flagged.sum(axis=1) + rare + (multivariate < self.multivariate.threshold_)
        out["anomaly_max_z"] = worst.max(axis=1) if worst.shape[1] else np.zeros(len(df))
        out["multivariate_score"] = multivariate

        ranks = pct.percentile_ranks(self.stats, X, chosen, self.signs)
        for i, f in enumerate(self.space.numeric):
            if f.numeric:  # rank: direction-aware; position (no better direction): share of peers below
                out[f"{'rank' if f.sign else 'position'}_{f.name}"] = ranks[:, i]
        return out

    def _rare_table(self, df: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
        """Per row, how many yes/no and category values are rare among its peers."""
        if not self.space.discrete:
            return np.zeros(len(df), dtype=int)
        C = self.space.discrete_table(df)
        chosen = self.frequencies.choose(codes)
        share = self.frequencies.share(C, chosen)
        enough = self.frequencies.count_[chosen, np.arange(C.shape[1])] >= self.frequencies.min_peers
        with np.errstate(invalid="ignore"):
            return ((share <= RARE_SHARES[-1][0]) & enough).sum(axis=1)


def _rare_severity(share: float) -> str | None:
    """'high' when no peer has the value, 'medium' under 0.5%, 'low' under 1%; else None."""
    if np.isnan(share):
        return None
    for cut, level in RARE_SHARES:
        if share <= cut:
            return level
    return None


def _num(v):
    v = float(v)
    return None if np.isnan(v) else v


def _plain(value):
    return value.item() if hasattr(value, "item") else value
