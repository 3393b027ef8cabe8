"""Entry script: page config, first-start bootstrap and the page list. Nothing else."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import bootstrap, common  # noqa: E402
from engine.errors import BenchError  # noqa: E402

st.set_page_config(page_title="Benchmarking AI", page_icon="📊", layout="wide")

try:
    bootstrap.ensure_ready(common.workspace())
except BenchError as exc:
    st.error(f"The app could not prepare its first model: {exc}")
    st.stop()

PAGES = Path(__file__).parent / "pages"
pages = [
    st.Page(PAGES / "analyze.py", title="Analyze", icon="🔎", default=True),
    st.Page(PAGES / "benchmarks.py", title="Benchmarks", icon="📈"),
    st.Page(PAGES / "segments.py", title="Segments", icon="🧩"),
    st.Page(PAGES / "model.py", title="Model & explanations", icon="🧠"),
    st.Page(PAGES / "monitoring.py", title="Monitoring", icon="🩺"),
    st.Page(PAGES / "models.py", title="Models", icon="🗂️"),
    st.Page(PAGES / "batch.py", title="Batch", icon="📦"),
]
page = st.navigation(pages)
common.sidebar()
page.run()
