"""Shared pieces of the pages. Each module has a pure ``*_data(analysis, ...)`` function (plain
data: dicts, rows, frames) used both by its Streamlit ``render`` and by ``app.report``."""
