"""The built-in demo dataset: generator, schema file, planted truth and replayed traffic."""

from engine.demo.generator import generate, schema_text, write_demo

__all__ = ["generate", "schema_text", "write_demo"]
