"""Benchmarking AI engine: the pure-Python core (no Streamlit). Start at ``engine.api``."""

__version__ = "0.1.0"
