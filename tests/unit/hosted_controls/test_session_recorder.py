"""Customer sessions journaled as they change and restored after a crash (Qt-free)."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.core.session_journal import JournaledControl, JournaledSession, SessionJournal
from usd_desktop.hosted_controls.base import ControlType, HostedControl
from usd_desktop.hosted_controls.catalog import GLOBAL_MANAGER
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.hosted_controls.session_recorder import SessionRecorder, restore_sessions
from usd_desktop.testing import make_desktop

MODULE = "usd_desktop_test_session_recorder_controls"
PAGE = ControlType(name="TestPage", factory=f"{MODULE}:PageControl")
PLAIN = ControlType(name="TestPlain", factory=f"{MODULE}:PlainControl")


class PageControl(HostedControl):
    """A session control with a page to come back to (a web page, a record, a script step)."""

    control_type = PAGE

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.page = ""
        self.restored: list[dict[str, Any]] = []

    def go(self, page: str) -> None:
        self.page = page
        self.state_changed()

    def session_state(self) -> dict[str, Any] | None:
        return {"page": self.page} if self.page else None

    def restore_session_state(self, state: Mapping[str, Any]) -> None:
        if state.get("page") == "explodes":
            raise ValueError("that page cannot be shown again")
        self.restored.append(dict(state))
        self.page = str(state["page"])


class PlainControl(HostedControl):
    """A session control with nothing to restore beyond being open."""

    control_type = PLAIN


CONFIG = """
name: Journal
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Customer, type: TestPage, is_global: false}
  - {name: Script, type: TestPage, is_global: false}
  - {name: Notes, type: TestPlain, is_global: false}
action_calls:
  - {name: Greet, control: Global Manager, action: DisplayMessage, data: "caption=New\\nA new session"}
events:
  - {control: Global Manager, name: SessionNew, action_calls: [Greet]}
"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    module = types.ModuleType(MODULE)
    module.PageControl = PageControl  # type: ignore[attr-defined]
    module.PlainControl = PlainControl  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    yield Registry([GLOBAL_MANAGER, PAGE, PLAIN])


@pytest.fixture
def make(registry: Registry):  # type: ignore[no-untyped-def]
    made: list[Desktop] = []

    async def build(config: str = CONFIG) -> Desktop:
        desktop = make_desktop(config, registry=registry)
        await desktop.start()
        made.append(desktop)
        return desktop

    yield build
    for desktop in made:  # a desktop a test left open
        for session in list(desktop.sessions.customer_sessions):
            desktop.sessions.close(session)


