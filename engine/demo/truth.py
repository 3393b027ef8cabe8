"""The planted truth: the true outcome model and the record written to ``truth/truth.json``.

Models never see this module's output; tests and quality checks compare what the models found
with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.demo.params import (
    ARCHETYPE_SHARES,
    ARCHETYPES,
    CAC_FACTOR,
    METRICS,
    MISSING_RATE,
    REGIONS,
    SCORE_NOISE_SD,
    SCORES,
    SHIFTED_COLUMNS,
    TECHNOLOGY_SHIFT,
    region_shares,
)

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
OUTCOME_INTERCEPT = -1.2  # gives ~31% positives
OUTCOME_DRIVERS = list(OUTCOME_COEFFICIENTS)
# Not everything is linear, so a boosted model has something to beat the logistic baseline on:
# a leaky bucket (retention under half) costs this much log-odds on top of the straight-line
# effect, and data pays off more for companies that already grow (a product of the two).
OUTCOME_THRESHOLD = {"feature": "customer_retention_rate", "below": 0.5, "log_odds": -3.0}
OUTCOME_INTERACTION = {"features": ("data", "revenue_growth"), "log_odds_per_sd2": 0.6}


def driver_values(complete: pd.DataFrame) -> pd.DataFrame:
    """Driver columns on the scale the outcome uses (CAC on the log scale)."""
    values = complete[OUTCOME_DRIVERS].copy()
    values["customer_acquisition_cost"] = np.log(values["customer_acquisition_cost"])
    return values


def driver_standardization(complete: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Reference mean/sd of each driver; both periods use these, so the true model is fixed."""
    values = driver_values(complete)
    sd = values.std().where(lambda v: v > 0, 1.0).fillna(1.0)  # guard tiny populations
    return {c: {"mean": float(values[c].mean()), "sd": float(sd[c])} for c in values}


def true_logit(complete: pd.DataFrame, standardization: dict) -> np.ndarray:
    """The outcome's true log-odds (before noise) from complete driver values.

    ``standardization`` is ``truth["outcome_standardization"]``.
    """
    values = driver_values(complete)
    logit = np.full(len(values), OUTCOME_INTERCEPT)
    for name, coef in OUTCOME_COEFFICIENTS.items():
        st = standardization[name]
        logit += coef * (values[name].to_numpy() - st["mean"]) / st["sd"]
    leaky = values[OUTCOME_THRESHOLD["feature"]].to_numpy() < OUTCOME_THRESHOLD["below"]
    a, b = ((values[n].to_numpy() - standardization[n]["mean"]) / standardization[n]["sd"] for n in OUTCOME_INTERACTION["features"])
    return logit + OUTCOME_THRESHOLD["log_odds"] * leaky + OUTCOME_INTERACTION["log_odds_per_sd2"] * a * b


def planted_truth(seed: int, n_companies: int, n_current: int, standardization: dict) -> dict:
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
        "outcome_threshold": OUTCOME_THRESHOLD,
        "outcome_interaction": OUTCOME_INTERACTION,
        "outcome_standardization": standardization,
        "outcome_note": (
            "logit = intercept + sum(coef * (x - mean) / sd) + threshold term (log_odds when"
            " customer_retention_rate < 0.5) + 0.6 * z(data) * z(revenue_growth) + logistic noise; high_growth = logit > 0."
            " customer_acquisition_cost enters as log(x). Complete (pre-gap) values are used."
        ),
        "shifted_columns": SHIFTED_COLUMNS,
        "shifts": {
            "technology": f"+{TECHNOLOGY_SHIFT} points, clipped to 0-5",
            "customer_acquisition_cost": f"x{CAC_FACTOR}",
            "region": {
                r: round(float(s), 4) for r, s in zip(REGIONS, region_shares(True), strict=True)
            },
        },
        "missing_rate": MISSING_RATE,
        "missing_columns": METRICS,
    }
