"""Monthly benchmark series per industry: base level × yearly trend × seasonality × small noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.demo.params import INDUSTRIES, INDUSTRY_BASE

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


def seasonality(industry: str, month: np.ndarray) -> np.ndarray:
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


def monthly_benchmarks(rng: np.random.Generator) -> pd.DataFrame:
    """Monthly benchmark series: industry level × trend × seasonality × small noise."""
    months = pd.date_range(end=LAST_MONTH, periods=MONTHS, freq="MS")
    # Years relative to the last month, so the latest level equals the industry base level.
    years = (np.arange(MONTHS) - (MONTHS - 1)) / 12
    frames = []
    for industry in INDUSTRIES:
        season = seasonality(industry, months.month.to_numpy())
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
