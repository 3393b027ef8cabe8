"""Server-side render time of every page under AppTest: first run and a re-run after a widget
change. Prints a markdown table. Usage: BENCHAI_HOME=<trained home> python benchmarks/bench_app.py"""

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


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


def main() -> None:
    rows = []
    for name, (path, change) in PAGES.items():
        at = AppTest.from_file(MAIN, default_timeout=120)
        at.run()
        first = timed(lambda at=at, path=path: at.switch_page(path).run())
        if name.startswith("Analyze"):
            at.selectbox(key="load_id").set_value("3").run()
            at.button(key="load_btn").click().run()
        rerun = timed(lambda at=at, change=change: change(at))
        assert not at.exception, at.exception
        rows.append((name, first, rerun))
    print("| page | first run (s) | re-run after change (s) |\n| --- | ---: | ---: |")
    for name, first, rerun in rows:
        print(f"| {name} | {first:.2f} | {rerun:.2f} |")


if __name__ == "__main__":
    main()
