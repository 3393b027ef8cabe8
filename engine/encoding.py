"""Plain-JSON helpers shared by the store and the HTTP API."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None, recursively (JSON has no NaN; PostgreSQL
    rejects it in JSON columns). numpy values become plain Python values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if hasattr(value, "tolist"):
        return finite(value.tolist())
    return value
