"""The CTI manager's connection to its adapter: attempts, loss, reconnection with backoff and the
resynchronisation of the calls afterwards (a part of :class:`~usd_desktop.cti.manager.CtiManager`).

After a loss the calls are kept and marked ``stale``; the manager tries again after each of its
``reconnect_delays`` (the last one repeated) until it is connected or closed; an adapter that comes
back on its own stops the attempts. Then ``resync()`` brings the calls up to date: a call the
backend no longer mentions ends with cause ``lost`` (only when the adapter implements ``resync``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from usd_desktop.core.signals import Signal
from usd_desktop.cti.calls import Call
from usd_desktop.cti.contract import Adapter, CallConferenced, CallEnded, CallEvent, CtiError, CtiEvent

log = logging.getLogger("usd_desktop.cti.manager")


@dataclass(frozen=True)
class ConnectionStatus:
    """The adapter's connection: ``retry_in`` seconds until the next attempt while disconnected,
    ``attempts`` the connection attempts that failed since it was lost (0 while connected)."""

    connected: bool
    detail: str = ""
    retry_in: float | None = None
    attempts: int = 0


class ConnectionKeeper:
    """Mixed into the manager: what it needs from it is declared here."""

    adapter: Adapter
    calls: dict[str, Call]
    connection: ConnectionStatus
    connection_changed: Signal[ConnectionStatus]
    call_changed: Signal[Call]
    problem: Signal[str]
    reconnect_delays: tuple[float, ...]
    clock: Callable[[], datetime]
    _started: bool
    _starting: bool
    _connecting: bool
    _closed: bool
    _need_resync: bool
    _last_error: str
    _reconnect_task: asyncio.Task[None] | None

    # the manager's command isolation, event sink and background tasks
    _isolated: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]
    _sink: Callable[[CtiEvent], None]
    _spawn: Callable[[Awaitable[Any]], None]

    @property
    def name(self) -> str:
        """The adapter as messages name it."""
        return self.adapter.name or type(self.adapter).__name__

    # ------------------------------------------------------------------ connection
    def _set_connection(self, status: ConnectionStatus) -> None:
        if status == self.connection:
            return
        self.connection = status
        self.connection_changed.emit(status)

    async def _attempt(self) -> bool:
        """One connection attempt (``start`` the first time, ``connect`` after); ``True`` when up."""
        first = not self._started
        self._connecting = True
        try:
            if first:
                await self._isolated("start", lambda: self.adapter.start(self._sink))
                self._started = True
            else:
                await self._isolated("connect", self.adapter.connect)
            return True
        except CtiError as exc:
            self._last_error = str(exc)
            log.warning("%s", exc)
            return False
        finally:
            self._connecting = False

    async def _connected(self) -> None:
        if not self.connection.connected:
            self._set_connection(ConnectionStatus(True, self.name, None, 0))
        if self._need_resync:
            await self._resync()

    def _connection_up(self, detail: str) -> None:
        self._set_connection(ConnectionStatus(True, detail or self.name, None, 0))
        if self._connecting or self._starting:
            return  # an attempt of ours: it resynchronises when it returns
        if self._reconnect_task is not None:  # the adapter came back on its own
            self._reconnect_task.cancel()
            self._reconnect_task = None
        if self._need_resync:
            self._spawn(self._resync())

    def _connection_lost(self, reason: str) -> None:
        self._need_resync = True
        reason = reason or "connection lost"
        self._last_error = f"{self.name}: {reason}"
        for call in self.calls.values():
            if not call.ended and not call.stale:
                call.stale = True
                self.call_changed.emit(call)
        if self._connecting or self._starting:
            self._set_connection(ConnectionStatus(False, reason, None, self.connection.attempts))
            return
        if self._reconnect_task is None:
            self._set_connection(ConnectionStatus(False, reason, self.reconnect_delays[0], 0))
            self.problem.emit(f"{self.name}: the connection to the backend was lost ({reason})")
            self._begin_reconnect(failures=0, detail=reason)

    def _begin_reconnect(self, *, failures: int, detail: str = "") -> None:
        if self._closed or self._reconnect_task is not None:
            return
        self._reconnect_task = asyncio.get_running_loop().create_task(
            self._reconnect(failures, detail or self._last_error)
        )

    async def _reconnect(self, failures: int, detail: str) -> None:
        """Try again after each delay (the last one repeated) until connected or closed."""
        me = asyncio.current_task()
        waits = 0
        try:
            while not self._closed:
                delay = self.reconnect_delays[min(waits, len(self.reconnect_delays) - 1)]
                self._set_connection(ConnectionStatus(False, detail, delay, failures))
                await asyncio.sleep(delay)
                waits += 1
                if self.connection.connected:
                    break
                if await self._attempt():
                    break
                failures += 1
                detail = self._last_error
        finally:
            if self._reconnect_task is me:
                self._reconnect_task = None
        if not self._closed:
            await self._connected()

    async def _resync(self) -> None:
        """Bring the calls up to date after a reconnection (see the module documentation)."""
        if not self._need_resync:
            return
        self._need_resync = False
        implemented = type(self.adapter).resync is not Adapter.resync
        try:
            events = await self._isolated("resync", self.adapter.resync)
        except CtiError as exc:
            self.problem.emit(str(exc))
            events, implemented = [], False
        if not isinstance(events, list | tuple):
            log.warning("CTI adapter %s: resync returned %r, not a list of events", self.name, events)
            events, implemented = [], False
        mentioned: set[str] = set()
        for event in events:
            if isinstance(event, CallEvent):
                mentioned.add(event.call)
            if isinstance(event, CallConferenced):
                mentioned.add(event.other)
            self._sink(event)
        for call in list(self.calls.values()):
            if not call.stale:
                continue
            call.stale = False
            if implemented and call.id not in mentioned and not call.ended:
                self._sink(CallEnded(call=call.id, cause="lost", at=self.clock()))
            elif self.calls.get(call.id) is call:
                self.call_changed.emit(call)
