"""Staffing by Erlang C: how many agents a forecast of calls and handle time needs.

The queue is M/M/N: calls arrive at random (Poisson) at a steady rate through the interval, handle
times are exponential with mean AHT, N identical agents take calls first come, first served, and
nobody hangs up (no abandonment). For N agents and an offered load of A Erlangs
(calls per interval * AHT ÷ interval length), with rho = A ÷ N:

* the probability a call waits is Erlang C, P_w = B ÷ (1 - rho·(1 - B)), where B is Erlang B, computed
  by the recursion B(0) = 1, B(k) = A·B(k-1) ÷ (k + A·B(k-1)) (every term lies in [0, 1]: no
  factorial or power overflows, whatever N and A);
* the service level for an answer time T is SL(T) = 1 - P_w·e^(-(N - A)·T ÷ AHT);
* the average speed of answer is ASA = P_w·AHT ÷ (N - A), over every call (those answered at once
  count as zero);
* the occupancy is rho.

With N ≤ A the queue grows without end: P_w = 1, SL = 0, ASA = ∞, occupancy 100 %, and such a
staffing never meets a target. :func:`agents_needed` finds the smallest N that meets a
:class:`StaffingTarget` (a service level, an ASA, a maximum occupancy), then grosses it up for
shrinkage; :func:`plan_staffing` does it for every interval of a forecast. Bad input raises
:class:`ValueError` with a message that starts with the name of the field. Qt-free.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: Slack for floating-point comparisons against targets and for rounding up (so 14 ÷ 0.7 is 20).
EPS = 1e-9
#: The search gives up past this many agents (a forecast that needs more is a typing error).
MAX_AGENTS = 100_000

#: Why an interval needs the agents it does.
Constraint = Literal["no calls", "stability", "service level", "ASA", "occupancy"]
#: When two constraints ask for the same number of agents, the first of these is reported.
_PRECEDENCE: tuple[Constraint, ...] = ("service level", "ASA", "occupancy", "stability")

#: The columns of :meth:`StaffingPlan.to_csv` and the keys of :meth:`Requirement.as_dict`.
CSV_COLUMNS = (
    "interval",
    "calls",
    "aht_seconds",
    "traffic_erlangs",
    "agents",
    "scheduled_agents",
    "probability_of_waiting",
    "service_level",
    "asa_seconds",
    "occupancy",
    "limited_by",
)


# ---------------------------------------------------------------------------------- validation
def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field}: must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field}: must be a finite number, not {value!r}")
    return number


def _non_negative(field: str, value: object) -> float:
    number = _number(field, value)
    if number < 0:
        raise ValueError(f"{field}: must be zero or more, not {value!r}")
    return number


def _positive(field: str, value: object) -> float:
    number = _number(field, value)
    if number <= 0:
        raise ValueError(f"{field}: must be more than zero, not {value!r}")
    return number


def _agents(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"agents: must be a whole number, zero or more, not {value!r}")
    return value


def _handle_time(aht_seconds: object, busy: bool) -> float:
    """AHT ≥ 0, and > 0 when there is work (``busy``: calls or traffic)."""
    aht = _non_negative("aht_seconds", aht_seconds)
    if busy and aht == 0:
        raise ValueError("aht_seconds: must be more than zero when there are calls")
    return aht


# ----------------------------------------------------------------------------------- formulas
def traffic_intensity(calls: float, aht_seconds: float, interval_seconds: float) -> float:
    """The offered load in Erlangs: ``calls`` per interval * AHT ÷ the interval's length."""
    calls = _non_negative("calls", calls)
    interval = _positive("interval_seconds", interval_seconds)
    aht = _handle_time(aht_seconds, calls > 0)
    return calls * aht / interval


def erlang_b(agents: int, traffic: float) -> float:
    """Erlang B: the probability that a call finds all ``agents`` busy when there is no queue."""
    agents = _agents(agents)
    traffic = _non_negative("traffic", traffic)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def _erlang_c_from_b(agents: int, traffic: float, blocking: float) -> float:
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def erlang_c(agents: int, traffic: float) -> float:
    """Erlang C: the probability a call waits (P_w); 1 when ``traffic`` ≥ ``agents`` (unstable)."""
    agents = _agents(agents)
    traffic = _non_negative("traffic", traffic)
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return _erlang_c_from_b(agents, traffic, erlang_b(agents, traffic))


