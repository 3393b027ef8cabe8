"""The typed result of one profile's analysis (the DESIGN.md "Analysis result" contract)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Analysis:
    """One profile's analysis; ``to_dict`` gives the DESIGN.md JSON."""

    model_version: str | None
    profile: dict
    segment: dict
    anomalies: list[dict]
    recommendations: list[dict]
    similar: list[dict]
    percentiles: list[dict]
    prediction: dict | None = None
    entity_id: str | None = None  # the profile's id (schema's id column) as text
    entity: dict | None = None  # the schema's nouns: {"singular": ..., "plural": ...}
    missing: list | None = None  # features the profile left missing (analysed without them)
    no_action_reason: str | None = None  # why ``recommendations`` is empty, in words

    def to_dict(self) -> dict:
        out = {name: getattr(self, name) for name in JSON_FIELDS}
        if out["prediction"] is None:  # no outcome model: the key is absent, not null
            del out["prediction"]
        return out


# The fields of the JSON contract, in order (``entity_id`` is internal: the id is in the profile).
JSON_FIELDS = ("model_version", "entity", "missing", "profile", "segment", "anomalies", "recommendations", "no_action_reason", "similar", "percentiles", "prediction")
