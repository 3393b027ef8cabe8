"""The operational database: prediction log, feedback, alerts and training jobs."""

from engine.store.store import Store, default_url

__all__ = ["Store", "default_url"]
