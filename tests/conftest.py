"""Session fixtures chaining demo data -> a trained, registered version, reused by every test.

Training runs once per session (3,000 demo companies, seed 0); tests that change a registry
work on a copy of ``home`` (``shutil.copytree``) or on their own tiny data.
"""

from __future__ import annotations

import json
import os
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
from engine.demo import write_demo  # noqa: E402

N_COMPANIES = 3000
SEED = 0


@pytest.fixture(scope="session")
def subprocess_env() -> dict:
    """Environment for `python -m engine ...` children: finds the package from a plain clone."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo(out, n_companies=N_COMPANIES, seed=SEED)
    return out


@pytest.fixture(scope="session")
def companies_csv(demo_dir) -> Path:
    return demo_dir / "companies.csv"


@pytest.fixture(scope="session")
def schema_toml(demo_dir) -> Path:
    return demo_dir / "schema.toml"


@pytest.fixture(scope="session")
def trained(tmp_path_factory, companies_csv, schema_toml) -> dict:
    """The train() result of the session version, plus its home under ``"home"``."""
    home = tmp_path_factory.mktemp("home")
    result = api.workspace(home).train(companies_csv, schema_toml, seed=SEED)
    return {**result, "home": home}


@pytest.fixture(scope="session")
def home(trained) -> Path:
    return trained["home"]


@pytest.fixture(scope="session")
def model(home):
    return api.workspace(home).model()


@pytest.fixture(scope="session")
def truth(demo_dir) -> dict:
    """truth.json plus ``"company_archetypes"``: DataFrame company_id -> archetype."""
    planted = json.loads((demo_dir / "truth" / "truth.json").read_text())
    planted["company_archetypes"] = pd.read_csv(demo_dir / "truth" / "archetypes.csv")
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