def service_level(agents: int, traffic: float, aht_seconds: float, answer_seconds: float) -> float:
    """The fraction of calls answered within ``answer_seconds``: 1 - P_w·e^(-(N - A)·T ÷ AHT)."""
    waits = erlang_c(agents, traffic)
    aht = _handle_time(aht_seconds, traffic > 0)
    answer = _non_negative("answer_seconds", answer_seconds)
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - waits * math.exp(-(agents - traffic) * answer / aht)


def average_speed_of_answer(agents: int, traffic: float, aht_seconds: float) -> float:
    """ASA in seconds, P_w·AHT ÷ (N - A), over all calls; ``math.inf`` when unstable."""
    waits = erlang_c(agents, traffic)
    aht = _handle_time(aht_seconds, traffic > 0)
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return waits * aht / (agents - traffic)


def occupancy(agents: int, traffic: float) -> float:
    """The fraction of logged-in time agents spend handling calls: A ÷ N, at most 1."""
    agents = _agents(agents)
    traffic = _non_negative("traffic", traffic)
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return traffic / agents


def scheduled_agents(agents: int, shrinkage: float) -> int:
    """``agents`` on the phones grossed up for ``shrinkage`` (a fraction in [0, 1)), rounded up:
    ⌈N ÷ (1 - shrinkage)⌉."""
    agents = _agents(agents)
    shrinkage = _fraction("shrinkage", shrinkage, zero_ok=True, one_ok=False)
    return math.ceil(agents / (1.0 - shrinkage) - EPS)


def _fraction(field: str, value: object, *, zero_ok: bool, one_ok: bool) -> float:
    number = _number(field, value)
    low = "[0" if zero_ok else "(0"
    high = "1]" if one_ok else "1)"
    if number < 0 or (number == 0 and not zero_ok) or number > 1 or (number == 1 and not one_ok):
        raise ValueError(f"{field}: must be a fraction in {low}, {high}, not {value!r}")
    return number


# ------------------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class ServiceLevelTarget:
    """X % of calls answered within Y seconds: ``fraction`` = X ÷ 100 in (0, 1), ``seconds`` = Y.

    100 % is refused: under Erlang C every call has some chance to wait, so no staffing reaches it.
    """

    fraction: float
    seconds: float

    def __post_init__(self) -> None:
        _fraction("service level", self.fraction, zero_ok=False, one_ok=False)
        _non_negative("service level seconds", self.seconds)

    @classmethod
    def parse(cls, text: str) -> ServiceLevelTarget:
        """``"80/20"`` (80 % within 20 s); ``"80%/20s"`` and spaces are accepted too."""
        match = re.fullmatch(r"\s*([0-9.]+)\s*%?\s*/\s*([0-9.]+)\s*s?\s*", text)
        if match is None:
            raise ValueError(f"service level: write it as PERCENT/SECONDS, e.g. 80/20, not {text!r}")
        try:
            percent, seconds = float(match[1]), float(match[2])
        except ValueError:
            raise ValueError(f"service level: not numbers: {text!r}") from None
        if not 0 < percent < 100:
            raise ValueError(f"service level: the percentage must be above 0 and below 100, not {text!r}")
        return cls(percent / 100.0, seconds)

    def __str__(self) -> str:
        return f"{self.fraction * 100:g}% in {self.seconds:g} s"


DEFAULT_SERVICE_LEVEL = ServiceLevelTarget(0.80, 20.0)
#: Plan no higher: above 85 % agents burn out (peers-cti-kpi.md §3).
DEFAULT_MAX_OCCUPANCY = 0.85


