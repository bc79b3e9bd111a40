"""The SQL of the contact-centre KPIs (:mod:`usd_desktop.data.kpi`): one statement per grouping.

:func:`kpi_statement` builds a ``SELECT`` that sums, per group, the measures of its branches put
together with ``UNION ALL``, each already grouped (so the outer sum sees a few rows per branch):

* the interactions offered in the period: counts and times, one pass without a window;
* on PostgreSQL the agents who handled them, a row per group and agent (a distinct count that
  hashes; SQLite counts them in the first branch);
* first-contact resolution: the customers' contacts (inbound, handled, not transferred on) through
  a window (``LAG``/``LEAD`` of the offer time: the same customer's contact before and after it),
  taken over the period widened by the FCR window on both sides and before the filters, so a
  repeat handled by another agent or queue still counts;
* the survey answers, grouped by their interaction's agent, queue, channel and offer time (an
  answer with no interaction: its own channel and the time it was sent), in two branches so each
  can use an index on its time;
* the agent state periods (busy and available time), only when the grouping and the filters are by
  agent and time alone (a state belongs to no queue or channel).

Times are compared as seconds between two columns, which each database computes its own way
(:func:`seconds_between`); time buckets are cut by :func:`bucket`. Every expression here works on
SQLite (3.25+, for window functions) and PostgreSQL; where their planners need different help, it
says so (:meth:`Query.bounds`, :meth:`Query.keys`, :meth:`Query.agents`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from usd_desktop.data import models_work as work

Bounds = tuple[datetime | None, datetime | None]

#: What rows can be grouped by: the interaction's columns and time buckets of its offer.
COLUMN_DIMENSIONS = ("agent", "queue", "channel", "direction")
TIME_DIMENSIONS = ("hour", "day", "week", "month")
DIMENSIONS = COLUMN_DIMENSIONS + TIME_DIMENSIONS
#: End causes of an unanswered inbound contact counted as abandoned (``None`` too: older records).
ABANDON_CAUSES = ("abandoned", "normal")
#: End causes of an unanswered inbound contact counted as missed.
MISSED_CAUSES = ("missed", "rejected")
#: Agent states whose time is handle time (talk + hold; after-call work).
BUSY_STATES = ("on_call", "wrap_up")

#: The measures every branch yields, in this order (a branch without one yields NULL).
MEASURES = (
    "interactions",
    "inbound",
    "outbound",
    "answered",
    "handled",
    "abandoned",
    "short_abandoned",
    "missed",
    "answered_in_threshold",
    "wait_seconds",
    "connected_seconds",
    "hold_seconds",
    "acw_seconds",
    "transferred",
    "transfers",
    "agents",
    "fcr_contacts",
    "fcr_resolved",
    "survey_answers",
    "scale_answers",
    "scale_satisfied",
    "yes_no_answers",
    "yes_answers",
    "busy_seconds",
    "available_seconds",
)

#: SQLite reads a period holding more than this share of the interactions by a scan, not an index.
WHOLE_SCAN_SHARE = 0.1
#: Seconds a SQLite time difference may be off (a Julian day number carries about 40 µs of
#: rounding; rounding each difference instead would cost a third more time).
SQLITE_TOLERANCE = 0.0005

_SQLITE_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}
_SQLITE_PREFIX = {"day": 10, "month": 7}


@dataclass(frozen=True)
class Settings:
    """What the definitions leave open (see :func:`usd_desktop.data.kpi.compute`)."""

    threshold_seconds: float = 20.0
    short_abandon_seconds: float = 5.0
    fcr_window_days: float = 7.0
    resolved_dispositions: tuple[str, ...] = ("resolved",)
    utc_offset_minutes: int = 0


def seconds_between(dialect: str, later: Any, earlier: Any) -> sa.ColumnElement[Any]:
    """``later - earlier`` in seconds, of two timestamp columns (NULL when either is NULL). On
    SQLite the difference of their Julian day numbers, off by up to :data:`SQLITE_TOLERANCE`."""
    if dialect == "postgresql":
        # date_part gives a double (EXTRACT a numeric since PostgreSQL 14: sums twice as slow)
        return sa.func.date_part("epoch", later - earlier, type_=sa.Float())
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def tolerance(dialect: str) -> float:
    """How far :func:`seconds_between` may be off: what a comparison with a threshold allows."""
    return 0.0 if dialect == "postgresql" else SQLITE_TOLERANCE


def bucket(dialect: str, unit: str, at: Any, offset_minutes: int) -> sa.ColumnElement[Any]:
    """The start of the ``unit`` (hour, day, week from Monday, month) holding ``at``, in the time zone
    ``offset_minutes`` east of UTC: on PostgreSQL a timestamp without zone (``date_trunc``, cheaper
    than text), on SQLite text (``YYYY-MM-DD HH:00``, ``YYYY-MM-DD``, ``YYYY-MM``)."""
    offset = int(offset_minutes)
    if dialect == "postgresql":
        local: sa.ColumnElement[Any] = sa.func.timezone("UTC", at)
        if offset:
            local = local + sa.literal_column(f"interval '{offset} minutes'")
        return sa.func.date_trunc(unit, local, type_=sa.DateTime())
    if not offset and unit in _SQLITE_PREFIX:
        # SQLite keeps a time as text, ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's format) in UTC:
        # the day and the month are its first characters (half the time of strftime)
        return sa.func.substr(at, 1, _SQLITE_PREFIX[unit])
    shift = f"{offset:+d} minutes"
    if unit == "week":  # the Sunday on or after the day, less six days: its week's Monday
        return sa.func.date(at, shift, "weekday 0", "-6 days")
    return sa.func.strftime(_SQLITE_FORMATS[unit], at, shift)


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _sum_if(condition: sa.ColumnElement[bool], value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, value), else_=0))


def _in(column: sa.ColumnElement[Any], values: Sequence[str]) -> sa.ColumnElement[bool]:
    return column.in_(values) if len(values) != 1 else column == values[0]


def _share(period: Bounds, span: tuple[datetime, datetime]) -> float:
    """How much of ``span`` (first and last offer) ``period`` covers, from 0 to 1."""
    first, last = span
    start = first if period[0] is None else max(period[0], first)
    end = last if period[1] is None else min(period[1], last)
    length = (last - first).total_seconds()
    return 1.0 if length <= 0 else max(0.0, (end - start).total_seconds()) / length


def _unindexed(column: Any) -> Any:
    """SQLite's ``+column``: the same value, but no index serves a condition on it."""
    return UnaryExpression(column, operator=operators.custom_op("+"))


