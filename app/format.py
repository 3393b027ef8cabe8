"""Numbers formatted for people: percent, currency, thousands separators."""

from __future__ import annotations

import math

from engine.analysis import wording


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value) -> str:
    """A number for people, as the engine's sentences write it: thousands separators, whole
    from 1,000 up, else 4 significant digits, never an exponent ('868,600', '12.35', '0.0457')."""
    return "—" if is_missing(value) else wording.number(float(value))


def signed(value) -> str:
    """A change: "+1,250", "-0.0457", "0" (an ASCII minus: st.metric colours a delta by it)."""
    if is_missing(value):
        return "—"
    text = number(abs(float(value)))
    return text if float(value) == 0 else ("+" if float(value) > 0 else "-") + text


def percent(value, digits: int = 1) -> str:
    """A share 0..1 -> '12.3%'."""
    return "—" if is_missing(value) else f"{float(value) * 100:.{digits}f}%"


def currency(value, symbol: str = "$") -> str:
    if is_missing(value):
        return "—"
    value = float(value)
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.0f}"


def rank(value) -> str:
    """A percentile rank 0..100 -> '73rd percentile'."""
    if is_missing(value):
        return "—"
    n = int(round(float(value)))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} percentile"


def value(feature: dict | None, x) -> str:
    """Format a feature's value by its kind and unit (schema feature dict): yes/no for a flag,
    the text of a category, a currency, a percentage, a score with one decimal."""
    if is_missing(x):
        return "—"
    kind = (feature or {}).get("kind")
    if kind == "binary":
        return "yes" if float(x) >= 0.5 else "no"
    if kind == "category" or isinstance(x, str):
        return str(x)
    unit = (feature or {}).get("unit")
    if unit == "USD":
        return currency(x)
    if unit == "ratio":
        return percent(x)
    if (feature or {}).get("kind") == "score":
        return f"{float(x):.1f}"
    return number(x)


# Model metrics: one name and one line of meaning each, for every table, metric and chart.
METRICS = {
    "roc_auc": ("ROC AUC", "How well the model ranks: the chance a random positive case scores above a random negative one (0.5 is a coin toss, 1 is perfect)."),
    "pr_auc": ("PR AUC", "Average precision over all thresholds: how clean the flagged cases are, for a rare outcome."),
    "accuracy": ("Accuracy", "Share of cases the model gets right at a 50% probability threshold."),
    "precision": ("Precision", "Of the cases the model flags, the share that really have the outcome."),
    "recall": ("Recall", "Of the cases with the outcome, the share the model flags."),
    "f1": ("F1", "The balance of precision and recall (their harmonic mean); higher is better."),
    "brier": ("Brier score", "Mean squared gap between the predicted probability and what happened; lower is better."),
    "rmse": ("RMSE", "Typical size of a prediction's error, in the target's units (large errors weigh more); lower is better."),
    "mae": ("MAE", "Average size of a prediction's error, in the target's units; lower is better."),
    "r2": ("R²", "Share of the target's variation the model explains (0: no better than the average, 1: perfect)."),
}


def metric_name(key: str) -> str:
    return METRICS.get(key, (label(key),))[0]


def metric_help(key: str) -> str | None:
    return METRICS.get(key, (None, None))[1]


def entity(holder: dict | None) -> dict:
    """The entity nouns of an analysis or a schema dict: {"singular", "plural"} (the demo's
    'company'/'companies' for versions trained before the schema had nouns)."""
    return (holder or {}).get("entity") or {"singular": "company", "plural": "companies"}


def label(name: str) -> str:
    """snake_case -> 'Snake case'."""
    return str(name).replace("_", " ").capitalize()
