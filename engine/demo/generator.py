"""Synthetic demo dataset: companies with known archetypes, drivers and drift.

Every property a model or a test could look for is planted on purpose and recorded in
``truth/truth.json``:

* scores come from 6 well-separated latent archetypes (clustering should recover them);
* the outcome ``high_growth`` depends on exactly 5 features (``OUTCOME_COEFFICIENTS``);
* ``current.csv`` is a later period drawn by the same process with exactly 3 shifted columns;
* ~2% of metric values are missing at random, so the engine has to handle gaps.

The truth lives in a ``truth/`` subfolder so that models, which read only ``companies.csv`` and
``schema.toml``, never see it. Everything is vectorised numpy, so a million companies take
seconds, and the same seed always gives the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv

SCORES = [
    "strategy",
    "technology",
    "data",
    "people",
    "process",
    "governance",
    "customer",
    "innovation",
]
METRICS = [
    "revenue_per_employee",
    "profit_margin",
    "customer_retention_rate",
    "customer_acquisition_cost",
    "inventory_turnover",
    "revenue_growth",
]
SEGMENTS = ["industry", "size", "region"]
TARGET = "high_growth"
COLUMNS = ["company_id", *SEGMENTS, *SCORES, *METRICS, TARGET]

INDUSTRIES = {  # name: population share
    "retail": 0.15,
    "restaurant": 0.12,
    "professional_services": 0.12,
    "manufacturing": 0.11,
    "healthcare": 0.10,
    "technology": 0.10,
    "hospitality": 0.08,
    "construction": 0.08,
    "education": 0.07,
    "real_estate": 0.07,
}
SIZES = {"small": 0.55, "medium": 0.30, "large": 0.15}
SIZE_MULTIPLIER = {"small": 0.85, "medium": 1.0, "large": 1.15}
REGIONS = {"northeast": 0.22, "southeast": 0.22, "midwest": 0.20, "west": 0.18, "southwest": 0.18}
REGION_MULTIPLIER = {
    "northeast": 1.12,
    "southeast": 0.97,
    "midwest": 0.95,
    "west": 1.08,
    "southwest": 0.98,
}

# Per-industry levels: revenue per employee (USD), acquisition cost (USD), profit margin,
# retention, inventory turns per year (NaN where the business holds no stock), revenue growth.
INDUSTRY_BASE = pd.DataFrame(
    [
        ("retail", 180_000, 40, 0.05, 0.55, 8.0, 0.05),
        ("restaurant", 70_000, 25, 0.05, 0.50, 30.0, 0.04),
        ("professional_services", 200_000, 2_500, 0.15, 0.80, np.nan, 0.06),
        ("manufacturing", 250_000, 1_200, 0.08, 0.75, 5.0, 0.04),
        ("healthcare", 150_000, 300, 0.09, 0.70, 12.0, 0.06),
        ("technology", 350_000, 1_500, 0.18, 0.82, np.nan, 0.15),
        ("hospitality", 90_000, 150, 0.07, 0.45, 20.0, 0.05),
        ("construction", 220_000, 3_000, 0.06, 0.60, 6.0, 0.05),
        ("education", 110_000, 800, 0.05, 0.78, np.nan, 0.03),
        ("real_estate", 400_000, 5_000, 0.20, 0.65, np.nan, 0.04),
    ],
    columns=[
        "industry",
        "revenue_per_employee",
        "customer_acquisition_cost",
        "profit_margin",
        "customer_retention_rate",
        "inventory_turnover",
        "revenue_growth",
    ],
).set_index("industry")

# Archetype centroids over SCORES. Every pair differs by >= 1.5 points on at least three
# dimensions, so k-means on the standardised scores recovers them.
ARCHETYPES = {
    #                    strat tech data  people proc  gov   cust  innov
    "explorer":          [1.5, 4.2, 4.0, 2.5, 2.0, 1.5, 2.5, 4.5],
    "strategist":        [4.2, 1.5, 1.5, 2.5, 2.8, 4.2, 2.5, 2.0],
    "leader":            [4.2, 4.2, 4.2, 4.2, 4.2, 4.2, 4.2, 4.2],
    "beginner":          [1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2],
    "operator":          [2.5, 2.8, 3.2, 4.2, 4.2, 2.5, 1.2, 1.2],
    "customer_champion": [2.5, 1.5, 2.8, 3.2, 1.2, 2.0, 4.4, 2.8],
}  # fmt: skip
ARCHETYPE_SHARES = {
    "explorer": 0.15,
    "strategist": 0.16,
    "leader": 0.14,
    "beginner": 0.22,
    "operator": 0.18,
    "customer_champion": 0.15,
}
# Mild industry tilts of the archetype mix (multiplies the base share, then renormalised).
ARCHETYPE_TILT = {
    "technology": {"explorer": 2.2, "beginner": 0.6},
    "manufacturing": {"operator": 1.6},
    "construction": {"operator": 1.4, "explorer": 0.7},
    "professional_services": {"strategist": 1.5},
    "retail": {"customer_champion": 1.5},
    "hospitality": {"customer_champion": 1.5},
    "restaurant": {"customer_champion": 1.3, "beginner": 1.3},
    "education": {"beginner": 1.4},
    "real_estate": {"beginner": 1.2, "strategist": 1.2},
}
SCORE_NOISE_SD = 0.4

# True outcome model: logit = intercept + sum(coef * standardised driver) + logistic noise.
# customer_acquisition_cost enters on the log scale (it is lognormal). No other feature has a
# direct effect.
OUTCOME_COEFFICIENTS = {
    "data": 1.2,
    "strategy": 0.9,
    "revenue_growth": 0.8,
    "customer_retention_rate": 0.8,
    "customer_acquisition_cost": -0.7,
}
OUTCOME_INTERCEPT = -1.4  # gives ~31% positives
OUTCOME_DRIVERS = list(OUTCOME_COEFFICIENTS)

MISSING_RATE = 0.02
METRIC_CLIP = {  # generated values stay inside the schema bounds
    "revenue_per_employee": (5_000, 5_000_000),
    "profit_margin": (-0.5, 0.6),
    "customer_retention_rate": (0.2, 0.99),
    "customer_acquisition_cost": (1, 500_000),
    "inventory_turnover": (0.5, 300),
    "revenue_growth": (-0.8, 3.0),
}
METRIC_DECIMALS = {
    "revenue_per_employee": 0,
    "profit_margin": 4,
    "customer_retention_rate": 4,
    "customer_acquisition_cost": 2,
    "inventory_turnover": 2,
    "revenue_growth": 4,
}

# The later period ("current.csv") differs in exactly these columns.
CURRENT_REGIONS = {"west": 0.45}  # the other regions keep their relative shares
TECHNOLOGY_SHIFT = 0.8
CAC_FACTOR = 1.35
SHIFTED_COLUMNS = ["technology", "customer_acquisition_cost", "region"]

MONTHS = 36
LAST_MONTH = "2026-10-01"
MONTHLY_METRICS = [
    "revenue_per_employee",
    "profit_margin",
    "revenue_growth",
    "customer_acquisition_cost",
]
MONTHLY_TREND = {  # yearly trend of the benchmark level
    "revenue_per_employee": 0.03,
    "profit_margin": -0.01,
    "revenue_growth": 0.02,
    "customer_acquisition_cost": 0.06,
}

SCHEMA_TOML = """\
name = "Demo companies"
id = "company_id"