class SpyJournal(SessionJournal):
    """Counts the transactions the recorder writes."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        self.writes: list[list[str]] = []

    def write(self, sessions: Any, active_id: str | None) -> None:
        self.writes.append([s.id for s in sessions])
        super().write(sessions, active_id)


async def one_turn(recorder: SessionRecorder) -> None:
    """Let the event loop run what was scheduled with call_soon (the coalesced flush), and its
    writer thread write it."""
    await asyncio.sleep(0)
    recorder.drain()


def by_id(journal: SessionJournal) -> dict[str, JournaledSession]:
    return {s.id: s for s in journal.pending()}


async def test_sessions_and_context_are_journaled_after_one_loop_turn(make: Any) -> None:
    desktop = await make()
    journal = SessionJournal(":memory:")
    recorder = SessionRecorder(desktop, journal)
    session = await desktop.create_session(name="Ann Smith", entity="account",
                                           context={"LogicalName": "account", "Id": "42"})
    assert journal.pending() == []  # not yet: written once this loop turn ends
    await one_turn(recorder)
    [found] = journal.pending()
    assert (found.id, found.name, found.entity, found.active) == (session.id, "Ann Smith", "account", True)
    assert found.started == session.started.isoformat()
    assert found.context["$Context"]["Id"] == "42"
    assert "$Session" not in found.context
    assert not set(found.context) & {"$Global", "$Settings", "$User", "$Resources", "$SystemParameters"}

    session.store.update("account", {"name": "Ann Smith", "phone": "+4420"})
    await one_turn(recorder)
    assert by_id(journal)[session.id].context["account"] == {"name": "Ann Smith", "phone": "+4420"}

    customer = desktop.resolve("Customer", session)
    desktop.resolve("Notes", session)
    assert isinstance(customer, PageControl)
    customer.go("https://crm.example/account/42")
    await one_turn(recorder)
    assert by_id(journal)[session.id].controls == [
        JournaledControl("Customer", {"page": "https://crm.example/account/42"}, 0),
        JournaledControl("Notes", None, 1),
    ]
    desktop.sessions.update(session, name="Ann S.")
    await one_turn(recorder)
    assert by_id(journal)[session.id].name == "Ann S."
    recorder.close(clean=True)
    journal.close()


async def test_a_burst_of_changes_is_one_transaction(make: Any) -> None:
    desktop = await make()
    journal = SpyJournal(":memory:")
    recorder = SessionRecorder(desktop, journal)
    first = await desktop.create_session(name="One")
    second = await desktop.create_session(name="Two", background=True)
    await one_turn(recorder)
    journal.writes.clear()

    for n in range(20):
        first.store.set("$Context", f"k{n}", n)
    second.store.set("contact", "name", "Bo")
    page = desktop.resolve("Customer", first)
    assert isinstance(page, PageControl)
    page.go("a")
    page.go("b")
    desktop.resolve("Script", second)
    assert journal.writes == []
    await one_turn(recorder)
    assert len(journal.writes) == 1 and sorted(journal.writes[0]) == sorted([first.id, second.id])
    assert by_id(journal)[first.id].context["$Context"]["k19"] == "19"
    assert by_id(journal)[first.id].controls == [JournaledControl("Customer", {"page": "b"}, 0)]

    # What the journal does not keep writes nothing: the global session, $Session alone.
    desktop.sessions.global_session.store.set("$Context", "global", "1")
    first.store.set("$Session", "Whatever", "x")
    await one_turn(recorder)
    assert len(journal.writes) == 1
    recorder.close(clean=True)
    journal.close()


async def test_without_a_running_loop_each_change_is_written_at_once(registry: Registry) -> None:
    desktop = make_desktop(CONFIG, registry=registry)
    journal = SpyJournal(":memory:")

    def outside_the_loop() -> None:
        recorder = SessionRecorder(desktop, journal)
        session = desktop.sessions.create("Sync", activate=False)
        session.store.set("$Context", "x", "1")
        assert by_id(journal)[session.id].context == {"$Context": {"x": "1"}}
        recorder.close(clean=False)
        desktop.sessions.close(session)

    await asyncio.get_running_loop().run_in_executor(None, outside_the_loop)
    assert journal.writes and len(journal.pending()) == 1
    journal.close()


async def test_closing_a_session_removes_it_at_once(make: Any) -> None:
    desktop = await make()
    journal = SpyJournal(":memory:")
    recorder = SessionRecorder(desktop, journal)
    keep = await desktop.create_session(name="Keep")
    gone = await desktop.create_session(name="Gone")
    desktop.resolve("Customer", gone)
    await one_turn(recorder)
    assert set(by_id(journal)) == {keep.id, gone.id}
    before = len(journal.writes)
    gone.store.set("$Context", "late", "1")  # dirty, then closed before the flush
    await desktop.close_session(gone)
    recorder.drain()
    assert list(by_id(journal)) == [keep.id]
    await one_turn(recorder)
    assert list(by_id(journal)) == [keep.id]  # its controls closing did not write it back
    assert all(gone.id not in write for write in journal.writes[before:])
    recorder.close(clean=True)
    journal.close()


async def test_a_clean_close_clears_the_journal_and_a_crash_leaves_it(make: Any, tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    desktop = await make()
    journal = SessionJournal(path)
    recorder = SessionRecorder(desktop, journal)
    await desktop.create_session(name="One")
    await one_turn(recorder)
    recorder.close(clean=True)
    await desktop.shutdown()
    assert journal.pending() == []

    desktop = await make()
    recorder = SessionRecorder(desktop, journal)
    session = await desktop.create_session(name="Crash")
    session.store.set("$Context", "unsaved", "yes")  # not flushed yet when the "crash" comes
    recorder.close(clean=False)
    await desktop.shutdown()  # the recorder is gone: closing the sessions does not touch the journal
    journal.close()
    [left] = SessionJournal(path).pending()
    assert (left.name, left.context["$Context"]) == ("Crash", {"unsaved": "yes"})


async def crashed_run(make: Any, path: Path) -> dict[str, Any]:
    """A desktop with two sessions, controls and states, left as a crash leaves it."""
    desktop = await make()
    journal = SessionJournal(path)
    recorder = SessionRecorder(desktop, journal)
    ann = await desktop.create_session(name="Ann", entity="account",
                                       context={"LogicalName": "account", "Id": "1"})
    script = desktop.resolve("Script", ann)
    desktop.resolve("Notes", ann)
    customer = desktop.resolve("Customer", ann)
    assert isinstance(script, PageControl) and isinstance(customer, PageControl)
    script.go("step-3")
    customer.go("account/1")
    ann.store.update("account", {"name": "Ann", "city": "Leeds"})
    bo = await desktop.create_session(name="Bo", entity="contact", background=True)
    bo.store.update("contact", {"name": "Bo"})
    desktop.resolve("Customer", bo)
    await one_turn(recorder)
    assert len(desktop.host.of("display_message")) == 2  # SessionNew ran for the new sessions
    expected = {
        "ids": [ann.id, bo.id],
        "started": {ann.id: ann.started, bo.id: bo.started},
        "context": {s.id: {r: v for r, v in s.store.snapshot().items() if r != "$Session"}
                    for s in (ann, bo)},
        "active": desktop.sessions.active.id,
    }
    recorder.close(clean=False)
    await desktop.shutdown()
    journal.close()
    return expected


async def test_restore_brings_every_session_back(make: Any, tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    expected = await crashed_run(make, path)
    assert expected["active"] == expected["ids"][0]

    desktop = await make()
    journal = SpyJournal(path)
    pending = journal.pending()
    recorder = SessionRecorder(desktop, journal)
    flags: list[bool] = []
    desktop.sessions.session_created.connect(lambda _s: flags.append(desktop.restoring))
    problems = await restore_sessions(desktop, pending)
    assert problems == []
    assert flags == [True, True] and desktop.restoring is False

    sessions = desktop.sessions.customer_sessions
    assert [s.id for s in sessions] == expected["ids"]
    ann, bo = sessions
    assert (ann.name, ann.entity, bo.name, bo.entity) == ("Ann", "account", "Bo", "contact")
    assert {s.id: s.started for s in sessions} == expected["started"]
    for s in sessions:
        context = {r: v for r, v in s.store.snapshot().items() if r != "$Session"}
        assert context == expected["context"][s.id]
    assert desktop.sessions.active is ann
    assert desktop.host.of("display_message") == []  # no SessionNew for a restored session
    assert ann.store.get("$Session", "StartTime") == expected["started"][ann.id].isoformat(timespec="seconds")

    controls = desktop.session_controls(ann)
    assert [c.name for c in controls] == ["Script", "Notes", "Customer"]
    script, _notes, customer = controls
    assert isinstance(script, PageControl) and isinstance(customer, PageControl)
    assert (script.page, customer.page) == ("step-3", "account/1")
    assert [c.name for c in desktop.session_controls(bo)] == ["Customer"]
    bo_customer = desktop.session_controls(bo)[0]
    assert isinstance(bo_customer, PageControl) and bo_customer.restored == []  # journaled no state

    # The restored sessions are journaled again, as they are now.
    await one_turn(recorder)
    again = journal.pending()
    assert [s.id for s in again] == expected["ids"]
    assert [s.active for s in again] == [True, False]
    assert again[0].controls == [JournaledControl("Script", {"page": "step-3"}, 0),
                                 JournaledControl("Notes", None, 1),
                                 JournaledControl("Customer", {"page": "account/1"}, 2)]
    recorder.close(clean=True)
    await desktop.shutdown()
    assert journal.pending() == []
    journal.close()


async def test_what_cannot_come_back_is_reported_and_the_rest_restored(make: Any) -> None:
    desktop = await make()
    started = "2026-05-01T09:00:00+00:00"
    journaled = [
        JournaledSession("s1", "Ann", "account", started, 0, False, {"$Context": {"a": "1"}}, [
            JournaledControl("Customer", {"page": "p1"}, 0),
            JournaledControl("Gone Control", {"page": "x"}, 1),
            JournaledControl("Script", {"page": "explodes"}, 2),
            JournaledControl("Notes", None, 3),
        ]),
        JournaledSession("s2", "Bo", "", "not a time", 1, True, {"$Context": {"b": "2"}}, []),
    ]
    existing = desktop.sessions.create("Already open", activate=False, session_id="s3")
    journaled.append(JournaledSession("s3", "Already open", "", started, 2, False, {}, []))
    problems = await restore_sessions(desktop, journaled)

    assert len(problems) == 4, problems
    gone = next(p for p in problems if "Gone Control" in p)
    assert "'Ann'" in gone and "no longer in the configuration" in gone
    explodes = next(p for p in problems if "'Script'" in p)
    assert "'Ann'" in explodes and "cannot be shown again" in explodes
    assert any("'Bo'" in p and "not a time" in p for p in problems)
    assert any("Already open" in p for p in problems)

    ann = desktop.sessions.get("s1")
    bo = desktop.sessions.get("s2")
    assert ann is not None and bo is not None
    assert [c.name for c in desktop.session_controls(ann)] == ["Customer", "Script", "Notes"]
    customer = desktop.session_controls(ann)[0]
    assert isinstance(customer, PageControl) and customer.page == "p1"
    assert ann.store.get("$Context", "a") == "1" and bo.store.get("$Context", "b") == "2"
    assert desktop.sessions.active is bo
    assert desktop.sessions.get("s3") is existing
    assert desktop.restoring is False


async def test_prune_forgets_the_sessions_that_did_not_come_back(make: Any) -> None:
    desktop = await make()
    journal = SessionJournal(":memory:")
    started = "2026-05-01T09:00:00+00:00"
    journal.write([JournaledSession("ok", "Ann", "", started, 0, True, {}, []),
                   JournaledSession("declined", "Bo", "", started, 1, False, {}, [])], "ok")
    recorder = SessionRecorder(desktop, journal)
    pending = journal.pending()
    assert await restore_sessions(desktop, pending[:1]) == []  # the agent restored only Ann
    recorder.prune()
    assert [s.id for s in journal.pending()] == ["ok"]
    recorder.close(clean=True)
    journal.close()
