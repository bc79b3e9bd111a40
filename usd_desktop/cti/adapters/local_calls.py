"""Calls that live only in the adapter: the bookkeeping the simulator and the HTTP listener share.

Some adapters have no telephony backend to ask: the simulator *is* the backend, and the HTTP
listener only hears about calls from a softphone's hook. :class:`LocalCallsAdapter` keeps their
calls for them: each call's own id (``<prefix>-<random tag>-<n>``, unique also when the adapter is
made again), its state (``ringing``, ``dialing``, ``active``, ``held``), its timers, and the
operations that only change that state and report it: ``answer``, ``reject``, ``hangup``,
``hold``, ``retrieve``, ``mute``, the agent-state operations, and ``resync``.

A subclass sets :attr:`~LocalCallsAdapter.label` (how messages name it) and
:attr:`~LocalCallsAdapter.id_prefix`, creates calls with :meth:`~LocalCallsAdapter._register`,
and may override :meth:`~LocalCallsAdapter._delay` (the simulator's virtual time) and
:meth:`~LocalCallsAdapter._on_connected` (what starts when a call is answered).

Events, as a backend sends them: ``answer`` -> ``CallAnswered``; ``reject`` (or ``hangup`` of a
ringing call) -> ``CallEnded(cause="rejected")``; ``hangup`` -> ``CallEnded(cause="normal")``;
``hold`` / ``retrieve`` -> ``CallHeld`` / ``CallRetrieved`` (a repeated one does nothing); the far
end hanging up (:meth:`~LocalCallsAdapter.far_end_hangs_up`) -> ``CallMissed(abandoned=True)``
while ringing, ``CallEnded(cause="normal")`` once connected; ``mute`` has no event. A call's last
event ends it here too: a command on it then raises :class:`CtiError` ("no such call").
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets as secrets_module
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from usd_desktop.cti.contract import (
    AGENT_STATES,
    Adapter,
    AdapterSettings,
    AgentStateChanged,
    AgentStateName,
    CallAnswered,
    CallEnded,
    CallHeld,
    CallId,
    CallMissed,
    CallRetrieved,
    CtiError,
    CtiEvent,
    Direction,
    RecordingStarted,
)

log = logging.getLogger(__name__)

CallState = Literal["ringing", "dialing", "active", "held"]


@dataclass(eq=False)
class LocalCall:
    """A call the adapter keeps itself."""

    id: CallId
    direction: Direction
    number: str  # the caller's number (inbound) or the dialled one (outbound)
    state: CallState
    announced: CtiEvent  # its CallOffered / CallDialing (for resync)
    muted: bool = False
    recording: bool = False
    hold_generation: int = 0  # bumped by every hold
    timers: set[asyncio.Task[None]] = field(default_factory=set)


class LocalCallsAdapter(Adapter):
    """Base of adapters whose calls live in the adapter (see the module docstring)."""

    #: How messages name the adapter: "the simulator cannot answer call ...".
    label: ClassVar[str] = "the adapter"
    #: The start of its call ids.
    id_prefix: ClassVar[str] = "call"
    #: The states a call can be answered in (the HTTP listener also answers a dialled call).
    answerable: ClassVar[tuple[CallState, ...]] = ("ringing",)

    def __init__(self, settings: AdapterSettings, *, secrets: Mapping[str, str] | None = None) -> None:
        super().__init__(settings, secrets=secrets)
        self.agent_state: AgentStateName = "offline"
        self.agent = ""
        self.queues: tuple[str, ...] = ()
        self._calls: dict[CallId, LocalCall] = {}
        self._tag = secrets_module.token_hex(2)  # ids stay unique when the adapter is made again
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle
    async def _close_calls(self) -> None:
        """Stop every timer and task, and forget every call (no events: closing is asked for)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._calls.clear()

    async def resync(self) -> list[CtiEvent]:
        events: list[CtiEvent] = [AgentStateChanged(state=self.agent_state, reason="resync")]
        for call in self._calls.values():
            events.append(call.announced)
            if call.state in ("active", "held"):
                events.append(CallAnswered(call=call.id))
            if call.state == "held":
                events.append(CallHeld(call=call.id))
            if call.recording:
                events.append(RecordingStarted(call=call.id))
        return events

    def call_state(self, call: CallId) -> CallState | None:
        """The state of a live call (``None`` once it has ended or when it never existed)."""
        found = self._calls.get(call)
        return found.state if found is not None else None

    # ------------------------------------------------------------------ tasks and timers
    async def _delay(self, seconds: float) -> None:
        """Wait ``seconds`` (the simulator scales and virtualises this)."""
        await asyncio.sleep(seconds)

    def _spawn(self, coro: Coroutine[Any, Any, None], call: LocalCall | None = None) -> asyncio.Task[None]:
        """Run ``coro`` as a task the adapter owns (cancelled by close; a call's timer also when the
        call ends)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if call is not None:
            call.timers.add(task)
            task.add_done_callback(call.timers.discard)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: a task failed", self.label, exc_info=task.exception())

    def _after(self, call: LocalCall, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``seconds`` (see :meth:`_delay`), unless the call has ended by then."""

        async def later() -> None:
            await self._delay(seconds)
            if self._calls.get(call.id) is call:
                action()

        self._spawn(later(), call)

    @staticmethod
    def _cancel_timers(call: LocalCall) -> None:
        current = asyncio.current_task()  # a timer that is ending its own call runs to its end
        for task in list(call.timers):
            if task is not current:
                task.cancel()

    # ------------------------------------------------------------------ bookkeeping
    def _new_id(self) -> CallId:
        return f"{self.id_prefix}-{self._tag}-{next(self._ids)}"

    def _register(self, call: LocalCall) -> LocalCall:
        """Keep a new call and report it (its ``announced`` event)."""
        self._calls[call.id] = call
        self.emit(call.announced)
        return call

    def _call(self, call: CallId, operation: str, *states: CallState) -> LocalCall:
        """The live call ``call`` in one of ``states`` (any when none), else :class:`CtiError`."""
        found = self._calls.get(call)
        what = operation.replace("_", " ")
        if found is None:
            raise CtiError(f"{self.label} cannot {what} call {call!r}: no such call (or it has ended)")
        if states and found.state not in states:
            raise CtiError(f"{self.label} cannot {what} call {call}: it is {found.state} "
                           f"(it must be {' or '.join(states)})")
        return found

    def _forget(self, call: LocalCall) -> None:
        """Drop a call that is over: its timers stop."""
        self._calls.pop(call.id, None)
        self._cancel_timers(call)

    def _end(self, call: LocalCall, cause: str) -> None:
        self._forget(call)
        self.emit(CallEnded(call=call.id, cause=cause))

    def _miss(self, call: LocalCall, *, abandoned: bool) -> None:
        self._forget(call)
        self.emit(CallMissed(call=call.id, abandoned=abandoned))

    def _connect(self, call: LocalCall) -> None:
        """The call is connected (answered, or the far end of a dialled call answered)."""
        self._cancel_timers(call)
        call.state = "active"
        self.emit(CallAnswered(call=call.id))
        self._on_connected(call)

    def _on_connected(self, call: LocalCall) -> None:
        """What starts when a call is connected (the simulator's scripted talk time)."""

    def _hold(self, call: LocalCall) -> None:
        call.state = "held"
        call.hold_generation += 1
        self.emit(CallHeld(call=call.id))

    def _retrieve(self, call: LocalCall) -> None:
        call.state = "active"
        self.emit(CallRetrieved(call=call.id))

    def far_end_hangs_up(self, call: CallId, cause: str = "") -> None:
        """The other party hung up: a ringing call is missed (abandoned); any other ends with
        ``cause`` (default ``normal``)."""
        found = self._call(call, "end")
        if found.state == "ringing":
            self._miss(found, abandoned=True)
        else:
            self._end(found, cause or "normal")

    # ------------------------------------------------------------------ agent (local state)
    async def login(self, agent: str, queues: tuple[str, ...] = ()) -> None:
        self.agent, self.queues = agent, tuple(queues)
        self._agent_state("available", "login")

    async def logout(self) -> None:
        self._agent_state("offline", "logout")

    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        if state not in AGENT_STATES:
            raise CtiError(f"{self.label} knows no agent state {state!r} (one of {', '.join(AGENT_STATES)})")
        self._agent_state(state, reason)

    def _agent_state(self, state: AgentStateName, reason: str) -> None:
        self.agent_state = state
        self.emit(AgentStateChanged(state=state, reason=reason))

    # ------------------------------------------------------------------ operations (state only)
    async def answer(self, call: CallId) -> None:
        self._connect(self._call(call, "answer", *self.answerable))

    async def reject(self, call: CallId) -> None:
        self._end(self._call(call, "reject", "ringing"), "rejected")

    async def hangup(self, call: CallId) -> None:
        found = self._call(call, "hangup")
        self._end(found, "rejected" if found.state == "ringing" else "normal")

    async def hold(self, call: CallId) -> None:
        found = self._call(call, "hold", "active", "held")
        if found.state == "active":
            self._hold(found)

    async def retrieve(self, call: CallId) -> None:
        found = self._call(call, "retrieve", "active", "held")
        if found.state == "held":
            self._retrieve(found)

    async def mute(self, call: CallId, muted: bool) -> None:
        self._call(call, "mute", "active", "held").muted = muted
