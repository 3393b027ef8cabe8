"""First start on an empty home: a built-in dataset -> first trained version -> monitoring
history, with progress shown. Later starts find a champion and return at once.

``BENCHAI_DEMO_KIND=customers`` (or ``ratios``) starts on another built-in dataset instead of the companies."""

from __future__ import annotations

import os

import streamlit as st

from engine import api
from engine.demo.replay import built_in_table, replay
from engine.registry.versions import FORMAT

STEPS = {"demo": 0.05, "train": 0.85, "replay": 0.10}


def _upgrade(ws: api.Workspace) -> None:
    champion = ws.aliases()["champion"]
    saved = ws.registry.manifest(champion).get("format")
    table = built_in_table(ws.home / "demo")
    if saved == FORMAT or table is None:
        return  # current, or the user's own data: the pages say what to do
    with st.status(f"Upgrading: the champion {champion} was saved in model format {saved}; this version reads format {FORMAT}. Retraining on the built-in data…", expanded=True) as status:
        bar = st.progress(0.0, text="Training the models")
        series = ws.home / "demo" / "benchmarks_monthly.csv"
        result = ws.train(table, ws.home / "demo" / "schema.toml", series=series if series.is_file() else None, progress=lambda step, f: bar.progress(min(float(f), 0.99), text=f"Training: {step}"))
        status.update(label=f"Upgraded: {result['version']} is serving ({result['reason']}).", state="complete", expanded=False)


def has_champion(ws: api.Workspace) -> bool:
    return bool(ws.aliases().get("champion"))


def ensure_ready(ws: api.Workspace) -> None:
    """Bootstrap the workspace's home when it has no champion, showing each step's progress;
    retrain on the built-in data when the champion was saved in a format this engine no longer
    reads (an upgrade), so the app does not start on a version it refuses."""
    if has_champion(ws):
        _upgrade(ws)
        return
    with st.status("First start: preparing the demo data and training the first models…", expanded=True) as status:
        bar = st.progress(0.0, text="Writing the demo dataset")
        demo = ws.home / "demo"
        kind = os.environ.get("BENCHAI_DEMO_KIND", "companies")
        files = api.demo_data(demo, kind=kind, rows=5000, seed=0)
        bar.progress(STEPS["demo"], text="Training the models")

        def on_progress(step: str, fraction: float) -> None:
            done = STEPS["demo"] + STEPS["train"] * max(0.0, min(1.0, float(fraction)))
            bar.progress(min(done, 0.99), text=f"Training: {step}")

        result = ws.train(files[kind], files["schema"], series=files.get("monthly"), progress=on_progress)
        st.write(f"Trained version **{result['version']}** in {result['seconds']:.0f} s.")
        bar.progress(STEPS["demo"] + STEPS["train"], text="Replaying a monitoring history")
        replayed = replay(ws)
        st.write(f"Replayed {replayed['predictions']:,} predictions and {replayed['feedback']:,} outcomes.")
        bar.progress(1.0, text="Ready")
        status.update(label="Ready: the first version is serving.", state="complete", expanded=False)
