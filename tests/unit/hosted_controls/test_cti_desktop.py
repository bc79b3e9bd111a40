"""The CTI Desktop Manager control, Qt-free, with the scriptable fake adapter: a ringing call pops
the caller's customer through the CTI rules (or a plain session without one), call control is UII
actions, the call's events are raised with its [[cti.*]] data, the interaction row follows the
call, and an adapter that cannot be created leaves the desktop up with the reason."""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.core.trace import Outcome
from usd_desktop.cti.registry import AdapterRegistry
from usd_desktop.hosted_controls.base import ControlType, HostedControl
from usd_desktop.hosted_controls.catalog import CTI_DESKTOP_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.navigation_router import RoutedPage
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import make_data_services, make_desktop, until
from usd_desktop.testing.fake_adapter import FakeAdapter

MODULE = "usd_desktop_test_cti_desktop_controls"
FORM = ControlType(name="TestForm", factory=f"{MODULE}:Form")


class Form(HostedControl):
    control_type = FORM

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.opened: list[RoutedPage] = []

    def open_routed(self, page: RoutedPage) -> None:
        self.opened.append(page)


RULES = """
window_navigation_rules:
  - name: Known callers
    order: 1
    target_tab: Customer
    cti:
      searches: [{name: Caller, entity: contact, filters: [{field: phone, value: "[[cti.ani]]"}]}]
      single_match: {decision: create_session_load_match_then_do_action}
      no_match: {decision: next_rule}
"""
CONFIG = """
name: CTI desktop
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: CTI, type: CtiDesktopManager, settings: {adapter: fake, wrap_up_seconds: 30,
     dispositions: [Resolved, Callback]}}
  - {name: Customer, type: TestForm, is_global: false}
action_calls:
  - {name: Note the call, control: Global Manager, action: CopyToContext, data: "rang=[[cti.ani]] [[cti.account]+]"}
events:
  - {control: CTI, name: CallOffered, action_calls: [Note the call]}
"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    module = types.ModuleType(MODULE)
    module.Form = Form  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    adapters = AdapterRegistry()
    adapters.register(FakeAdapter)
    monkeypatch.setattr(AdapterRegistry, "discover", classmethod(lambda cls, group="": adapters))
    yield Registry([GLOBAL_MANAGER, CTI_DESKTOP_MANAGER, FORM])


@pytest.fixture
async def world(registry: Registry, tmp_path: Path) -> AsyncIterator[tuple[Desktop, Any, str]]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}")
    maria = services.repository.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
    services.repository.create("phone", {"contact_id": maria, "number": "+40 721 555 010"})
    desktop = make_desktop(CONFIG + RULES, registry=registry, data=services)
    await desktop.start()
    try:
        yield desktop, services, maria
    finally:
        await desktop.shutdown()
        services.close()


def _cti(desktop: Desktop) -> tuple[CtiDesktopManager, FakeAdapter]:
    control = desktop.instance("CTI")
    assert isinstance(control, CtiDesktopManager) and control.manager is not None
    adapter = control.manager.adapter
    assert isinstance(adapter, FakeAdapter)
    return control, adapter


async def test_a_known_caller_pops_a_session_with_the_customer(world: tuple[Desktop, Any, str]) -> None:
    desktop, services, maria = world
    control, adapter = _cti(desktop)
    await until(lambda: adapter.connected, "the adapter connected")
    call = adapter.offer("0040721555010", "100", "Billing", data={"account": "A-77"})
    await until(lambda: control._popped.get(call), "the pop")
    session = desktop.sessions.get(control._popped[call])
    assert session is not None and desktop.sessions.active is session and session.entity == "contact"
    form = desktop.instance("Customer", session)
    assert isinstance(form, Form) and form.opened[-1].record_id == maria
    assert session.store.get("cti", "ani") == "0040721555010" and session.store.get("cti", "account") == "A-77"
    await until(lambda: session.store.get("$Context", "rang"), "the CallOffered action call")
    assert session.store.get("$Context", "rang") == "0040721555010 A-77"
    steps = [r for r in desktop.dispatcher.journal.find(kind="cti_pop") if r.chain == call]
    assert [r.name for r in steps] == ["received", "searched", "session created", "match loaded", "popped"]
    assert all(r.parent == steps[0].seq for r in steps[1:]) and steps[-1].session_id == session.id
    assert [r.duration_ms for r in steps] == sorted(r.duration_ms for r in steps)
    assert "Known callers: 1 match(es)" in steps[1].data and maria in steps[3].data

    run = desktop.dispatcher.run_action
    assert (await run("CTI", "Answer", "")).outcome is Outcome.RAN
    assert adapter.ops("answer") and control.manager is not None
    await until(lambda: control.manager.calls[call].state == "connected", "answered")
    assert (await run("CTI", "Hold", "")).outcome is Outcome.RAN
    await until(lambda: control.manager.calls[call].state == "held", "held")
    assert (await run("CTI", "Retrieve", "")).outcome is Outcome.RAN
    assert (await run("CTI", "Hangup", "")).outcome is Outcome.RAN
    await until(lambda: control.manager.agent_status.state == "wrap_up", "wrap-up")
    wrong = await run("CTI", "CompleteWrapUp", "disposition=Whatever")
    assert wrong.outcome is Outcome.FAILED and "Resolved" in wrong.reason
    assert (await run("CTI", "CompleteWrapUp", "disposition=Resolved")).outcome is Outcome.RAN
    await until(lambda: control.manager.agent_status.state != "wrap_up", "wrap-up done")
    await until(lambda: desktop.dispatcher.journal.find(kind="event", name="WrapUpCompleted"), "WrapUpCompleted")
    fired = {r.name: r for r in desktop.dispatcher.journal.find(kind="event") if r.control == "CTI"}
    assert {"CallOffered", "CallAnswered", "CallHeld", "CallRetrieved", "CallEnded", "WrapUpStarted",
            "WrapUpCompleted"} <= set(fired)
    assert fired["WrapUpCompleted"].session_id == session.id
    assert fired["WrapUpCompleted"].parameters.get("disposition") == "Resolved"

    from usd_desktop.config.schema_searches import EntitySearch

    await control.recorder.flush()
    rows = await services.search(EntitySearch(name="i", entity="interaction", columns=[
        "address", "answered_at", "ended_at", "wrap_up_ended_at", "disposition", "contact_id"]), {},
        announce=False)
    row = rows.rows[0]
    assert row["answered_at"] and row["ended_at"] and row["wrap_up_ended_at"]
    assert row["disposition"] == "Resolved" and row["contact_id"] == maria


async def test_an_unknown_caller_gets_a_session_with_the_call_data(registry: Registry, tmp_path: Path) -> None:
    desktop = make_desktop(CONFIG, registry=registry)
    await desktop.start()
    try:
        control, adapter = _cti(desktop)
        await until(lambda: adapter.connected, "the adapter connected")
        call = adapter.offer("+358401234567", "200")
        await until(lambda: control._popped.get(call), "the pop")
        session = desktop.sessions.get(control._popped[call])
        assert session is not None and session.store.get("$Context", "ani") == "+358401234567"
        assert session.store.get("cti", "number_e164") == "+358401234567"
        steps = desktop.dispatcher.journal.find(kind="cti_pop")
        assert [r.name for r in steps] == ["received", "session created", "popped"]
        assert "no CTI rule" in steps[1].data and steps[-1].session_id == session.id
        dialled = await desktop.dispatcher.run_action("CTI", "Dial", "tel:+40721555010")
        assert dialled.outcome is Outcome.RAN and adapter.ops("dial")
    finally:
        await desktop.shutdown()


async def test_a_missing_adapter_leaves_the_desktop_up_with_the_reason(registry: Registry) -> None:
    desktop = make_desktop(CONFIG.replace("adapter: fake", "adapter: nowhere"), registry=registry)
    await desktop.start()
    try:
        control = desktop.instance("CTI")
        assert isinstance(control, CtiDesktopManager) and control.manager is None
        assert "nowhere" in control.problem
        failed = await desktop.dispatcher.run_action("CTI", "Answer", "")
        assert failed.outcome is Outcome.FAILED and "no CTI adapter" in failed.reason
    finally:
        await desktop.shutdown()


async def test_a_national_number_is_read_in_the_managers_region(world: tuple[Desktop, Any, str]) -> None:
    desktop, _, maria = world
    from usd_desktop.hosted_controls.cti_routing import CtiCall, route_call

    here = await route_call(desktop, CtiCall({"ani": "0721 555 010"}, from_control="CTI", region="RO"))
    assert (here.outcome, [m["id"] for m in here.matches]) == ("single_match", [maria])
    elsewhere = await route_call(desktop, CtiCall({"ani": "0721 555 010"}, from_control="CTI", region="FI"))
    assert (elsewhere.rule, elsewhere.count) == (None, 0)  # its no_match passes the call on
