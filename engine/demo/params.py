"""Knobs of the demo population: columns, segment mixes, industry levels, archetypes, gaps and
the later period's drift. Pure data (plus the regional mix), shared by the other demo modules."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def region_shares(shifted: bool) -> np.ndarray:
    """Regional mix; the later period raises the west share and scales the others down."""
    shares = np.array(list(REGIONS.values()))
    if not shifted:
        return shares
    fixed = np.array([CURRENT_REGIONS.get(r, np.nan) for r in REGIONS])
    rest = 1 - np.nansum(fixed)
    free = np.isnan(fixed)
    return np.where(free, shares * rest / shares[free].sum(), fixed)
