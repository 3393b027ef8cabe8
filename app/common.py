"""What every page shares: the one workspace of the home, frames cached by version, admin
checks, and showing engine errors as messages instead of tracebacks."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from app import charts
from engine import api, passwords
from engine.errors import BenchError, DataError


def home() -> Path:
    return api.default_home().resolve()


@st.cache_resource(show_spinner=False)
def _workspace(home_dir: str) -> api.Workspace:
    return api.workspace(home_dir)


def workspace() -> api.Workspace:
    """The one workspace of the home: registry, store, settings and loaded models."""
    return _workspace(str(home()))


def version(alias: str = "champion") -> str | None:
    """The version an alias points to, or None (cheap: re-read only when aliases.json changes)."""
    return workspace().aliases().get(alias)


@st.cache_data(show_spinner=False, max_entries=16)
def _table(home_dir: str, version_id: str, name: str) -> pd.DataFrame | None:
    return _workspace(home_dir).table(name, version_id)


def table(name: str, version_id: str | None = None) -> pd.DataFrame | None:
    """'sample' or 'series' of a version (default: the champion)."""
    return _table(str(home()), version_id or workspace().version("champion"), name)


def details(version_id: str | None = None) -> dict:
    """Manifest, metrics, explanations, insights and reference of a version (default: the
    champion); read once per version by the workspace."""
    return workspace().details(version_id or "champion")


def schema_dict(version_id: str | None = None) -> dict:
    return details(version_id)["manifest"]["schema"]


def features(version_id: str | None = None) -> dict[str, dict]:
    """name -> schema feature dict, in schema order."""
    return {f["name"]: f for f in schema_dict(version_id)["features"]}


@contextlib.contextmanager
def user_errors():
    """Show an engine error the user can fix as a message, never as a traceback."""
    try:
        yield
    except BenchError as exc:
        st.error(str(exc))
    except (OSError, ValueError) as exc:  # bad files, unreadable tables
        st.error(f"That did not work: {exc}")


def chart(fig, meaning: str, where=st) -> None:
    """A chart at full width with its one line of meaning (``charts.MEANING``) under it."""
    where.plotly_chart(fig, width="stretch")
    where.caption(charts.MEANING[meaning])


# ----- admin ----------------------------------------------------------------------------------
PASSWORD_ENV = "BENCHAI_ADMIN_PASSWORD_HASH"
_throttle = passwords.Throttle()  # wrong guesses, process-wide (one Streamlit server)


def admin_hash() -> str | None:
    """The configured admin password hash (``benchai hash-password``), or None for local mode.
    The old unsalted sha256 setting is refused, not silently accepted or ignored."""
    with contextlib.suppress(Exception):  # no secrets file is fine
        value = st.secrets.get("admin_password_hash")
        if value:
            return str(value).strip()
    if os.environ.get("BENCHAI_ADMIN_PASSWORD_SHA256") and not os.environ.get(PASSWORD_ENV):
        raise DataError(f"BENCHAI_ADMIN_PASSWORD_SHA256 (an unsalted hash) is no longer accepted: run `benchai hash-password` and set {PASSWORD_ENV} to what it prints.")
    value = os.environ.get(PASSWORD_ENV)
    return value.strip() if value else None


def _password_setting() -> tuple[str | None, str | None]:
    """(the admin hash or None, the configuration problem in words or None). A broken setting
    locks admin actions: it never opens them."""
    try:
        return admin_hash(), None
    except DataError as exc:
        return "refused", str(exc)


def is_admin() -> bool:
    expected, problem = _password_setting()
    return problem is None and (expected is None or bool(st.session_state.get("admin_ok")))


def check_password(password: str) -> tuple[bool, str | None]:
    """-> (right?, why not in words). Wrong guesses are throttled."""
    expected, problem = _password_setting()
    if problem:
        return False, problem
    if expected is None:
        return True, None
    wait = _throttle.wait_s()
    if wait > 0:
        return False, f"Too many wrong passwords: try again in {wait:.0f} s."
    try:
        ok = passwords.verify_password(password, expected)
    except DataError as exc:
        return False, str(exc)
    _throttle.record(ok)
    return ok, None if ok else "Wrong admin password."


def actor() -> str:
    return "admin" if _password_setting()[0] else "local"


def require_admin() -> bool:
    """True when admin actions may run; otherwise explains how to unlock them."""
    if is_admin():
        return True
    st.warning("This is an admin action. Enter the admin password in the sidebar to unlock it.")
    return False


def sidebar() -> None:
    """Admin login (or the local-mode caption) and the serving version."""
    with st.sidebar:
        champion = version("champion")
        challenger = version("challenger")
        st.caption(f"Serving **{champion or '—'}**" + (f" · challenger {challenger}" if challenger else ""))
        expected, problem = _password_setting()
        if problem:
            st.error(problem)
        elif expected is None:
            st.caption("🔓 Local mode: no admin password is configured, admin actions are open.")
        elif st.session_state.get("admin_ok"):
            st.caption("🔐 Signed in as admin.")
            if st.button("Sign out", key="admin_signout"):
                st.session_state["admin_ok"] = False
                st.rerun()
        else:
            password = st.text_input("Admin password", type="password", key="admin_password")
            if password:
                ok, why = check_password(password)
                if ok:
                    st.session_state["admin_ok"] = True
                    st.rerun()
                else:
                    st.error(why)


# ----- monitoring snapshots (short-lived: the prediction log keeps growing) -------------------
@st.cache_data(ttl=30, show_spinner=False)
def drift_snapshot(home_dir: str, days: float, version_id: str) -> tuple[dict, pd.DataFrame]:
    monitoring = _workspace(home_dir).monitoring
    return monitoring.drift(days=days), monitoring.logged_profiles(days=days)


@st.cache_data(ttl=30, show_spinner=False)
def performance_snapshot(home_dir: str, version_id: str) -> dict:
    return _workspace(home_dir).monitoring.performance()


@st.cache_data(ttl=30, show_spinner=False)
def volume_snapshot(home_dir: str, version_id: str) -> dict:
    return _workspace(home_dir).monitoring.volume()


@st.cache_data(ttl=30, show_spinner=False)
def alerts_checked(home_dir: str, version_id: str) -> str:
    """Run the monitor's alert rules (at most every 30 s), so the alerts on screen agree with
    the drift verdict of the monitoring window; -> when it ran. No automatic retraining here:
    a page view must not block on a training."""
    _workspace(home_dir).monitoring.check_alerts(retrain=False)
    return pd.Timestamp.now(tz="UTC").strftime("%H:%M:%S UTC")
