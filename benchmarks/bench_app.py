"""Server-side render time of every page under AppTest: first run (switching to the page) and a
re-run after a widget change, each beside the floor measured in the same run: a re-run of a
blank Streamlit page (a title and a button) after a click. Prints a markdown table with library
versions, thread settings and the load average.

    BENCHAI_HOME=<trained home> python benchmarks/bench_app.py [--repeat 3]

The first Analyze of the process (loading the libraries and the version) is timed on its own;
the page figures that follow are the median of ``--repeat`` passes over a warm process.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from streamlit.testing.v1 import AppTest

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
BLANK = 'import streamlit as st\nst.title("Floor")\nif st.button("Go", key="go"):\n    st.session_state["n"] = st.session_state.get("n", 0) + 1\nst.write(f"clicked {st.session_state.get(\'n\', 0)} times")\n'


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def analyze_change(at):
    at.button(key="FormSubmitter:profile-Analyze").click().run()


PAGES = {
    "Analyze (submit company 3)": ("views/analyze.py", analyze_change),
    "Benchmarks": ("views/benchmarks.py", lambda at: at.selectbox(key="bm_feature").set_value("technology").run()),
    "Segments": ("views/segments.py", lambda at: at.run()),
    "Model & explanations": ("views/model.py", lambda at: at.selectbox(key="dep_feature").set_value("data").run()),
    "Monitoring": ("views/monitoring.py", lambda at: at.slider(key="mon_days").set_value(14).run()),
    "Models": ("views/models.py", lambda at: at.run()),
    "Batch": ("views/batch.py", lambda at: at.run()),
}


def page_times(name: str, path: str, change) -> tuple[float, float]:
    """(first run of the page, re-run after its change) in a new session of this process."""
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.run()
    first = timed(lambda: at.switch_page(path).run())
    if name.startswith("Analyze"):
        at.selectbox(key="load_id").set_value("3").run()
        at.button(key="load_btn").click().run()
    rerun = timed(lambda: change(at))
    assert not at.exception, at.exception
    return first, rerun


def floor_time(script: Path) -> float:
    """A re-run of the blank page after a click."""
    at = AppTest.from_file(str(script), default_timeout=60)
    at.run()
    rerun = timed(lambda: at.button(key="go").click().run())
    assert not at.exception, at.exception
    return rerun


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        blank = Path(tmp) / "blank.py"
        blank.write_text(BLANK)
        cold = page_times("Analyze", *PAGES["Analyze (submit company 3)"])[1]
        floors = [floor_time(blank) for _ in range(args.repeat)]
        runs = {name: [page_times(name, *spec) for _ in range(args.repeat)] for name, spec in PAGES.items()}
        floors += [floor_time(blank) for _ in range(args.repeat)]
    floor = min(floors)
    threads = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    libs = " · ".join(f"{n} {version(n)}" for n in ("streamlit", "plotly", "pandas", "scikit-learn", "xgboost"))
    print(f"python {platform.python_version()} · {libs} · {os.cpu_count()} CPUs · {threads} · load average {os.getloadavg()[0]:.2f}\n")
    print(f"Floor: a re-run of a blank page (a title and a button) after a click, {floor * 1000:.1f} ms (the fastest of {2 * args.repeat}, before and after).")
    print(f"First Analyze of the process (libraries and the version loaded): {cold:.2f} s.\n")
    print(f"| page | first run (s, median of {args.repeat}) | ÷ floor | re-run after change (s) | ÷ floor |\n| --- | ---: | ---: | ---: | ---: |")
    for name, times in runs.items():
        first = statistics.median(f for f, _ in times)
        rerun = statistics.median(r for _, r in times)
        print(f"| {name} | {first:.2f} | {first / floor:.0f}× | {rerun:.2f} | {rerun / floor:.0f}× |")


if __name__ == "__main__":
    main()
