"""Calls on the starter configuration, in the real main window with its first-run demo data: the
simulator's calls pop through the starter's CTI rule (one customer: their session; nobody: a new
customer form with the number; a shared number: the list to pick from), the call bar follows the
call, and the wrap-up ends with a disposition written to the interaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.gui.support import close_shell, open_shell
from usd_desktop.config.loader import load_configuration
from usd_desktop.core.paths import resources_dir
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.call_control import CallControl
from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.hosted_controls.qt.entity_list import EntityList
from usd_desktop.hosted_controls.qt.session_tabs import SessionTabsControl
from usd_desktop.testing import make_data_services, until

pytestmark = [
    pytest.mark.webengine,
    pytest.mark.qt_log_ignore(r"^QRhiGles2: Failed to create", r"^Failed to create RHI for backend: OpenGL",
                              r"^GPUInfo not initialized on GpuInfoUpdate", extend=True),
]


@asynccontextmanager
async def starter(tmp_path: Path) -> AsyncIterator[tuple[Desktop, CtiDesktopManager, Any]]:
    services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}", demo_customers=250)
    config = load_configuration(resources_dir() / "starter")
    desktop, window, host = await open_shell(
        config, data=services, user={"username": "tracie", "firstname": "Tracie", "fullname": "Tracie Agent"})
    try:
        cti = desktop.instance("CTI")
        assert isinstance(cti, CtiDesktopManager) and cti.manager is not None, getattr(cti, "problem", "")
        await until(lambda: cti.manager is not None and cti.manager.connection.connected, "the simulator")
        yield desktop, cti, services
    finally:
        await close_shell(desktop, window, host)
        services.close()


def _tab_texts(desktop: Desktop) -> list[str]:
    tabs = desktop.instance("Session Tabs")
    assert isinstance(tabs, SessionTabsControl)
    widget = tabs.tabs_widget
    assert widget is not None
    return [widget.bar.tabText(i) for i in range(widget.bar.count())]


async def _pop(desktop: Desktop, cti: CtiDesktopManager, simulate: str) -> tuple[str, Any]:
    """Run a "Simulate ..." action call of the starter; the call id and the session it popped."""
    before = set(cti._popped)
    outcome = await desktop.dispatcher.run_action_call(simulate, session=desktop.sessions.global_session)
    assert outcome.outcome is Outcome.RAN, outcome.reason
    call = await until(lambda: next((c for c, s in cti._popped.items() if s and c not in before), None),
                       f"the pop of {simulate!r}")
    session = desktop.sessions.get(cti._popped[call])
    assert session is not None and desktop.sessions.active is session
    return call, session


async def test_a_known_caller_pops_their_session_and_the_call_is_wrapped_up(qtbot: Any, tmp_path: Path) -> None:
    async with starter(tmp_path) as (desktop, cti, services):
        assert cti.manager is not None
        assert cti.manager.agent_status.state != "available"  # the starter's agent starts not ready: no call yet
        call, session = await _pop(desktop, cti, "Simulate a customer's call")
        form = desktop.instance("Customer", session)
        assert isinstance(form, EntityForm)
        await until(lambda: form.record_id is not None, "the customer loaded")
        assert session.store.get("contact", "full_name") == "Olivia Eronen"
        await until(lambda: "Olivia Eronen" in _tab_texts(desktop), "the session tab named after her")
        loads = [r for r in desktop.dispatcher.journal.find(kind="event", name="DataReady")
                 if r.session_id == session.id and r.control == "Customer"]
        assert len(loads) == 1, "the match loads once (SessionNew already opened it in Customer)"
        bar = desktop.instance("Call Control")
        assert isinstance(bar, CallControl)
        await until(lambda: "Ringing" in bar.view().state_text, "the ringing call bar")

        run = desktop.dispatcher.run_action
        assert (await run("CTI", "Answer", "")).outcome is Outcome.RAN
        await until(lambda: cti.manager is not None and cti.manager.calls[call].state == "connected", "answered")
        assert (await run("CTI", "Hangup", "")).outcome is Outcome.RAN
        await until(lambda: cti.manager is not None and cti.manager.agent_status.state == "wrap_up", "wrap-up")
        assert (await run("CTI", "CompleteWrapUp", "disposition=Resolved")).outcome is Outcome.RAN
        await until(lambda: cti.manager is not None and cti.manager.agent_status.state != "wrap_up", "done")
        await cti.recorder.flush()
        from usd_desktop.config.schema_searches import EntitySearch

        rows = await services.search(EntitySearch(
            name="i", entity="interaction", columns=["contact_id", "disposition", "answered_at", "ended_at"],
            filters=[{"field": "disposition", "value": "Resolved"}]), {}, announce=False)
        assert [r["contact_id"] for r in rows.rows] == [form.record_id]


async def test_an_unknown_caller_gets_a_new_customer_form_with_the_number(qtbot: Any, tmp_path: Path) -> None:
    async with starter(tmp_path) as (desktop, cti, _):
        _, session = await _pop(desktop, cti, "Simulate a new caller")
        form = desktop.instance("Customer", session)
        assert isinstance(form, EntityForm)
        await until(lambda: form.entity == "contact" and form.record_id is None and "phone" in form.editors,
                    "the new customer form")
        assert form.editors["phone"].value() == "+358505550123"
        await until(lambda: "Call from +358505550123" in _tab_texts(desktop), "the session named after the call")


async def test_a_shared_number_lists_the_customers_to_pick_from(qtbot: Any, tmp_path: Path) -> None:
    async with starter(tmp_path) as (desktop, cti, _):
        _, session = await _pop(desktop, cti, "Simulate a shared number")
        callers = desktop.instance("Callers", session)
        assert isinstance(callers, EntityList)
        await until(lambda: len(callers.table().model().rows) == 2, "the two customers with the number")
        names = sorted(str(r["full_name"]) for r in callers.table().model().rows)
        assert names == ["Jose Rollins", "Olivia Eronen"]
        chosen = next(r for r in callers.table().model().rows if r["full_name"] == "Jose Rollins")
        callers.choose("contact", str(chosen["id"]))
        form = desktop.instance("Customer", session)
        await until(lambda: isinstance(form, EntityForm) and form.record_id == chosen["id"], "the chosen caller")
        await until(lambda: "Jose Rollins" in _tab_texts(desktop), "the session named after the caller")


async def test_a_listener_url_pops_a_session(qtbot: Any, tmp_path: Path) -> None:
    """USD's generic listener of the starter: a URL opened by a softphone, a browser or curl."""
    import aiohttp

    async with starter(tmp_path) as (desktop, _, _services):
        pops = desktop.instance("Screen Pops")
        assert isinstance(pops, CtiDesktopManager) and pops.manager is not None, getattr(pops, "problem", "")
        await until(lambda: pops.manager is not None and pops.manager.connection.connected, "the listener")
        url = "http://127.0.0.1:5000/?ani=%2B40712185380&dnis=0800100300&type=phonecall&reason=no_internet"
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 200, await response.text()
            call = (await response.json())["call"]
        await until(lambda: pops._popped.get(call), "the pop")
        session = desktop.sessions.get(pops._popped[call])
        assert session is not None and session.store.get("cti", "reason") == "no_internet"
        form = desktop.instance("Customer", session)
        assert isinstance(form, EntityForm)
        await until(lambda: session.store.get("contact", "full_name") == "Francesca Niță", "the customer")
        await until(lambda: "Francesca Niță" in _tab_texts(desktop), "the session tab named after her")


