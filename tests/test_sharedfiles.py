"""Files several processes change on one HOME (engine.sharedfiles): alias moves and settings
saved at the same moment by two servers (threads here, each with its own registry, workspace
and lock descriptor, as separate processes would have) are all applied, none lost."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.errors import DataError
from engine.monitoring.settings import load_settings, save_settings
from engine.registry import Registry
from engine.registry.versions import REQUIRED_FILES
from engine.sharedfiles import locked
from engine.workspace import Workspace

ROUNDS = 20


def registry_with(home: Path, n: int) -> Registry:
    """A registry of ``n`` versions that verify (placeholder files; never loaded here)."""
    registry = Registry(home)
    for _ in range(n):
        files = {name: (lambda path: path.write_bytes(b"placeholder")) for name in REQUIRED_FILES}
        registry.write_version(files, {"schema": {}})
    return registry


def at_once(*calls):
    """Run the calls in threads released together; -> each one's result or exception."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each call did
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_holders_of_one_lock_take_turns(tmp_path):
    events = []

    def hold(name: str) -> None:
        with locked(tmp_path / "aliases.json"):
            events.append(f"{name} in")
            time.sleep(0.2)  # long enough for the other to try meanwhile
            events.append(f"{name} out")

    at_once(lambda: hold("a"), lambda: hold("b"))
    assert events in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


def test_one_version_promoted_through_two_servers_at_once_moves_once(tmp_path):
    registry = registry_with(tmp_path, 2)
    for _ in range(ROUNDS):
        registry.set_alias("champion", "v0001", "reset")
        outcomes = at_once(*(lambda: Workspace(tmp_path).promote("v0002") for _ in range(2)))
        moved = [o for o in outcomes if isinstance(o, dict)]
        refused = [o for o in outcomes if isinstance(o, DataError)]
        assert len(moved) == len(refused) == 1, outcomes
        assert "already the champion" in str(refused[0])
    assert [e["to"] for e in registry.audit_log()] == ["v0001", "v0002"] * ROUNDS


def test_two_rollbacks_at_once_go_back_two_steps(tmp_path):
    registry = registry_with(tmp_path, 3)
    for _ in range(ROUNDS // 4):
        for version in ("v0001", "v0002", "v0003"):
            registry.set_alias("champion", version, "history")
        at_once(*(lambda: Workspace(tmp_path).rollback() for _ in range(2)))
        assert registry.aliases()["champion"] == "v0001"
        back = [(e["from"], e["to"]) for e in registry.audit_log()[-2:]]
        assert back == [("v0003", "v0002"), ("v0002", "v0001")]


def test_alias_moves_at_once_lose_none(tmp_path):
    registry_with(tmp_path, 4)

    def move(alias: str, versions: tuple[str, str]):
        for i in range(ROUNDS * 2):
            Registry(tmp_path).set_alias(alias, versions[i % 2], "busy")

    at_once(lambda: move("champion", ("v0001", "v0002")), lambda: move("challenger", ("v0003", "v0004")))
    log = Registry(tmp_path).audit_log()
    for alias in ("champion", "challenger"):
        moves = [e for e in log if e["alias"] == alias]
        # Each move starts where the previous one of its alias ended: none was overwritten.
        assert all(later["from"] == earlier["to"] for earlier, later in zip(moves, moves[1:], strict=False))
        assert Registry(tmp_path).aliases()[alias] == moves[-1]["to"]


def test_settings_saved_at_once_keep_every_change(tmp_path):
    def save(key: str, values: tuple):
        for i in range(ROUNDS * 2):
            save_settings(tmp_path, {key: values[i % 2]})

    outcomes = at_once(lambda: save("shadow", (True, False)), lambda: save("challenger_share", (0.1, 0.2)))
    assert outcomes == [None, None]
    saved = load_settings(tmp_path)
    assert (saved["shadow"], saved["challenger_share"]) == (False, 0.2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json", "settings.json.lock"]


def test_an_unknown_setting_is_refused_by_name(tmp_path):
    with pytest.raises(DataError, match=r"Unknown setting\(s\) \['colour'\]"):
        save_settings(tmp_path, {"colour": "red"})
