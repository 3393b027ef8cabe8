"""The built-in demo dataset: generator, schema file, planted truth and replayed traffic."""

from engine.demo.generator import SCHEMA_TOML, generate, write_demo

__all__ = ["SCHEMA_TOML", "generate", "write_demo"]
