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

    def to_dict(self) -> dict:
        out = {
            "model_version": self.model_version,
            "profile": self.profile,
            "segment": self.segment,
            "anomalies": self.anomalies,
            "recommendations": self.recommendations,
            "similar": self.similar,
            "percentiles": self.percentiles,
        }
        if self.prediction is not None:
            out["prediction"] = self.prediction
        return out
