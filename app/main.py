"""Entry script: page config, the page list, then the first-start check. Nothing else.

The pages are registered before anything else runs, so the sidebar never falls back to
Streamlit's automatic file list, and a page opened during the first start shows its progress."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import bootstrap, common  # noqa: E402

st.set_page_config(page_title="Benchmarking AI", page_icon="📊", layout="wide")

VIEWS = Path(__file__).parent / "views"  # not "pages/": that name makes Streamlit list raw file names
page = st.navigation([
    st.Page(VIEWS / "analyze.py", title="Analyze", icon="🔎", default=True),
    st.Page(VIEWS / "benchmarks.py", title="Benchmarks", icon="📈"),
    st.Page(VIEWS / "segments.py", title="Segments", icon="🧩"),
    st.Page(VIEWS / "model.py", title="Model & explanations", icon="🧠"),
    st.Page(VIEWS / "monitoring.py", title="Monitoring", icon="🩺"),
    st.Page(VIEWS / "models.py", title="Models", icon="🗂️"),
    st.Page(VIEWS / "batch.py", title="Batch", icon="📦"),
])
if not bootstrap.ensure_ready(common.workspace()):
    st.stop()
common.sidebar()
page.run()
bootstrap.warm_up(str(common.home()), common.workspace())  # after the page: a warm-up beside it slows it down
