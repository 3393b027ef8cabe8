"""The second built-in dataset: subscription customers, shaped unlike the company demo.

Text ids (``CU-00042``), a monthly ``month`` column (the schema's ``time``), two segment
columns, three category and three yes/no predictors written as words and digits alike
("Yes"/"No", 1/0, "true"/"false"), heavy-tailed amounts with missing values written as empty
cells, blanks and "?", no assessment scores, and the entity noun "customer". Churn
(``churned`` = "Yes"/"No", an undesirable outcome) follows a known logistic model in which the
contract type matters most, so tests can check that a category moves the prediction.
``current.csv`` is a later period in which two columns drift (more fibre internet, higher
charges). A rare payment method (0.3%) exists so rare-category anomalies have something to find.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

from engine.demo.periods import write_periods

REGIONS = ("North", "South", "East", "West")
CHANNELS = ("Online", "Store", "Partner")
CONTRACTS = ("Month-to-month", "One year", "Two year")
PAYMENTS = ("Electronic check", "Mailed check", "Bank transfer", "Credit card", "Crypto wallet")
PAYMENT_SHARES = (0.33, 0.22, 0.22, 0.227, 0.003)  # the last one is rare on purpose
INTERNET = ("DSL", "Fiber optic", "No internet")
# The true churn model (log-odds); truth.json records it.
CHURN = {
    "intercept": -2.2,
    "contract=Month-to-month": 1.7,
    "contract=Two year": -1.2,
    "tenure_months": -0.03,
    "internet_service=Fiber optic": 0.6,
    "payment_method=Electronic check": 0.5,
    "autopay": -0.5,
    "support_tickets": 0.18,
    "senior": 0.3,
    # Not additive in the raw columns: the first months are riskier than a straight line in
    # tenure says, and fibre on a monthly contract more than the two effects added.
    "tenure_months<6": 1.5,
    "Fiber optic and Month-to-month": 0.8,
}
MISSING_SHARE = 0.04  # of monthly_charges and total_spend, written as "", " " or "?"
DRIFTED = ("internet_service", "monthly_charges")


def schema_text() -> str:
    """The customers dataset's schema (the package file ``engine/demo/customers.toml``)."""
    return files("engine.demo").joinpath("customers.toml").read_text(encoding="utf-8")


def generate(n: int = 5000, seed: int = 0, *, shifted: bool = False, first_id: int = 1) -> pd.DataFrame:
    """One period of customers; ``shifted`` draws the later, drifted period."""
    rng = np.random.default_rng(seed + (1_000 if shifted else 0))
    contract = rng.choice(len(CONTRACTS), n, p=(0.55, 0.25, 0.20))
    internet = rng.choice(len(INTERNET), n, p=(0.25, 0.6, 0.15) if shifted else (0.35, 0.45, 0.2))
    payment = rng.choice(len(PAYMENTS), n, p=PAYMENT_SHARES)
    tenure = np.clip(rng.gamma(1.2 + contract, 12.0), 0, 240).round()
    base = np.array([45.0, 80.0, 22.0])[internet] * (1.15 if shifted else 1.0)
    monthly = (base * rng.lognormal(0.0, 0.35, n)).round(2)
    total = (monthly * np.maximum(tenure, 1) * rng.lognormal(0.0, 0.25, n)).round(2)
    tickets = rng.negative_binomial(1, 0.45, n)  # mostly 0-2, a long tail
    autopay = rng.random(n) < np.where(payment >= 2, 0.8, 0.15)
    senior = rng.random(n) < 0.16
    paperless = rng.random(n) < 0.6
    logit = (
        CHURN["intercept"]
        + CHURN["contract=Month-to-month"] * (contract == 0)
        + CHURN["contract=Two year"] * (contract == 2)
        + CHURN["tenure_months"] * tenure
        + CHURN["internet_service=Fiber optic"] * (internet == 1)
        + CHURN["payment_method=Electronic check"] * (payment == 0)
        + CHURN["autopay"] * autopay
        + CHURN["support_tickets"] * tickets
        + CHURN["senior"] * senior
        + CHURN["tenure_months<6"] * (tenure < 6)
        + CHURN["Fiber optic and Month-to-month"] * ((internet == 1) & (contract == 0))
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    months = pd.period_range("2026-01" if shifted else "2025-01", periods=12, freq="M").astype(str)
    return pd.DataFrame(
        {
            "customer_id": [f"CU-{i:05d}" for i in range(first_id, first_id + n)],
            "month": rng.choice(months, n),
            "region": rng.choice(REGIONS, n, p=(0.3, 0.25, 0.25, 0.2)),
            "channel": rng.choice(CHANNELS, n, p=(0.5, 0.35, 0.15)),
            "tenure_months": tenure.astype(int),
            "monthly_charges": _with_blanks(rng, monthly),
            "total_spend": _with_blanks(rng, total),
            "support_tickets": tickets,
            "contract": np.asarray(CONTRACTS)[contract],
            "payment_method": np.asarray(PAYMENTS)[payment],
            "internet_service": np.asarray(INTERNET)[internet],
            "paperless_billing": np.where(paperless, "Yes", "No"),
            "autopay": np.where(autopay, "true", "false"),
            "senior": senior.astype(int),
            "churned": np.where(churned, "Yes", "No"),
        }
    )


def _with_blanks(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Numbers as text with ~MISSING_SHARE of them missing, written three different ways."""
    out = values.astype(object)
    gaps = np.flatnonzero(rng.random(len(values)) < MISSING_SHARE)
    out[gaps] = rng.choice(["", " ", "?"], len(gaps))
    return out


def write_customers(out_dir, n: int = 5000, seed: int = 0) -> dict[str, str]:
    """Write customers.csv, current.csv (the drifted later period), recent.csv (more customers of
    the unchanged population, never trained on), schema.toml and truth/truth.json under ``out_dir``."""
    return write_periods(out_dir, "customers", generate, schema_text(), {"churn_log_odds": CHURN, "drifted_columns": list(DRIFTED), "rare_payment_method": PAYMENTS[-1]}, n, seed)
