"""A note being typed survives the desktop process being killed: every character comes back.

A child process (``notes_child.py``) types a note with key events and is killed with SIGKILL as
soon as it says it has typed, before any save to the data source. The drafts file must already
hold the whole text; a second process then recovers it: a session control's orphaned draft is
saved to its record, a global control's draft is put back in its editor (and saved).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.data.drafts import DraftStore
from usd_desktop.hosted_controls.qt.notes_support import draft_key
from usd_desktop.testing import make_data_services

pytest.importorskip("PySide6")
pytest.importorskip("qasync")

CHILD = Path(__file__).with_name("notes_child.py")
TEXT = "Customer called: router reboots nightly.\nTried a reset — parolă schimbată ✓, 東京 office.\nNext: call back"
TIMEOUT = 60.0


def child_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        folder = tmp_path / "home" / var.lower()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[var] = str(folder)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def read_line(proc: subprocess.Popen[str], deadline: float) -> str:
    """The child's next line of output; fails after the deadline (the child's stderr in the message)."""
    assert proc.stdout is not None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(f"the child said nothing in time; stderr:\n{err}")
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if ready:
            line = proc.stdout.readline()
            if line:
                return line.strip()
            code = proc.wait()
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"the child ended ({code}) without saying it typed; stderr:\n{err}")


@pytest.mark.parametrize("kind", ["session", "global"])
def test_typed_note_survives_sigkill(tmp_path: Path, kind: str) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    drafts = str(tmp_path / "drafts.db")
    data = make_data_services(url, drafts=drafts)
    contact_id = data.repository.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
    data.close()
    env = child_env(tmp_path)

    typist = subprocess.Popen(
        [sys.executable, str(CHILD), "type", url, drafts, kind, contact_id, TEXT],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert read_line(typist, time.monotonic() + TIMEOUT) == "TYPED"
        typist.send_signal(signal.SIGKILL)  # no chance to save or clean up
        assert typist.wait(timeout=TIMEOUT) == -signal.SIGKILL
    finally:
        if typist.poll() is None:
            typist.kill()
            typist.wait()
        for stream in (typist.stdout, typist.stderr):
            if stream is not None:
                stream.close()

    # the drafts file already holds every character; the data source has nothing yet
    store = DraftStore(drafts)
    try:
        left = store.pending("notes:")
        assert [d.payload["text"] for d in left] == [TEXT]
        if kind == "global":
            assert left[0].key == draft_key(None, "Desk Notes")
        assert left[0].payload["attachment"]["id"] == contact_id
    finally:
        store.close()
    data = make_data_services(url, drafts=str(tmp_path / "unused-drafts.db"))
    try:
        search = EntitySearch(name="notes", entity="note", filters=[SearchFilter(field="contact_id",
                                                                                  value=contact_id)])
        assert data.repository.search(search).rows == []
    finally:
        data.close()

    recovery = subprocess.run(
        [sys.executable, str(CHILD), "recover", url, drafts, kind, contact_id],
        capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False,
    )
    assert recovery.returncode == 0, recovery.stderr
    result = json.loads(recovery.stdout.strip().splitlines()[-1])
    assert result["notes"] == [TEXT]  # saved to the record, every character
    assert result["drafts"] == []
    assert result["banner"].startswith("Recovered a note you were writing at ")
    if kind == "global":
        assert result["editor"] == TEXT  # back in the editor it was typed in
    else:
        assert "saved to Maria Popescu" in result["banner"]