@dataclass(frozen=True)
class StaffingTarget:
    """What a staffing must achieve. Every target given must be met.

    * ``service_level``: X % within Y s, or ``None`` for none.
    * ``max_asa_seconds``: the ASA must be at most this, or ``None`` for no ASA target.
    * ``max_occupancy``: in (0, 1]; more agents than the other targets need when A ÷ N would exceed
      it. 1 means only that the queue must be stable (N > A).
    * ``shrinkage``: in [0, 1); the share of paid time agents are not on the phones (breaks,
      training, meetings, absence); the scheduled agents are N ÷ (1 - shrinkage), rounded up.
    """

    service_level: ServiceLevelTarget | None = DEFAULT_SERVICE_LEVEL
    max_asa_seconds: float | None = None
    max_occupancy: float = DEFAULT_MAX_OCCUPANCY
    shrinkage: float = 0.0

    def __post_init__(self) -> None:
        if self.service_level is not None and not isinstance(self.service_level, ServiceLevelTarget):
            raise ValueError(f"service level: must be a ServiceLevelTarget, not {self.service_level!r}")
        if self.max_asa_seconds is not None:
            _positive("max_asa_seconds", self.max_asa_seconds)
        _fraction("max_occupancy", self.max_occupancy, zero_ok=False, one_ok=True)
        _fraction("shrinkage", self.shrinkage, zero_ok=True, one_ok=False)

    def as_dict(self) -> dict[str, Any]:
        sl = self.service_level
        return {
            "service_level": None if sl is None else sl.fraction,
            "answer_seconds": None if sl is None else sl.seconds,
            "max_asa_seconds": self.max_asa_seconds,
            "max_occupancy": self.max_occupancy,
            "shrinkage": self.shrinkage,
        }


#: 80 % in 20 s, no ASA target, occupancy at most 85 %, no shrinkage.
DEFAULT_TARGET = StaffingTarget()


# ------------------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class QueueFigures:
    """The expected figures of ``agents`` on a queue of ``traffic`` Erlangs.

    ``service_level`` is for ``answer_seconds`` (both ``None`` when no answer time was asked for);
    ``asa_seconds`` is ``math.inf`` when the queue is unstable.
    """

    agents: int
    traffic: float
    aht_seconds: float
    probability_of_waiting: float
    service_level: float | None
    answer_seconds: float | None
    asa_seconds: float
    occupancy: float

    @property
    def stable(self) -> bool:
        """Whether the queue keeps up (N > A, or no traffic at all)."""
        return self.traffic == 0 or self.agents > self.traffic


def evaluate(
    agents: int, traffic: float, aht_seconds: float, answer_seconds: float | None = None
) -> QueueFigures:
    """The figures of ``agents`` on ``traffic`` Erlangs (service level only with ``answer_seconds``)."""
    return QueueFigures(
        agents=_agents(agents),
        traffic=_non_negative("traffic", traffic),
        aht_seconds=_handle_time(aht_seconds, traffic > 0),
        probability_of_waiting=erlang_c(agents, traffic),
        service_level=(
            None if answer_seconds is None else service_level(agents, traffic, aht_seconds, answer_seconds)
        ),
        answer_seconds=None if answer_seconds is None else float(answer_seconds),
        asa_seconds=average_speed_of_answer(agents, traffic, aht_seconds),
        occupancy=occupancy(agents, traffic),
    )


def shortfalls(figures: QueueFigures, target: StaffingTarget) -> list[str]:
    """Why ``figures`` miss ``target``, one sentence each; empty when every target is met.

    An unstable queue (N ≤ A with traffic) never meets a target, whatever the target asks.
    """
    if not figures.stable:
        return [f"unstable: {figures.traffic:.2f} Erlangs need more than {figures.agents} agents"]
    missed: list[str] = []
    sl = target.service_level
    if sl is not None:
        achieved = service_level(figures.agents, figures.traffic, figures.aht_seconds, sl.seconds)
        if achieved < sl.fraction - EPS:
            missed.append(f"service level {achieved:.1%} is below {sl}")
    if target.max_asa_seconds is not None and figures.asa_seconds > target.max_asa_seconds + EPS:
        missed.append(f"ASA {figures.asa_seconds:.1f} s is above {target.max_asa_seconds:g} s")
    if figures.occupancy > target.max_occupancy + EPS:
        missed.append(f"occupancy {figures.occupancy:.1%} is above {target.max_occupancy:.0%}")
    return missed


# ------------------------------------------------------------------------------------ staffing
@dataclass(frozen=True)
class Requirement:
    """The agents one interval needs: ``agents`` on the phones, ``scheduled`` after shrinkage,
    which constraint set the number, and the expected figures at ``agents``."""

    label: str
    calls: float
    aht_seconds: float
    interval_seconds: float
    agents: int
    scheduled: int
    limited_by: Constraint
    figures: QueueFigures

    @property
    def traffic(self) -> float:
        return self.figures.traffic

    def as_dict(self) -> dict[str, Any]:
        """A flat row with the keys of :data:`CSV_COLUMNS` (an infinite ASA is ``None``)."""
        f = self.figures
        return {
            "interval": self.label,
            "calls": self.calls,
            "aht_seconds": self.aht_seconds,
            "traffic_erlangs": f.traffic,
            "agents": self.agents,
            "scheduled_agents": self.scheduled,
            "probability_of_waiting": f.probability_of_waiting,
            "service_level": f.service_level,
            "asa_seconds": f.asa_seconds if math.isfinite(f.asa_seconds) else None,
            "occupancy": f.occupancy,
            "limited_by": self.limited_by,
        }


