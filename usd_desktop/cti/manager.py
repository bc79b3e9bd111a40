"""The CTI manager: one adapter, isolated, driving the agent's lines and state (Qt-free, asyncio).

:class:`CtiManager` is what the desktop (the CTI desktop manager hosted control, the call panel,
scripts) talks to. It

- keeps the agent's **lines** (:attr:`CtiManager.calls`, in arrival order) from the adapter's
  events, each a :class:`~usd_desktop.cti.calls.Call` moved by its own state machine, and the
  **agent state** (:class:`~usd_desktop.cti.agent.AgentStateMachine`: on a call, wrap-up with a
  timer, the state asked for meanwhile);
- **isolates the adapter**: every command runs with ``command_timeout``; whatever the adapter
  raises becomes a :class:`~usd_desktop.cti.contract.CtiError` worded ``"<adapter> <operation>:
  <reason>"``, raised to the caller and emitted on :attr:`CtiManager.problem`; a failing
  ``start`` and a ``ConnectionLost`` start the reconnection loop; events that make no sense, of
  unknown calls or malformed are logged and dropped. Nothing the adapter does raises out of the
  manager's event handling;
- **serialises commands per call** (a second ``hold`` sent while the first is in flight waits for
  it: some backends silently lose it otherwise, peers §2.10 lesson 8) and checks the adapter's
  capabilities first (:class:`~usd_desktop.cti.contract.NotSupported` without calling it);
- copes with **events before replies**: events are applied as they arrive, so after ``await
  manager.dial(...)`` the call is in :attr:`CtiManager.calls` whether the adapter reported it before
  or after returning (when it has not reported it yet, the manager adds it itself and applies the
  adapter's report when it comes).

**Events** are applied synchronously when the adapter emits them on the event loop's thread (from
another thread they are handed to the loop first), in order; an event emitted by a listener while
another is being handled waits for it. Signals are emitted on the event loop.

**Lines and wrap-up.** A call that ended after it was answered stays as a line in wrap-up
(:attr:`Call.wrap_up`) until :meth:`CtiManager.complete_wrap_up` or the wrap-up timer; then
:attr:`CtiManager.call_removed` tells it is gone. A call never answered (missed, rejected, busy), a
consultation call, and every call when ``wrap_up_seconds`` is 0 (its :attr:`Call.wrap_up_ended_at`
is then its end) leave as soon as they end.

**Connection loss.** The calls are kept, marked :attr:`Call.stale`, and commands fail with
:class:`~usd_desktop.cti.contract.NotConnected` until the adapter is back. The manager calls
``connect()`` again after ``reconnect_delays`` (then the last delay repeated), then
``resync()``: its events are applied, and when the adapter implements ``resync`` the live calls it
does not mention are ended with cause ``lost``. An adapter without ``resync`` (the default returns
nothing) keeps the calls as they were.

**Dialling.** ``tel:`` and ``callto:`` URLs give their number; ``sip:`` URIs are passed whole
(see :func:`~usd_desktop.cti.calls.dial_target`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from usd_desktop.core.signals import Signal
from usd_desktop.cti.agent import SETTABLE, AgentStateMachine, AgentStatus, utc_now
from usd_desktop.cti.calls import Call, dial_target
from usd_desktop.cti.connection import ConnectionKeeper, ConnectionStatus
from usd_desktop.cti.contract import (
    AGENT_STATES,
    Adapter,
    AgentStateChanged,
    AgentStateName,
    CallConferenced,
    CallDialing,
    CallEnded,
    CallEvent,
    CallId,
    CallOffered,
    CommandTimeout,
    ConnectionLost,
    ConnectionUp,
    CtiError,
    CtiEvent,
    NotConnected,
    NotSupported,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How many ids of calls already seen are remembered (a late report of a call gone is ignored).
SEEN_CALLS = 1000
_DTMF = frozenset("0123456789*#ABCDabcd")


class CtiManager(ConnectionKeeper):
    """The agent's lines and state over one adapter (see the module documentation)."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        agent: str = "",
        default_region: str = "FI",
        command_timeout: float = 10.0,
        wrap_up_seconds: float = 60.0,
        dispositions: tuple[str, ...] = (),
        reconnect_delays: tuple[float, ...] = (1, 2, 5, 10, 30),
        clock: Callable[[], datetime] | None = None,
        tick_seconds: float = 1.0,
    ) -> None:
        self.adapter = adapter
        self.agent = agent
        self.default_region = default_region
        self.command_timeout = command_timeout
        self.wrap_up_seconds = max(0.0, float(wrap_up_seconds))
        self.dispositions = tuple(dispositions)
        self.reconnect_delays = tuple(max(0.0, float(d)) for d in reconnect_delays) or (5.0,)
        self.clock = clock or utc_now
        #: While a call is held, :attr:`call_changed` is emitted this often for it (hold timers); 0: never.
        self.tick_seconds = tick_seconds

        self.call_event: Signal[tuple[CtiEvent, Call]] = Signal("cti.call_event")
        self.call_changed: Signal[Call] = Signal("cti.call_changed")
        self.call_removed: Signal[Call] = Signal("cti.call_removed")
        self.agent_changed: Signal[AgentStatus] = Signal("cti.agent_changed")
        self.connection_changed: Signal[ConnectionStatus] = Signal("cti.connection_changed")
        self.problem: Signal[str] = Signal("cti.problem")

        self.calls: dict[CallId, Call] = {}
        self.connection = ConnectionStatus(False, "not started")
        self._machine = AgentStateMachine(
            wrap_up_seconds=self.wrap_up_seconds, clock=self.clock,
            on_change=self.agent_changed.emit, on_expire=self._wrap_up_expired,
        )
        self._selected: CallId | None = None
        self._seen: dict[CallId, None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._abandoned: set[asyncio.Task[Any]] = set()
        self._pending: deque[CtiEvent] = deque()
        self._processing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._started = False
        self._starting = False
        self._connecting = False
        self._need_resync = False
        self._closed = False
        self._last_error = ""
        self._agent_reports = 0
        self._dials = 0
        self._consulting: list[CallId] = []
        self._consultations: dict[CallId, CallId] = {}

    # ------------------------------------------------------------------ reading
    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self.adapter.capabilities)

    @property
    def agent_status(self) -> AgentStatus:
        return self._machine.status

    @property
    def active(self) -> Call | None:
        """The call the buttons act on by default.

        The selected line while it lasts, else the connected call (the latest), else the ringing
        one (the first), else one being dialled, else a held one (the latest), else the selected
        line in wrap-up, else the first line in wrap-up.
        """
        selected = self.calls.get(self._selected) if self._selected is not None else None
        if selected is not None and not selected.ended:
            return selected
        lines = list(self.calls.values())
        for state, pick_last in (("connected", True), ("ringing", False), ("dialing", True), ("held", True)):
            found = [c for c in lines if c.state == state]
            if found:
                return found[-1] if pick_last else found[0]
        if selected is not None:
            return selected
        return lines[0] if lines else None

    def select(self, call: CallId) -> None:
        """Make ``call`` the line the buttons act on (the line switcher); an unknown id is ignored."""
        if call not in self.calls:
            log.debug("select: no call %r", call)
            return
        before = self.active
        self._selected = call
        for line in (before, self.calls[call]):
            if line is not None and line.id in self.calls:
                self.call_changed.emit(line)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the adapter; on failure report it and keep reconnecting. Never raises."""
        self._bind_loop()
        if self._started or self._starting or self._closed:
            return
        self._starting = True
        try:
            self._set_connection(ConnectionStatus(False, "connecting", None, 0))
            if await self._attempt():
                await self._connected()
            else:
                self.problem.emit(self._last_error)
                self._begin_reconnect(failures=1)
        except Exception:  # pragma: no cover - defensive: start never raises
            log.exception("starting the CTI adapter %s failed", self.name)
        finally:
            self._starting = False

    async def close(self) -> None:
        """Stop reconnecting and timers, close the adapter (errors logged). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._machine.close()
        tasks = [t for t in (self._reconnect_task, self._ticker, *self._tasks, *self._abandoned) if t]
        current = asyncio.current_task()
        for task in tasks:
            if task is not current:
                task.cancel()
        waiting = [t for t in tasks if t is not current]
        if waiting:
            await asyncio.wait(waiting, timeout=1.0)
        try:
            await self._isolated("close", self.adapter.close)
        except CtiError as exc:
            log.warning("%s", exc)
        self._set_connection(ConnectionStatus(False, "closed", None, 0))

    # ------------------------------------------------------------------ commands: calls
    async def dial(self, number: str, data: Mapping[str, str] | None = None) -> CallId:
        """Place a call to ``number`` (a number, or a ``tel:`` / ``callto:`` / ``sip:`` URL)."""
        async with self._reporting():
            target = dial_target(number)
            if not target:
                raise CtiError(f"{self.name} dial: there is no number to dial")
            attached = {str(k): str(v) for k, v in (data or {}).items()}
            self._dials += 1
            try:
                cid = await self._run("dial", "#dial", lambda: self.adapter.dial(target, attached or None))
            finally:
                self._dials -= 1
            cid = self._returned_id("dial", cid)
            if cid not in self._seen:
                self._sink(CallDialing(call=cid, number=target, data=attached, at=self.clock()))
            if cid in self.calls:
                self._selected = cid
            return cid

    async def answer(self, call: CallId | None = None) -> None:
        """Answer ``call`` (default: the selected line when it rings, else the first ringing call)."""
        async with self._reporting():
            target = self._ringing("answer", call)
            await self._run("answer", target.id, lambda: self.adapter.answer(target.id))
            if target.id in self.calls:
                self._selected = target.id

    async def reject(self, call: CallId | None = None) -> None:
        """Reject a ringing ``call`` (default as for :meth:`answer`)."""
        async with self._reporting():
            target = self._ringing("reject", call)
            await self._run("reject", target.id, lambda: self.adapter.reject(target.id))

    async def hangup(self, call: CallId | None = None) -> None:
        await self._simple("hangup", call, self.adapter.hangup)

    async def hold(self, call: CallId | None = None) -> None:
        await self._simple("hold", call, self.adapter.hold)

    async def retrieve(self, call: CallId | None = None) -> None:
        await self._simple("retrieve", call, self.adapter.retrieve)

    async def start_recording(self, call: CallId | None = None) -> None:
        await self._simple("start_recording", call, self.adapter.start_recording)

    async def stop_recording(self, call: CallId | None = None) -> None:
        await self._simple("stop_recording", call, self.adapter.stop_recording)

    async def mute(self, muted: bool, call: CallId | None = None) -> None:
        """Mute (or unmute) the agent's microphone on ``call``; :attr:`Call.muted` follows."""
        async with self._reporting():
            target = self._resolve("mute", call)
            await self._run("mute", target.id, lambda: self.adapter.mute(target.id, muted))
            if target.id in self.calls and target.muted != muted:
                target.muted = muted
                self.call_changed.emit(target)

    async def send_dtmf(self, digits: str, call: CallId | None = None) -> None:
        async with self._reporting():
            digits = "".join(digits.split())
            if not digits or any(ch not in _DTMF for ch in digits):
                raise CtiError(f"{self.name} send dtmf: {digits!r} is not DTMF (0-9, *, #, A-D)")
            target = self._resolve("send_dtmf", call)
            await self._run("send_dtmf", target.id, lambda: self.adapter.send_dtmf(target.id, digits))

    async def blind_transfer(self, target: str, call: CallId | None = None) -> None:
        async with self._reporting():
            where = dial_target(target)
            if not where:
                raise CtiError(f"{self.name} blind transfer: there is no target to transfer to")
            line = self._resolve("blind_transfer", call)
            await self._run("blind_transfer", line.id, lambda: self.adapter.blind_transfer(line.id, where))

    async def consult(self, target: str, call: CallId | None = None) -> CallId:
        """Hold ``call`` and call ``target``; returns the consultation call's id."""
        async with self._reporting():
            where = dial_target(target)
            if not where:
                raise CtiError(f"{self.name} consult: there is no target to consult")
            original = self._resolve("consult", call)
            self._consulting.append(original.id)
            try:
                cid = await self._run("consult", original.id,
                                      lambda: self.adapter.consult(original.id, where))
            finally:
                self._consulting.remove(original.id)
            cid = self._returned_id("consult", cid)
            if cid not in self._seen:
                self._consultations[cid] = original.id
                self._sink(CallDialing(call=cid, number=where, at=self.clock()))
            consultation = self.calls.get(cid)
            if consultation is not None:
                if consultation.consultation_of != original.id:
                    consultation.consultation_of = original.id
                    self.call_changed.emit(consultation)
                self._selected = cid
            return cid

    async def complete_transfer(self, call: CallId | None = None) -> None:
        """Transfer the original call to the party consulted (``call``: either of the two)."""
        await self._paired("complete_transfer", call, self.adapter.complete_transfer)

    async def cancel_transfer(self, call: CallId | None = None) -> None:
        """Drop the consultation and go back to the original call."""
        await self._paired("cancel_transfer", call, self.adapter.cancel_transfer)

    async def conference(self, call: CallId | None = None) -> None:
        """Join the original call and its consultation."""
        await self._paired("conference", call, self.adapter.conference)

    # ------------------------------------------------------------------ commands: agent
    async def set_agent_state(self, state: AgentStateName, reason: str = "") -> None:
        """Ask for ``available``, ``not_ready`` (with ``reason``) or ``offline``.

        On a call or in wrap-up the request is remembered (:attr:`AgentStatus.next_state`) and
        sent to the backend when the wrap-up completes.
        """
        async with self._reporting():
            if state not in SETTABLE:
                raise CtiError(f"{self.name} set agent state: {state!r} cannot be set, it follows the calls")
            self._require("set_agent_state")
            if self._machine.engaged:
                self._machine.request(state, reason, self.clock())
                return
            reports = self._agent_reports
            await self._run("set_agent_state", "#agent", lambda: self.adapter.set_agent_state(state, reason))
            if self._agent_reports == reports:  # the backend has not said otherwise meanwhile
                self._machine.request(state, reason, self.clock())

    async def login(self, queues: tuple[str, ...] = ()) -> None:
        """Log the agent in (to ``queues``); they are ``available`` unless the backend says otherwise."""
        async with self._reporting():
            reports = self._agent_reports
            await self._run("login", "#agent", lambda: self.adapter.login(self.agent, tuple(queues)))
            if self._agent_reports == reports:
                self._machine.request("available", "", self.clock())

    async def logout(self) -> None:
        """Log the agent out now (on a call: they are ``offline`` after its wrap-up)."""
        async with self._reporting():
            reports = self._agent_reports
            await self._run("logout", "#agent", self.adapter.logout)
            if self._agent_reports == reports:
                self._machine.request("offline", "", self.clock())

    async def complete_wrap_up(self, disposition: str = "", call: CallId | None = None) -> None:
        """End the wrap-up of ``call`` (default: the active line in wrap-up, else the first one).

        When :attr:`dispositions` are configured the disposition must be one of them (compared
        without regard to case; the configured spelling is kept).
        """
        async with self._reporting():
            chosen = self._disposition(disposition)
            target = self._wrapping_call(call)
            if "complete_wrap_up" in self.capabilities and self.connection.connected:
                await self._run("complete_wrap_up", target.id,
                                lambda: self.adapter.complete_wrap_up(target.id, chosen))
            if target.wrap_up and self.calls.get(target.id) is target:
                self._finish_wrap_up(target, chosen)
                settled = self._refresh_agent(self.clock())
                if settled is not None:
                    self._spawn(self._settle(settled))

    # ------------------------------------------------------------------ command helpers
    @contextlib.asynccontextmanager
    async def _reporting(self) -> AsyncIterator[None]:
        """Every CTI error of a command also goes to :attr:`problem`."""
        try:
            yield
        except CtiError as exc:
            self.problem.emit(str(exc))
            raise

    def _what(self, operation: str) -> str:
        return f"{self.name} {operation.replace('_', ' ')}"

    def _require(self, operation: str) -> None:
        if operation not in self.capabilities:
            what = operation.replace("_", " ")
            raise NotSupported(f"{self._what(operation)}: the adapter cannot {what}")

    async def _run(self, operation: str, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """``work`` checked (capability, connection), serialised on ``key`` and isolated."""
        self._require(operation)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            if not self.connection.connected:
                detail = self.connection.detail or "not connected"
                raise NotConnected(f"{self._what(operation)}: no connection to the backend ({detail})")
            return await self._isolated(operation, work)

    async def _isolated(self, operation: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` with the command timeout; every failure as a :class:`CtiError`."""
        try:
            task: asyncio.Future[T] = asyncio.ensure_future(work())
        except Exception as exc:
            raise self._wrapped(operation, exc) from exc
        try:
            done, _ = await asyncio.wait({task}, timeout=self.command_timeout)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            self._abandon(task)
            raise CommandTimeout(
                f"{self._what(operation)}: the backend did not answer in {self.command_timeout:g} s"
            )
        try:
            return task.result()
        except asyncio.CancelledError as exc:
            raise CtiError(f"{self._what(operation)}: the adapter cancelled it") from exc
        except Exception as exc:
            raise self._wrapped(operation, exc) from exc

    def _wrapped(self, operation: str, exc: BaseException) -> CtiError:
        if isinstance(exc, CtiError):
            reason = str(exc) or type(exc).__name__
            for kind in (NotSupported, CommandTimeout, NotConnected):
                if isinstance(exc, kind):
                    return kind(f"{self._what(operation)}: {reason}")
            return CtiError(f"{self._what(operation)}: {reason}")
        log.error("CTI adapter %s failed in %s", self.name, operation, exc_info=exc)
        return CtiError(f"{self._what(operation)}: {type(exc).__name__}: {exc}")

    def _abandon(self, task: asyncio.Future[Any]) -> None:
        """Keep a timed-out command until it is gone, and never let its outcome go unretrieved."""
        if isinstance(task, asyncio.Task):
            self._abandoned.add(task)

        def gone(done: asyncio.Future[Any]) -> None:
            self._abandoned.discard(done)
            if not done.cancelled() and done.exception() is not None:
                log.debug("a timed-out CTI command ended with %r", done.exception())

        task.add_done_callback(gone)

    def _returned_id(self, operation: str, cid: object) -> CallId:
        if not isinstance(cid, str) or not cid:
            raise CtiError(f"{self._what(operation)}: the adapter returned no call id ({cid!r})")
        return cid

    def _resolve(self, operation: str, call: CallId | None, *, allow_ended: bool = False) -> Call:
        """The call a command acts on: ``call``, else the active one."""
        found = self.active if call is None else self.calls.get(call)
        if found is None:
            which = "there is no call" if call is None else f"there is no call {call!r}"
            raise CtiError(f"{self._what(operation)}: {which}")
        if found.ended and not allow_ended:
            raise CtiError(f"{self._what(operation)}: the call {found.id!r} has ended")
        return found

    def _ringing(self, operation: str, call: CallId | None) -> Call:
        if call is not None:
            return self._resolve(operation, call)
        selected = self.calls.get(self._selected) if self._selected is not None else None
        if selected is not None and selected.state == "ringing":
            return selected
        for line in self.calls.values():
            if line.state == "ringing":
                return line
        raise CtiError(f"{self._what(operation)}: there is no ringing call")

    async def _simple(self, operation: str, call: CallId | None,
                      method: Callable[[CallId], Awaitable[None]]) -> None:
        async with self._reporting():
            target = self._resolve(operation, call)
            await self._run(operation, target.id, lambda: method(target.id))

    async def _paired(self, operation: str, call: CallId | None,
                      method: Callable[[CallId, CallId], Awaitable[None]]) -> None:
        async with self._reporting():
            self._require(operation)
            original, consultation = self._pair(operation, call)
            await self._run(operation, original.id, lambda: method(original.id, consultation.id))

    def _pair(self, operation: str, call: CallId | None) -> tuple[Call, Call]:
        """The original call and its consultation, from either of them (default: the active one)."""
        line = self._resolve(operation, call)
        if line.consultation_of is not None:
            original = self.calls.get(line.consultation_of)
            if original is None or original.ended:
                raise CtiError(f"{self._what(operation)}: the call consulted for has ended")
            return original, line
        for other in reversed(self.calls.values()):
            if other.consultation_of == line.id and not other.ended:
                return line, other
        raise CtiError(f"{self._what(operation)}: the call {line.id!r} has no consultation call")

    def _disposition(self, disposition: str) -> str:
        given = disposition.strip()
        if not self.dispositions:
            return given
        for allowed in self.dispositions:
            if allowed.casefold() == given.casefold():
                return allowed
        choices = ", ".join(self.dispositions)
        what = f"{given!r} is not a disposition" if given else "a disposition is needed"
        raise CtiError(f"{self._what('complete_wrap_up')}: {what}; choose one of: {choices}")

    def _wrapping_call(self, call: CallId | None) -> Call:
        if call is not None:
            found = self.calls.get(call)
            if found is None:
                raise CtiError(f"{self._what('complete_wrap_up')}: there is no call {call!r}")
            if not found.wrap_up:
                raise CtiError(f"{self._what('complete_wrap_up')}: the call {call!r} is not in wrap-up")
            return found
        active = self.active
        if active is not None and active.wrap_up:
            return active
        for line in self.calls.values():
            if line.wrap_up:
                return line
        raise CtiError(f"{self._what('complete_wrap_up')}: there is no call in wrap-up")

    # ------------------------------------------------------------------ events
    def _bind_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()

    def _sink(self, event: CtiEvent) -> None:
        """The adapter's :data:`~usd_desktop.cti.contract.EventSink`: never blocks, never raises."""
        try:
            loop = self._loop
            if loop is not None and self._loop_thread != threading.get_ident():
                loop.call_soon_threadsafe(self._sink, event)
                return
            self._pending.append(event)
            if self._processing:
                return
            self._processing = True
            try:
                while self._pending:
                    current = self._pending.popleft()
                    try:
                        self._handle(current)
                    except Exception:
                        log.exception("CTI adapter %s: the event %r could not be handled", self.name, current)
            finally:
                self._processing = False
        except Exception:
            log.exception("CTI adapter %s: an event was lost", self.name)

    def _handle(self, event: CtiEvent) -> None:
        if not isinstance(event, CtiEvent) or not isinstance(getattr(event, "at", None), datetime):
            log.warning("CTI adapter %s sent a malformed event: %r", self.name, event)
            return
        if self._closed:
            return
        if isinstance(event, CallEvent):
            if not isinstance(event.call, str) or not event.call:
                log.warning("CTI adapter %s sent an event without a call id: %r", self.name, event)
                return
            self._call_event(event)
        elif isinstance(event, ConnectionUp):
            self._connection_up(str(event.detail or ""))
        elif isinstance(event, ConnectionLost):
            self._connection_lost(str(event.reason or ""))
        elif isinstance(event, AgentStateChanged):
            if event.state not in AGENT_STATES:
                log.warning("CTI adapter %s reported an unknown agent state: %r", self.name, event)
                return
            self._agent_reports += 1
            self._machine.report(event.state, str(event.reason or ""), event.at)
        else:
            log.debug("CTI adapter %s: event %s ignored", self.name, type(event).__name__)

    def _call_event(self, event: CallEvent) -> None:
        call = self.calls.get(event.call)
        if call is None:
            if isinstance(event, CallOffered | CallDialing) and event.call not in self._seen:
                call = Call.from_event(event, region=self.default_region)
                if isinstance(event, CallDialing):
                    call.consultation_of = self._consultation_for(call.id)
                self._remember(call.id)
                self.calls[call.id] = call
                self._changed(event, call)
            else:
                log.debug("CTI adapter %s: %s of an unknown call %r ignored",
                          self.name, type(event).__name__, event.call)
            return
        if not call.apply(event):
            return
        self._changed(event, call)
        if isinstance(event, CallConferenced) and event.other:
            other = self.calls.get(event.other)
            if other is not None and not other.ended:  # the consultation joined the call
                self._call_event(CallEnded(call=other.id, cause="conferenced", at=event.at))

    def _consultation_for(self, cid: CallId) -> CallId | None:
        original = self._consultations.pop(cid, None)
        if original is not None:
            return original
        if self._consulting and not self._dials:  # reported before consult() returned
            return self._consulting[-1]
        return None

    def _remember(self, cid: CallId) -> None:
        self._seen[cid] = None
        while len(self._seen) > SEEN_CALLS:
            del self._seen[next(iter(self._seen))]

    def _changed(self, event: CtiEvent, call: Call) -> None:
        """Tell the listeners; settle an ended call (wrap-up or gone); update the agent state."""
        remove = False
        if call.ended and not call.wrap_up and call.wrap_up_ended_at is None:
            if call.consultation_of is not None or call.answered_at is None:
                remove = True
            elif self.wrap_up_seconds <= 0:
                call.wrap_up_ended_at = call.ended_at
                remove = True
            else:
                call.wrap_up = True
        self.call_event.emit((event, call))
        self.call_changed.emit(call)
        if remove:
            self._remove(call)
        settled = self._refresh_agent(event.at)
        if settled is not None:
            self._spawn(self._settle(settled))
        self._tick_if_held()

    def _remove(self, call: Call) -> None:
        if self.calls.get(call.id) is not call:
            return
        del self.calls[call.id]
        if self._selected == call.id:
            self._selected = None
        lock = self._locks.get(call.id)
        if lock is not None and not lock.locked():
            del self._locks[call.id]
        self.call_removed.emit(call)

    def _refresh_agent(self, at: datetime) -> tuple[AgentStateName, str] | None:
        lines = self.calls.values()
        return self._machine.update(busy=any(c.live for c in lines), wrapping=any(c.wrap_up for c in lines),
                                    at=at)

    # ------------------------------------------------------------------ wrap-up
    def _finish_wrap_up(self, call: Call, disposition: str) -> None:
        call.wrap_up = False
        call.wrap_up_ended_at = self.clock()
        call.disposition = disposition
        self.call_changed.emit(call)
        self._remove(call)

    def _wrap_up_expired(self) -> None:
        """The wrap-up timer fired: every line in wrap-up completes (without a disposition)."""
        ended = [c for c in self.calls.values() if c.wrap_up]
        for call in ended:
            self._finish_wrap_up(call, "")
        settled = self._refresh_agent(self.clock())
        self._spawn(self._after_wrap_up([c.id for c in ended], settled))

    async def _after_wrap_up(self, ids: list[CallId], settled: tuple[AgentStateName, str] | None) -> None:
        if "complete_wrap_up" in self.capabilities and self.connection.connected:
            for cid in ids:
                await self._quietly("complete_wrap_up", cid,
                                    functools.partial(self.adapter.complete_wrap_up, cid, ""))
        if settled is not None:
            await self._settle(settled)

    async def _settle(self, settled: tuple[AgentStateName, str]) -> None:
        """After a call and its wrap-up: tell the backend the state the agent is in now."""
        state, reason = settled
        if state == "offline" or "set_agent_state" not in self.capabilities or not self.connection.connected:
            return
        await self._quietly("set_agent_state", "#agent", lambda: self.adapter.set_agent_state(state, reason))

    async def _quietly(self, operation: str, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """A command the desktop sends on its own: a failure is reported, never raised."""
        try:
            await self._run(operation, key, work)
        except CtiError as exc:
            self.problem.emit(str(exc))

    # ------------------------------------------------------------------ timers and tasks
    def _spawn(self, work: Awaitable[Any]) -> None:
        if self._closed:
            if asyncio.iscoroutine(work):
                work.close()
            return
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("CTI background work failed", exc_info=finished.exception())

        task.add_done_callback(done)

    def _tick_if_held(self) -> None:
        if self.tick_seconds <= 0 or self._ticker is not None or self._closed:
            return
        if not any(c.state == "held" for c in self.calls.values()):
            return
        try:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        except RuntimeError:
            return

    async def _tick(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.tick_seconds)
                held = [c for c in self.calls.values() if c.state == "held"]
                if not held:
                    return
                for call in held:
                    self.call_changed.emit(call)
        finally:
            self._ticker = None


__all__ = ["ConnectionStatus", "CtiManager"]
