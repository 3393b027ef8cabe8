"""The built-in datasets (companies: the demo; customers: a second one shaped unlike it):
generators, schema files, planted truth and replayed traffic."""

from engine.demo.customers import write_customers
from engine.demo.generator import generate, schema_text, write_demo

__all__ = ["generate", "schema_text", "write_customers", "write_demo"]
