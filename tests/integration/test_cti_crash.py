"""A call under way survives ``kill -9`` of the desktop: its interaction row and the agent's note.

A child process (``cti_child.py``) runs a desktop whose CTI Desktop Manager listens for screen pops
(the ``http_listener`` adapter). The test pops a call there; the customer's session opens, the
agent answers, the interaction row is written as the call stands (offered, answered, the customer
linked), a note is typed into the session's Notes control (never saved: only its draft holds it),
and the child says so. The test kills it with SIGKILL and opens the same files: the row is in the
data source, the note and the open interaction are in the drafts file. A second run recovers both:
the interaction row is closed at the last moment the killed run recorded the call (its end will
never be reported: this run does not know the call), the note is saved to the customer.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_notes_crash import child_env, read_line
from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.data.drafts import DraftStore
from usd_desktop.data.values import to_utc
from usd_desktop.testing import make_data_services

pytest.importorskip("PySide6")
pytest.importorskip("qasync")

CHILD = Path(__file__).with_name("cti_child.py")
NOTE = "Router reboots nightly — parolă ✓.\nCall back at 15:00"  # as cti_child.py types it
CALLER = "+358401234567"
TIMEOUT = 60.0


def when(value: Any) -> datetime:
    assert value, "no time"
    return to_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def said(child: subprocess.Popen[str], prefix: str, deadline: float) -> str:
    """The rest of the child's first line starting with ``prefix``."""
    while True:
        line = read_line(child, deadline)
        if line.startswith(prefix + " "):
            return line.removeprefix(prefix + " ")


def test_the_interaction_and_the_note_survive_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    drafts = str(tmp_path / "drafts.db")
    data = make_data_services(url, drafts=str(tmp_path / "unused.db"))
    contact = data.repository.create("contact", {"first_name": "Aino", "last_name": "Virtanen"})
    data.repository.create("phone", {"contact_id": contact, "number": "+358 40 123 4567"})
    data.close()
    env = child_env(tmp_path)

    child = subprocess.Popen([sys.executable, str(CHILD), "call", url, drafts],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + TIMEOUT
        listener = said(child, "LISTENING", deadline)
        query = urllib.parse.urlencode({"ani": CALLER, "dnis": "800100", "queue": "Billing"})
        with urllib.request.urlopen(f"{listener}?{query}", timeout=TIMEOUT) as reply:  # the call rings
            popped = json.loads(reply.read())
        before = json.loads(said(child, "READY", deadline))
        child.send_signal(signal.SIGKILL)  # mid-call: no chance to save or clean up
        assert child.wait(timeout=TIMEOUT) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert before["call"] == popped["call"] and before["state"] == "connected"
    interaction = before["interaction"]

    # the data source has the row as the call stood: offered, answered, the customer, not ended
    data = make_data_services(url, drafts=str(tmp_path / "unused.db"))
    try:
        row = data.repository.get("interaction", interaction)
        assert row is not None, "the interaction row did not survive"
        assert when(row["offered_at"]) <= when(row["answered_at"]) <= datetime.now(UTC)
        assert row["contact_id"] == contact and row["address"] == CALLER and row["agent"] == "tracie"
        assert row["ended_at"] is None and row["wrap_up_ended_at"] is None
        notes = data.repository.search(EntitySearch(name="n", entity="note", columns=["body"])).rows
        assert notes == []  # the note was never saved: only its draft holds it
    finally:
        data.close()
    # the drafts file holds the note, every character, and the interaction still open
    store = DraftStore(drafts)
    try:
        note = store.get(before["notes_key"])
        assert note is not None and note.payload["text"] == NOTE
        assert note.payload["attachment"]["id"] == contact
        left = store.pending("interaction:")
        assert [d.payload["id"] for d in left] == [interaction]
        open_values = left[0].payload["values"]
        last_recorded = datetime.fromtimestamp(left[0].updated, UTC)
        assert open_values["contact_id"] == contact and open_values["ended_at"] is None
        assert when(open_values["answered_at"]) == when(row["answered_at"])
    finally:
        store.close()

    # a new run: the recorder closes the row the killed run left open; the note goes to the customer
    recovery = subprocess.run([sys.executable, str(CHILD), "recover", url, drafts, contact],
                              capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False)
    assert recovery.returncode == 0, recovery.stderr[-4000:]
    lines = [x for x in recovery.stdout.splitlines() if x.startswith("RECOVERED ")]
    assert lines, recovery.stdout[-2000:] + recovery.stderr[-4000:]
    after = json.loads(lines[-1].removeprefix("RECOVERED "))
    assert after["drafts"] == []  # nothing left to recover
    assert len(after["open_states"]) == 1  # the killed run's agent state was closed; this run's is open
    assert after["notes"] == [NOTE] and after["recovered"] == ["Aino Virtanen"]
    [closed] = after["rows"]
    assert closed["id"] == interaction
    for kept in ("offered_at", "answered_at"):
        assert when(closed[kept]) == when(row[kept])
    assert (closed["contact_id"], closed["address"], closed["disposition"]) == (contact, CALLER, None)
    # its end is the last moment the killed run recorded the call (a lower bound: the real end is
    # unknown), not the time of the recovery; the wrap-up ends with it
    assert when(closed["ended_at"]) == when(closed["wrap_up_ended_at"]) == last_recorded
    assert when(closed["answered_at"]) <= last_recorded
