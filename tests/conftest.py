"""Session fixtures chaining demo data -> a trained, registered version, reused by every test.

``trained_home(name)`` builds each kind of home once per session (3,000 demo companies, seed
0); tests that change a registry or a database work on a copy (``copy_home``) or on their own
tiny data.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

# OpenMP threads (XGBoost, KMeans) spin while they wait for each other; on a busy 2-core CI box
# that turned a 10 s training into 90 s. Passive waiting must be set before the runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # plain `pytest` from a clone without `pip install -e .`
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from engine import api  # noqa: E402
from engine.demo import write_customers, write_demo, write_ratios  # noqa: E402
from engine.demo.replay import replay  # noqa: E402

N_COMPANIES = 3000
SEED = 0


@pytest.fixture(scope="session")
def subprocess_env() -> dict:
    """Environment for `python -m engine ...` children: finds the package from a plain clone."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory):
    """Factory of trained homes, each built once per session and then only read:
    ``trained_home("demo")`` (demo data in HOME/demo, one trained version with its monthly
    series), ``trained_home("demo-history")`` (a copy of it with replayed traffic, feedback
    and alerts, as the app's first start leaves it) and ``trained_home("customers")`` (the
    second built-in dataset, trained and replayed), ``trained_home("ratios")`` (the third,
    trained only). A test that writes works on a copy
    (``copy_home``)."""
    built: dict[str, Path] = {}

    def build(name: str = "demo") -> Path:
        if name not in built:
            built[name] = _HOMES[name](tmp_path_factory, build)
        return built[name]

    return build


def _demo_home(tmp_path_factory, build) -> Path:
    home = tmp_path_factory.mktemp("home-demo")
    demo = home / "demo"
    write_demo(demo, n_companies=N_COMPANIES, seed=SEED)
    result = api.workspace(home).train(demo / "companies.csv", demo / "schema.toml", seed=SEED, series=demo / "benchmarks_monthly.csv")
    (home / "train-result.json").write_text(json.dumps(result))
    return home


def _history_home(tmp_path_factory, build) -> Path:
    home = copy_home(build("demo"), tmp_path_factory.mktemp("home-history") / "home")
    summary = replay(api.workspace(home))
    (home / "replay-result.json").write_text(json.dumps(summary, default=str))
    return home


def _customers_home(tmp_path_factory, build) -> Path:
    """The second built-in dataset (customers: text ids, categories, yes/no flags, blanks),
    trained and with a replayed monitoring history, like the app's first start leaves it."""
    home = tmp_path_factory.mktemp("home-customers")
    demo = home / "demo"
    write_customers(demo, n=N_COMPANIES, seed=SEED)
    result = api.workspace(home).train(demo / "customers.csv", demo / "schema.toml", seed=SEED)
    (home / "train-result.json").write_text(json.dumps(result))
    summary = replay(api.workspace(home))
    (home / "replay-result.json").write_text(json.dumps(summary, default=str))
    return home


def _ratios_home(tmp_path_factory, build) -> Path:
    """The third built-in dataset (firms' financial ratios: heavy tails, a numeric target)."""
    home = tmp_path_factory.mktemp("home-ratios")
    files = write_ratios(home / "demo", n=N_COMPANIES, seed=SEED)
    result = api.workspace(home).train(files["ratios"], files["schema"], seed=SEED)
    (home / "train-result.json").write_text(json.dumps(result))
    return home


_HOMES = {"demo": _demo_home, "demo-history": _history_home, "customers": _customers_home, "ratios": _ratios_home}


def copy_home(src: Path, dst: Path) -> Path:
    """A writable copy of a trained home (registry, database, demo data)."""
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="session")
def writable_home(trained_home, tmp_path_factory):
    """Factory: a fresh writable copy of a trained home (``writable_home("demo-history")``)."""
    return lambda name="demo": copy_home(trained_home(name), tmp_path_factory.mktemp("copy") / "home")


@pytest.fixture(scope="session")
def home(trained_home) -> Path:
    """The pristine demo home (read only)."""
    return trained_home("demo")


@pytest.fixture(scope="session")
def trained(home) -> dict:
    """The train() result of the session version, plus its home under ``"home"``."""
    return {**json.loads((home / "train-result.json").read_text()), "home": home}


@pytest.fixture(scope="session")
def demo_dir(home) -> Path:
    return home / "demo"


@pytest.fixture(scope="session")
def companies_csv(demo_dir) -> Path:
    return demo_dir / "companies.csv"


@pytest.fixture(scope="session")
def schema_toml(demo_dir) -> Path:
    return demo_dir / "schema.toml"


@pytest.fixture(scope="session")
def model(home):
    return api.workspace(home).model()


@pytest.fixture(scope="session")
def truth(demo_dir) -> dict:
    """truth.json plus ``"company_archetypes"``: DataFrame company_id -> archetype."""
    planted = json.loads((demo_dir / "truth" / "truth.json").read_text())
    planted["company_archetypes"] = pd.read_csv(demo_dir / "truth" / "archetypes.csv", dtype={"company_id": str})  # ids are text
    return planted


@pytest.fixture(scope="session")
def companies(companies_csv) -> pd.DataFrame:
    return pd.read_csv(companies_csv)


@pytest.fixture(scope="session")
def checked(companies_csv, model) -> pd.DataFrame:
    """The training table as the engine sees it (``check_frame``)."""
    frame, _ = api.load_dataset(companies_csv, model.schema)
    return frame


@pytest.fixture(scope="session")
def scored(checked, model) -> pd.DataFrame:
    """model.score of the whole training table."""
    return model.score(checked)