def _first_meeting(traffic: float, start: int, meets: Callable[[int, float], bool], field: str) -> int:
    """The smallest N ≥ ``start`` (> traffic) for which ``meets(N, P_w)``; Erlang B steps by one
    agent at a time, so the search costs one recursion step per agent tried."""
    agents = start
    blocking = erlang_b(agents, traffic)
    while not meets(agents, _erlang_c_from_b(agents, traffic, blocking)):
        if agents >= MAX_AGENTS:
            raise ValueError(
                f"{field}: not reached with {MAX_AGENTS:,} agents on {traffic:.2f} Erlangs"
            )
        agents += 1
        blocking = traffic * blocking / (agents + traffic * blocking)
    return agents


def agents_needed(
    calls: float,
    aht_seconds: float,
    interval_seconds: float,
    target: StaffingTarget = DEFAULT_TARGET,
    *,
    label: str = "",
) -> Requirement:
    """The smallest number of agents meeting every part of ``target`` for ``calls`` per interval
    of ``interval_seconds`` with an average handle time of ``aht_seconds``, and the scheduled agents
    after shrinkage. No calls need no agents."""
    if not isinstance(target, StaffingTarget):
        raise ValueError(f"target: must be a StaffingTarget, not {target!r}")
    traffic = traffic_intensity(calls, aht_seconds, interval_seconds)
    calls, aht, interval = float(calls), float(aht_seconds), float(interval_seconds)
    sl = target.service_level
    answer = None if sl is None else sl.seconds
    if traffic == 0:
        return Requirement(label, calls, aht, interval, 0, 0, "no calls", evaluate(0, 0.0, aht, answer))
    if traffic >= MAX_AGENTS:
        raise ValueError(f"calls: {traffic:,.0f} Erlangs need more than {MAX_AGENTS:,} agents")
    stable = math.floor(traffic) + 1
    needs: dict[Constraint, int] = {
        "stability": stable,
        "occupancy": max(1, math.ceil(traffic / target.max_occupancy - EPS)),
    }
    if sl is not None:

        def meets_sl(n: int, waits: float) -> bool:
            return 1.0 - waits * math.exp(-(n - traffic) * sl.seconds / aht) >= sl.fraction - EPS

        needs["service level"] = _first_meeting(traffic, stable, meets_sl, "service level")
    max_asa = target.max_asa_seconds
    if max_asa is not None:

        def meets_asa(n: int, waits: float) -> bool:
            return waits * aht / (n - traffic) <= max_asa + EPS

        needs["ASA"] = _first_meeting(traffic, stable, meets_asa, "max_asa_seconds")
    agents = max(needs.values())
    limited_by = next(c for c in _PRECEDENCE if needs.get(c) == agents)
    return Requirement(
        label,
        calls,
        aht,
        interval,
        agents,
        scheduled_agents(agents, target.shrinkage),
        limited_by,
        evaluate(agents, traffic, aht, answer),
    )


# ------------------------------------------------------------------------------------ forecast
@dataclass(frozen=True)
class ForecastInterval:
    """One interval of a forecast: its label (e.g. ``"08:30"``), calls offered and the AHT."""

    label: str
    calls: float
    aht_seconds: float


