"""The files of a built-in dataset drawn one period at a time (customers, ratios): the training
table, the later shifted period (``current.csv``), more rows of the unchanged population that
no model trains on (``recent.csv``), the schema and the planted truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

RECENT_SEED_OFFSET = 2_000  # recent.csv: fresh draws of the unchanged population (shifted draws use +1,000)


def write_periods(out_dir, table: str, generate: Callable, schema_text: str, truth: dict, n: int, seed: int) -> dict[str, str]:
    """Write ``<table>.csv`` (n rows), current.csv and recent.csv (n/2 rows each, ids after the
    training rows), schema.toml and truth/truth.json; -> the path of each file by role.
    ``generate(n, seed, shifted=..., first_id=...)`` draws one period."""
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    paths = {table: out / f"{table}.csv", "current": out / "current.csv", "recent": out / "recent.csv", "schema": out / "schema.toml", "truth": out / "truth" / "truth.json"}
    later = max(n // 2, 1)
    generate(n, seed).to_csv(paths[table], index=False)
    generate(later, seed, shifted=True, first_id=n + 1).to_csv(paths["current"], index=False)
    generate(later, seed + RECENT_SEED_OFFSET, first_id=n + later + 1).to_csv(paths["recent"], index=False)
    paths["schema"].write_text(schema_text, encoding="utf-8")
    paths["truth"].write_text(json.dumps({**truth, "seed": seed, "rows": n}, indent=2) + "\n", encoding="utf-8")
    return {role: str(path) for role, path in paths.items()}
