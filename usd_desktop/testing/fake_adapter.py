"""A scriptable in-memory CTI adapter for tests (Qt-free).

:class:`FakeAdapter` implements every operation of the adapter contract against a tiny in-memory
"backend" (:attr:`FakeAdapter.backend`) and records each call it gets
(:attr:`FakeAdapter.operations`). A test scripts it:

- **what the far end does**, with helpers that emit events: :meth:`~FakeAdapter.offer` (returns the
  new call's id), :meth:`~FakeAdapter.answer_remote`, :meth:`~FakeAdapter.hold_remote`,
  :meth:`~FakeAdapter.end`, :meth:`~FakeAdapter.miss`, :meth:`~FakeAdapter.set_agent`,
  :meth:`~FakeAdapter.lose_connection`, :meth:`~FakeAdapter.restore_connection`,
  :meth:`~FakeAdapter.forget` (the backend drops a call silently), :meth:`~FakeAdapter.send` (any
  event, also a malformed one);
- **how the backend answers commands**: :meth:`~FakeAdapter.fail` (raise), :meth:`~FakeAdapter.hang`
  (never return), :meth:`~FakeAdapter.slow` (answer after a delay), :meth:`~FakeAdapter.gate` (wait
  until the test sets the returned event), :attr:`~FakeAdapter.connect_failures` (the next
  connection attempts fail);
- **when the command's events come**: by default a command's events are emitted before it returns
  (``auto_events``); with ``events_after_reply`` they wait in :attr:`~FakeAdapter.held_events` until
  :meth:`~FakeAdapter.release`.

Example::

    fake = FakeAdapter()
    manager = CtiManager(fake, wrap_up_seconds=0)
    await manager.start()
    call = fake.offer(ani="+358401234567", queue="support")
    await manager.answer(call)
    assert fake.ops("answer") == [(call,)]
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from usd_desktop.cti.contract import (
    OPERATIONS,
    Activity,
    Adapter,
    AdapterSettings,
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallConferenced,
    CallDataUpdated,
    CallDialing,
    CallEnded,
    CallHeld,
    CallId,
    CallMissed,
    CallOffered,
    CallRetrieved,
    CallTransferred,
    ConnectionLost,
    ConnectionUp,
    CtiError,
    CtiEvent,
    Direction,
    DtmfReceived,
    EventSink,
    RecordingStarted,
    RecordingStopped,
)


class FakeSettings(AdapterSettings):
    """The fake adapter has no settings."""


class Recorded(NamedTuple):
    """One operation the adapter was asked to do."""

    operation: str
    args: tuple[Any, ...]


@dataclass
class FakeCall:
    """A call as the fake backend knows it."""

    id: CallId
    state: str  # ringing, dialing, connected, held
    direction: Direction = "inbound"
    activity: Activity = "phonecall"
    ani: str = ""
    dnis: str = ""
    queue: str = ""
    number: str = ""
    caller_name: str = ""
    data: dict[str, str] = field(default_factory=dict)
    #: Placed by the agent or a dialer (reported with ``CallDialing``), not offered.
    dialled: bool = False


class FakeAdapter(Adapter):
    """An adapter whose backend is a dictionary and whose behaviour a test scripts."""

    name = "fake"
    settings_model = FakeSettings
    capabilities = OPERATIONS

    def __init__(
        self,
        settings: AdapterSettings | None = None,
        *,
        secrets: Mapping[str, str] | None = None,
        capabilities: frozenset[str] | set[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        auto_events: bool = True,
        events_after_reply: bool = False,
        consult_answers: bool = True,
    ) -> None:
        super().__init__(settings or FakeSettings(), secrets=secrets)
        if capabilities is not None:
            vars(self)["capabilities"] = frozenset(capabilities)
        self.clock = clock or (lambda: datetime.now(UTC))
        #: A command emits the events its effect would make.
        self.auto_events = auto_events
        #: A command's events wait in :attr:`held_events` until :meth:`release`.
        self.events_after_reply = events_after_reply
        #: ``consult`` reports the consulted party answering at once.
        self.consult_answers = consult_answers
        self.operations: list[Recorded] = []
        #: How many times each operation was entered (also those still waiting or hanging).
        self.entered: Counter[str] = Counter()
        self.backend: dict[CallId, FakeCall] = {}
        self.agent_state: AgentStateName = "offline"
        self.connected = False
        self.closed = False
        #: The next this many ``start``/``connect`` calls fail.
        self.connect_failures = 0
        self.connect_attempts = 0
        #: What :meth:`resync` returns; ``None``: the events describing :attr:`backend`.
        self.resync_events: list[CtiEvent] | None = None
        self.held_events: list[CtiEvent] = []
        self._failures: dict[str, BaseException] = {}
        self._hanging: set[str] = set()
        self._delays: dict[str, float] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ scripting the backend
    def fail(self, operation: str, error: BaseException | None = None) -> None:
        """``operation`` raises ``error`` (default: a :class:`CtiError`) until :meth:`clear`."""
        self._failures[operation] = error if error is not None else CtiError("the backend refused")

    def hang(self, operation: str) -> None:
        """``operation`` never returns (until cancelled)."""
        self._hanging.add(operation)

    def slow(self, operation: str, seconds: float) -> None:
        """``operation`` answers after ``seconds``."""
        self._delays[operation] = seconds

    def gate(self, operation: str) -> asyncio.Event:
        """``operation`` waits until the returned event is set."""
        gate = self._gates[operation] = asyncio.Event()
        return gate

    def clear(self, operation: str | None = None) -> None:
        """Undo :meth:`fail`, :meth:`hang`, :meth:`slow` and :meth:`gate` (of every operation)."""
        for table in (self._failures, self._delays, self._gates):
            if operation is None:
                table.clear()
            else:
                table.pop(operation, None)
        if operation is None:
            self._hanging.clear()
        else:
            self._hanging.discard(operation)

    def ops(self, operation: str) -> list[tuple[Any, ...]]:
        """The arguments of every call of ``operation``, in order."""
        return [r.args for r in self.operations if r.operation == operation]

    def new_id(self) -> CallId:
        return f"fake-{next(self._ids)}"

    # ------------------------------------------------------------------ what the far end does
    def send(self, event: Any) -> None:
        """Emit ``event`` as it is (also something that is no event at all)."""
        self.emit(event)

    def offer(
        self,
        ani: str = "",
        dnis: str = "",
        queue: str = "",
        *,
        data: Mapping[str, str] | None = None,
        direction: Direction = "inbound",
        activity: Activity = "phonecall",
        caller_name: str = "",
        call: CallId | None = None,
        at: datetime | None = None,
    ) -> CallId:
        """A call rings for the agent; returns its id."""
        cid = call or self.new_id()
        self.backend[cid] = FakeCall(cid, "ringing", direction, activity, ani, dnis, queue, ani, caller_name,
                                     dict(data or {}))
        self.emit(CallOffered(call=cid, ani=ani, dnis=dnis, queue=queue, direction=direction,
                              activity=activity, caller_name=caller_name, data=dict(data or {}),
                              at=at or self.clock()))
        return cid

    def dialing(self, number: str, *, data: Mapping[str, str] | None = None, call: CallId | None = None,
                at: datetime | None = None) -> CallId:
        """The backend places a call for the agent (a dialer); returns its id."""
        cid = call or self.new_id()
        self.backend[cid] = FakeCall(cid, "dialing", "outbound", number=number, dnis=number,
                                     data=dict(data or {}), dialled=True)
        self.emit(CallDialing(call=cid, number=number, data=dict(data or {}), at=at or self.clock()))
        return cid

    def answer_remote(self, call: CallId, *, at: datetime | None = None) -> None:
        """The call is connected (the far end answered, or the agent answered on the phone)."""
        self._state(call, "connected")
        self.emit(CallAnswered(call=call, at=at or self.clock()))

    def hold_remote(self, call: CallId, *, at: datetime | None = None) -> None:
        self._state(call, "held")
        self.emit(CallHeld(call=call, at=at or self.clock()))

    def retrieve_remote(self, call: CallId, *, at: datetime | None = None) -> None:
        self._state(call, "connected")
        self.emit(CallRetrieved(call=call, at=at or self.clock()))

    def end(self, call: CallId, cause: str = "normal", *, at: datetime | None = None) -> None:
        """The call is over (the far end hung up, or the backend ended it)."""
        self.backend.pop(call, None)
        self.emit(CallEnded(call=call, cause=cause, at=at or self.clock()))

    def miss(self, call: CallId, *, abandoned: bool = True, at: datetime | None = None) -> None:
        """The call stopped ringing unanswered (``abandoned``: the caller hung up)."""
        self.backend.pop(call, None)
        self.emit(CallMissed(call=call, abandoned=abandoned, at=at or self.clock()))

    def transfer_remote(self, call: CallId, target: str = "", *, at: datetime | None = None) -> None:
        self.backend.pop(call, None)
        self.emit(CallTransferred(call=call, target=target, at=at or self.clock()))

    def attach(self, call: CallId, data: Mapping[str, str], *, at: datetime | None = None) -> None:
        """New attached data for the call."""
        if call in self.backend:
            self.backend[call].data.update(data)
        self.emit(CallDataUpdated(call=call, data=dict(data), at=at or self.clock()))

    def dtmf(self, call: CallId, digits: str, *, at: datetime | None = None) -> None:
        self.emit(DtmfReceived(call=call, digits=digits, at=at or self.clock()))

    def set_agent(self, state: AgentStateName, reason: str = "", *, at: datetime | None = None) -> None:
        """The backend reports the agent's state."""
        self.agent_state = state
        self.emit(AgentStateChanged(state=state, reason=reason, at=at or self.clock()))

    def lose_connection(self, reason: str = "network down") -> None:
        """The connection drops (the calls stay in :attr:`backend` unless :meth:`forget` drops them)."""
        self.connected = False
        self.emit(ConnectionLost(reason=reason, at=self.clock()))

    def restore_connection(self, detail: str = "fake backend") -> None:
        """The adapter reconnects on its own."""
        self.connected = True
        self.emit(ConnectionUp(detail=detail, at=self.clock()))

    def forget(self, call: CallId) -> None:
        """The backend loses the call without a word (it is gone after a resynchronisation)."""
        self.backend.pop(call, None)

    def release(self) -> None:
        """Emit the events held back by ``events_after_reply``."""
        held, self.held_events = self.held_events, []
        for event in held:
            self.emit(event)

    # ------------------------------------------------------------------ the contract
    async def start(self, sink: EventSink) -> None:
        await self._op("start")
        await super().start(sink)

    async def connect(self) -> None:
        self.connect_attempts += 1
        await self._op("connect")
        if self.connect_failures > 0:
            self.connect_failures -= 1
            raise CtiError("the backend cannot be reached")
        self.connected = True
        self.emit(ConnectionUp(detail="fake backend", at=self.clock()))

    async def close(self) -> None:
        self.operations.append(Recorded("close", ()))
        self.closed = True
        self.connected = False

    async def resync(self) -> list[CtiEvent]:
        await self._op("resync")
        if self.resync_events is not None:
            return list(self.resync_events)
        events: list[CtiEvent] = [AgentStateChanged(state=self.agent_state, at=self.clock())]
        for call in self.backend.values():
            if call.dialled:
                events.append(CallDialing(call=call.id, number=call.number, data=call.data, at=self.clock()))
            else:
                events.append(CallOffered(call=call.id, ani=call.ani, dnis=call.dnis, queue=call.queue,
                                          direction=call.direction, activity=call.activity,
                                          caller_name=call.caller_name, data=call.data, at=self.clock()))
            if call.state in ("connected", "held"):
                events.append(CallAnswered(call=call.id, at=self.clock()))
            if call.state == "held":
                events.append(CallHeld(call=call.id, at=self.clock()))
        return events

    async def login(self, agent: str, queues: tuple[str, ...] = ()) -> None:
        await self._op("login", agent, queues)
        self._effect(AgentStateChanged(state="available", at=self.clock()))
        self.agent_state = "available"

    async def logout(self) -> None:
        await self._op("logout")
        self._effect(AgentStateChanged(state="offline", at=self.clock()))
        self.agent_state = "offline"

    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        await self._op("set_agent_state", state, reason)
        self.agent_state = state
        self._effect(AgentStateChanged(state=state, reason=reason, at=self.clock()))

    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        await self._op("dial", number, dict(data) if data else None)
        cid = self.new_id()
        self.backend[cid] = FakeCall(cid, "dialing", "outbound", number=number, dnis=number,
                                     data=dict(data or {}), dialled=True)
        self._effect(CallDialing(call=cid, number=number, data=dict(data or {}), at=self.clock()))
        return cid

    async def answer(self, call: CallId) -> None:
        await self._op("answer", call)
        self._state(call, "connected")
        self._effect(CallAnswered(call=call, at=self.clock()))

    async def reject(self, call: CallId) -> None:
        await self._op("reject", call)
        self.backend.pop(call, None)
        self._effect(CallEnded(call=call, cause="rejected", at=self.clock()))

    async def hangup(self, call: CallId) -> None:
        await self._op("hangup", call)
        self.backend.pop(call, None)
        self._effect(CallEnded(call=call, cause="normal", at=self.clock()))

    async def hold(self, call: CallId) -> None:
        await self._op("hold", call)
        self._state(call, "held")
        self._effect(CallHeld(call=call, at=self.clock()))

    async def retrieve(self, call: CallId) -> None:
        await self._op("retrieve", call)
        self._state(call, "connected")
        self._effect(CallRetrieved(call=call, at=self.clock()))

    async def mute(self, call: CallId, muted: bool) -> None:
        await self._op("mute", call, muted)

    async def send_dtmf(self, call: CallId, digits: str) -> None:
        await self._op("send_dtmf", call, digits)

    async def blind_transfer(self, call: CallId, target: str) -> None:
        await self._op("blind_transfer", call, target)
        self.backend.pop(call, None)
        self._effect(CallTransferred(call=call, target=target, at=self.clock()))

    async def consult(self, call: CallId, target: str) -> CallId:
        await self._op("consult", call, target)
        if call in self.backend and self.backend[call].state == "connected":
            self._state(call, "held")
            self._effect(CallHeld(call=call, at=self.clock()))
        cid = self.new_id()
        self.backend[cid] = FakeCall(cid, "dialing", "outbound", number=target, dnis=target, dialled=True)
        self._effect(CallDialing(call=cid, number=target, at=self.clock()))
        if self.consult_answers:
            self._state(cid, "connected")
            self._effect(CallAnswered(call=cid, at=self.clock()))
        return cid

    async def complete_transfer(self, call: CallId, consultation: CallId) -> None:
        await self._op("complete_transfer", call, consultation)
        target = self.backend.pop(consultation, FakeCall(consultation, "connected")).number
        self.backend.pop(call, None)
        self._effect(CallTransferred(call=call, target=target, at=self.clock()))
        self._effect(CallEnded(call=consultation, cause="transferred", at=self.clock()))

    async def cancel_transfer(self, call: CallId, consultation: CallId) -> None:
        await self._op("cancel_transfer", call, consultation)
        self.backend.pop(consultation, None)
        self._effect(CallEnded(call=consultation, cause="normal", at=self.clock()))
        self._state(call, "connected")
        self._effect(CallRetrieved(call=call, at=self.clock()))

    async def conference(self, call: CallId, consultation: CallId) -> None:
        await self._op("conference", call, consultation)
        self.backend.pop(consultation, None)
        self._state(call, "connected")
        self._effect(CallConferenced(call=call, other=consultation, at=self.clock()))

    async def start_recording(self, call: CallId) -> None:
        await self._op("start_recording", call)
        self._effect(RecordingStarted(call=call, at=self.clock()))

    async def stop_recording(self, call: CallId) -> None:
        await self._op("stop_recording", call)
        self._effect(RecordingStopped(call=call, at=self.clock()))

    async def complete_wrap_up(self, call: CallId, disposition: str = "") -> None:
        await self._op("complete_wrap_up", call, disposition)

    # ------------------------------------------------------------------ internals
    async def _op(self, operation: str, *args: Any) -> None:
        """Record the operation and behave as scripted for it."""
        self.operations.append(Recorded(operation, args))
        self.entered[operation] += 1
        gate = self._gates.get(operation)
        if gate is not None:
            await gate.wait()
        delay = self._delays.get(operation)
        if delay:
            await asyncio.sleep(delay)
        if operation in self._hanging:
            await asyncio.get_running_loop().create_future()
        error = self._failures.get(operation)
        if error is not None:
            raise error

    def _state(self, call: CallId, state: str) -> None:
        if call in self.backend:
            self.backend[call].state = state

    def _effect(self, event: CtiEvent) -> None:
        """An event a command causes: now, or held until :meth:`release`."""
        if not self.auto_events:
            return
        if self.events_after_reply:
            self.held_events.append(event)
        else:
            self.emit(event)




class FakeClock:
    """A clock a test moves by hand: ``clock()`` is the time now, :meth:`advance` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


__all__ = ["FakeAdapter", "FakeCall", "FakeClock", "FakeSettings", "Recorded"]
