"""Every sentence the analysis shows to users, in one place.

The maths hands plain numbers here; nothing else in the engine builds a user-facing sentence
about an analysis. Keeping them together is what lets the wording follow the dataset (its
entity noun, its feature labels and directions) instead of the demo: every sentence about a
group takes the schema's plural noun (``plural``), and only features with a direction are
called favourable, strongest or weakest.
"""

from __future__ import annotations

import math

PERCENTILE_BANDS = ((10, "significantly below"), (25, "below"), (75, "average"), (90, "above"), (101, "significantly above"))
PERCENTILE_VERDICTS = {
    "significantly below": "Well below peers",
    "below": "Below peers",
    "average": "In line with peers",
    "above": "Above peers",
    "significantly above": "Well above peers",
}


def recommendation_note(plural: str, target=None) -> str:
    """What the numbers of an action mean, with their units."""
    outcome = "the desirable outcome" if target is None else f"'{target.label}'" if target.desirable else f"not '{target.label}'"
    model = (
        " Model effect: no outcome model."
        if target is None
        else f" Model effect: the change in the predicted {target.label.lower()} (in its own units) if only this feature moved to the target."
        if target.kind == "numeric"
        else f" Model effect: the change in the predicted probability of '{target.label}' (percentage points) if only this feature moved to the target."
    )
    return (
        f"Peer uplift: among similar {plural}, the share with {outcome} for those ahead on this feature minus the share for the rest (percentage points)."
        + model
        + " An estimate from data, not a causal promise."
    )


# ----- peer groups ----------------------------------------------------------------------------
def peer_group(description: str, plural: str) -> str:
    """'retail, medium, northeast companies', or 'all companies' for the population."""
    return f"all {plural}" if description == "all" else f"{description} {plural}"


# ----- numbers --------------------------------------------------------------------------------
def number(x: float) -> str:
    """A number for people: thousands separators, never an exponent, whole numbers from 1,000 up,
    else up to 4 significant digits ('868,600', '302.5', '12.35', '0.0457', '-1.25')."""
    if x != x:  # NaN
        return "—"
    size = abs(x)
    if size >= 1000:
        return f"{x:,.0f}"
    if size >= 1 or size == 0:
        return f"{x:.4g}"
    digits = max(2, 3 - math.floor(math.log10(size)))
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


# ----- anomalies ------------------------------------------------------------------------------
def direction(sign: int, z: float) -> str:
    """'favourable', 'unfavourable' or 'neutral' (a feature without a better direction)."""
    if sign == 0 or z == 0:
        return "neutral"
    return "favourable" if sign * z > 0 else "unfavourable"


def value_anomaly(label: str, z: float, sign: int, value: float, median: float, group: str) -> str:
    high_low = "high" if z > 0 else "low"
    judged = "" if sign == 0 else f" ({direction(sign, z)})"
    return (f"{label} is unusually {high_low}{judged}: {number(value)} against a median of {number(median)} for {group}, "
            f"{abs(z):.1f} times the usual spread {'above' if z > 0 else 'below'} it (robust z).")


def rare_value(label: str, value: str, share: float, peers: int, group: str) -> str:
    """'Contract = two year is rare: 0.4% of 1,200 retail customers have it.'"""
    return f"{label} = {value} is rare: {share:.1%} of {peers:,} {group} have it."


def gap_anomaly(high_label: str, high: float, low_label: str, low: float, gap: float, z: float, plural: str) -> str:
    return f"{high_label} ({high:.1f}) is far ahead of {low_label} ({low:.1f}): a gap of {gap:.1f} points is rare among all {plural} (robust z = {z:+.1f})."


def multivariate_anomaly(plural: str) -> str:
    return f"The combination of values is unusual: the profile is more isolated than 99% of {plural} (an Isolation Forest: a model that counts how few random cuts set a profile apart from the rest)."


# ----- percentiles ----------------------------------------------------------------------------
def percentile_band(rank: float) -> str:
    for upper, band in PERCENTILE_BANDS:
        if rank < upper:
            return band
    return PERCENTILE_BANDS[-1][1]


def percentile_message(label: str, value: float, median: float, rank: float, better: str, peers: int, group: str, plural: str) -> str:
    """'Above peers: revenue 20% higher than the median of 150 retail, medium companies.'

    For a feature without a better direction ``rank`` is the plain position (share of peers
    below) and the sentence says only where the value lies."""
    where = f"all {peers:,}" if group == "all" else f"{peers:,} {group}"
    if better == "none":
        return f"Higher than {rank:.0f}% of peers: {label} {number(value)} against a median of {number(median)} for {where} {plural}."
    verdict = PERCENTILE_VERDICTS[percentile_band(rank)]
    if abs(median) > 1e-12:
        change = (value - median) / abs(median)
        diff = f"{abs(change):.0%} {'higher' if change >= 0 else 'lower'}"
    else:
        diff = f"{number(abs(value - median))} {'higher' if value >= median else 'lower'}"
    return f"{verdict}: {label} {diff} than the median of {where} {plural}."


# ----- recommendations and predictions --------------------------------------------------------
NO_ACTION = {
    "nothing actionable": "No action: none of this profile's known features can be acted on (the schema marks none actionable with a better direction, or their values are missing).",
    "nobody ahead": "No action: similar {plural} that did better are not clearly ahead of this one on any feature that can be acted on.",
    "no expected benefit": "No action: the outcome model expects none of the changes that set better similar {plural} apart to help this one.",
}


def no_action(why: str, plural: str) -> str:
    return NO_ACTION[why].format(plural=plural)


def category_action(label: str, value: str) -> str:
    return f"Switch {label.lower()} to {value}"


def default_action(label: str, target: float, binary: bool = False) -> str:
    if binary:
        return f"Switch {label.lower()} to {'yes' if target >= 0.5 else 'no'}"
    return f"Move {label.lower()} towards {number(target)}"


def predicted_value(target_label: str, value: float) -> str:
    return f"{target_label}: predicted {number(value)}"


def prediction_label(target_label: str, probability: float) -> str:
    return f"{target_label}: {'likely' if probability >= 0.5 else 'unlikely'}"


# ----- segments -------------------------------------------------------------------------------
def segment_name(level: float, spread: float, top_label: str, bottom_label: str, directed: bool) -> str:
    """A persona name from a centroid's mean level and spread (robust-sd units). 'Leaders' and
    'early-stage' only when every clustered feature is better when higher (``directed``)."""
    if spread < 1.0 and abs(level) > 0.5:
        if directed:
            return "All-round leaders" if level > 0 else "Early-stage across the board"
        return "High across the board" if level > 0 else "Low across the board"
    if spread < 1.0:
        return "Balanced middle"
    return f"{top_label.capitalize()}-led: high {top_label}, low {bottom_label}"


def segment_description(size: int, share: float, above: list[tuple[str, float]], below: list[tuple[str, float]], plural: str) -> str:
    """'600 companies (20%). Above the population: data (+1.2 sd); below: people (-0.8 sd).'"""
    parts = [f"{size:,} {plural} ({share:.0%})."]
    if above:
        parts.append("Above the population: " + ", ".join(f"{label} ({value:+.1f} sd)" for label, value in above) + ".")
    if below:
        parts.append("Below: " + ", ".join(f"{label} ({value:+.1f} sd)" for label, value in below) + ".")
    if not above and not below:
        parts.append("Close to the population on every clustered feature.")
    return " ".join(parts)
