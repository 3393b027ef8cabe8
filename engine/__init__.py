"""Benchmarking AI engine: the pure-Python core (no Streamlit). Start at ``engine.api``."""

import os

# OpenMP threads (XGBoost, scikit-learn) spin-wait by default; on a small shared machine that
# made one training 9x slower. Must be set before those libraries load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
