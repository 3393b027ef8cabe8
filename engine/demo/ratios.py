"""The third built-in dataset: firms' financial ratios, heavy-tailed, with a numeric target.

Shaped like real balance-sheet data and unlike the other two: Pareto and lognormal sizes,
zero-inflated debt and R&D, ratios with outliers in both directions, integer counts with ties,
missing values, a yearly ``fiscal_year_end`` (the schema's ``time``), the entity noun "firm"
and a numeric target (``next_year_margin``, the operating margin a year later) that depends on
the ratios non-linearly (a leverage cliff, a saturating liquidity effect, an R&D x export
interaction), so a boosted model has something to beat a linear baseline on.

``current.csv`` is a later year with a known shift (``SHIFTED``: leverage up by half, cash
buffers down by a third, more private-equity owners); ``recent.csv`` more firms of the
unchanged population; both never trained on.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

from engine.demo.periods import write_periods

SECTORS = ("Manufacturing", "Retail", "Software", "Construction", "Logistics", "Healthcare")
SECTOR_MARGIN = (0.0, -0.02, 0.04, -0.01, -0.015, 0.02)
OWNERS = ("Family", "Listed", "Private equity", "State")
SHIFTED = {"debt_to_equity": "x1.5", "cash_months": "x0.67", "ownership": "Private equity 10% -> 35%"}
MISSING_SHARE = 0.08  # of interest_cover and r_and_d_share


def schema_text() -> str:
    """The ratios dataset's schema (the package file ``engine/demo/ratios.toml``)."""
    return files("engine.demo").joinpath("ratios.toml").read_text(encoding="utf-8")


def true_margin(frame: pd.DataFrame) -> np.ndarray:
    """The target before noise, from complete values (tests compare models with it)."""
    leverage_cliff = -0.06 * (frame["debt_to_equity"].to_numpy(float) > 2.0)
    liquidity = 0.03 * np.tanh(np.log(frame["current_ratio"].to_numpy(float)))
    cash = 0.015 * np.log1p(frame["cash_months"].to_numpy(float))
    innovating_exporter = 0.04 * ((frame["r_and_d_share"].to_numpy(float) > 0) & (frame["exporter"].to_numpy() == 1))
    sector = np.array(SECTOR_MARGIN)[pd.Categorical(frame["sector"], categories=SECTORS).codes]
    return 0.04 + leverage_cliff + liquidity + cash + innovating_exporter + sector


def generate(n: int = 5000, seed: int = 0, *, shifted: bool = False, first_id: int = 1) -> pd.DataFrame:
    """One fiscal year of firms; ``shifted`` draws the later year with the known shift."""
    rng = np.random.default_rng(seed + (1_000 if shifted else 0))
    sector = rng.choice(len(SECTORS), n, p=(0.25, 0.2, 0.15, 0.15, 0.15, 0.1))
    employees = np.maximum(1, np.round((rng.pareto(1.1, n) + 1) * 4)).astype(int)
    size_band = np.where(employees < 50, "Small", np.where(employees < 250, "Medium", "Large"))
    revenue = np.round(employees * rng.lognormal(11.5, 0.8, n), -3)
    has_debt = rng.random(n) > 0.3  # 30% carry no debt at all: zero inflation
    debt_to_equity = np.where(has_debt, rng.lognormal(-0.2, 1.0, n), 0.0) * (1.5 if shifted else 1.0)
    current_ratio = rng.lognormal(0.3, 0.6, n)
    cash_months = np.round(rng.gamma(0.8, 3.0, n) * (0.67 if shifted else 1.0), 1)
    interest_cover = np.where(has_debt, rng.standard_t(2.0, n) * 4 + 5, np.nan)  # outliers both ways
    r_and_d_share = np.where(rng.random(n) < 0.6, 0.0, rng.beta(1.2, 12, n))
    exporter = (rng.random(n) < np.where(sector == 0, 0.5, 0.2)).astype(int)
    owners = rng.choice(len(OWNERS), n, p=(0.3, 0.15, 0.35, 0.2) if shifted else (0.45, 0.2, 0.1, 0.25))
    days_receivable = rng.negative_binomial(3, 0.06, n)
    frame = pd.DataFrame(
        {
            "firm_id": [f"F-{i:06d}" for i in range(first_id, first_id + n)],
            "fiscal_year_end": rng.choice(["2025-03-31", "2025-06-30", "2025-12-31"] if shifted else ["2024-03-31", "2024-06-30", "2024-12-31"], n),
            "sector": np.asarray(SECTORS)[sector],
            "size_band": size_band,
            "employees": employees,
            "revenue": revenue,
            "debt_to_equity": debt_to_equity.round(3),
            "current_ratio": current_ratio.round(3),
            "cash_months": cash_months,
            "interest_cover": np.round(interest_cover, 2),
            "days_receivable": days_receivable,
            "r_and_d_share": r_and_d_share.round(4),
            "exporter": exporter,
            "ownership": np.asarray(OWNERS)[owners],
        }
    )
    frame["next_year_margin"] = (true_margin(frame) + rng.normal(0, 0.025, n)).round(4)
    for column in ("interest_cover", "r_and_d_share"):
        frame.loc[rng.random(n) < MISSING_SHARE, column] = np.nan
    return frame


def write_ratios(out_dir, n: int = 5000, seed: int = 0) -> dict[str, str]:
    """Write ratios.csv, current.csv (the later, shifted year), recent.csv (unchanged
    population, never trained on), schema.toml and truth/truth.json under ``out_dir``."""
    return write_periods(out_dir, "ratios", generate, schema_text(), {"shifted_columns": SHIFTED, "sector_margin": dict(zip(SECTORS, SECTOR_MARGIN, strict=True))}, n, seed)
