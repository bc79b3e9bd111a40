"""The CTI Desktop Manager hosted control: a CTI adapter brought into the desktop.

It creates the configured adapter (``settings.adapter``, its ``settings.adapter_settings``
validated by the adapter's model, secrets from the keyring), runs it under a
:class:`~usd_desktop.cti.manager.CtiManager` (isolated commands, reconnection, call lines, the
agent state machine with wrap-up) and writes each call's interaction record as it goes
(:class:`~usd_desktop.cti.interactions.InteractionRecorder`) and the agent's state periods
(:class:`~usd_desktop.cti.agent_states.AgentStateRecorder`; ``record_agent_states: false`` for a
second manager that only pops, such as a listener, so the agent's time is not counted twice).

**Screen pop.** ``settings.pop_on``: ``offer`` (when the call rings, the default), ``answer``, or
``manual`` (the ``Pop`` action). A call pops once: its data (``[[cti.ani]]``, ``[[cti.dnis]]``,
``[[cti.queue]]``, ``[[cti.callid]]``, attached data...) goes through the CTI navigation rules
(:func:`~usd_desktop.hosted_controls.cti_routing.route_call`); when no CTI rule takes it, a
customer session is created with the call's data in its ``cti`` section and ``$Context``
(``ani``, ``dnis``), so the configuration's ``SessionNew`` action calls and session lines work on
it. The call's session is remembered: call events are raised in it.

**Call control** is UII actions, so toolbars, scripts and rules drive calls like anything else:
``Dial`` (``number=`` or the first line; ``tel:``/``sip:`` URLs accepted), ``Answer``, ``Reject``,
``Hangup``, ``Hold``, ``Retrieve``, ``Mute``, ``Unmute``, ``SendDtmf`` (``digits=``),
``Transfer`` (blind, ``target=``), ``Consult`` (``target=``), ``CompleteTransfer``,
``CancelTransfer``, ``Conference``, ``StartRecording``, ``StopRecording``, ``SetAgentState``
(``state=available|not_ready|offline``, ``reason=``), ``CompleteWrapUp`` (``disposition=``),
``Login``, ``Logout``, ``SelectCall`` (``callid=``) and ``Pop``. A call action acts on
``callid=`` when given, else on the active line. Events: ``CallOffered``, ``CallAnswered``,
``CallHeld``, ``CallRetrieved``, ``CallEnded``, ``CallMissed``, ``CallTransferred``,
``WrapUpStarted``, ``WrapUpCompleted`` (with ``disposition``; both once the interaction record is
written), ``AgentStateChanged``,
``ConnectionChanged``, each with the call's ``cti`` parameters. Every call that ends raises
``CallEnded`` (after ``CallTransferred`` when a transfer ends it; ``[[cti.cause]]`` says why) or
``CallMissed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from usd_desktop.core.context import Session
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError, SessionLimitReached
from usd_desktop.core.trace import Outcome, TraceJournal, TraceRecord
from usd_desktop.cti import contract
from usd_desktop.cti.calls import Call
from usd_desktop.cti.contract import CtiError, CtiEvent
from usd_desktop.cti.manager import CtiManager
from usd_desktop.hosted_controls.base import HostedControl, uii_action
from usd_desktop.hosted_controls.catalog import CTI_DESKTOP_MANAGER
from usd_desktop.hosted_controls.cti_routing import CtiCall, route_call

if TYPE_CHECKING:
    from usd_desktop.config.schema import HostedControl as HostedControlDef
    from usd_desktop.core.dispatcher import CallContext
    from usd_desktop.hosted_controls.base import ControlEnvironment

log = logging.getLogger(__name__)

POP_MOMENTS = ("offer", "answer", "manual")
#: The control event raised for each adapter event.
EVENT_NAMES = {
    contract.CallOffered: "CallOffered",
    contract.CallAnswered: "CallAnswered",
    contract.CallHeld: "CallHeld",
    contract.CallRetrieved: "CallRetrieved",
    contract.CallEnded: "CallEnded",
    contract.CallMissed: "CallMissed",
    contract.CallTransferred: "CallTransferred",
    contract.CallConferenced: "CallConferenced",
    contract.DtmfReceived: "DtmfReceived",
}


class PopTrace:
    """The steps of one screen pop in the trace journal: one ``cti_pop`` record per step, its
    ``duration_ms`` the time since the call reached the desktop, ``chain`` the call id."""

    def __init__(self, journal: TraceJournal, call_id: str, control: str) -> None:
        self.journal, self.call_id, self.control = journal, call_id, control
        self.began = time.perf_counter()
        self.parent: int | None = None

    def step(self, name: str, detail: str, *, session: Session | None = None, failed: bool = False) -> None:
        record = self.journal.record(TraceRecord(
            seq=self.journal.next_seq(), kind="cti_pop", name=name,
            outcome=Outcome.FAILED if failed else Outcome.RAN, control=self.control,
            session_id=session.id if session is not None else "", chain=self.call_id,
            parent=self.parent, data=detail, started=datetime.now(UTC).isoformat(timespec="milliseconds"),
            duration_ms=round((time.perf_counter() - self.began) * 1000, 3)))
        if self.parent is None:
            self.parent = record.seq


class CtiDesktopManager(HostedControl):
    control_type = CTI_DESKTOP_MANAGER

    def __init__(self, definition: HostedControlDef, env: ControlEnvironment, session: Session) -> None:
        super().__init__(definition, env, session)
        settings = self.settings
        self.pop_on = str(settings.get("pop_on", "offer"))
        if self.pop_on not in POP_MOMENTS:
            raise ActionError(f"{self.name}: setting pop_on={self.pop_on!r}: choose {', '.join(POP_MOMENTS)}")
        self.problem = ""
        self._popped: dict[str, str] = {}  # call id -> the session it popped into
        self._popping = 0  # screen pops under way
        self._wrapping: set[str] = set()  # the calls in wrap-up
        self.manager: CtiManager | None = None
        self.recorder: Any = None
        self.states: Any = None  # the agent state periods (AgentStateRecorder)
        try:
            self.manager = self._make_manager()
        except CtiError as exc:
            self.problem = str(exc)
            log.error("%s", exc)
            return
        manager = self.manager
        self.keep(manager.call_event.connect(self._on_call_event))
        self.keep(manager.call_changed.connect(self._on_call_changed))
        self.keep(manager.call_removed.connect(self._on_call_removed))
        self.keep(manager.agent_changed.connect(self._on_agent_changed))
        self.keep(manager.connection_changed.connect(self._on_connection_changed))
        self.keep(manager.problem.connect(self._on_problem))
        services = env.data
        if services is not None:
            from usd_desktop.cti.interactions import InteractionRecorder

            user = env.dispatcher.sessions.global_session.store.get("$User", "username") or ""
            self.recorder = InteractionRecorder(manager, services, agent=user)
            env.spawn(self.recorder.recover())  # the rows a crashed run left half-written
            from usd_desktop.cti.agent_states import AgentStateRecorder

            if settings.get("record_agent_states", True):  # off for a pop-only source (a listener)
                self.states = AgentStateRecorder(manager, services, agent=user)
                env.spawn(self.states.recover())  # the periods a crashed run left open
        self._first_start = asyncio.Event()  # set once the first connection attempt is over
        if settings.get("auto_start", True):
            env.spawn(self._start(manager))
        else:
            self._first_start.set()

    def _make_manager(self) -> CtiManager:
        from usd_desktop.cti.registry import AdapterRegistry

        settings = self.settings
        name = str(settings.get("adapter", "simulator"))
        registry = AdapterRegistry.discover()
        adapter = registry.create(name, dict(settings.get("adapter_settings") or {}))
        user = self.env.dispatcher.sessions.global_session.store.get("$User", "username") or ""
        return CtiManager(
            adapter, agent=str(settings.get("agent", user)),
            default_region=str(settings.get("default_region", "FI")),
            command_timeout=float(settings.get("command_timeout", 10.0)),
            wrap_up_seconds=float(settings.get("wrap_up_seconds", 60.0)),
            dispositions=tuple(str(d) for d in settings.get("dispositions") or ()),
        )

    # ------------------------------------------------------------------ events from the manager
    def _on_call_event(self, item: tuple[CtiEvent, Call]) -> None:
        event, call = item
        params = call.parameters()
        self.publish({"ActiveCall": call.id, "CallState": call.state, "Ani": call.ani})
        session = self._session_of(call)
        if session is not None:
            session.store.update("cti", params)
        name = EVENT_NAMES.get(type(event))
        pops = call.id not in self._popped and (
            (self.pop_on == "offer" and isinstance(event, contract.CallOffered | contract.CallDialing))
            or (self.pop_on == "answer" and isinstance(event, contract.CallAnswered)))
        if name or pops:
            trace = PopTrace(self.env.dispatcher.journal, call.id, self.name) if pops else None
            if trace is not None:
                lag = (datetime.now(UTC) - event.at).total_seconds() * 1000
                trace.step("received", f"{type(event).__name__} from {call.ani or '?'} to {call.dnis or '?'}"
                           f" ({lag:.1f} ms after the adapter's event)")
                self._popping += 1
            self.env.spawn(self._pop_then_raise(call, name, params, trace))

    async def _pop_then_raise(self, call: Call, event: str | None, params: dict[str, str],
                              trace: PopTrace | None) -> None:
        """The call's event is raised in the call's session: after the pop when this event pops it."""
        if trace is None:
            session = self._session_of(call)
        else:
            try:
                session = await self.pop(call, trace)
            finally:
                self._popping -= 1  # counted when the pop was asked for
        if event:
            await self.env.dispatcher.fire_event(self.name, event, params, session=session)
        if event == "CallTransferred" and call.ended:  # the transfer ended the call here: its end, too
            await self.env.dispatcher.fire_event(self.name, "CallEnded", params, session=session)

    def _on_call_changed(self, call: Call) -> None:
        if call.wrap_up and call.id not in self._wrapping:
            self._wrapping.add(call.id)
            self._raise_for(call, "WrapUpStarted")

    def _on_call_removed(self, call: Call) -> None:
        if call.id in self._wrapping:
            self._wrapping.discard(call.id)
            self._raise_for(call, "WrapUpCompleted", disposition=call.disposition)

    def _raise_for(self, call: Call, event: str, **extra: str) -> None:
        """``event`` in the call's session, with the call's ``cti`` parameters and ``extra``, once
        the call's interaction record is written (``[[cti.interactionid]]`` names a stored row, so
        a survey or a follow-up can refer to it)."""
        params = {**call.parameters(), **extra}
        session = self._session_of(call)

        async def raise_it() -> None:
            if self.recorder is not None:
                await self.recorder.flush()
            await self.env.dispatcher.fire_event(self.name, event, params, session=session)

        self.env.spawn(raise_it())

    def _on_agent_changed(self, status: Any) -> None:
        self.publish({"AgentState": status.state, "AgentStateReason": status.reason})
        self.raise_event("AgentStateChanged", {"state": status.state, "reason": status.reason})

    def _on_connection_changed(self, status: Any) -> None:
        self.publish({"Connected": status.connected, "ConnectionDetail": status.detail})
        self.raise_event("ConnectionChanged", {"connected": "true" if status.connected else "false",
                                               "detail": status.detail})

    def _on_problem(self, text: str) -> None:
        self.problem = text
        self.publish({"Problem": text})

    @property
    def loading(self) -> bool:
        """A screen pop is under way (what a screenshot waits for, as for a form that loads)."""
        return self._popping > 0

    def _session_of(self, call: Call) -> Session | None:
        sid = self._popped.get(call.id)
        return self.env.dispatcher.sessions.get(sid) if sid else None

    # ------------------------------------------------------------------ screen pop
    async def pop(self, call: Call, trace: PopTrace | None = None) -> Session | None:
        """Pop ``call``: the CTI rules decide; without one, a customer session with the call's data.

        Each step goes to the trace as a ``cti_pop`` record (``chain``: the call id) with the
        milliseconds since the call reached the desktop.
        """
        if call.id in self._popped:
            return self._session_of(call)
        trace = trace or PopTrace(self.env.dispatcher.journal, call.id, self.name)
        self._popped[call.id] = ""
        params = call.parameters()
        direction = "inbound" if call.direction == "inbound" else "outbound"
        region = self.manager.default_region if self.manager is not None else ""
        outcome = await route_call(self.env, CtiCall(params, call.activity, direction, self.name, region),  # type: ignore[arg-type]
                                   step=trace.step)
        session: Session | None = None
        if outcome.session_id:
            session = self.env.dispatcher.sessions.get(outcome.session_id)
        elif outcome.rule is None and not outcome.problems:
            context = {k: v for k, v in (("ani", call.ani), ("dnis", call.dnis), ("callid", call.id)) if v}
            try:
                session = await self.env.create_session(context=context, entity="")
            except SessionLimitReached as exc:
                self._on_problem(str(exc))
                trace.step("refused", str(exc), failed=True)
                return None
            session.store.update("cti", params)
            trace.step("session created", f"{session.id} (no CTI rule took the call)")
        if outcome.rule is not None and session is None:
            session = self.env.dispatcher.sessions.active  # a do_action decision: the current session
        if session is not None:
            self._popped[call.id] = session.id
        if outcome.count == 1 and outcome.matches and not call.caller_name and self.manager is not None:
            found = outcome.matches[0]
            call.caller_name = str(found.get("name") or found.get("full_name") or "")  # for the call bar
            self.manager.call_changed.emit(call)
        problems = "; ".join(outcome.problems)
        trace.step("popped", f"{outcome.rule or 'no CTI rule'}: {outcome.outcome or 'default'} → "
                   f"{session.name if session is not None else 'no session'}"
                   + (f" ({problems})" if problems else ""),
                   session=session, failed=bool(problems))
        return session

    # ------------------------------------------------------------------ UII actions
    def _manager(self, action: str) -> CtiManager:
        if self.manager is None:
            raise ActionError(f"{self.name} {action}: no CTI adapter ({self.problem})")
        return self.manager

    @staticmethod
    def _call(data: ActionData) -> str | None:
        value = data.take("callid") or data.take("call")
        return value.strip() if value and value.strip() else None

    async def _start(self, manager: CtiManager) -> None:
        try:
            await manager.start()
        finally:
            self._first_start.set()

    async def _run(self, action: str, coro: Any) -> Any:
        """Run a command of the manager; one asked for while the adapter makes its first connection
        (the desktop has just started: ``--run "Go available"``, an early click) waits for it, up to
        the command timeout, instead of failing."""
        if not self._first_start.is_set() and self.manager is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_start.wait(), self.manager.command_timeout)
        try:
            return await coro
        except CtiError as exc:
            raise ActionError(f"{self.name} {action}: {exc}") from None

    @uii_action("Dial")
    async def dial(self, data: ActionData, call: CallContext) -> str:
        number = (data.take("number") or "").strip()
        if not number:
            found = data.positionals()
            number = found[0].strip() if found else ""
        if not number:
            raise ActionError(f"{self.name} Dial needs number=<number or tel:/sip: URL>")
        return str(await self._run("Dial", self._manager("Dial").dial(number, data.as_dict())))

    @uii_action("Answer")
    async def answer(self, data: ActionData, call: CallContext) -> None:
        await self._run("Answer", self._manager("Answer").answer(self._call(data)))

    @uii_action("Reject")
    async def reject(self, data: ActionData, call: CallContext) -> None:
        await self._run("Reject", self._manager("Reject").reject(self._call(data)))

    @uii_action("Hangup")
    async def hangup(self, data: ActionData, call: CallContext) -> None:
        await self._run("Hangup", self._manager("Hangup").hangup(self._call(data)))

    @uii_action("Hold")
    async def hold(self, data: ActionData, call: CallContext) -> None:
        await self._run("Hold", self._manager("Hold").hold(self._call(data)))

    @uii_action("Retrieve")
    async def retrieve(self, data: ActionData, call: CallContext) -> None:
        await self._run("Retrieve", self._manager("Retrieve").retrieve(self._call(data)))

    @uii_action("Mute")
    async def mute(self, data: ActionData, call: CallContext) -> None:
        await self._run("Mute", self._manager("Mute").mute(True, self._call(data)))

    @uii_action("Unmute")
    async def unmute(self, data: ActionData, call: CallContext) -> None:
        await self._run("Unmute", self._manager("Unmute").mute(False, self._call(data)))

    @uii_action("SendDtmf")
    async def send_dtmf(self, data: ActionData, call: CallContext) -> None:
        digits = (data.take("digits") or "".join(data.positionals())).strip()
        if not digits:
            raise ActionError(f"{self.name} SendDtmf needs digits=<0-9*#>")
        await self._run("SendDtmf", self._manager("SendDtmf").send_dtmf(digits, self._call(data)))

    def _target(self, data: ActionData, action: str) -> str:
        target = (data.take("target") or "").strip()
        if not target:
            found = data.positionals()
            target = found[0].strip() if found else ""
        if not target:
            raise ActionError(f"{self.name} {action} needs target=<number, agent or queue>")
        return target

    @uii_action("Transfer")
    async def transfer(self, data: ActionData, call: CallContext) -> None:
        target = self._target(data, "Transfer")
        await self._run("Transfer", self._manager("Transfer").blind_transfer(target, self._call(data)))

    @uii_action("Consult")
    async def consult(self, data: ActionData, call: CallContext) -> str:
        target = self._target(data, "Consult")
        return str(await self._run("Consult", self._manager("Consult").consult(target, self._call(data))))

    @uii_action("CompleteTransfer")
    async def complete_transfer(self, data: ActionData, call: CallContext) -> None:
        manager = self._manager("CompleteTransfer")
        await self._run("CompleteTransfer", manager.complete_transfer(self._call(data)))

    @uii_action("CancelTransfer")
    async def cancel_transfer(self, data: ActionData, call: CallContext) -> None:
        await self._run("CancelTransfer", self._manager("CancelTransfer").cancel_transfer(self._call(data)))

    @uii_action("Conference")
    async def conference(self, data: ActionData, call: CallContext) -> None:
        await self._run("Conference", self._manager("Conference").conference(self._call(data)))

    @uii_action("StartRecording")
    async def start_recording(self, data: ActionData, call: CallContext) -> None:
        await self._run("StartRecording", self._manager("StartRecording").start_recording(self._call(data)))

    @uii_action("StopRecording")
    async def stop_recording(self, data: ActionData, call: CallContext) -> None:
        await self._run("StopRecording", self._manager("StopRecording").stop_recording(self._call(data)))

    @uii_action("SetAgentState")
    async def set_agent_state(self, data: ActionData, call: CallContext) -> None:
        state = (data.take("state") or "".join(data.positionals())).strip().lower().replace(" ", "_")
        if state not in ("available", "not_ready", "offline"):
            raise ActionError(
                f"{self.name} SetAgentState: state={state!r}: choose available, not_ready or offline")
        reason = (data.take("reason") or "").strip()
        await self._run("SetAgentState", self._manager("SetAgentState").set_agent_state(state, reason))  # type: ignore[arg-type]

    @uii_action("CompleteWrapUp")
    async def complete_wrap_up(self, data: ActionData, call: CallContext) -> None:
        disposition = (data.take("disposition") or "").strip()
        await self._run("CompleteWrapUp",
                        self._manager("CompleteWrapUp").complete_wrap_up(disposition, self._call(data)))

    @uii_action("Login")
    async def login(self, data: ActionData, call: CallContext) -> None:
        queues = tuple(q.strip() for q in (data.take("queues") or "").split(",") if q.strip())
        await self._run("Login", self._manager("Login").login(queues))

    @uii_action("Logout")
    async def logout(self, data: ActionData, call: CallContext) -> None:
        await self._run("Logout", self._manager("Logout").logout())

    @uii_action("SelectCall")
    def select_call(self, data: ActionData, call: CallContext) -> None:
        wanted = self._call(data) or "".join(data.positionals()).strip()
        manager = self._manager("SelectCall")
        if wanted not in manager.calls:
            known = ", ".join(manager.calls) or "none"
            raise ActionError(f"{self.name} SelectCall: no call {wanted!r} (calls: {known})")
        manager.select(wanted)

    @uii_action("SimulateCall")
    async def simulate_call(self, data: ActionData, call: CallContext) -> str:
        """A call offered by the adapter's simulator (demos, training, trying a configuration):
        ``ani=`` (or the first line), ``dnis=``, ``queue=``, ``caller_name=``, ``activity=``;
        any other ``key=value`` line is attached data (``[[cti.key]]``). Returns the call id."""
        manager = self._manager("SimulateCall")
        simulate = getattr(manager.adapter, "simulate_call", None)
        if simulate is None:
            raise ActionError(f"{self.name} SimulateCall: the {manager.adapter.name} adapter cannot simulate "
                              "calls (the simulator can)")
        found = data.positionals()
        ani = (data.take("ani") or (found[0] if found else "")).strip()
        if not ani:
            raise ActionError(f"{self.name} SimulateCall needs ani=<the caller's number>")
        known = {key: (data.take(key) or "").strip() for key in ("dnis", "queue", "caller_name", "activity")}
        activity = known.pop("activity") or "phonecall"
        if activity not in contract.ACTIVITIES:
            raise ActionError(f"{self.name} SimulateCall: activity={activity!r}: choose "
                              f"{', '.join(contract.ACTIVITIES)}")
        dnis = known.pop("dnis")
        return str(await self._run("SimulateCall", simulate(ani, dnis, activity=activity, **known,
                                                                **data.as_dict())))

    @uii_action("Pop")
    async def pop_action(self, data: ActionData, call: CallContext) -> str:
        manager = self._manager("Pop")
        wanted = self._call(data)
        target = manager.calls.get(wanted) if wanted else manager.active
        if target is None:
            raise ActionError(f"{self.name} Pop: no call to pop")
        session = await self.pop(target)
        return session.id if session is not None else ""

    # ------------------------------------------------------------------ lifetime
    async def aclose(self) -> None:
        """Stop the adapter (the desktop awaits this before it closes its controls)."""
        manager, self.manager = self.manager, None
        if manager is not None:
            await manager.close()
        if self.recorder is not None:
            await self.recorder.close()  # the last writes of the calls are on disk first
        if self.states is not None:
            await self.states.close()  # the current agent state period ends now
