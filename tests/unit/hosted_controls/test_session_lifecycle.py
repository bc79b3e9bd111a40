"""Customer sessions' lifecycle, Qt-free: events in USD's order, the session limit and Redo screen
pop, close requests a configuration can take over, and tab names from the session lines."""

from __future__ import annotations

import asyncio

import pytest

from usd_desktop.core.errors import SessionLimitReached

CONFIG = """
name: Sessions
options: {maxNumberOfSessions: 2}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
action_calls:
  - {name: Log, control: Global Manager, action: CopyToContext, data: "log=[[$Context.log]+]|[[SessionId]]"}
events:
  - {control: Global Manager, name: SessionNew, action_calls: [LogNew]}
session_lines:
  - {name: By account, order: 1, type: session_name, display: "[[account.name]] ([[account.accountnumber]])"}
  - {name: By caller, order: 2, type: session_name, display: "Call from [[cti.ani]]"}
  - {name: Contact only, order: 0, type: session_name, entity: contact, display: "[[contact.fullname]]"}
  - {name: Account line, order: 1, type: session_overview, display: "Account: [[account.name]]"}
  - {name: Case line, order: 2, type: session_overview, display: "Open case [[case.number]]"}
"""



@pytest.fixture
def desktop(desktop_factory):  # type: ignore[no-untyped-def]
    text = CONFIG.replace("action_calls: [LogNew]", "action_calls: [Log]")
    return desktop_factory(text)


async def test_create_switch_and_close_fire_the_events_in_order(desktop) -> None:  # type: ignore[no-untyped-def]
    first = await desktop.create_session(name="A")
    second = await desktop.create_session(name="B")
    assert desktop.sessions.active is second
    await desktop.switch_session(first)
    await desktop.close_session(first)
    names = [r.name for r in desktop.dispatcher.journal.find(kind="event")]
    assert names == [
        "SessionDeactivated", "SessionActivated", "SessionNew",  # A: global -> A, then new
        "SessionDeactivated", "SessionActivated", "SessionNew",  # B
        "SessionDeactivated", "SessionActivated",                # switch to A
        "SessionClosing", "SessionClosed", "SessionActivated",   # close A: B becomes active
    ]
    activated = desktop.dispatcher.journal.find(kind="event", name="SessionActivated")
    assert [r.parameters["SessionId"] for r in activated] == [first.id, second.id, first.id, second.id]
    assert activated[0].parameters["Activate"] == "true"
    assert desktop.sessions.active is second and desktop.sessions.get(first.id) is None
    assert first.store.get("$Context", "log") == f"|{first.id}"  # SessionNew ran in the new session


async def test_a_background_session_stays_in_the_background(desktop) -> None:  # type: ignore[no-untyped-def]
    first = await desktop.create_session()
    background = await desktop.create_session(background=True, context={"ani": "+358401234567"})
    assert desktop.sessions.active is first
    assert background.store.get("$Context", "ani") == "+358401234567"
    assert [s.name for s in desktop.sessions.customer_sessions] == ["Session 1", "Session 2"]


async def test_the_limit_refuses_then_redo_replays_the_pop(desktop) -> None:  # type: ignore[no-untyped-def]
    changes: list[str | None] = []
    desktop.pending_pop_changed.connect(changes.append)
    a = await desktop.create_session()
    await desktop.create_session()
    with pytest.raises(SessionLimitReached, match="2 customer session"):
        await desktop.create_session(entity="contact", context={"ani": "+4420"})
    assert desktop.pending_pop is not None and "ani=+4420" in desktop.pending_pop
    assert desktop.host.calls[-1][0] == "display_message" and desktop.host.calls[-1][1][1] == "Session limit reached"
    assert not desktop.slot_free and await desktop.redo_screen_pop() is False
    await desktop.close_session(a)
    assert desktop.slot_free and changes[-1] == desktop.pending_pop  # told: a slot is free
    assert await desktop.redo_screen_pop() is True
    popped = desktop.sessions.active
    assert popped.entity == "contact" and popped.store.get("$Context", "ani") == "+4420"
    assert desktop.pending_pop is None and changes[-1] is None
    assert await desktop.redo_screen_pop() is False  # nothing left to redo


