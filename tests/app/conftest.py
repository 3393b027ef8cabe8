"""The app tests share one writable copy of the session's demo home with replayed history."""

from pathlib import Path

import pytest

from engine import api

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")


@pytest.fixture(scope="session")
def app_home(writable_home) -> Path:
    return writable_home("demo-history")


@pytest.fixture(scope="session")
def ws(app_home):
    """The workspace of the app's home: the same object the app under test uses."""
    return api.workspace(app_home)


# Every page but Analyze, with a heading it must show.
PAGES = [
    ("views/benchmarks.py", "Monthly benchmarks"),
    ("views/segments.py", "Segment profiles"),
    ("views/model.py", "Held-out ROC AUC"),
    ("views/monitoring.py", "Alerts"),
    ("views/models.py", "Registry"),
    ("views/batch.py", "Batch scoring"),
]


def start_app(home: Path, monkeypatch):
    """An AppTest of the real entry script against a trained home (first run done), in local
    mode (no admin password)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("BENCHAI_HOME", str(home))
    monkeypatch.delenv("BENCHAI_ADMIN_PASSWORD_SHA256", raising=False)
    monkeypatch.delenv("BENCHAI_ADMIN_PASSWORD_HASH", raising=False)
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(app_home, monkeypatch):
    return start_app(app_home, monkeypatch)