@dataclass(frozen=True)
class Query:
    """One grouping's statement: ``group_by`` dimensions, then the :data:`MEASURES`. ``span``: the
    first and last offer time of all interactions, for SQLite's planner (see :meth:`bounds`)."""

    dialect: str
    group_by: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]]
    period: Bounds
    widened: Bounds
    settings: Settings
    span: tuple[datetime, datetime] | None = None

    def bounds(self, column: Any, period: Bounds) -> list[sa.ColumnElement[bool]]:
        """``column`` in ``period``. On SQLite, when the period holds more than a tenth of the
        interactions (judged from their first and last offer, :attr:`span`), the column is read
        by a scan, not through its index: SQLite has no statistics and would otherwise take a
        year for a few rows and read it through the index, a random read per row (ten times slower
        than a scan)."""
        start, end = period
        if self.span is not None and _share(period, self.span) > WHOLE_SCAN_SHARE:
            column = _unindexed(column)
        out: list[sa.ColumnElement[bool]] = []
        if start is not None:
            out.append(column >= start)
        if end is not None:
            out.append(column < end)
        return out

    def keys(self, columns: Mapping[str, Any], at: Any) -> list[tuple[sa.ColumnElement[Any], bool]]:
        """The key columns of a branch, each with whether to group by it (not by a NULL the
        branch has for a dimension: PostgreSQL refuses ``GROUP BY NULL``)."""
        out: list[tuple[sa.ColumnElement[Any], bool]] = []
        for name in self.group_by:
            if name in TIME_DIMENSIONS:
                expr = bucket(self.dialect, name, at, self.settings.utc_offset_minutes)
                out.append((expr.label(f"k_{name}"), True))
                continue
            expr = columns[name]
            if self.dialect == "sqlite" and not isinstance(expr, sa.Null):
                # ``+agent``: the same value, but no index to walk in its order (SQLite would walk
                # (agent, offered_at) to spare a sort: a random read per row, 3x slower)
                expr = _unindexed(expr)
            out.append((sa.type_coerce(expr, sa.String()).label(f"k_{name}"), not isinstance(expr, sa.Null)))
        return out

    def used_columns(self) -> list[str]:
        """The interaction columns the grouping and the filters read."""
        return [name for name in COLUMN_DIMENSIONS if name in self.group_by or name in self.filters]

    def where(self, columns: Mapping[str, Any], at: Any) -> list[sa.ColumnElement[bool]]:
        out = self.bounds(at, self.period)
        out += [_in(columns[name], values) for name, values in self.filters.items()]
        return out

    # ------------------------------------------------------------------ branches
    def interactions(self) -> sa.Select[Any]:
        """Everything but FCR, from the interactions offered in the period (no window: one pass)."""
        table = work.Interaction.__table__
        assert isinstance(table, sa.Table)
        t, d, s = table.c, self.dialect, self.settings
        slack = tolerance(d)
        inbound = t.direction == "inbound"
        answered = t.answered_at.is_not(None)
        handled = sa.and_(answered, t.ended_at.is_not(None))
        unanswered_end = sa.and_(inbound, t.answered_at.is_(None), t.ended_at.is_not(None))
        abandoned = sa.and_(unanswered_end, sa.or_(t.end_cause.is_(None), t.end_cause.in_(ABANDON_CAUSES)))
        ring = seconds_between(d, t.ended_at, t.offered_at)
        short = sa.and_(abandoned, ring < s.short_abandon_seconds - slack)
        wait = seconds_between(d, t.answered_at, t.offered_at)
        acw = seconds_between(d, t.wrap_up_ended_at, t.ended_at)
        measures: dict[str, sa.ColumnElement[Any]] = {
            "interactions": sa.func.count(),
            "inbound": _count_if(inbound),
            "outbound": _count_if(t.direction == "outbound"),
            "answered": _count_if(sa.and_(inbound, answered)),
            "handled": _count_if(handled),
            "abandoned": _count_if(abandoned),
            "short_abandoned": _count_if(short),
            "missed": _count_if(sa.and_(unanswered_end, t.end_cause.in_(MISSED_CAUSES))),
            "answered_in_threshold": _count_if(
                sa.and_(inbound, answered, wait <= s.threshold_seconds + slack)
            ),
            "wait_seconds": _sum_if(sa.and_(inbound, answered), wait),
            "connected_seconds": _sum_if(handled, seconds_between(d, t.ended_at, t.answered_at)),
            "hold_seconds": _sum_if(handled, t.hold_seconds),
            "acw_seconds": _sum_if(sa.and_(handled, acw > 0), acw),
            "transferred": _count_if(sa.and_(handled, sa.or_(t.transfers > 0, t.end_cause == "transferred"))),
            "transfers": sa.func.sum(t.transfers),
        }
        if d == "sqlite":  # a small B-tree of agents per group: cheaper than SQLite sorting for agents()
            measures["agents"] = sa.func.count(sa.distinct(sa.case((handled, t.agent))))
        return self._branch(t, t.offered_at, measures, table)

    def agents(self) -> sa.Select[Any]:
        """PostgreSQL: one row per group and agent who handled a contact in it, so the sum is the
        number of agents (``COUNT(DISTINCT agent)`` beside the other sums would make PostgreSQL
        sort every row instead of hashing them in parallel: twice as slow)."""
        table = work.Interaction.__table__
        assert isinstance(table, sa.Table)
        t = table.c
        agent = t.agent
        handled = (t.answered_at.is_not(None), t.ended_at.is_not(None), t.agent.is_not(None))
        measures = {"agents": sa.literal(1, sa.Integer())}
        return self._branch(t, t.offered_at, measures, table, *handled, by=(agent,))

    def first_contacts(self) -> sa.Select[Any]:
        """FCR: the customers' contacts in the period widened by the FCR window, each with the
        offer time of the same customer's contact before and after it (a window over contacts
        only, before the filters: a repeat with another agent or queue counts too)."""
        table = work.Interaction.__table__
        assert isinstance(table, sa.Table)
        c, d, s = table.c, self.dialect, self.settings
        customer = sa.func.coalesce(c.contact_id, c.account_id)
        order = (c.offered_at, c.id)
        marked = sa.or_(c.first_contact_resolution == sa.true(), c.disposition.in_(s.resolved_dispositions))
        inner = (
            sa.select(
                *(c[name] for name in self.used_columns()),
                c.offered_at,
                customer.label("customer"),
                sa.case((marked, 1), else_=0).label("marked"),
                sa.func.lag(c.offered_at).over(partition_by=customer, order_by=order).label("previous"),
                sa.func.lead(c.offered_at).over(partition_by=customer, order_by=order).label("next"),
            )
            .where(
                *self.bounds(c.offered_at, self.widened),
                # a contact: inbound, handled to its end here (a leg transferred on is judged where
                # the contact ends)
                c.direction == "inbound",
                c.answered_at.is_not(None),
                c.ended_at.is_not(None),
                sa.or_(c.end_cause.is_(None), c.end_cause != "transferred"),
            )
            .subquery("contacts")
        )
        t = inner.c
        reach = s.fcr_window_days * 86400.0 + tolerance(d)
        gap_before = seconds_between(d, t.offered_at, t.previous)
        first = sa.or_(t.customer.is_(None), t.previous.is_(None), gap_before > reach)
        gap_after = seconds_between(d, t.next, t.offered_at)
        no_repeat = sa.or_(t.customer.is_(None), t.next.is_(None), gap_after > reach)
        measures: dict[str, sa.ColumnElement[Any]] = {
            "fcr_contacts": _count_if(first),
            "fcr_resolved": _count_if(sa.and_(first, t.marked == 1, no_repeat)),
        }
        return self._branch(t, t.offered_at, measures, inner)

    def surveys(self) -> list[sa.Select[Any]]:
        """The survey answers: those about an interaction by its agent, queue, channel and offer
        time; the others (about a case, or their interaction deleted) by their own channel and
        the time they were sent."""
        answers = work.SurveyResponse.__table__
        assert isinstance(answers, sa.Table)
        interactions = work.Interaction.__table__.alias("si")
        a, i = answers.c, interactions.c
        answered = sa.and_(a.answered_at.is_not(None), a.score.is_not(None))
        scale = sa.and_(answered, a.kind == "scale")
        yes_no = sa.and_(answered, a.kind == "yes_no")
        measures: dict[str, sa.ColumnElement[Any]] = {
            "survey_answers": _count_if(sa.or_(scale, yes_no)),
            "scale_answers": _count_if(scale),
            "scale_satisfied": _count_if(sa.and_(scale, a.score >= a.scale_max - 1)),
            "yes_no_answers": _count_if(yes_no),
            "yes_answers": _count_if(sa.and_(yes_no, a.score >= 1)),
        }
        linked = self._branch(i, i.offered_at, measures, interactions.join(answers, a.interaction_id == i.id))
        alone = {"agent": sa.null(), "queue": sa.null(), "channel": a.channel, "direction": sa.null()}
        unlinked = self._branch(alone, a.sent_at, measures, answers, a.interaction_id.is_(None))
        return [linked, unlinked]

    def states(self) -> sa.Select[Any] | None:
        """The busy and available time of the agents; ``None`` when grouped or filtered by what a
        state has not (queue, channel, direction)."""
        if any(n in ("queue", "channel", "direction") for n in (*self.group_by, *self.filters)):
            return None
        table = work.AgentStatePeriod.__table__
        assert isinstance(table, sa.Table)
        c = table.c
        length = seconds_between(self.dialect, c.ended_at, c.started_at)
        ended = c.ended_at.is_not(None)
        measures: dict[str, sa.ColumnElement[Any]] = {
            "busy_seconds": _sum_if(sa.and_(ended, c.state.in_(BUSY_STATES)), length),
            "available_seconds": _sum_if(sa.and_(ended, c.state == "available"), length),
        }
        return self._branch({"agent": c.agent}, c.started_at, measures, table)

    def _branch(
        self,
        columns: Any,
        at: Any,
        measures: Mapping[str, sa.ColumnElement[Any]],
        source: Any,
        *conditions: sa.ColumnElement[bool],
        by: Sequence[sa.ColumnElement[Any]] = (),
    ) -> sa.Select[Any]:
        keys = self.keys(columns, at)
        # a typed NULL: PostgreSQL would make two untyped NULLs of a UNION column text
        absent = sa.cast(sa.null(), sa.Numeric())
        values = [measures.get(name, absent).label(name) for name in MEASURES]
        where = [*self.where(columns, at), *conditions]
        statement = sa.select(*(key for key, _ in keys), *values).select_from(source).where(*where)
        grouped = [*(key for key, group in keys if group), *by]
        if grouped:
            return statement.group_by(*grouped)
        # grouped by NULLs alone: one group, and none when no row matched (like GROUP BY)
        return statement.having(sa.func.count() > 0) if keys else statement

    # ------------------------------------------------------------------ the whole
    def statement(self) -> sa.Select[Any]:
        branches = [self.interactions(), self.first_contacts(), *self.surveys()]
        if self.dialect != "sqlite":
            branches.insert(1, self.agents())
        states = self.states()
        if states is not None:
            branches.append(states)
        union = sa.union_all(*branches).subquery("kpi")
        keys = [union.c[f"k_{name}"] for name in self.group_by]
        sums = [sa.func.sum(union.c[name]).label(name) for name in MEASURES]
        statement = sa.select(*keys, *sums)
        return statement.group_by(*keys) if keys else statement


def kpi_statement(
    dialect: str,
    group_by: Sequence[str],
    filters: Mapping[str, tuple[str, ...]],
    period: Bounds,
    settings: Settings,
    span: tuple[datetime, datetime] | None = None,
) -> sa.Select[Any]:
    """The statement of one grouping (see the module documentation). ``span``: the first and last
    offer time of all interactions (SQLite: how much of the table the period holds)."""
    start, end = period
    reach = timedelta(days=settings.fcr_window_days)
    widened = (None if start is None else start - reach, None if end is None else end + reach)
    return Query(dialect, tuple(group_by), filters, period, widened, settings, span).statement()


def offer_span(conn: sa.Connection) -> tuple[datetime, datetime] | None:
    """The first and last offer time of the interactions (two index look-ups), ``None`` if none."""
    table = work.Interaction.__table__
    assert isinstance(table, sa.Table)
    offered = table.c.offered_at
    first, last = conn.execute(sa.select(sa.func.min(offered), sa.func.max(offered))).one()
    return None if first is None or last is None else (first, last)


__all__ = [
    "DIMENSIONS",
    "MEASURES",
    "TIME_DIMENSIONS",
    "Settings",
    "bucket",
    "kpi_statement",
    "offer_span",
    "seconds_between",
]
