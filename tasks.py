"""Two commands from a fresh clone, with nothing but Python 3.11+:

    python tasks.py run    set up .venv, then launch the dashboard (first start: demo data,
                           training and monitoring history, with progress shown)
    python tasks.py test   set up .venv, then lint (ruff) and run the whole test suite

Setup is skipped when .venv already matches pyproject.toml.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".benchai-installed"


def setup() -> None:
    """Create .venv and install the project with its dev extra (once per pyproject change)."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PY.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing benchai and its dependencies into .venv (first time: a few minutes) ...", flush=True)
    subprocess.run([PY, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([PY, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def run() -> int:
    # The dashboard replaces this process, so a stop signal (SIGTERM from a supervisor, not
    # only Ctrl-C) reaches Streamlit itself and no server is left holding the port.
    os.chdir(ROOT)
    os.execv(PY, [str(PY), "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), *sys.argv[2:]])


def test() -> int:
    lint = subprocess.call([PY, "-m", "ruff", "check", "."], cwd=ROOT)
    tests = subprocess.call([PY, "-m", "pytest", *sys.argv[2:]], cwd=ROOT)
    return lint or tests


if __name__ == "__main__":
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        raise SystemExit(2)
    setup()
    raise SystemExit(commands[sys.argv[1]]())
