"""A small trained home shared by the app tests: demo data -> trained version -> replay."""

from pathlib import Path

import pytest

from engine import api

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("apphome")
    demo = home / "demo"
    api.demo_data(demo, companies=1500, seed=0)
    api.train(demo / "companies.csv", demo / "schema.toml", home=home, series=demo / "benchmarks_monthly.csv")
    api.replay(home=home)
    return home


@pytest.fixture
def app(trained_home, monkeypatch):
    """An AppTest of the real entry script against the trained home (first run done)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("BENCHAI_HOME", str(trained_home))
    monkeypatch.delenv("BENCHAI_ADMIN_PASSWORD_SHA256", raising=False)
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.run()
    assert not at.exception
    return at
