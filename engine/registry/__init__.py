"""The versioned model registry: immutable versions, aliases, audit log, training lock."""

from engine.registry.artifacts import analyzer_writers, load_analyzer
from engine.registry.versions import Registry, sha256_file

__all__ = ["Registry", "analyzer_writers", "load_analyzer", "sha256_file"]
