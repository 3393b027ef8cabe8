"""Champion/challenger: which alias serves an id, and which model wins on feedback."""

from __future__ import annotations

import hashlib
import math

import pandas as pd


def route(company_id, share: float, salt: str = "challenger") -> str:
    """'challenger' for a stable ``share`` of companies (by hash of the id), else 'champion'."""
    if share <= 0 or company_id is None:
        return "champion"
    digest = hashlib.sha256(f"{salt}:{company_id}".encode()).hexdigest()
    return "challenger" if int(digest[:8], 16) / 0xFFFFFFFF < share else "champion"


def compare_models(labelled: pd.DataFrame) -> dict:
    """Champion vs challenger on feedback: accuracy by a two-proportion z-test.

    labelled: alias ('champion', 'challenger' or 'shadow'), probability, outcome."""
    frame = labelled.dropna(subset=["probability", "outcome"])
    frame = frame.assign(alias=frame["alias"].replace({"shadow": "challenger"}))
    stats = {}
    for alias in ("champion", "challenger"):
        g = frame[frame["alias"] == alias]
        correct = ((g["probability"] >= 0.5).astype(int) == g["outcome"].astype(int)).sum()
        stats[alias] = {"n": len(g), "correct": int(correct), "accuracy": float(correct / len(g)) if len(g) else None}
    a, b = stats["champion"], stats["challenger"]
    if min(a["n"], b["n"]) < 30:
        return {**stats, "test": "two-proportion z-test", "p_value": None, "verdict": "not enough feedback yet (need 30 labelled predictions per model)"}
    pooled = (a["correct"] + b["correct"]) / (a["n"] + b["n"])
    se = math.sqrt(pooled * (1 - pooled) * (1 / a["n"] + 1 / b["n"])) or 1e-12
    z = (b["accuracy"] - a["accuracy"]) / se
    from scipy.stats import norm  # scipy loads here, not with every page that routes

    p_value = float(2 * norm.sf(abs(z)))
    if p_value >= 0.05:
        verdict = "no significant difference"
    else:
        verdict = "challenger is better" if z > 0 else "champion is better"
    return {**stats, "test": "two-proportion z-test", "z": float(z), "p_value": p_value, "verdict": verdict}
