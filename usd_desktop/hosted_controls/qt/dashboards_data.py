"""The figures the dashboards show, read from the records in one go (no Qt: runs in a worker thread).

:func:`agent_figures` and :func:`team_figures` are blocking: the dashboards run them through
:meth:`DataServices.call <usd_desktop.data.services.DataServices.call>`, never on the GUI thread.
The KPIs come from :mod:`usd_desktop.data.kpi` (one SQL statement per grouping); the agents' current
states and the calls waiting are two small queries of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from usd_desktop.data import kpi
from usd_desktop.data import models_work as work
from usd_desktop.data.errors import DataError
from usd_desktop.data.kpi import KpiRow
from usd_desktop.data.values import to_utc


@dataclass(frozen=True)
class Day:
    """Today in the desktop's local time: ``[start, end)`` and the zone's offset from UTC."""

    start: datetime
    end: datetime
    offset_minutes: int
    now: datetime

    @classmethod
    def of(cls, now: datetime | None = None) -> Day:
        local = (now or datetime.now().astimezone()).astimezone()
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        offset = local.utcoffset() or timedelta(0)
        zone = timezone(offset)
        start = start.replace(tzinfo=zone)
        return cls(start, start + timedelta(days=1), int(offset.total_seconds() // 60), local)


@dataclass(frozen=True)
class KpiOptions:
    """What the KPI definitions leave to the configuration (see :func:`usd_desktop.data.kpi.compute`)."""

    service_level_target: float = 80.0
    service_level_seconds: float = 20.0
    short_abandon_seconds: float = 5.0

    def arguments(self, day: Day) -> dict[str, Any]:
        return {
            "service_level": (self.service_level_target, self.service_level_seconds),
            "short_abandon_seconds": self.short_abandon_seconds,
            "utc_offset_minutes": day.offset_minutes,
        }


@dataclass(frozen=True)
class AgentFigures:
    """One agent's day: the totals and the handled contacts per hour (hour of the day -> count)."""

    agent: str
    day: Day
    totals: KpiRow
    per_hour: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentState:
    """An agent's state now: the latest agent state period still open."""

    agent: str
    state: str
    reason: str
    since: datetime


@dataclass(frozen=True)
class TeamAgent:
    """A row of the team table."""

    agent: str
    state: AgentState | None
    today: KpiRow


@dataclass(frozen=True)
class TeamFigures:
    """The team's day: totals, one row per agent, the calls waiting and the trend per day."""

    day: Day
    totals: KpiRow
    agents: list[TeamAgent]
    waiting: int
    longest_wait: float | None  # seconds the oldest waiting call has waited
    trend: list[KpiRow]  # one row per day with contacts, ``key["day"]`` its start


def natural(text: str) -> tuple[Any, ...]:
    """A sort key that puts ``agent3`` before ``agent12``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", text) if part)


def _source(repository: Any) -> Any:
    if getattr(repository, "engine", None) is None:
        raise DataError("the dashboards need the SQL data source (a repository with an engine)")
    return repository


def agent_figures(repository: Any, agent: str, day: Day, options: KpiOptions) -> AgentFigures:
    """``agent``'s KPIs of ``day`` and the contacts they handled in each hour of it."""
    source = _source(repository)
    period = (day.start, day.end)
    filters = {"agent": agent}
    arguments = options.arguments(day)
    rows = kpi.compute(source, period, (), filters, **arguments)
    totals = rows[0] if rows else KpiRow()
    per_hour: dict[int, int] = {}
    for row in kpi.compute(source, period, "hour", filters, **arguments):
        start = row.key.get("hour")
        if isinstance(start, datetime) and row.handled:
            per_hour[start.hour] = row.handled
    return AgentFigures(agent, day, totals, per_hour)


def current_states(conn: sa.Connection, agents: Sequence[str] = ()) -> dict[str, AgentState]:
    """Each agent's latest open agent state period (one whose ``ended_at`` is empty)."""
    table = work.AgentStatePeriod.__table__
    assert isinstance(table, sa.Table)
    c = table.c
    query = sa.select(c.agent, c.state, c.reason, c.started_at).where(c.ended_at.is_(None))
    if agents:
        query = query.where(c.agent.in_(list(agents)))
    out: dict[str, AgentState] = {}
    for agent, state, reason, started in conn.execute(query.order_by(c.started_at)):
        out[agent] = AgentState(agent, state, reason or "", to_utc(started))  # the latest wins
    return out


def calls_waiting(conn: sa.Connection, day: Day, queues: Sequence[str] = ()) -> tuple[int, float | None]:
    """The inbound contacts offered today, not answered and not ended (ringing or queued now), and
    how long the oldest of them has waited (seconds)."""
    table = work.Interaction.__table__
    assert isinstance(table, sa.Table)
    c = table.c
    query = sa.select(sa.func.count(), sa.func.min(c.offered_at)).where(
        c.direction == "inbound", c.answered_at.is_(None), c.ended_at.is_(None),
        c.offered_at >= to_utc(day.start), c.offered_at < to_utc(day.end),
    )
    if queues:
        query = query.where(c.queue.in_(list(queues)))
    count, oldest = conn.execute(query).one()
    if not count or oldest is None:
        return 0, None
    return int(count), max(0.0, (to_utc(day.now) - to_utc(oldest)).total_seconds())


def team_figures(
    repository: Any,
    day: Day,
    options: KpiOptions,
    *,
    trend_days: int = 14,
    queues: Sequence[str] = (),
    agents: Sequence[str] = (),
) -> TeamFigures:
    """Today's totals, per agent (state, handled, AHT), the calls waiting, and ``trend_days`` days."""
    source = _source(repository)
    arguments = options.arguments(day)
    filters: Mapping[str, Sequence[str]] = {"queue": list(queues)} if queues else {}
    period = (day.start, day.end)
    rows = kpi.compute(source, period, (), filters, **arguments)
    totals = rows[0] if rows else KpiRow()
    by_agent = {
        str(row.key["agent"]): row
        for row in kpi.compute(source, period, "agent", filters, **arguments)
        if row.key.get("agent") and (row.interactions or row.busy_seconds or row.available_seconds)
    }
    first = day.start - timedelta(days=max(1, trend_days) - 1)
    trend = kpi.compute(source, (first, day.end), "day", filters, **arguments)
    with source.engine.connect() as conn:
        states = current_states(conn, agents)
        waiting, longest = calls_waiting(conn, day, queues)
    names = sorted(set(agents) if agents else set(by_agent) | set(states), key=natural)
    team = [TeamAgent(name, states.get(name), by_agent.get(name) or KpiRow(key={"agent": name}))
            for name in names]
    return TeamFigures(day, totals, team, waiting, longest, trend)


__all__ = [
    "AgentFigures",
    "AgentState",
    "Day",
    "KpiOptions",
    "TeamAgent",
    "TeamFigures",
    "agent_figures",
    "calls_waiting",
    "current_states",
    "team_figures",
]
