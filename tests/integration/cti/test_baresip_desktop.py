"""A whole call through the desktop, with real baresip processes: directly and through kamailio.

The desktop (Qt-free) has a CTI Desktop Manager with the ``baresip`` adapter (it spawns the agent's
baresip), a customer form per session and a CTI rule that finds the caller by phone. A caller
baresip whose SIP user is ``+358401234567`` dials the agent; the customer with that number (typed
with separators in the data) pops in a new session; the UII actions go through ``desktop.dispatcher`` as a
toolbar's would: Answer, Hold, Retrieve, Hangup, CompleteWrapUp; then the interaction row is read
from the repository. A second test transfers the call (blind) to a third baresip, which rings with
the caller and answers; the wrap-up then ends by the manager's timer.

Waits are on events (the manager's call events, baresip's own events) and conditions, never on
sleeps; every process is stopped in a finally.
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_service
from tests.integration.cti.sip_peers import (
    BARESIP,
    KAMAILIO,
    TIMEOUT,
    BaresipPeer,
    Kamailio,
    free_sip_port,
)
from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.cti.adapters.baresip import BaresipAdapter
from usd_desktop.cti.calls import Call
from usd_desktop.cti.contract import (
    CallAnswered,
    CallEnded,
    CallHeld,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    CtiEvent,
)
from usd_desktop.cti.manager import CtiManager
from usd_desktop.data.services import DataServices
from usd_desktop.data.values import to_utc
from usd_desktop.hosted_controls.base import ControlType, HostedControl
from usd_desktop.hosted_controls.catalog import CTI_DESKTOP_MANAGER, GLOBAL_MANAGER
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.navigation_router import RoutedPage
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import make_data_services, make_desktop, until


def _needs(available: bool, reason: str) -> Callable[[Any], Any]:
    """``needs_service`` without its empty ``usefixtures()`` mark (pytest warns about it)."""
    mark = needs_service(available, reason)
    return mark if mark.name == "skip" else (lambda test: test)


needs_baresip = _needs(BARESIP is not None, "baresip is not installed (apt-get install baresip-core)")
_kamailio_mark = needs_service(KAMAILIO is not None, "kamailio is not installed (apt-get install kamailio)")
ROUTES = [pytest.param("direct", id="direct"),
          pytest.param("kamailio", id="kamailio", marks=[_kamailio_mark] if _kamailio_mark.name == "skip" else [])]

CALLER = "+358401234567"  # the caller baresip's SIP user: the ANI the adapter reports
STORED_PHONE = "+358 (40) 123-4567"  # the customer's number as someone typed it into the data
MODULE = "usd_desktop_test_baresip_desktop_controls"
FORM = ControlType(name="TestCustomerForm", factory=f"{MODULE}:CustomerForm")


class CustomerForm(HostedControl):
    """A Qt-free customer tab: it keeps the pages the CTI rule routes to it."""

    control_type = FORM

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.opened: list[RoutedPage] = []

    def open_routed(self, page: RoutedPage) -> None:
        self.opened.append(page)


def configuration(adapter_settings: dict[str, Any], wrap_up_seconds: float) -> str:
    settings = ", ".join(f"{key}: {value!r}" for key, value in adapter_settings.items())
    return f"""
name: baresip desktop
hosted_controls:
  - {{name: Global Manager, type: GlobalManager}}
  - {{name: CTI, type: CtiDesktopManager, settings: {{adapter: baresip, adapter_settings: {{{settings}}},
     wrap_up_seconds: {wrap_up_seconds}, dispositions: [Resolved, Callback]}}}}
  - {{name: Customer, type: TestCustomerForm, is_global: false}}
action_calls:
  - {{name: Note the answer, control: Global Manager, action: CopyToContext, data: "answered=[[cti.callid]]"}}
events:
  - {{control: CTI, name: CallAnswered, action_calls: [Note the answer]}}
window_navigation_rules:
  - name: Known callers
    order: 1
    target_tab: Customer
    cti:
      searches: [{{name: Caller, entity: contact, filters: [{{field: phone, value: "[[cti.ani]]"}}]}}]
      single_match: {{decision: create_session_load_match_then_do_action}}
      no_match: {{decision: next_rule}}