async def test_the_dashboards_follow_the_calls(qtbot: Any, tmp_path: Path) -> None:
    """The starter's My Day and Team dashboards change as a simulated call is answered and wrapped
    up: its interaction row is written, and the figures refresh without being asked."""
    from usd_desktop.hosted_controls.qt.dashboards import AgentDashboard, TeamDashboard

    async with starter(tmp_path) as (desktop, cti, _services):
        glob = desktop.sessions.global_session
        my_day, team = desktop.resolve("My Day", glob), desktop.resolve("Team", glob)
        assert isinstance(my_day, AgentDashboard) and isinstance(team, TeamDashboard)
        await until(lambda: my_day.figures is not None and team.figures is not None, "the first figures")
        assert my_day.tile_texts()["handled"][0] == "0"
        before = team.refreshes
        call, _ = await _pop(desktop, cti, "Simulate a customer's call")
        run = desktop.dispatcher.run_action
        assert (await run("CTI", "Answer", "")).outcome is Outcome.RAN
        assert (await run("CTI", "Hangup", "")).outcome is Outcome.RAN
        assert (await run("CTI", "CompleteWrapUp", "disposition=Resolved")).outcome is Outcome.RAN
        await until(lambda: my_day.tile_texts()["handled"][0] == "1", "My Day counting the call", timeout=20)
        await until(lambda: team.refreshes > before, "the Team view refreshed", timeout=20)
        assert call in cti._popped
