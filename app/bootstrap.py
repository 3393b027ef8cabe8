"""First start on an empty home: a built-in dataset -> first trained version -> monitoring
history. Later starts find a champion and return at once.

The work runs in one server thread per home, not in a browser session's script run: a reload or
a click on another page while it runs shows its progress instead of interrupting it half-way
(Streamlit stops a session's script on every rerun). The training lock in the registry keeps
other processes (a CLI training, another app server) from training the same home at once.

``BENCHAI_DEMO_KIND=customers`` (or ``ratios``) starts on another built-in dataset instead of the
companies."""

from __future__ import annotations

import logging
import os
import threading
import time

import streamlit as st

from engine import api
from engine.demo.replay import built_in_table, replay
from engine.errors import BenchError, TrainingBusyError
from engine.registry.versions import FORMAT

STEPS = {"demo": 0.05, "train": 0.85, "replay": 0.10}
BUSY_POLL_S = 2.0
log = logging.getLogger(__name__)


def work_needed(ws: api.Workspace) -> str | None:
    """What the home needs before pages can run: "first start" (no champion), "upgrade" (the
    built-in champion was saved in a model format this engine no longer reads), or None. A
    user's own data is never retrained here: the pages say what to do."""
    champion = ws.aliases().get("champion")
    if not champion:
        return "first start"
    if ws.registry.manifest(champion).get("format") != FORMAT and built_in_table(ws.home / "demo") is not None:
        return "upgrade"
    return None


class FirstStart:
    """The first start (or upgrade) of one home, run once in a server thread. Sessions read its
    stage, progress, finished lines and error to show them."""

    def __init__(self, ws: api.Workspace):
        self.ws = ws
        self.stage, self.fraction, self.lines, self.error = "Starting", 0.0, [], None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the work unless it runs already (a retry after an error starts it again)."""
        with self._guard:
            if self.running:
                return
            self.error, self.lines = None, []
            self._thread = threading.Thread(target=self._run, name="benchai-first-start", daemon=True)
            self._thread.start()

    def _step(self, stage: str, fraction: float) -> None:
        self.stage, self.fraction = stage, min(max(float(fraction), 0.0), 0.99)

    def _run(self) -> None:
        try:
            while (need := work_needed(self.ws)) is not None:
                try:
                    self._first_start() if need == "first start" else self._upgrade()
                except TrainingBusyError:  # another process trains this home: wait for its result
                    self._step("Another training of this home is running; waiting for it to finish", self.fraction)
                    time.sleep(BUSY_POLL_S)
        except BenchError as exc:
            self.error = str(exc)
        except Exception as exc:  # shown as one line; the traceback goes to the server log
            log.exception("first start failed")
            self.error = f"{type(exc).__name__}: {exc}"

    def _training_progress(self, start: float, span: float):
        return lambda step, fraction: self._step(f"Training: {step}", start + span * max(0.0, min(1.0, float(fraction))))

    def _first_start(self) -> None:
        self._step("Writing the demo dataset", 0.0)
        demo = self.ws.home / "demo"
        kind = os.environ.get("BENCHAI_DEMO_KIND", "companies")
        files = api.demo_data(demo, kind=kind, rows=5000, seed=0)
        self._step("Training the models", STEPS["demo"])
        result = self.ws.train(files[kind], files["schema"], series=files.get("monthly"), progress=self._training_progress(STEPS["demo"], STEPS["train"]))
        self.lines.append(f"Trained version **{result['version']}** in {result['seconds']:.0f} s.")
        self._step("Replaying a monitoring history", STEPS["demo"] + STEPS["train"])
        replayed = replay(self.ws)
        self.lines.append(f"Replayed {replayed['predictions']:,} predictions and {replayed['feedback']:,} outcomes.")

    def _upgrade(self) -> None:
        champion = self.ws.aliases()["champion"]
        saved = self.ws.registry.manifest(champion).get("format")
        self.lines.append(f"The champion {champion} was saved in model format {saved}; this version reads format {FORMAT}: retraining on the built-in data.")
        demo = self.ws.home / "demo"
        series = demo / "benchmarks_monthly.csv"
        result = self.ws.train(built_in_table(demo), demo / "schema.toml", series=series if series.is_file() else None, progress=self._training_progress(0.0, 1.0))
        self.lines.append(f"Upgraded: {result['version']} is serving ({result['reason']}).")


@st.cache_resource(show_spinner=False)
def warm_up(home: str, _ws: api.Workspace) -> threading.Thread:
    """Load the champion and run one analysis in a server thread, once per process: the model
    libraries (seconds of imports) and the model load no longer delay the first page, and are
    done by the time a user has filled in a profile."""
    thread = threading.Thread(target=_warm, args=(_ws,), name="benchai-warm-up", daemon=True)
    thread.start()
    return thread


def _warm(ws: api.Workspace) -> None:
    try:
        model = ws.champion()
        sample = ws.table("sample")
        if sample is not None and len(sample):
            names = {f.name for f in model.schema.features} | set(model.schema.segments)
            model.analyze({k: v for k, v in sample.iloc[0].to_dict().items() if k in names})
    except Exception:  # a version that fails to load is reported by the page that uses it
        log.warning("warm-up failed", exc_info=True)


@st.cache_resource(show_spinner=False)
def _first_start(home: str, _ws: api.Workspace) -> FirstStart:
    return FirstStart(_ws)  # one per home and server process


def ensure_ready(ws: api.Workspace) -> bool:
    """True when pages can run. Otherwise starts (or joins) the home's first start, shows its
    progress and reruns until it is done, or shows its error with a retry button."""
    job = _first_start(str(ws.home), ws)
    if not job.running and work_needed(ws) is None:
        return True
    if job.error is None:
        job.start()
    title = "First start: preparing the demo data and training the first models…"
    with st.status(title, expanded=True, state="error" if job.error else "running"):
        for line in job.lines:
            st.write(line)
        if job.error:
            st.error(f"The app could not prepare its first model: {job.error}")
            if st.button("Try again", key="first_start_retry"):
                job.start()
                st.rerun()
            return False
        st.progress(job.fraction, text=job.stage)
        st.caption("This runs on the server: reloading the page or opening another page does not interrupt it.")
    time.sleep(0.7)
    st.rerun()