async def test_the_global_manager_actions(desktop_factory) -> None:  # type: ignore[no-untyped-def]
    d = desktop_factory(CONFIG.replace("events:\n  - {control: Global Manager, name: SessionNew, action_calls: [LogNew]}", "")
                        .replace("action_calls:\n", """action_calls:
  - {name: New, control: Global Manager, action: CreateSession, data: "entity=account\\nId=42"}
  - {name: Switch, control: Global Manager, action: SwitchSession, data: "[[$Context.target]g]"}
  - {name: Active, control: Global Manager, action: CloseActive}
  - {name: Redo, control: Global Manager, action: RedoScreenPop}
""", 1))
    one = d.sessions.get((await d.dispatcher.run_action_call("New")).result)
    two = d.sessions.get((await d.dispatcher.run_action_call("New")).result)
    assert one is not None and two is not None and one.entity == "account"
    assert one.store.get("$Context", "Id") == "42"
    d.sessions.global_session.store.set("$Context", "target", one.id)
    await d.dispatcher.run_action_call("Switch")
    assert d.sessions.active is one
    refused = await d.dispatcher.run_action_call("New")
    assert refused.outcome.value == "failed"
    await d.dispatcher.run_action_call("Active")
    assert d.sessions.get(one.id) is None
    redone = await d.dispatcher.run_action_call("Redo")
    assert redone.result == "true" and len(d.sessions.customer_sessions) == 2


async def test_a_handled_close_request_keeps_the_session(desktop_factory) -> None:  # type: ignore[no-untyped-def]
    d = desktop_factory(CONFIG.replace("[LogNew]", "[Log]").replace(
        "events:\n", "events:\n  - {control: Global Manager, name: SessionCloseRequested, action_calls: [Log]}\n"))
    session = await d.create_session()
    assert await d.request_close(session) is False
    assert d.sessions.get(session.id) is session
    plain = desktop_factory(CONFIG)
    other = await plain.create_session()
    assert await plain.request_close(other) is True and plain.sessions.get(other.id) is None
    assert [r.name for r in plain.dispatcher.journal.find(kind="event")][-3:] == [
        "SessionCloseRequested", "SessionClosing", "SessionClosed"]


async def test_tab_names_and_overview_follow_the_session_lines(desktop) -> None:  # type: ignore[no-untyped-def]
    updated = []
    desktop.sessions.session_updated.connect(updated.append)
    session = await desktop.create_session(name="Incoming")
    assert session.name == "Incoming" and session.view.overview == ()
    session.store.set("cti", "ani", "+358401234567")
    await asyncio.sleep(0)  # the views are refreshed once per loop turn
    assert session.name == "Call from +358401234567" and updated[-1] is session
    session.store.update("account", {"name": "Contoso", "accountnumber": "A-1"})
    session.store.set("case", "number", "CAS-7")
    await asyncio.sleep(0)
    assert session.name == "Contoso (A-1)"
    assert session.store.get("$Session", "Name") == "Contoso (A-1)"
    assert [line.text for line in session.view.overview] == ["Account: Contoso", "Open case CAS-7"]
    session.store.remove_root("account")
    await asyncio.sleep(0)
    assert session.name == "Call from +358401234567"
    assert [line.name for line in session.view.overview] == ["Case line"]


async def test_entity_lines_apply_to_sessions_of_that_entity(desktop) -> None:  # type: ignore[no-untyped-def]
    contact = await desktop.create_session(entity="contact")
    other = await desktop.create_session()
    for s in (contact, other):
        s.store.set("contact", "fullname", "Maria Popescu")
        s.store.set("cti", "ani", "+40")
    await asyncio.sleep(0)
    assert contact.name == "Maria Popescu" and other.name == "Call from +40"


async def test_unrelated_changes_do_not_re_evaluate(desktop) -> None:  # type: ignore[no-untyped-def]
    session = await desktop.create_session()
    updated = []
    desktop.sessions.session_updated.connect(updated.append)
    session.store.set("$Context", "unrelated", "x")
    await asyncio.sleep(0)
    assert updated == [] and not desktop.session_lines.affected_by(
        type("C", (), {"keys": frozenset({("$Context", "unrelated")})})())  # type: ignore[arg-type]


async def test_an_empty_value_does_not_resolve_a_line(desktop) -> None:  # type: ignore[no-untyped-def]
    session = await desktop.create_session(name="Incoming")
    session.store.update("account", {"name": "", "accountnumber": "A-1"})
    session.store.set("case", "number", "")
    await asyncio.sleep(0)
    assert session.name == "Incoming" and session.view.overview == ()
    assert {name for name, _ in session.view.skipped} >= {"By account", "Account line", "Case line"}
