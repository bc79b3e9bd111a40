"""The session journal: durable rows of the open customer sessions (Qt-free, stdlib sqlite3 only)."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from usd_desktop.core.session_journal import (
    SCHEMA_VERSION,
    JournaledControl,
    JournaledSession,
    SessionJournal,
    default_journal_path,
)


def session(sid: str, position: int, **kwargs: object) -> JournaledSession:
    values: dict[str, object] = {
        "name": f"Session {sid}",
        "entity": "account",
        "started": "2026-05-09T07:35:25.123456+00:00",
        "active": False,
        "context": {"$Context": {"Id": sid, "LogicalName": "account"}, "account": {"name": "Ann Ö"}},
        "controls": [
            JournaledControl("Customer", {"entity": "account", "id": sid}, 0),
            JournaledControl("Notes", None, 1),
        ],
    }
    values.update(kwargs)
    return JournaledSession(id=sid, position=position, **values)  # type: ignore[arg-type]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal" / "sessions.tracie.db"


def test_round_trip(path: Path) -> None:
    journal = SessionJournal(path)
    a, b = session("a", 0), session("b", 1, entity="", controls=[])
    journal.write([a, b], "b")
    journal.close()
    again = SessionJournal(path)
    found = again.pending()
    b.active = True
    assert found == [a, b]
    again.close()


def test_memory_journal(tmp_path: Path) -> None:
    journal = SessionJournal(":memory:")
    journal.write([session("a", 0)], None)
    assert [s.id for s in journal.pending()] == ["a"]
    assert not journal.pending()[0].active
    assert not list(tmp_path.iterdir())
    journal.close()


def test_write_upserts_whole_rows_and_keeps_the_others(path: Path) -> None:
    journal = SessionJournal(path)
    journal.write([session("a", 0), session("b", 1)], "a")
    changed = session("a", 0, name="Renamed", context={"$Context": {"x": "1"}},
                      controls=[JournaledControl("Script", {"step": 3}, 0)])
    journal.write([changed], "a")
    found = {s.id: s for s in journal.pending()}
    assert found["a"].name == "Renamed"
    assert found["a"].context == {"$Context": {"x": "1"}}  # the whole row, not merged
    assert found["a"].controls == [JournaledControl("Script", {"step": 3}, 0)]
    assert found["b"] == session("b", 1)
    assert found["a"].active and not found["b"].active
    journal.write([], None)  # the agent went back to the global session
    assert not any(s.active for s in journal.pending())
    journal.close()


def test_remove_and_clear(path: Path) -> None:
    journal = SessionJournal(path)
    journal.write([session("a", 0), session("b", 1), session("c", 2)], "b")
    journal.remove("b")
    journal.remove("nobody")
    assert [s.id for s in journal.pending()] == ["a", "c"]
    assert not any(s.active for s in journal.pending())
    journal.clear()
    assert journal.pending() == []
    journal.close()
    assert SessionJournal(path).pending() == []
    # Nothing of the customers' data is left in the files after a normal close.
    for file in path.parent.iterdir():
        assert b"Ann" not in file.read_bytes(), file


def test_pending_is_in_position_order(path: Path) -> None:
    journal = SessionJournal(path)
    journal.write([session("late", 7), session("first", 0)], None)
    journal.write([session("middle", 3)], None)
    assert [s.id for s in journal.pending()] == ["first", "middle", "late"]
    journal.close()


def test_the_schema_version_is_stored(path: Path) -> None:
    SessionJournal(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def aside(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if ".corrupt-" in p.name)


def test_a_corrupt_file_is_moved_aside(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database at all, just some bytes " * 200)
    with caplog.at_level(logging.ERROR):
        journal = SessionJournal(path)
        assert journal.pending() == []
    assert any(str(path) in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    moved = aside(path)
    assert [p.name.split(".corrupt-")[0] for p in moved] == [path.name]
    assert moved[0].read_bytes().startswith(b"this is not a database")
    assert journal.problem and str(moved[0]) in journal.problem
    journal.write([session("a", 0)], "a")  # the fresh journal works
    assert [s.id for s in journal.pending()] == ["a"]
    journal.close()


def test_a_damaged_row_sets_the_file_aside(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal = SessionJournal(path)
    journal.write([session("a", 0)], "a")
    journal.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sessions SET controls = '{not json'")
    conn.close()
    journal = SessionJournal(path)
    with caplog.at_level(logging.ERROR):
        assert journal.pending() == []
    assert any(str(path) in r.getMessage() for r in caplog.records)
    assert len(aside(path)) == 1
    journal.write([session("b", 0)], None)
    assert [s.id for s in journal.pending()] == ["b"]
    journal.close()


def test_a_journal_from_a_newer_version_is_set_aside(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = SessionJournal(path)
    journal.write([session("a", 0)], "a")
    journal.close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with caplog.at_level(logging.ERROR):
        journal = SessionJournal(path)
        assert journal.pending() == []
    assert any(str(path) in r.getMessage() and "newer" in r.getMessage() for r in caplog.records)
    moved = aside(path)
    assert len([p for p in moved if not p.name.endswith(("-wal", "-shm"))]) == 1
    journal.close()
    with sqlite3.connect(moved[0]) as conn:  # the newer file is kept intact, not rewritten
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_file_is_readable_by_its_user_only(path: Path) -> None:
    journal = SessionJournal(path)
    journal.write([session("a", 0)], "a")
    for file in path.parent.iterdir():  # the database and its -wal and -shm files
        assert stat.S_IMODE(file.stat().st_mode) & 0o077 == 0, file
    journal.close()
    os.chmod(path, 0o644)
    SessionJournal(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_default_path_is_per_user_in_the_data_dir() -> None:
    path = default_journal_path("DOMAIN\\ana smith")
    assert path.name == "sessions.DOMAIN_ana_smith.db"
    assert default_journal_path("").name == "sessions.user.db"


def test_a_write_survives_sigkill(path: Path) -> None:
    """Killed the instant write() returns, before any close or checkpoint: the row is there."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from usd_desktop.core.session_journal import JournaledControl, JournaledSession, SessionJournal
        journal = SessionJournal({str(path)!r})
        journal.write([JournaledSession(
            id="killed", name="Ann", entity="account", started="2026-01-01T00:00:00+00:00",
            position=0, active=True, context={{"$Context": {{"x": "1"}}}},
            controls=[JournaledControl("Customer", {{"id": "42"}}, 0)])], "killed")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    result = subprocess.run([sys.executable, "-c", script], env=env, timeout=60, check=False,
                            capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    journal = SessionJournal(path)
    [found] = journal.pending()
    assert (found.id, found.active, found.context, found.controls) == (
        "killed", True, {"$Context": {"x": "1"}}, [JournaledControl("Customer", {"id": "42"}, 0)])
    journal.close()
