"""Synthetic demo dataset: companies with known archetypes, drivers and drift.

Every property a model or a test could look for is planted on purpose and recorded in
``truth/truth.json``:

* scores come from 6 well-separated latent archetypes (clustering should recover them);
* the outcome ``high_growth`` depends on exactly 5 features (``truth.OUTCOME_COEFFICIENTS``);
* ``current.csv`` is a later period drawn by the same process with exactly 3 shifted columns;
* ~2% of metric values are missing at random, so the engine has to handle gaps.

The truth lives in a ``truth/`` subfolder so that models, which read only ``companies.csv`` and
``schema.toml``, never see it. Everything is vectorised numpy, so a million companies take
seconds, and the same seed always gives the same files.

The knobs live in ``params``, the true outcome model and the truth record in ``truth``, the
monthly benchmark series in ``series`` and the schema in the package file ``schema.toml``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv

from engine.demo.params import (
    ARCHETYPE_SHARES,
    ARCHETYPE_TILT,
    ARCHETYPES,
    CAC_FACTOR,
    COLUMNS,
    INDUSTRIES,
    INDUSTRY_BASE,
    METRIC_CLIP,
    METRIC_DECIMALS,
    MISSING_RATE,
    REGION_MULTIPLIER,
    REGIONS,
    SCORE_NOISE_SD,
    SCORES,
    SIZE_MULTIPLIER,
    SIZES,
    TARGET,
    TECHNOLOGY_SHIFT,
    region_shares,
)
from engine.demo.series import monthly_benchmarks
from engine.demo.truth import driver_standardization, planted_truth, true_logit


def schema_text() -> str:
    """The demo dataset's schema (the package file ``engine/demo/schema.toml``)."""
    return files("engine.demo").joinpath("schema.toml").read_text(encoding="utf-8")