[target]
column = "high_growth"
positive = 1
label = "High growth next year"
desirable = true

[segments]
columns = ["industry", "size", "region"]

[[features]]
name = "strategy"
label = "Strategy maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Set a written 3-year digital strategy with named owners and yearly targets"

[[features]]
name = "technology"
label = "Technology maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Move core systems to cloud software and retire manual spreadsheets"

[[features]]
name = "data"
label = "Data maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Build one shared source of customer and sales data with a weekly KPI dashboard"

[[features]]
name = "people"
label = "People and skills maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Fund a yearly training plan and name a digital champion in every team"

[[features]]
name = "process"
label = "Process maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Document and automate the five most frequent workflows"

[[features]]
name = "governance"
label = "Governance maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Hold a quarterly steering review that owns risks, budget and KPIs"

[[features]]
name = "customer"
label = "Customer maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Measure customer satisfaction every month and act on the top complaints"

[[features]]
name = "innovation"
label = "Innovation maturity"
kind = "score"
better = "higher"
min = 0
max = 5
action = "Reserve budget and staff time for two small pilot projects per quarter"

[[features]]
name = "revenue_per_employee"
label = "Revenue per employee"
kind = "metric"
better = "higher"
min = 0
max = 10000000
unit = "USD"
action = "Automate low-value tasks and move staff time to higher-value work"

[[features]]
name = "profit_margin"
label = "Profit margin"
kind = "metric"
better = "higher"
min = -1
max = 1
unit = "ratio"
action = "Review pricing and cut the three largest cost overruns"