"""


# ---------------------------------------------------------------------- fixtures
@dataclass
class World:
    desktop: Desktop
    services: DataServices
    contact: str
    control: CtiDesktopManager
    manager: CtiManager
    adapter: BaresipAdapter
    events: asyncio.Queue[tuple[CtiEvent, Call]]
    agent_uri: str  # where a caller dials the agent
    agent_states: list[str]  # each agent state the manager went through

    async def expect(self, kind: type[CtiEvent], **fields: Any) -> tuple[Any, Call]:
        """The desktop's next call event: a ``kind`` with ``fields``."""
        event, call = await asyncio.wait_for(self.events.get(), TIMEOUT)
        assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
        for name, value in fields.items():
            assert getattr(event, name) == value, f"{kind.__name__}.{name}: {getattr(event, name)!r}"
        return event, call

    async def act(self, action: str, data: str = "") -> None:
        """A UII action of the CTI control, as a toolbar button runs it."""
        done = await self.desktop.dispatcher.run_action("CTI", action, data)
        assert done.outcome is Outcome.RAN, f"{action}: {done.outcome} {done.reason}"

    async def popped(self, call: str) -> Session:
        """The customer session the call popped (the CTI rule created it)."""
        def find() -> Session | None:
            return next((s for s in self.desktop.sessions.customer_sessions
                         if s.store.get("cti", "callid") == call), None)
        session: Session = await until(find, "the screen pop", timeout=TIMEOUT)
        return session


StartPeer = Callable[..., Awaitable[BaresipPeer]]
StartWorld = Callable[..., Awaitable[World]]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    module = types.ModuleType(MODULE)
    module.CustomerForm = CustomerForm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    return Registry([GLOBAL_MANAGER, CTI_DESKTOP_MANAGER, FORM])


@pytest.fixture
async def peers(tmp_path: Path) -> AsyncIterator[StartPeer]:
    started: list[BaresipPeer] = []

    async def start(user: str, **options: Any) -> BaresipPeer:
        peer = BaresipPeer(tmp_path / f"peer-{len(started)}", user, **options)
        started.append(peer)
        return await peer.start()

    try:
        yield start
    finally:
        for peer in started:
            await peer.stop()


@pytest.fixture
async def kamailio(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Kamailio | None]:
    """kamailio for the ``kamailio`` route, none for ``direct``."""
    if request.param == "direct":
        yield None
        return
    proxy = Kamailio(tmp_path / "kamailio")
    try:
        yield await proxy.start()
    finally:
        await proxy.stop()


@pytest.fixture
async def world(registry: Registry, kamailio: Kamailio | None, tmp_path: Path) -> AsyncIterator[StartWorld]:
    made: list[tuple[Desktop, DataServices, BaresipAdapter | None]] = []

    async def start(*, wrap_up_seconds: float) -> World:
        services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
        contact = services.repository.create("contact", {"first_name": "Aino", "last_name": "Virtanen"})
        services.repository.create("phone", {"contact_id": contact, "number": STORED_PHONE})
        listen = f"127.0.0.1:{free_sip_port()}"
        if kamailio is None:
            settings: dict[str, Any] = {"account": f"sip:agent@{listen}"}
            agent_uri = f"sip:agent@{listen}"
        else:
            settings = {"account": "sip:agent@127.0.0.1", "registrar": f"sip:127.0.0.1:{kamailio.port}",
                        "sip_listen": listen}
            agent_uri = f"sip:agent@127.0.0.1:{kamailio.port}"
        desktop = make_desktop(configuration(settings, wrap_up_seconds), registry=registry, data=services,
                               user={"firstname": "Tracie", "fullname": "Tracie Agent", "username": "tracie"})
        made.append((desktop, services, None))
        await desktop.start()
        control = desktop.instance("CTI")
        assert isinstance(control, CtiDesktopManager), desktop.problems
        assert control.manager is not None, control.problem
        manager = control.manager
        adapter = manager.adapter
        assert isinstance(adapter, BaresipAdapter)
        made[-1] = (desktop, services, adapter)
        events: asyncio.Queue[tuple[CtiEvent, Call]] = asyncio.Queue()
        control.keep(manager.call_event.connect(events.put_nowait))
        states: list[str] = []
        control.keep(manager.agent_changed.connect(lambda status: states.append(status.state)))
        await until(lambda: manager.connection.connected or control.problem, "the adapter connected",
                    timeout=TIMEOUT)
        assert manager.connection.connected, control.problem  # spawned baresip, registered when proxied
        return World(desktop, services, contact, control, manager, adapter, events, agent_uri, states)

    try:
        yield start
    finally:
        for desktop, services, adapter in made:
            process = adapter.process if adapter is not None else None
            try:
                await desktop.shutdown()  # the CTI control closes the adapter: baresip quits
            finally:
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
                services.close()