def generate(n_companies: int = 5000, seed: int = 0) -> dict[str, pd.DataFrame | dict]:
    """Make the reference companies, the drifted current period, monthly benchmarks and truth."""
    if n_companies < 1:
        raise ValueError(f"n_companies should be at least 1, got {n_companies}.")
    # Independent streams, so the reference data does not depend on how the rest is drawn.
    ref_rng, cur_rng, month_rng, recent_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    n_current = max(1000, n_companies // 2)

    ref, ref_arch, ref_complete = _population(ref_rng, n_companies, first_id=1, shifted=False)
    standardization = driver_standardization(ref_complete)
    ref[TARGET] = _outcome(ref_rng, ref_complete, standardization)
    cur, cur_arch, cur_complete = _population(
        cur_rng, n_current, first_id=n_companies + 1, shifted=True
    )
    cur[TARGET] = _outcome(cur_rng, cur_complete, standardization)
    # More companies of the unchanged population that no model trains on (replayed traffic
    # before the shift, so realised accuracy is measured on unseen rows).
    recent, _, recent_complete = _population(
        recent_rng, n_current, first_id=n_companies + n_current + 1, shifted=False
    )
    recent[TARGET] = _outcome(recent_rng, recent_complete, standardization)

    names = np.array(list(ARCHETYPES), dtype=object)
    return {
        "companies": ref[COLUMNS],
        "current": cur[COLUMNS],
        "recent": recent[COLUMNS],
        "monthly": monthly_benchmarks(month_rng),
        "archetypes": pd.DataFrame({"company_id": ref["company_id"], "archetype": names[ref_arch]}),
        "current_archetypes": pd.DataFrame(
            {"company_id": cur["company_id"], "archetype": names[cur_arch]}
        ),
        "truth": planted_truth(seed, n_companies, n_current, standardization),
    }


def write_demo(out_dir, n_companies: int = 5000, seed: int = 0) -> dict[str, str]:
    """Write the demo dataset under ``out_dir``; returns the path of each file by role."""
    out = Path(out_dir)
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    data = generate(n_companies, seed)
    paths = {
        "companies": out / "companies.csv",
        "current": out / "current.csv",
        "recent": out / "recent.csv",
        "schema": out / "schema.toml",
        "monthly": out / "benchmarks_monthly.csv",
        "truth": truth_dir / "truth.json",
    }
    _write_csv(data["companies"], paths["companies"])
    _write_csv(data["current"], paths["current"])
    _write_csv(data["recent"], paths["recent"])
    paths["schema"].write_text(schema_text(), encoding="utf-8")
    monthly = data["monthly"].assign(month=data["monthly"]["month"].dt.strftime("%Y-%m-%d"))
    _write_csv(monthly, paths["monthly"])
    paths["truth"].write_text(json.dumps(data["truth"], indent=2) + "\n", encoding="utf-8")
    _write_csv(data["archetypes"], truth_dir / "archetypes.csv")
    _write_csv(data["current_archetypes"], truth_dir / "current_archetypes.csv")
    return {role: str(path) for role, path in paths.items()}


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """Fast CSV writer; pyarrow turns NaN into empty cells, as pandas' reader expects."""
    csv.write_csv(pa.Table.from_pandas(df, preserve_index=False), path)


def _choice(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """Draw n category codes; shares is one probability vector or one row per draw."""
    cum = np.cumsum(shares, axis=-1)
    cum /= cum[..., -1:]
    u = rng.random(n)
    if cum.ndim == 1:
        return np.searchsorted(cum, u, side="right").clip(max=len(cum) - 1)
    return (u[:, None] >= cum).sum(axis=1).clip(max=cum.shape[1] - 1)


def _archetype_matrix() -> np.ndarray:
    """Per-industry archetype probabilities (industries × archetypes)."""
    base = np.array(list(ARCHETYPE_SHARES.values()))
    tilt = np.array(
        [[ARCHETYPE_TILT.get(ind, {}).get(a, 1.0) for a in ARCHETYPES] for ind in INDUSTRIES]
    )
    probs = base * tilt
    return probs / probs.sum(axis=1, keepdims=True)


def _population(rng: np.random.Generator, n: int, first_id: int, shifted: bool):
    """One period's companies; returns (observed frame, archetype codes, complete metrics)."""
    industry = _choice(rng, np.array(list(INDUSTRIES.values())), n)
    size = _choice(rng, np.array(list(SIZES.values())), n)
    region_mix = region_shares(shifted)
    region = _choice(rng, region_mix, n)
    archetype = _choice(rng, _archetype_matrix()[industry], n)

    centroids = np.array(list(ARCHETYPES.values()))
    raw_scores = centroids[archetype] + rng.normal(0, SCORE_NOISE_SD, (n, len(SCORES)))
    scores = np.round(np.clip(raw_scores, 0, 5), 1)
    metrics = _metrics(rng, scores, industry, size, region, region_mix)
    if shifted:
        # No metric depends on technology, so its shift touches nothing else. CAC shifts before
        # the outcome is drawn, so P(outcome | features) is unchanged (pure covariate shift).
        tech = SCORES.index("technology")
        scores[:, tech] = np.round(np.clip(scores[:, tech] + TECHNOLOGY_SHIFT, 0, 5), 1)
        lo, hi = METRIC_CLIP["customer_acquisition_cost"]
        cac = metrics["customer_acquisition_cost"]
        metrics["customer_acquisition_cost"] = np.round(np.clip(cac * CAC_FACTOR, lo, hi), 2)

    complete = pd.DataFrame(scores, columns=SCORES).assign(**metrics)
    observed = {m: _with_gaps(rng, v) for m, v in metrics.items()}
    frame = pd.DataFrame(
        {
            "company_id": np.arange(first_id, first_id + n, dtype=np.int64),
            "industry": np.array(list(INDUSTRIES), dtype=object)[industry],
            "size": np.array(list(SIZES), dtype=object)[size],
            "region": np.array(list(REGIONS), dtype=object)[region],
        }
    )
    frame[SCORES] = scores
    frame = frame.assign(**observed)
    return frame, archetype, complete


def _with_gaps(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Blank out ~MISSING_RATE of the values at random."""
    return np.where(rng.random(len(values)) < MISSING_RATE, np.nan, values)


def _metrics(rng, scores, industry, size, region, region_mix) -> dict[str, np.ndarray]:
    """Business metrics: industry level × size × region, nudged by maturity, plus noise."""
    n = len(industry)
    base = INDUSTRY_BASE.loc[list(INDUSTRIES)]
    s = {name: scores[:, i] - 2.5 for i, name in enumerate(SCORES)}  # centred maturity
    size_mult = np.array(list(SIZE_MULTIPLIER.values()))[size]
    # Regional multipliers are relative to the national average, so a change in the regional
    # mix (the drifted period) does not move the national level of any metric.
    reg = np.array(list(REGION_MULTIPLIER.values()))
    region_mult = reg[region] / (reg @ region_mix)

    def level(metric: str) -> np.ndarray:
        return base[metric].to_numpy()[industry]

    out = {
        "revenue_per_employee": level("revenue_per_employee")
        * size_mult
        * region_mult
        * np.exp(0.06 * s["data"] + 0.05 * s["process"] + rng.normal(0, 0.3, n)),
        "profit_margin": level("profit_margin") + 0.01 * s["process"] + rng.normal(0, 0.06, n),
        "customer_retention_rate": _expit(
            _logit(level("customer_retention_rate")) + 0.3 * s["customer"] + rng.normal(0, 0.6, n)
        ),
        # Heavy-ish right tail: lognormal with sd 0.6; mature customer handling lowers it a bit.
        "customer_acquisition_cost": level("customer_acquisition_cost")
        * np.sqrt(region_mult)
        * np.exp(-0.05 * s["customer"] + rng.normal(0, 0.6, n)),
        # NaN level (no stock) stays NaN for those industries.
        "inventory_turnover": level("inventory_turnover")
        * np.exp(0.05 * s["process"] + rng.normal(0, 0.3, n)),
        "revenue_growth": level("revenue_growth") + 0.015 * s["innovation"] + rng.normal(0, 0.1, n),
    }
    return {m: np.round(np.clip(v, *METRIC_CLIP[m]), METRIC_DECIMALS[m]) for m, v in out.items()}


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _outcome(rng: np.random.Generator, complete: pd.DataFrame, standardization: dict) -> np.ndarray:
    """Draw high_growth: the true logit plus logistic noise, thresholded at zero."""
    logit = true_logit(complete, standardization)
    return (logit + rng.logistic(0, 1, len(logit)) > 0).astype(np.int64)
