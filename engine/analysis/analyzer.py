"""The fitted analysis models of one version, and the analysis of profiles and tables.

``Analyzer`` owns everything one training run fitted (scaler, segments, peer statistics,
anomaly models, neighbour index, outcome model) and answers ``analyze`` for one profile and
``score`` for a whole table. It is built by ``engine.training.fit`` and saved by
``engine.registry.versions``; the facade ``engine.api`` is what callers use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.analysis import anomalies as anom
from engine.analysis import percentiles as pct
from engine.analysis import wording
from engine.analysis.explanations import explain_profile
from engine.analysis.recommendations import candidate_actions, model_effects, recommend
from engine.analysis.results import Analysis
from engine.schema import Schema, validate_profile

N_SIMILAR = 10
N_NEIGHBOURS = 50


class Analyzer:
    """Fitted models of one version. Built by ``engine.training.fit.fit_analyzer``."""

    version: str | None = None

    def __init__(self, *, schema, scaler, cluster_index, segments, groups, stats, gaps, multivariate, neighbours, outcome=None, outcome_label=None):
        self.schema: Schema = schema
        self.scaler = scaler
        self.cluster_index = np.asarray(cluster_index)
        self.segments = segments
        self.groups = groups
        self.stats = stats
        self.gaps = gaps
        self.multivariate = multivariate
        self.neighbours = neighbours
        self.outcome = outcome
        self.signs = np.array([f.sign for f in schema.features])
        self.population_group = groups.codes_one({})[0, -1]

    # ----- one profile -------------------------------------------------------------------
    def analyze(self, profile: dict, *, partial: bool = False) -> Analysis:
        """Validate and analyse one profile (dict of segment values and feature values)."""
        clean = validate_profile(self.schema, profile, partial=partial)
        x = np.array([clean[n] for n in self.schema.feature_names], dtype=float)
        codes = self.groups.codes_one(clean)
        z = self.scaler.transform(x[None, :])[0]
        chosen = self.stats.choose(codes)  # (1, f)

        prediction, base_margin = self._prediction(x, clean)
        recommendations, idx, dist = self._recommendations(x, z, clean, base_margin)
        return Analysis(
            model_version=self.version,
            profile=clean,
            segment=self._segment(z),
            anomalies=self._anomalies(x, z, chosen),
            recommendations=recommendations,
            similar=self._similar(idx[:N_SIMILAR], dist[:N_SIMILAR]),
            percentiles=self._percentiles(x, chosen),
            prediction=prediction,
            entity_id=self.schema.entity_id(clean),
        )

    def what_if(self, profile: dict, changes: dict) -> dict:
        """Probability and contributions after changing some fields; fast enough for a slider."""
        if self.outcome is None:
            return {"prediction": None}
        clean = validate_profile(self.schema, {**profile, **changes}, partial=True)
        x = np.array([clean[n] for n in self.schema.feature_names], dtype=float)
        prediction, _ = self._prediction(x, clean)
        return {"profile": clean, "prediction": prediction}

    def _segment(self, z: np.ndarray) -> dict:
        idx, dist = self.segments.predict(z[self.cluster_index][None, :])
        s = int(idx[0])
        centroid = self.scaler.inverse_transform(self._full_centroid(s))
        names = self.schema.feature_names
        return {
            "id": s,
            "name": self.segments.names_[s],
            "description": self.segments.descriptions_[s],
            "distance": float(dist[0]),
            "size": int(self.segments.sizes_[s]),
            "centroid": {names[i]: float(centroid[i]) for i in self.cluster_index},
        }

    def _full_centroid(self, s: int) -> np.ndarray:
        full = np.zeros(len(self.schema.features))
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
                    "message": wording.multivariate_anomaly(),
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
        for i, feat in enumerate(self.schema.features):
            # Judged against peers: metrics differ by industry and size, so population z-scores
            # would flag whole industries. The population z is reported alongside.
            g = chosen[0, i]
            zi, scope = (z_pop[i], "population") if g == self.population_group else (z_peer[i], "peer group")
            level = anom.severity(zi) if not np.isnan(zi) else None
            if level is None:
                continue
            median = float(self.stats.grid_[g, i, 50])
            group = wording.peer_group(self.groups.describe(g))
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
                    "message": wording.value_anomaly(feat.label, zi, feat.sign, x[i], median, group),
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
            fh, fl = self.schema.features[hi], self.schema.features[lo]
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
                    "message": wording.gap_anomaly(fh.label, x[hi], fl.label, x[lo], abs(gap), zg),
                }
            )
        return out

    def _percentiles(self, x: np.ndarray, chosen: np.ndarray) -> list[dict]:
        ranks = pct.percentile_ranks(self.stats, x[None, :], chosen, self.signs)[0]
        out = []
        for i, feat in enumerate(self.schema.features):
            g = chosen[0, i]
            if np.isnan(ranks[i]):
                continue
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
                    "rank": float(ranks[i]),
                    "p10": float(q[10]),
                    "p25": float(q[25]),
                    "p50": float(q[50]),
                    "p75": float(q[75]),
                    "p90": float(q[90]),
                    "peer_group": group,
                    "peer_count": peers,
                    "interpretation": wording.percentile_band(ranks[i]),
                    "message": wording.percentile_message(feat.label.lower(), x[i], q[50], ranks[i], feat.better, peers, group),
                }
            )
        return out

    def _recommendations(self, x, z, clean, base_margin) -> tuple[list[dict], np.ndarray, np.ndarray]:
        idx, dist = self.neighbours.query(z, N_NEIGHBOURS)
        candidates = candidate_actions(self.neighbours, x, idx, self.signs, self.scaler.scale_)
        effects = model_effects(self.outcome, x, clean, candidates) if base_margin is not None else None
        return recommend(self.schema, x, candidates, effects), idx, dist

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

        Returns one row per input row: segment, anomaly count and worst severity, the
        direction-aware percentile rank of every feature, and the outcome probability.
        """
        parts = []
        for start in range(0, len(df), chunk):
            parts.append(self._score_chunk(df.iloc[start : start + chunk]))
            if progress:
                progress("score", min(1.0, (start + chunk) / len(df)))
        return pd.concat(parts) if parts else pd.DataFrame()

    def _score_chunk(self, df: pd.DataFrame) -> pd.DataFrame:
        names = self.schema.feature_names
        X = df[names].to_numpy(dtype=float)
        Z = self.scaler.transform(X)
        codes = self.groups.codes(df)
        chosen = self.stats.choose(codes)
        seg, dist = self.segments.predict(Z[:, self.cluster_index])
        out = pd.DataFrame(index=df.index)
        if self.schema.id and self.schema.id in df.columns:
            out[self.schema.id] = df[self.schema.id].to_numpy()
        out["segment_id"] = seg
        out["segment"] = np.asarray(self.segments.names_, dtype=object)[seg]
        out["segment_distance"] = dist

        z_peer = np.abs(np.nan_to_num(anom.robust_z(self.stats, X, chosen)))
        _, gz, flagged = self.gaps.z(X)
        gz = np.where(flagged, np.abs(gz), 0.0)
        worst = np.concatenate([z_peer, gz], axis=1)
        multivariate = self.multivariate.score(Z)
        out["anomaly_count"] = (worst >= anom.Z_THRESHOLD).sum(axis=1) + (multivariate < self.multivariate.threshold_)
        out["anomaly_max_z"] = worst.max(axis=1) if worst.shape[1] else 0.0
        out["multivariate_score"] = multivariate

        ranks = pct.percentile_ranks(self.stats, X, chosen, self.signs)
        for i, n in enumerate(names):
            out[f"rank_{n}"] = ranks[:, i]
        if self.outcome is not None:
            out["probability"] = self.outcome.proba_design(self.outcome.design(df))
        return out


def _num(v):
    v = float(v)
    return None if np.isnan(v) else v


def _plain(value):
    return value.item() if hasattr(value, "item") else value
