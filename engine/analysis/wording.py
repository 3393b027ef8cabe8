"""Every sentence the analysis shows to users, in one place.

The maths hands plain numbers here; nothing else in the engine builds a user-facing sentence
about an analysis. Keeping them together is what lets the wording follow the dataset (its
entity noun, its feature labels and directions) instead of the demo.
"""

from __future__ import annotations

ENTITY_PLURAL = "companies"

PERCENTILE_BANDS = ((10, "significantly below"), (25, "below"), (75, "average"), (90, "above"), (101, "significantly above"))
PERCENTILE_VERDICTS = {
    "significantly below": "Well below peers",
    "below": "Below peers",
    "average": "In line with peers",
    "above": "Above peers",
    "significantly above": "Well above peers",
}

RECOMMENDATION_NOTE = (
    "Peer uplift: outcome-rate difference between similar companies ahead of you on this feature "
    "and the rest. Model effect: the outcome model's estimated change in probability if only this "
    "feature moved to the target; an estimate, not a causal promise."
)


# ----- peer groups ----------------------------------------------------------------------------
def peer_group(description: str) -> str:
    """'retail, medium, northeast companies', or 'all companies' for the population."""
    return f"all {ENTITY_PLURAL}" if description == "all" else f"{description} {ENTITY_PLURAL}"


# ----- anomalies ------------------------------------------------------------------------------
def value_anomaly(label: str, z: float, sign: int, value: float, median: float, group: str) -> str:
    direction = "high" if z > 0 else "low"
    judged = "" if sign == 0 else (" (favourable)" if sign * z > 0 else " (unfavourable)")
    return f"{label} is unusually {direction}{judged}: {value:,.4g} against a median of {median:,.4g} for {group} (robust z = {z:+.1f})."


def gap_anomaly(high_label: str, high: float, low_label: str, low: float, gap: float, z: float) -> str:
    return f"{high_label} ({high:.1f}) is far ahead of {low_label} ({low:.1f}): a gap of {gap:.1f} points is rare among all {ENTITY_PLURAL} (robust z = {z:+.1f})."


def multivariate_anomaly() -> str:
    return f"The combination of values is unusual: the profile is more isolated than 99% of {ENTITY_PLURAL} (Isolation Forest)."


# ----- percentiles ----------------------------------------------------------------------------
def percentile_band(rank: float) -> str:
    for upper, band in PERCENTILE_BANDS:
        if rank < upper:
            return band
    return PERCENTILE_BANDS[-1][1]


def percentile_message(label: str, value: float, median: float, rank: float, better: str, peers: int, group: str) -> str:
    """'Above peers: revenue 20% higher than the median of 150 retail, medium companies.'"""
    band = percentile_band(rank)
    verdict = PERCENTILE_VERDICTS[band]
    if better == "none":
        verdict = "Typical of peers" if band == "average" else "Unlike peers"
    if abs(median) > 1e-12:
        change = (value - median) / abs(median)
        diff = f"{abs(change):.0%} {'higher' if change >= 0 else 'lower'}"
    else:
        diff = f"{abs(value - median):,.3g} {'higher' if value >= median else 'lower'}"
    where = f"all {peers:,}" if group == "all" else f"{peers:,} {group}"
    return f"{verdict}: {label} {diff} than the median of {where} {ENTITY_PLURAL}."


# ----- recommendations and predictions --------------------------------------------------------
def default_action(label: str, target: float) -> str:
    return f"Move {label.lower()} towards {target:,.4g}"


def prediction_label(target_label: str, probability: float) -> str:
    return f"{target_label}: {'likely' if probability >= 0.5 else 'unlikely'}"


# ----- segments -------------------------------------------------------------------------------
def segment_name(level: float, spread: float, top_label: str, bottom_label: str) -> str:
    """A persona name from a centroid's mean level and spread (robust-sd units)."""
    if spread < 1.0 and level > 0.5:
        return "All-round leaders"
    if spread < 1.0 and level < -0.5:
        return "Early-stage across the board"
    if spread < 1.0:
        return "Balanced middle"
    return f"{top_label.capitalize()}-led: high {top_label}, low {bottom_label}"


def segment_description(size: int, share: float, strongest: list[tuple[str, float]], weakest: list[tuple[str, float]]) -> str:
    top = ", ".join(f"{label} ({value:+.1f} sd)" for label, value in strongest)
    bottom = ", ".join(f"{label} ({value:+.1f} sd)" for label, value in weakest)
    return f"{size:,} {ENTITY_PLURAL} ({share:.0%}). Strongest: {top}; weakest: {bottom}, against the whole population."