def caller_options(kamailio: Kamailio | None) -> dict[str, Any]:
    return {} if kamailio is None else {"registrar_port": kamailio.port}


async def pop_and_answer(world: World, caller: BaresipPeer) -> Call:
    """The caller dials the agent; the customer pops; the agent answers with the Answer action."""
    await caller.command("dial", world.agent_uri)
    offered, call = await world.expect(CallOffered, ani=CALLER, direction="inbound")
    assert offered.dnis == "agent" and call.number_e164 == CALLER
    session = await world.popped(call.id)
    assert session.entity == "contact" and session.store.get("$Context", "Id") == world.contact
    assert session.store.get("cti", "ani") == CALLER and world.desktop.sessions.active is session
    form = world.desktop.instance("Customer", session)
    assert isinstance(form, CustomerForm) and [p.record_id for p in form.opened] == [world.contact]

    await world.act("Answer")
    _, answered = await world.expect(CallAnswered, call=call.id)
    assert answered.state == "connected"
    await caller.expect("CALL_ESTABLISHED")
    # the call's events are raised in its session (the configuration's CallAnswered event)
    await until(lambda: session.store.get("$Context", "answered"), "the CallAnswered event's action call")
    assert session.store.get("$Context", "answered") == call.id
    return call


async def interaction_row(world: World, call: Call) -> dict[str, Any]:
    assert world.control.recorder is not None
    await world.control.recorder.flush()
    assert call.interaction_id is not None
    row = await world.services.get("interaction", call.interaction_id)
    assert row is not None, "no interaction row"
    assert world.services.drafts.pending("interaction:") == []  # all written, nothing to recover
    return row


def when(value: Any) -> datetime:
    assert value is not None
    return to_utc(value)


