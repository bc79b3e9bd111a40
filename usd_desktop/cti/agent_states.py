"""The agent's state periods, written as the agent's state changes (Qt-free, asyncio).

:class:`AgentStateRecorder` listens to a :class:`~usd_desktop.cti.manager.CtiManager`'s
:attr:`~usd_desktop.cti.manager.CtiManager.agent_changed` and keeps one ``agent_state_period`` row
per stretch of time the agent spends in one state (``available``, ``not_ready`` with its reason,
``on_call``, ``wrap_up``, ``offline``), through :class:`~usd_desktop.data.services.DataServices`.
These rows are what the occupancy KPI reads (:mod:`usd_desktop.data.kpi`):

- the period the agent is in when the recorder starts is written at once, from the time the
  manager says the state began (:attr:`AgentStatus.since`);
- when the state or the not-ready reason changes, the period is closed (``ended_at``) and the next
  one starts at the same moment. Changes that keep both (a wrap-up deadline, the state asked for
  after the call) are no new period;
- :meth:`AgentStateRecorder.close` closes the current period at the manager's clock's now.

A period that ended where it began and was not written yet (two changes in the same instant) is
dropped.

**Order and failures.** One task writes, period after period, in order; every write (the drafts
file too) runs in the services' worker threads, never on the event loop. A failing write is
reported on the manager's :attr:`~usd_desktop.cti.manager.CtiManager.problem` and tried once more;
what still could not be written waits for the next change (or :meth:`~AgentStateRecorder.close`).
Nothing is raised to the manager.

**Crash safety.** Each period is kept in the local drafts file (:attr:`DataServices.drafts`, key
``agent_state:<id>``) before it is written, with the last moment this run knew the agent was in it
(``seen``: the manager's clock at each change and every ``heartbeat_seconds``,
:meth:`~AgentStateRecorder.touch`); the draft is dropped once the period has ended and is written.
:meth:`AgentStateRecorder.recover` writes what a previous run left behind: a period it left open
(the desktop was killed) is closed at its ``seen``, a lower bound of its real end, as
:meth:`usd_desktop.cti.interactions.InteractionRecorder.recover` closes a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from usd_desktop.cti import interactions
from usd_desktop.cti.agent import AgentStatus
from usd_desktop.cti.manager import CtiManager
from usd_desktop.data.services import DataServices
from usd_desktop.data.values import to_utc

log = logging.getLogger(__name__)

ENTITY = "agent_state_period"
DRAFT_PREFIX = "agent_state:"


@dataclass
class _Period:
    id: str
    state: str
    reason: str
    started: datetime
    values: dict[str, Any]  # the row as it should be
    dirty: dict[str, Any] = field(default_factory=dict)  # changes not written yet
    created: bool = False
    ended: bool = False
    kept: bool = False  # a draft was put
    stale: bool = True  # the draft is to be brought up to date
    touched: bool = False  # ... and its ``seen`` too
    seen: datetime | None = None


class AgentStateRecorder:
    """Writes the ``agent_state_period`` rows of ``manager``'s agent (see the module documentation).

    ``agent``: the name written (default: the manager's agent). ``heartbeat_seconds``: how often the
    current period's last known moment is kept in the drafts file (0: only at changes).
    """

    def __init__(
        self,
        manager: CtiManager,
        services: DataServices,
        *,
        agent: str = "",
        retry_delay: float = 0.5,
        heartbeat_seconds: float = 60.0,
    ) -> None:
        self.manager = manager
        self.services = services
        self.agent = agent
        self.retry_delay = retry_delay
        self.heartbeat_seconds = max(0.0, float(heartbeat_seconds))
        self._periods: list[_Period] = []
        self._mine: set[str] = set()  # every period of this run (recover leaves them alone)
        self._task: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False
        self._disposers: list[Callable[[], None]] = [manager.agent_changed.connect(self._on_status)]
        self._on_status(manager.agent_status)

    # ------------------------------------------------------------------ public
    @property
    def current(self) -> str | None:
        """The id of the period the agent is in (``None`` once closed)."""
        last = self._periods[-1] if self._periods else None
        return last.id if last is not None and not last.ended else None

    def touch(self) -> None:
        """Keep now as the last moment known of the current period (what the heartbeat does)."""
        last = self._periods[-1] if self._periods else None
        if last is not None and not last.ended:
            last.touched = last.stale = True
            self._kick()

    async def flush(self) -> None:
        """Wait until every write asked for so far has been tried."""
        self._kick()
        while self._task is not None:
            await asyncio.wait([self._task])

    async def recover(self) -> int:
        """Write the periods a previous run left in the drafts file; returns how many were written."""
        drafts = self.services.drafts
        try:
            left = await self.services.call(drafts.pending, DRAFT_PREFIX)
        except Exception as exc:
            self._problem(f"agent state periods left by the last run cannot be read: {exc}")
            return 0
        written = 0
        for draft in left:
            period = str(draft.payload.get("id") or draft.key[len(DRAFT_PREFIX):])
            if period in self._mine or draft.payload.get("run") == interactions.RUN:  # ours
                continue
            values = dict(draft.payload.get("values") or {})
            values.pop("id", None)
            try:
                started = _time(values.get("started_at"))
                if started is None:
                    log.warning("agent state draft %s has no start: dropped", draft.key)
                else:
                    if not values.get("ended_at"):
                        seen = _time(draft.payload.get("seen")) or datetime.fromtimestamp(draft.updated, UTC)
                        values["ended_at"] = max(started, seen).isoformat()
                    if await self.services.get(ENTITY, period) is None:
                        await self.services.create(ENTITY, {"id": period, **values})
                    else:
                        await self.services.update(ENTITY, period, values)
                    written += 1
                await self.services.call(drafts.delete, draft.key)
            except Exception as exc:
                self._problem(f"the agent state period {period} left by the last run cannot be "
                              f"written: {exc}")
        return written

    async def close(self) -> None:
        """Stop listening, close the current period now and wait for the writes."""
        if self._closed:
            return
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        last = self._periods[-1] if self._periods else None
        if last is not None and not last.ended:
            self._end(last, self.manager.clock())
        self._closed = True
        await self.flush()

    # ------------------------------------------------------------------ listening
    def _on_status(self, status: AgentStatus) -> None:
        if self._closed:
            return
        last = self._periods[-1] if self._periods else None
        if last is not None and not last.ended and (last.state, last.reason) == (status.state, status.reason):
            return
        at = to_utc(status.since)
        if last is not None and not last.ended:
            self._end(last, at)
        period = _Period(str(uuid.uuid4()), status.state, status.reason, at, {})
        period.values = {
            "agent": (self.agent or self.manager.agent)[:100],
            "state": status.state,
            "reason": status.reason[:100] or None,
            "started_at": at,
            "ended_at": None,
        }
        period.dirty = dict(period.values)
        period.seen = at
        self._periods.append(period)
        self._mine.add(period.id)
        self._kick()

    def _end(self, period: _Period, at: datetime) -> None:
        end = max(to_utc(at), period.started)
        period.ended = True
        period.values["ended_at"] = end
        period.dirty["ended_at"] = end
        period.stale = True
        period.seen = end
        self._kick()

    # ------------------------------------------------------------------ writing
    def _kick(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: written with the next change made on one
            return
        if self._task is None:
            self._task = loop.create_task(self._work())
        if self._heartbeat is None and self.heartbeat_seconds and not self._closed:
            self._heartbeat = loop.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            self.touch()

    async def _work(self) -> None:
        try:
            while True:
                await self._keep_drafts()
                period = next((p for p in self._periods if p.dirty or p.ended), None)
                if period is None:
                    return
                values, period.dirty = period.dirty, {}
                if values and not await self._save(period, values):
                    period.dirty = {**values, **period.dirty}
                    return  # kept in its draft: tried again with the next change
                if period.ended and not period.dirty:
                    await self._drop(period)
        finally:
            self._task = None

    async def _keep_drafts(self) -> None:
        """Every change on disk before any row is written (also while the database is away)."""
        for period in list(self._periods):
            if period.ended and not period.created and period.values["ended_at"] == period.started:
                await self._drop(period)  # no time in it: nothing to write
            elif period.stale:
                period.stale = False
                if period.touched and not period.ended:
                    period.seen = self.manager.clock()
                period.touched = False
                await self._keep_draft(period)

    async def _save(self, period: _Period, values: dict[str, Any]) -> bool:
        for attempt in (1, 2):
            creating = not period.created
            try:
                if creating and attempt == 2 and await self.services.get(ENTITY, period.id) is not None:
                    period.created, creating = True, False  # the first try got through after all
                    values = dict(period.values)
                if creating:
                    await self.services.create(ENTITY, {"id": period.id, **period.values})
                    period.created = True
                else:
                    await self.services.update(ENTITY, period.id, values)
                return True
            except Exception as exc:
                what = "create" if creating else "update"
                then = "; trying again" if attempt == 1 else "; it is kept and written with the next change"
                self._problem(f"the agent state period {period.state} from {period.started.isoformat()} "
                              f"could not be saved ({what}): {exc}{then}")
                if attempt == 1:
                    await asyncio.sleep(self.retry_delay)
        return False

    async def _keep_draft(self, period: _Period) -> None:
        payload = {
            "id": period.id,
            "run": interactions.RUN,
            "created": period.created,
            "seen": (period.seen or period.started).isoformat(),
            "values": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in period.values.items()},
        }
        try:
            await self.services.call(self.services.drafts.put, DRAFT_PREFIX + period.id, payload)
            period.kept = True
        except Exception as exc:
            log.warning("the agent state draft %s could not be kept: %s", period.id, exc)

    async def _drop(self, period: _Period) -> None:
        if period.kept:
            try:
                await self.services.call(self.services.drafts.delete, DRAFT_PREFIX + period.id)
            except Exception as exc:
                log.warning("drafts: %s", exc)
        with contextlib.suppress(ValueError):
            self._periods.remove(period)

    def _problem(self, text: str) -> None:
        log.warning("%s", text)
        self.manager.problem.emit(text)


def _time(value: Any) -> datetime | None:
    """A time kept in a draft (ISO text), else ``None``."""
    if not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
    except (TypeError, ValueError, AttributeError):
        return None


__all__ = ["ENTITY", "AgentStateRecorder"]
