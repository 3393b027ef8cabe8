"""The versioned model registry: immutable versions, aliases, audit log, training lock."""

from engine.registry.versions import Registry, sha256_file

__all__ = ["Registry", "analyzer_writers", "load_analyzer", "sha256_file"]


def __getattr__(name: str):
    """The model artifacts (skops, scikit-learn) load on first use, not with the registry."""
    if name in ("analyzer_writers", "load_analyzer"):
        from engine.registry import artifacts

        return getattr(artifacts, name)
    raise AttributeError(f"module 'engine.registry' has no attribute {name!r}")