@dataclass(frozen=True)
class StaffingPlan:
    """The requirement of every interval of a forecast, in order, and totals over them."""

    interval_seconds: float
    target: StaffingTarget
    rows: tuple[Requirement, ...]

    @property
    def total_calls(self) -> float:
        return sum(row.calls for row in self.rows)

    @property
    def peak(self) -> Requirement:
        """The (first) interval needing the most agents (and so the most scheduled agents)."""
        return max(self.rows, key=lambda row: row.agents)

    @property
    def agent_hours(self) -> float:
        """Agent-hours on the phones over the forecast."""
        return sum(row.agents for row in self.rows) * self.interval_seconds / 3600.0

    @property
    def scheduled_hours(self) -> float:
        """Paid agent-hours over the forecast (after shrinkage)."""
        return sum(row.scheduled for row in self.rows) * self.interval_seconds / 3600.0

    def _call_weighted(self, value: Callable[[Requirement], float | None]) -> float | None:
        total = self.total_calls
        pairs = [(row.calls, value(row)) for row in self.rows]
        if total == 0 or any(v is None for _, v in pairs):
            return None
        return sum(calls * v for calls, v in pairs if v is not None) / total

    @property
    def service_level(self) -> float | None:
        """The expected service level over the whole forecast (intervals weighted by calls)."""
        return self._call_weighted(lambda row: row.figures.service_level)

    @property
    def asa_seconds(self) -> float | None:
        """The expected ASA over the whole forecast (intervals weighted by calls)."""
        return self._call_weighted(lambda row: row.figures.asa_seconds)

    def as_dict(self) -> dict[str, Any]:
        peak = self.peak
        return {
            "interval_seconds": self.interval_seconds,
            "target": self.target.as_dict(),
            "intervals": [row.as_dict() for row in self.rows],
            "totals": {
                "calls": self.total_calls,
                "peak_interval": peak.label,
                "peak_agents": peak.agents,
                "peak_scheduled_agents": peak.scheduled,
                "agent_hours": self.agent_hours,
                "scheduled_hours": self.scheduled_hours,
                "service_level": self.service_level,
                "asa_seconds": self.asa_seconds,
            },
        }

    def to_csv(self) -> str:
        """One line per interval under a :data:`CSV_COLUMNS` header (an infinite ASA is empty)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows:
            values = row.as_dict()
            writer.writerow([_csv_value(values[column]) for column in CSV_COLUMNS])
        return out.getvalue()


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def plan_staffing(
    forecast: Iterable[ForecastInterval],
    interval_seconds: float,
    target: StaffingTarget = DEFAULT_TARGET,
) -> StaffingPlan:
    """The requirement of every interval of ``forecast`` (each ``interval_seconds`` long)."""
    rows: list[Requirement] = []
    for number, interval in enumerate(forecast, start=1):
        try:
            rows.append(
                agents_needed(interval.calls, interval.aht_seconds, interval_seconds, target,
                              label=interval.label)
            )
        except ValueError as exc:
            if str(exc).startswith(("interval_seconds", "target")):
                raise
            raise ValueError(f"interval {interval.label or number}: {exc}") from None
    if not rows:
        raise ValueError("forecast: has no intervals")
    return StaffingPlan(float(interval_seconds), target, tuple(rows))


def read_forecast(text: str, *, default_aht: float | None = None) -> list[ForecastInterval]:
    """A forecast from CSV text with a header naming the columns ``interval``, ``calls`` and
    ``aht`` (or ``aht_seconds``), in any order; other columns are ignored, as are blank lines.
    An empty AHT cell (or no AHT column) takes ``default_aht``; with no calls it may stay empty.
    Errors name the line and the column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
    aht_column = header.get("aht", header.get("aht_seconds"))
    missing = [name for name in ("interval", "calls") if name not in header]
    if aht_column is None and default_aht is None:
        missing.append("aht")
    if missing:
        raise ValueError(
            f"forecast: the header must name the columns interval, calls and aht; missing: "
            f"{', '.join(missing)}"
        )
    intervals: list[ForecastInterval] = []
    for row in reader:
        if not any((cell or "").strip() for cell in row.values() if isinstance(cell, str)):
            continue
        line = reader.line_num
        label = (row.get(header["interval"]) or "").strip()
        calls = _cell(row, header["calls"], line, "calls")
        aht_text = (row.get(aht_column) or "").strip() if aht_column else ""
        if aht_text:
            aht = _cell(row, aht_column, line, "aht")
        elif default_aht is not None:
            aht = default_aht
        elif calls == 0:
            aht = 0.0  # no calls: no handle time to know
        else:
            raise ValueError(f"line {line}: aht: empty (and no default AHT given)")
        intervals.append(ForecastInterval(label or str(len(intervals) + 1), calls, aht))
    if not intervals:
        raise ValueError("forecast: has no intervals")
    return intervals


def _cell(row: Mapping[str, str | None], column: str | None, line: int, field: str) -> float:
    text = (row.get(column) or "").strip() if column else ""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"line {line}: {field}: not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"line {line}: {field}: must be a finite number, zero or more, not {text!r}")
    return value