[[features]]
name = "customer_retention_rate"
label = "Customer retention rate"
kind = "metric"
better = "higher"
min = 0
max = 1
unit = "ratio"
action = "Start a loyalty programme and contact at-risk customers before they leave"

[[features]]
name = "customer_acquisition_cost"
label = "Customer acquisition cost"
kind = "metric"
better = "lower"
min = 0
max = 1000000
unit = "USD"
action = "Move marketing spend to the best-converting channels and referrals"

[[features]]
name = "inventory_turnover"
label = "Inventory turnover"
kind = "metric"
better = "higher"
min = 0
max = 365
unit = "per year"
action = "Clear slow-moving stock and reorder smaller quantities more often"

[[features]]
name = "revenue_growth"
label = "Revenue growth"
kind = "metric"
better = "higher"
min = -1
max = 5
unit = "ratio"
action = "Launch one new product, service or sales channel and track it monthly"
"""


def generate(n_companies: int = 5000, seed: int = 0) -> dict[str, pd.DataFrame | dict]:
    """Make the reference companies, the drifted current period, monthly benchmarks and truth."""
    if n_companies < 1:
        raise ValueError(f"n_companies should be at least 1, got {n_companies}.")
    # Independent streams, so the reference data does not depend on how the rest is drawn.
    ref_rng, cur_rng, month_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    n_current = max(1000, n_companies // 2)

    ref, ref_arch, ref_complete = _population(ref_rng, n_companies, first_id=1, shifted=False)
    standardization = _standardization(ref_complete)
    ref[TARGET] = _outcome(ref_rng, ref_complete, standardization)
    cur, cur_arch, cur_complete = _population(
        cur_rng, n_current, first_id=n_companies + 1, shifted=True
    )
    cur[TARGET] = _outcome(cur_rng, cur_complete, standardization)

    names = np.array(list(ARCHETYPES), dtype=object)
    return {
        "companies": ref[COLUMNS],
        "current": cur[COLUMNS],
        "monthly": _monthly(month_rng),
        "archetypes": pd.DataFrame({"company_id": ref["company_id"], "archetype": names[ref_arch]}),
        "current_archetypes": pd.DataFrame(
            {"company_id": cur["company_id"], "archetype": names[cur_arch]}
        ),
        "truth": _truth(seed, n_companies, n_current, standardization),
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
        "schema": out / "schema.toml",
        "monthly": out / "benchmarks_monthly.csv",
        "truth": truth_dir / "truth.json",
    }
    _write_csv(data["companies"], paths["companies"])
    _write_csv(data["current"], paths["current"])
    paths["schema"].write_text(SCHEMA_TOML, encoding="utf-8")
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


def _region_shares(shifted: bool) -> np.ndarray:
    """Regional mix; the later period raises the west share and scales the others down."""
    shares = np.array(list(REGIONS.values()))
    if not shifted:
        return shares
    fixed = np.array([CURRENT_REGIONS.get(r, np.nan) for r in REGIONS])
    rest = 1 - np.nansum(fixed)
    free = np.isnan(fixed)
    return np.where(free, shares * rest / shares[free].sum(), fixed)


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
    region_shares = _region_shares(shifted)
    region = _choice(rng, region_shares, n)
    archetype = _choice(rng, _archetype_matrix()[industry], n)

    centroids = np.array(list(ARCHETYPES.values()))
    raw_scores = centroids[archetype] + rng.normal(0, SCORE_NOISE_SD, (n, len(SCORES)))
    scores = np.round(np.clip(raw_scores, 0, 5), 1)
    metrics = _metrics(rng, scores, industry, size, region, region_shares)
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


def _metrics(rng, scores, industry, size, region, region_shares) -> dict[str, np.ndarray]:
    """Business metrics: industry level × size × region, nudged by maturity, plus noise."""
    n = len(industry)
    base = INDUSTRY_BASE.loc[list(INDUSTRIES)]
    s = {name: scores[:, i] - 2.5 for i, name in enumerate(SCORES)}  # centred maturity
    size_mult = np.array(list(SIZE_MULTIPLIER.values()))[size]
    # Regional multipliers are relative to the national average, so a change in the regional
    # mix (the drifted period) does not move the national level of any metric.
    reg = np.array(list(REGION_MULTIPLIER.values()))
    region_mult = reg[region] / (reg @ region_shares)

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


def _driver_values(complete: pd.DataFrame) -> pd.DataFrame:
    """Driver columns on the scale the outcome uses (CAC on the log scale)."""
    values = complete[OUTCOME_DRIVERS].copy()
    values["customer_acquisition_cost"] = np.log(values["customer_acquisition_cost"])
    return values


def _standardization(complete: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Reference mean/sd of each driver; both periods use these, so the true model is fixed."""
    values = _driver_values(complete)
    sd = values.std().where(lambda v: v > 0, 1.0).fillna(1.0)  # guard tiny populations
    return {c: {"mean": float(values[c].mean()), "sd": float(sd[c])} for c in values}