# ---------------------------------------------------------------------- the tests
@needs_baresip
@pytest.mark.parametrize("kamailio", ROUTES, indirect=True)
async def test_a_call_pops_the_customer_and_is_recorded(world: StartWorld, peers: StartPeer,
                                                        kamailio: Kamailio | None) -> None:
    desk = await world(wrap_up_seconds=30)
    manager = desk.manager
    caller = await peers(CALLER, display_name="Aino Virtanen", **caller_options(kamailio))
    call = await pop_and_answer(desk, caller)
    assert desk.agent_states == ["on_call"]

    # hold: baresip's re-INVITE reaches the caller; held until the manager's hold timer has ticked
    # (every tick_seconds while a call is held): the hold lasts at least that long
    ticks: asyncio.Queue[Call] = asyncio.Queue()
    await desk.act("Hold")
    held, _ = await desk.expect(CallHeld, call=call.id)
    await caller.expect("CALL_REMOTE_SDP", param="offer")
    desk.control.keep(manager.call_changed.connect(ticks.put_nowait))
    tick = await asyncio.wait_for(ticks.get(), manager.tick_seconds + TIMEOUT)
    assert tick is call and tick.state == "held"
    await desk.act("Retrieve")
    retrieved, _ = await desk.expect(CallRetrieved, call=call.id)
    await caller.expect("CALL_REMOTE_SDP", param="offer")
    assert call.state == "connected" and call.hold_seconds >= manager.tick_seconds

    # the agent hangs up: wrap-up, with the manager's timer running
    await desk.act("Hangup")
    ended, _ = await desk.expect(CallEnded, call=call.id, cause="normal")
    await caller.expect("CALL_CLOSED")
    status = manager.agent_status
    assert status.state == "wrap_up" and call.wrap_up and manager.wrap_up_seconds == 30
    assert status.wrap_up_deadline is not None
    window = timedelta(seconds=manager.wrap_up_seconds)
    assert ended.at + window <= status.wrap_up_deadline <= datetime.now(UTC) + window
    failed = await desk.desktop.dispatcher.run_action("CTI", "CompleteWrapUp", "disposition=Whatever")
    assert failed.outcome is Outcome.FAILED and "Resolved" in failed.reason
    await desk.act("CompleteWrapUp", "disposition=resolved")  # the configured spelling is kept
    assert call.id not in manager.calls
    assert desk.agent_states == ["on_call", "wrap_up", "offline"]  # never logged in: offline again
    assert call.wrap_up_ended_at is not None and call.wrap_up_ended_at < status.wrap_up_deadline

    row = await interaction_row(desk, call)
    assert (row["channel"], row["direction"], row["address"]) == ("phone", "inbound", CALLER)
    assert row["subject"] == f"Call from {CALLER}" and row["agent"] == "tracie"
    assert row["contact_id"] == desk.contact and row["disposition"] == "Resolved"
    offered_at, answered_at = when(row["offered_at"]), when(row["answered_at"])
    ended_at, wrapped_at = when(row["ended_at"]), when(row["wrap_up_ended_at"])
    assert offered_at < answered_at < held.at < retrieved.at < ended_at <= wrapped_at
    assert (answered_at, ended_at, wrapped_at) == (call.answered_at, ended.at, call.wrap_up_ended_at)
    assert row["hold_seconds"] == round((retrieved.at - held.at).total_seconds()) >= 1
    assert row["transfers"] == 0


@needs_baresip
@pytest.mark.parametrize("kamailio", ROUTES, indirect=True)
async def test_a_blind_transfer_to_a_third_phone(world: StartWorld, peers: StartPeer,
                                                 kamailio: Kamailio | None) -> None:
    desk = await world(wrap_up_seconds=1)
    manager = desk.manager
    caller = await peers(CALLER, **caller_options(kamailio))
    third = await peers("2001", **caller_options(kamailio))
    call = await pop_and_answer(desk, caller)

    # through the proxy the agent types the extension; directly, the third phone's address
    target = "2001" if kamailio is not None else third.uri
    await desk.act("Transfer", f"target={target}")
    ringing = await third.expect("CALL_INCOMING", peeruri=caller.uri)  # it rings with the caller
    await third.on_call(ringing["id"], "accept")
    # the adapter reports CallTransferred, then CallEnded: the transfer ends the desktop's call
    transferred, _ = await desk.expect(CallTransferred, call=call.id)
    assert transferred.target.startswith("sip:2001@127.0.0.1")
    assert (call.state, call.cause, call.ended_at) == ("ended", "transferred", transferred.at)
    await caller.expect("CALL_ESTABLISHED", id=ringing["id"])  # caller and third phone talk
    assert call.transfers == 1 and transferred.target in call.parties

    # no disposition given: the wrap-up ends by the manager's timer, wrap_up_seconds after the end
    assert desk.agent_states == ["on_call", "wrap_up"]
    await until(lambda: call.id not in manager.calls, "the wrap-up timer", timeout=TIMEOUT)
    assert desk.agent_states == ["on_call", "wrap_up", "offline"]
    row = await interaction_row(desk, call)
    assert row["transfers"] == 1 and row["contact_id"] == desk.contact and row["disposition"] is None
    ended_at, wrapped_at = when(row["ended_at"]), when(row["wrap_up_ended_at"])
    assert when(row["offered_at"]) < when(row["answered_at"]) < ended_at == transferred.at
    # (the timer runs on the loop's monotonic clock, the row's times are wall-clock times)
    assert wrapped_at - ended_at >= timedelta(seconds=manager.wrap_up_seconds * 0.99)
    await third.on_call(ringing["id"], "hangup")
    await caller.expect("CALL_CLOSED", id=ringing["id"])

