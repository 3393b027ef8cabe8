"""Chi-square test of homogeneity (categorical columns, small references).

Evidently's default for categorical columns with at most 1000 reference rows. Evidently runs a
goodness-of-fit test that treats the reference proportions as exact; when the reference is no
larger than the current data that roughly doubles the statistic and flags about a third of
unchanged columns. Here both samples are treated as samples (2 x k contingency table), which
keeps false alarms at the nominal 5%. Numeric columns can use it on their reference quantile bins.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from engine.monitoring.drift.registry import DriftInput, DriftTest, register


def chisquare_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """p-value of Pearson's chi-square test that two count vectors share one distribution.

    ``reference_counts`` and ``current_counts`` are aligned counts per category (or bin).
    Categories empty on both sides are ignored; a single shared category gives 1.0; nan when
    either side has no observations.
    """
    table = np.vstack([reference_counts, current_counts]).astype(float)
    if table[0].sum() <= 0 or table[1].sum() <= 0:
        return float("nan")
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    # No Yates correction: it only applies to 2 x 2 tables and would make binary columns
    # behave differently from the others.
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def _chisquare_on_counts(data: DriftInput) -> float:
    return chisquare_pvalue(data.reference_counts, data.current_counts)


register(
    DriftTest(
        name="chisquare",
        column_types=("categorical", "numeric"),
        default_threshold=0.05,
        higher_is_drift=False,
        description=(
            "Chi-square test of homogeneity on category counts (numeric columns: reference "
            "decile bins); drift when p < 0.05."
        ),
        func=_chisquare_on_counts,
    )
)