def true_logit(complete: pd.DataFrame, standardization: dict) -> np.ndarray:
    """The outcome's true log-odds (before noise) from complete driver values.

    ``standardization`` is ``truth["outcome_standardization"]``.
    """
    values = _driver_values(complete)
    logit = np.full(len(values), OUTCOME_INTERCEPT)
    for name, coef in OUTCOME_COEFFICIENTS.items():
        st = standardization[name]
        logit += coef * (values[name].to_numpy() - st["mean"]) / st["sd"]
    return logit


def _outcome(rng: np.random.Generator, complete: pd.DataFrame, standardization: dict) -> np.ndarray:
    """Draw high_growth: the true logit plus logistic noise, thresholded at zero."""
    logit = true_logit(complete, standardization)
    return (logit + rng.logistic(0, 1, len(logit)) > 0).astype(np.int64)


def _seasonality(industry: str, month: np.ndarray) -> np.ndarray:
    """Seasonal factor per calendar month (1-12) for one industry."""
    factor = 1 + 0.03 * np.sin(2 * np.pi * (month - 1) / 12)  # mild default
    if industry in ("retail", "hospitality"):
        factor = np.select([month == 11, month == 12], [1.2, 1.3], 1.0)
    elif industry == "construction":
        factor = np.where(np.isin(month, [12, 1, 2]), 0.75, 1.0)
    elif industry == "education":
        factor = np.where(np.isin(month, [6, 7, 8]), 0.75, 1.0)
    elif industry == "restaurant":
        factor = np.where(np.isin(month, [6, 7, 8]), 1.25, 1.0)
    return factor


def _monthly(rng: np.random.Generator) -> pd.DataFrame:
    """Monthly benchmark series: industry level × trend × seasonality × small noise."""
    months = pd.date_range(end=LAST_MONTH, periods=MONTHS, freq="MS")
    # Years relative to the last month, so the latest level equals the industry base level.
    years = (np.arange(MONTHS) - (MONTHS - 1)) / 12
    frames = []
    for industry in INDUSTRIES:
        season = _seasonality(industry, months.month.to_numpy())
        for metric in MONTHLY_METRICS:
            level = INDUSTRY_BASE.loc[industry, metric]
            noise = rng.normal(1, 0.02, MONTHS)
            value = level * (1 + MONTHLY_TREND[metric] * years) * season * noise
            frames.append(
                pd.DataFrame(
                    {"month": months, "industry": industry, "metric": metric, "value": value}
                )
            )
    monthly = pd.concat(frames, ignore_index=True)
    monthly["value"] = monthly["value"].round(4)
    return monthly


def _truth(seed: int, n_companies: int, n_current: int, standardization: dict) -> dict:
    """Everything planted in the data, for tests and for checking what the models found."""
    return {
        "seed": seed,
        "n_companies": n_companies,
        "n_current": n_current,
        "archetypes": {a: dict(zip(SCORES, c, strict=True)) for a, c in ARCHETYPES.items()},
        "archetype_shares": ARCHETYPE_SHARES,
        "score_noise_sd": SCORE_NOISE_SD,
        "outcome_drivers": OUTCOME_DRIVERS,
        "outcome_coefficients": OUTCOME_COEFFICIENTS,
        "outcome_intercept": OUTCOME_INTERCEPT,
        "outcome_standardization": standardization,
        "outcome_note": (
            "logit = intercept + sum(coef * (x - mean) / sd) + logistic noise; high_growth = logit > 0."
            " customer_acquisition_cost enters as log(x). Complete (pre-gap) values are used."
        ),
        "shifted_columns": SHIFTED_COLUMNS,
        "shifts": {
            "technology": f"+{TECHNOLOGY_SHIFT} points, clipped to 0-5",
            "customer_acquisition_cost": f"x{CAC_FACTOR}",
            "region": {
                r: round(float(s), 4) for r, s in zip(REGIONS, _region_shares(True), strict=True)
            },
        },
        "missing_rate": MISSING_RATE,
        "missing_columns": METRICS,
    }
