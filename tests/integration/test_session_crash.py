"""Customer sessions survive ``kill -9``: the real desktop runs as a subprocess, opens sessions,
types notes (never saved) and is killed; started again, it restores every session exactly: ids,
names, start times, context, the records in the forms, the unsaved note text and the active session.
A normal close afterwards leaves nothing to restore."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_notes_crash import child_env, read_line
from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.core.session_journal import SessionJournal
from usd_desktop.testing import make_data_services

pytest.importorskip("PySide6")
pytest.importorskip("qasync")

CHILD = Path(__file__).with_name("sessions_child.py")
CONFIG = Path(__file__).with_name("sessions_crash") / "config.yaml"
TIMEOUT = 90.0
PEOPLE = [("Maria", "Popescu"), ("Wei", "Zhang"), ("Aino", "Virtanen")]


def test_sessions_and_unsaved_notes_survive_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    data = make_data_services(url, drafts=str(tmp_path / "unused.db"))
    contacts = [data.repository.create("contact", {"first_name": first, "last_name": last})
                for first, last in PEOPLE]
    data.close()
    env = child_env(tmp_path)

    child = subprocess.Popen([sys.executable, str(CHILD), "open", str(CONFIG), url, *contacts],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = ""
        deadline = time.monotonic() + TIMEOUT
        while not line.startswith("READY "):  # the app logs to stdout as well
            line = read_line(child, deadline)
        before = json.loads(line.removeprefix("READY "))
        child.send_signal(signal.SIGKILL)  # no chance to save or clean up
        assert child.wait(timeout=TIMEOUT) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert len(before["sessions"]) == 3 and before["active"] == before["sessions"][1]["id"]
    assert [s["name"] for s in before["sessions"]] == [f"{first} {last}" for first, last in PEOPLE]

    checked = subprocess.run([sys.executable, str(CHILD), "check", str(CONFIG), url],
                             capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False)
    assert checked.returncode == 0, checked.stderr[-4000:]
    lines = [x for x in checked.stdout.splitlines() if x.startswith("STATE ")]
    assert lines, checked.stdout[-2000:] + checked.stderr[-4000:]
    after = json.loads(lines[-1].removeprefix("STATE "))
    assert after["active"] == before["active"]
    assert [s["unsaved"] for s in before["sessions"]] == [False, True, False]
    for journaled, now in zip(before["sessions"], after["sessions"], strict=True):
        was = journaled
        if not was["unsaved"]:  # saved before the kill: in the data source, the editor starts afresh
            was = {**was, "notes": "", "unsaved": False}
        differing = {k: (was[k], now.get(k)) for k in was if now.get(k) != was[k]}
        assert not differing, f"session {was['name']} came back different: {differing}"
    unsaved = after["sessions"][1]["notes"]
    assert unsaved.startswith("東京 office: no dial tone") and unsaved.endswith("UNSAVED: call back at 15:00")
    assert after["sessions"][0]["overview"] == ["Calling from +358401234560"]
    data = make_data_services(url, drafts=str(tmp_path / "unused.db"))
    try:
        bodies = {row["body"] for row in data.repository.search(
            EntitySearch(name="n", entity="note", columns=["body"], max_count=50)).rows}
    finally:
        data.close()
    assert {"Router reboots nightly.\nCalled back — parolă ✓", "Wants a refund"} <= bodies

    journal = SessionJournal(tmp_path / "home" / "xdg_data_home" / "usd-desktop" / "sessions.tracie.db")
    try:
        assert journal.pending() == []  # the normal close cleared it
    finally:
        journal.close()
