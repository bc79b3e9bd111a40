"""Contact-centre KPIs computed in the database from the interaction records (Qt-free).

:func:`compute` gives one :class:`KpiRow` per group (agent, queue, channel, direction and/or an
hour, day, week or month of the offer time) of the interactions offered in a period: AHT, ACW, ASA,
service level, abandonment rate, first-contact resolution (marked, and detected from repeat
contacts on any channel), CSAT from survey answers, occupancy from the agent state periods, calls
per agent, inbound and outbound counts, missed calls, average talk and hold time, transfers. One
SQL statement per call, whatever the grouping (:mod:`usd_desktop.data.kpi_sql`): the database
aggregates; Python only reads back the groups. (On SQLite, with a period, two index look-ups of the
first and last offer come first: they tell its planner whether to scan or use the index.)

The definitions, with the times each one counts and how short abandons are treated, are in
``docs/kpis.md``; in short:

* A contact belongs to the period (and the hour, day, ...) of its **offer**, even when it is
  answered or ends after midnight. The period is ``[start, end)``.
* **Offered** (inbound): answered + abandoned. **Abandoned**: unanswered inbound that ended with
  cause ``abandoned`` (or ``normal``, or none: older records); **short abandons** are those that
  ended less than ``short_abandon_seconds`` after the offer. **Missed**: unanswered inbound ended
  ``missed`` or ``rejected`` (the contact is offered again elsewhere: not counted as offered).
* **Handled**: answered and ended (either direction). AHT = (talk + hold + ACW) / handled, with
  talk + hold = ``ended_at - answered_at`` and ACW = ``wrap_up_ended_at - ended_at``.
* **ASA** = Σ(``answered_at - offered_at``) / answered inbound; **service level** = answered
  within the threshold / (offered - short abandons); **abandonment rate** = (abandoned - short
  abandons) / (offered - short abandons).
* **FCR** = first contacts resolved / first contacts (see :func:`compute`).
* **CSAT** = top-two-box scale answers + "yes" answers / answers; **occupancy** = busy (on call +
  wrap-up) / (busy + available) time of the agent state periods that start in the period.

A KPI whose denominator is zero is ``None`` (no calls: no AHT, not 0). Rates are percentages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa

from usd_desktop.data.errors import DataError
from usd_desktop.data.kpi_sql import (
    COLUMN_DIMENSIONS,
    DIMENSIONS,
    MEASURES,
    TIME_DIMENSIONS,
    Settings,
    offer_span,
)
from usd_desktop.data.kpi_sql import kpi_statement as _kpi_statement
from usd_desktop.data.values import to_utc


class _HasEngine(Protocol):
    @property
    def engine(self) -> sa.Engine: ...


Source = sa.Engine | sa.Connection | _HasEngine
Period = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class KpiRow:
    """The KPIs of one group. ``key`` maps each grouped dimension to its value (a time bucket: its
    start, an aware datetime in the zone of ``utc_offset_minutes``); the counts are whole numbers,
    times are seconds and rates percentages, ``None`` when there is nothing to divide by."""

    key: dict[str, Any] = field(default_factory=dict)
    # -- counts
    interactions: int = 0
    inbound: int = 0
    outbound: int = 0
    offered: int = 0
    answered: int = 0
    answered_in_threshold: int = 0
    handled: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    missed: int = 0
    transferred: int = 0
    transfers: int = 0
    agents: int = 0
    fcr_contacts: int = 0
    fcr_resolved: int = 0
    survey_answers: int = 0
    # -- times (seconds)
    aht: float | None = None
    acw: float | None = None
    avg_talk: float | None = None
    avg_hold: float | None = None
    asa: float | None = None
    busy_seconds: float = 0.0
    available_seconds: float = 0.0
    # -- rates (percent) and ratios
    service_level: float | None = None
    service_level_met: bool | None = None
    abandonment_rate: float | None = None
    fcr: float | None = None
    csat: float | None = None
    csat_scale: float | None = None
    csat_yes_no: float | None = None
    occupancy: float | None = None
    transfer_rate: float | None = None
    calls_per_agent: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(part: float, whole: float, scale: float = 1.0) -> float | None:
    return None if not whole else part * scale / whole


def _seconds(part: float, whole: float) -> float | None:
    """An average time, to the millisecond (what SQLite's time differences are good for)."""
    value = _ratio(part, whole)
    return None if value is None else round(value, 3)


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    return float(value) if isinstance(value, Decimal | int | float) else float(str(value))


def _row(key: dict[str, Any], sums: Mapping[str, float], target_percent: float) -> KpiRow:
    """A :class:`KpiRow` from the summed measures of a group."""
    count = {name: round(sums[name]) for name in MEASURES if not name.endswith("_seconds")}
    offered = count["answered"] + count["abandoned"]
    handled, short = count["handled"], count["short_abandoned"]
    counted = offered - short
    service_level = _ratio(count["answered_in_threshold"], counted, 100.0)
    connected, hold, acw = sums["connected_seconds"], sums["hold_seconds"], sums["acw_seconds"]
    busy, available = sums["busy_seconds"], sums["available_seconds"]
    scale, yes_no = count["scale_answers"], count["yes_no_answers"]
    return KpiRow(
        key=key,
        interactions=count["interactions"],
        inbound=count["inbound"],
        outbound=count["outbound"],
        offered=offered,
        answered=count["answered"],
        answered_in_threshold=count["answered_in_threshold"],
        handled=handled,
        abandoned=count["abandoned"],
        short_abandoned=short,
        missed=count["missed"],
        transferred=count["transferred"],
        transfers=count["transfers"],
        agents=count["agents"],
        fcr_contacts=count["fcr_contacts"],
        fcr_resolved=count["fcr_resolved"],
        survey_answers=count["survey_answers"],
        aht=_seconds(connected + acw, handled),
        acw=_seconds(acw, handled),
        avg_talk=_seconds(connected - hold, handled),
        avg_hold=_seconds(hold, handled),
        asa=_seconds(sums["wait_seconds"], count["answered"]),
        busy_seconds=round(busy, 3),
        available_seconds=round(available, 3),
        service_level=service_level,
        service_level_met=None if service_level is None else service_level >= target_percent,
        abandonment_rate=_ratio(count["abandoned"] - short, counted, 100.0),
        fcr=_ratio(count["fcr_resolved"], count["fcr_contacts"], 100.0),
        csat=_ratio(count["scale_satisfied"] + count["yes_answers"], scale + yes_no, 100.0),
        csat_scale=_ratio(count["scale_satisfied"], scale, 100.0),
        csat_yes_no=_ratio(count["yes_answers"], yes_no, 100.0),
        occupancy=_ratio(busy, busy + available, 100.0),
        transfer_rate=_ratio(count["transferred"], handled, 100.0),
        calls_per_agent=_ratio(handled, count["agents"]),
    )


def _bucket_start(unit: str, text: str | datetime | None, zone: timezone) -> datetime | None:
    """A time bucket's start as an aware datetime (PostgreSQL gives a timestamp, SQLite text)."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text.replace(tzinfo=zone)
    layout = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}[unit]
    return datetime.strptime(text, layout).replace(tzinfo=zone)


def _filters(filters: Mapping[str, str | Iterable[str]] | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name, value in (filters or {}).items():
        if name not in COLUMN_DIMENSIONS:
            raise DataError(f"KPI filter {name!r}: not one of {', '.join(COLUMN_DIMENSIONS)}")
        values = (value,) if isinstance(value, str) else tuple(value)
        if not values:
            raise DataError(f"KPI filter {name!r}: no value")
        out[name] = values
    return out


def _group_by(group_by: str | Sequence[str]) -> tuple[str, ...]:
    names = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    for name in names:
        if name not in DIMENSIONS:
            raise DataError(f"KPI grouping {name!r}: not one of {', '.join(DIMENSIONS)}")
    if len(set(names)) != len(names):
        raise DataError(f"KPI grouping {', '.join(names)}: a dimension twice")
    return names


def _period(period: Period | None) -> Period:
    if period is None:
        return (None, None)
    start, end = (None if when is None else to_utc(when) for when in period)
    if start is not None and end is not None and end < start:
        raise DataError(f"KPI period ends ({end}) before it starts ({start})")
    return (start, end)


def statement(
    conn: sa.Connection,
    period: Period | None = None,
    group_by: str | Sequence[str] = (),
    filters: Mapping[str, str | Iterable[str]] | None = None,
    settings: Settings | None = None,
) -> sa.Select[Any]:
    """The SQL statement :func:`compute` runs on ``conn`` (for ``EXPLAIN`` and benchmarks)."""
    bounds = _period(period)
    span = _span(conn, bounds)
    names, chosen = _group_by(group_by), settings or Settings()
    return _kpi_statement(conn.dialect.name, names, _filters(filters), bounds, chosen, span)


def _span(conn: sa.Connection, bounds: Period) -> tuple[datetime, datetime] | None:
    """On SQLite with a period: the first and last offer, to tell its planner how much of the
    table the period holds (PostgreSQL has statistics of its own)."""
    if conn.dialect.name != "sqlite" or bounds == (None, None):
        return None
    span = offer_span(conn)
    return None if span is None else (to_utc(span[0]), to_utc(span[1]))


def compute(
    source: Source,
    period: Period | None = None,
    group_by: str | Sequence[str] = (),
    filters: Mapping[str, str | Iterable[str]] | None = None,
    *,
    service_level: tuple[float, float] = (80.0, 20.0),
    short_abandon_seconds: float = 5.0,
    fcr_window_days: float = 7.0,
    resolved_dispositions: Sequence[str] = ("resolved",),
    utc_offset_minutes: int = 0,
) -> list[KpiRow]:
    """The KPIs of the interactions offered in ``period`` (``[start, end)``, aware or UTC datetimes;
    ``None`` or a ``None`` end: unbounded), one row per group of ``group_by`` (dimensions of
    :data:`~usd_desktop.data.kpi_sql.DIMENSIONS`; none: one row of totals), sorted by the key.

    ``filters`` keeps the interactions whose ``agent``, ``queue``, ``channel`` or ``direction`` is
    the value (or one of the values) given. ``service_level`` is (target %, threshold seconds);
    ``short_abandon_seconds``: abandons sooner than that after the offer count in neither the
    service level nor the abandonment rate. ``utc_offset_minutes`` places the hours, days, weeks
    and months of the grouping (a fixed offset east of UTC).

    **FCR**: a *contact* is an inbound interaction on any channel handled to its end (one
    transferred on is judged where the contact ends). A *first contact* is one the same customer
    (contact, else account) made no other contact in the ``fcr_window_days`` before. It is
    *resolved* when marked so (``first_contact_resolution``, or a disposition in
    ``resolved_dispositions``) and the customer makes no other contact, on any channel, in the
    ``fcr_window_days`` after it. A contact of no known customer is judged by its mark alone.
    Repeats are looked for outside the period and the filters too.
    """
    engine_or_conn: sa.Engine | sa.Connection = (
        source if isinstance(source, sa.Engine | sa.Connection) else source.engine
    )
    names = _group_by(group_by)
    settings = Settings(
        threshold_seconds=float(service_level[1]),
        short_abandon_seconds=float(short_abandon_seconds),
        fcr_window_days=float(fcr_window_days),
        resolved_dispositions=tuple(resolved_dispositions),
        utc_offset_minutes=int(utc_offset_minutes),
    )
    bounds, chosen = _period(period), _filters(filters)

    def run(conn: sa.Connection) -> list[sa.Row[Any]]:
        query = _kpi_statement(conn.dialect.name, names, chosen, bounds, settings, _span(conn, bounds))
        return list(conn.execute(query).all())

    if isinstance(engine_or_conn, sa.Connection):
        result = run(engine_or_conn)
    else:
        with engine_or_conn.connect() as conn:
            result = run(conn)
    offset = settings.utc_offset_minutes
    zone = timezone(timedelta(minutes=offset)) if offset else UTC
    rows = []
    for record in result:
        values = list(record)
        key: dict[str, Any] = {}
        for name, value in zip(names, values, strict=False):
            key[name] = _bucket_start(name, value, zone) if name in TIME_DIMENSIONS else value
        sums = {name: _number(value) for name, value in zip(MEASURES, values[len(names) :], strict=True)}
        rows.append(_row(key, sums, float(service_level[0])))
    rows.sort(key=lambda row: tuple((v is not None, v) for v in row.key.values()))
    return rows


def totals(source: Source, period: Period | None = None, **options: Any) -> KpiRow:
    """The KPIs of every interaction of ``period`` together (:func:`compute` with no grouping)."""
    return compute(source, period, (), **options)[0]


__all__ = ["DIMENSIONS", "KpiRow", "Settings", "compute", "statement", "totals"]
