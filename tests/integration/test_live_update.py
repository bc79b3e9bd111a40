"""Two running desktops and an administrator publishing on PostgreSQL (separate processes).

Both desktops pick the new version up without a restart; the one with an open customer session
applies it only after that session closes. Everything is read from the desktops' traces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.store import ConfigStore

CONFIG = """
name: Live
options: {maxNumberOfSessions: 3, Marker: "MARK"}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
action_calls:
  - name: Open customer
    control: Global Manager
    action: CreateSession
    data: name=Caller
    condition: '"[[$User.username]]" == "bob" && "[[$Global.Marker]]" == "v1"'
    sub_action_calls: [Close later]
  - {name: Close later, control: Global Manager, action: ExecuteOnTimeout, data: "milliseconds=6000", sub_action_calls: [Close customer]}
  - {name: Close customer, control: Global Manager, action: CloseSession}
events:
  - {control: Global Manager, name: DesktopReady, action_calls: [Open customer]}
"""


def publish(url: str, marker: str) -> None:
    store = ConfigStore.open(url)
    try:
        store.import_configuration(loads_configuration(CONFIG.replace("MARK", marker)), actor="admin")
        store.publish("Live", actor="admin", message=marker)
        store.set_default("Live", actor="admin")
    finally:
        store.close()


def trace(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass  # a line being written
    return rows


def wait_for(predicate, what: str, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_desktop(url: str, user: str, home: Path) -> tuple[subprocess.Popen[bytes], Path]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.update({k: str(home / k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                    "XDG_STATE_HOME", "XDG_CACHE_HOME")})
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    home.mkdir(parents=True, exist_ok=True)
    path = home / "trace.jsonl"
    with (home / "desktop.log").open("wb") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "usd_desktop", "--store", url, "--user", user, "--trace",
             str(path), "--no-remember-state"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    return proc, path


def has(rows: list[dict[str, object]], **match: object) -> bool:
    return any(all(row.get(k) == v for k, v in match.items()) for row in rows)


def test_publication_reaches_two_running_desktops(pg_url: str, tmp_path: Path) -> None:
    publish(pg_url, "v1")
    alice, alice_trace = start_desktop(pg_url, "alice", tmp_path / "alice")
    bob, bob_trace = start_desktop(pg_url, "bob", tmp_path / "bob")
    try:
        wait_for(lambda: has(trace(alice_trace), kind="event", name="DesktopReady"), "alice ready")
        wait_for(lambda: has(trace(bob_trace), kind="event", name="SessionNew"), "bob's customer session")
        time.sleep(1.0)  # both listening
        publish(pg_url, "v2")
        wait_for(lambda: has(trace(alice_trace), kind="configuration", name="Live v2", outcome="ran"),
                 "alice applying v2")
        wait_for(lambda: has(trace(bob_trace), kind="configuration", name="Live v2", outcome="deferred"),
                 "bob being told v2 waits for his session")
        assert not has(trace(bob_trace), kind="configuration", name="Live v2", outcome="ran")
        wait_for(lambda: has(trace(bob_trace), kind="configuration", name="Live v2", outcome="ran"),
                 "bob applying v2 after his session closed")
        rows = trace(bob_trace)
        closed = next(i for i, r in enumerate(rows) if r.get("name") == "SessionClosed")
        applied = next(i for i, r in enumerate(rows)
                       if r.get("kind") == "configuration" and r.get("outcome") == "ran")
        assert closed < applied, "bob's session closed before the new version applied"
    finally:
        for proc in (alice, bob):
            proc.terminate()
        for proc in (alice, bob):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
