"""The built-in datasets (companies: the demo; customers and ratios: shaped unlike it):
generators, schema files, planted truth and replayed traffic."""

from engine.demo.customers import write_customers
from engine.demo.generator import generate, schema_text, write_demo
from engine.demo.ratios import write_ratios

__all__ = ["generate", "schema_text", "write_customers", "write_demo", "write_ratios"]
