"""``usd-admin staffing``: agents needed by Erlang C (see :mod:`usd_desktop.data.staffing`).

* ``usd-admin staffing --calls N --aht SECONDS [--interval-minutes 30] [--service-level 80/20]
  [--asa SECONDS] [--shrinkage PERCENT] [--max-occupancy PERCENT] [--json | --csv]`` prints the
  agents one interval needs, the scheduled agents after shrinkage and the expected figures.
* ``... --agents N`` prints the figures of N agents instead, and whether they meet the target.
* ``usd-admin staffing --forecast FILE.csv ...`` (columns interval, calls, aht) prints a table of the
  requirement of every interval and the totals; ``--aht`` fills empty AHT cells.

Exit codes as for the other ``usd-admin`` commands: 0 done; 2 bad input (the message names the option,
field or line).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from usd_desktop.data.staffing import (
    DEFAULT_MAX_OCCUPANCY,
    DEFAULT_SERVICE_LEVEL,
    QueueFigures,
    Requirement,
    ServiceLevelTarget,
    StaffingPlan,
    StaffingTarget,
    agents_needed,
    evaluate,
    plan_staffing,
    read_forecast,
    scheduled_agents,
    shortfalls,
    traffic_intensity,
)

STAFFING_HELP = (
    "Agents needed by Erlang C (random arrivals, exponential handle times, first come first served, "
    "no abandonment): the smallest number meeting the service level (and the ASA, if given) with the "
    "occupancy at most --max-occupancy, then grossed up for shrinkage.\n\n"
    "One interval: --calls and --aht (add --agents N for the figures of N agents instead). A forecast: "
    "--forecast FILE.csv with the columns interval, calls and aht (seconds); --aht fills empty AHT cells.\n\n"
    "Exit status: 0 done, 2 bad input."
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if math.isfinite(value) else "∞ (unstable)"


def _target(service_level: str, asa: float | None, shrinkage: float, max_occupancy: float) -> StaffingTarget:
    sl = None if service_level.strip().lower() == "none" else ServiceLevelTarget.parse(service_level)
    return StaffingTarget(
        service_level=sl,
        max_asa_seconds=asa,
        max_occupancy=max_occupancy / 100.0,
        shrinkage=shrinkage / 100.0,
    )


def _describe_target(target: StaffingTarget) -> str:
    parts = []
    if target.service_level is not None:
        parts.append(f"service level {target.service_level}")
    if target.max_asa_seconds is not None:
        parts.append(f"ASA at most {target.max_asa_seconds:g} s")
    parts.append(f"occupancy at most {target.max_occupancy:.0%}")
    return ", ".join(parts)


def _figure_lines(figures: QueueFigures) -> list[str]:
    lines = [f"P(wait)           {_percent(figures.probability_of_waiting)}"]
    if figures.service_level is not None and figures.answer_seconds is not None:
        within = f"answered within {figures.answer_seconds:g} s"
        lines.append(f"service level     {_percent(figures.service_level)} {within}")
    lines.append(f"ASA               {_seconds(figures.asa_seconds)}")
    lines.append(f"occupancy         {_percent(figures.occupancy)}")
    return lines


def _traffic_line(calls: float, aht: float, interval_seconds: float, traffic: float) -> str:
    return (
        f"traffic           {traffic:.2f} Erlangs ({calls:g} calls in "
        f"{interval_seconds / 60:g} min at {aht:g} s AHT)"
    )


def _print_requirement(req: Requirement, target: StaffingTarget) -> None:
    typer.echo(_traffic_line(req.calls, req.aht_seconds, req.interval_seconds, req.traffic))
    typer.echo(f"target            {_describe_target(target)}")
    typer.echo(f"agents needed     {req.agents} (limited by {req.limited_by})")
    typer.echo(
        f"scheduled agents  {req.scheduled} ({req.agents} ÷ (1 - {target.shrinkage:.0%} shrinkage), "
        "rounded up)"
    )
    for line in _figure_lines(req.figures):
        typer.echo(line)


def _print_plan(plan: StaffingPlan) -> None:
    typer.echo(f"target: {_describe_target(plan.target)}; shrinkage {plan.target.shrinkage:.0%}; "
               f"intervals of {plan.interval_seconds / 60:g} min")
    header = (f"{'interval':<10}{'calls':>8}{'AHT s':>7}{'Erlangs':>9}{'agents':>8}{'sched.':>8}"
              f"{'P(wait)':>9}{'SL':>8}{'ASA s':>8}{'occ.':>8}  limited by")
    typer.echo(header)
    for row in plan.rows:
        f = row.figures
        sl = "-" if f.service_level is None else _percent(f.service_level)
        typer.echo(
            f"{row.label:<10}{row.calls:>8g}{row.aht_seconds:>7g}{f.traffic:>9.2f}{row.agents:>8}"
            f"{row.scheduled:>8}{_percent(f.probability_of_waiting):>9}{sl:>8}{f.asa_seconds:>8.1f}"
            f"{_percent(f.occupancy):>8}  {row.limited_by}"
        )
    peak = plan.peak
    typer.echo(
        f"peak: {peak.agents} agents ({peak.scheduled} scheduled) at {peak.label}; "
        f"{plan.agent_hours:.1f} agent-hours on the phones, {plan.scheduled_hours:.1f} scheduled"
    )
    if plan.service_level is not None:
        typer.echo(f"over the forecast ({plan.total_calls:g} calls): service level "
                   f"{_percent(plan.service_level)}, ASA {_seconds(plan.asa_seconds or 0.0)}")
    elif plan.asa_seconds is not None:
        typer.echo(f"over the forecast ({plan.total_calls:g} calls): ASA {_seconds(plan.asa_seconds)}")


def _figures_dict(figures: QueueFigures) -> dict[str, Any]:
    return {
        "agents": figures.agents,
        "traffic_erlangs": figures.traffic,
        "probability_of_waiting": figures.probability_of_waiting,
        "service_level": figures.service_level,
        "answer_seconds": figures.answer_seconds,
        "asa_seconds": figures.asa_seconds if math.isfinite(figures.asa_seconds) else None,
        "occupancy": figures.occupancy,
        "stable": figures.stable,
    }


def _single(
    calls: float, aht: float | None, interval_seconds: float, target: StaffingTarget, agents: int | None,
    output: str,
) -> None:
    if aht is None:
        _fail("--aht is needed with --calls")
    if agents is not None:
        _evaluate(calls, aht, interval_seconds, target, agents, output)
        return
    req = agents_needed(calls, aht, interval_seconds, target)
    if output == "json":
        typer.echo(json.dumps({"target": target.as_dict(), "interval_seconds": interval_seconds,
                               **req.as_dict()}, indent=2))
    elif output == "csv":
        typer.echo(StaffingPlan(interval_seconds, target, (req,)).to_csv(), nl=False)
    else:
        _print_requirement(req, target)


def _evaluate(
    calls: float, aht: float, interval_seconds: float, target: StaffingTarget, agents: int, output: str
) -> None:
    traffic = traffic_intensity(calls, aht, interval_seconds)
    sl = target.service_level
    figures = evaluate(agents, traffic, aht, None if sl is None else sl.seconds)
    missed = shortfalls(figures, target)
    scheduled = scheduled_agents(agents, target.shrinkage)
    if output == "json":
        typer.echo(json.dumps({"target": target.as_dict(), "interval_seconds": interval_seconds,
                               "calls": calls, "aht_seconds": aht, **_figures_dict(figures),
                               "scheduled_agents": scheduled, "meets_target": not missed,
                               "shortfalls": missed}, indent=2))
        return
    if output == "csv":
        _fail("--csv goes with a requirement, not with --agents")
    typer.echo(_traffic_line(calls, aht, interval_seconds, traffic))
    typer.echo(f"target            {_describe_target(target)}")
    typer.echo(f"agents            {agents} ({scheduled} scheduled with {target.shrinkage:.0%} shrinkage)")
    for line in _figure_lines(figures):
        typer.echo(line)
    typer.echo("meets the target  " + ("yes" if not missed else "no: " + "; ".join(missed)))


def _forecast(
    path: Path, aht: float | None, interval_seconds: float, target: StaffingTarget, output: str
) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{path}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text")
    try:
        plan = plan_staffing(read_forecast(text, default_aht=aht), interval_seconds, target)
    except ValueError as exc:
        _fail(f"{path}: {exc}")
    if output == "json":
        typer.echo(json.dumps(plan.as_dict(), indent=2))
    elif output == "csv":
        typer.echo(plan.to_csv(), nl=False)
    else:
        _print_plan(plan)


def register(app: typer.Typer) -> None:
    """Add ``staffing`` to ``usd-admin``."""

    @app.command("staffing", help=STAFFING_HELP)
    def staffing(
        calls: Annotated[
            float | None, typer.Option("--calls", min=0, help="Calls offered in the interval.")
        ] = None,
        forecast: Annotated[
            Path | None,
            typer.Option("--forecast", metavar="FILE.csv",
                         help="A forecast: CSV with the columns interval, calls and aht (seconds)."),
        ] = None,
        aht: Annotated[
            float | None,
            typer.Option("--aht", metavar="SECONDS", min=0,
                         help="Average handle time (talk + hold + after-call work) in seconds."),
        ] = None,
        interval_minutes: Annotated[
            float, typer.Option("--interval-minutes", min=0, help="Length of an interval.")
        ] = 30.0,
        service_level: Annotated[
            str,
            typer.Option("--service-level", metavar="PERCENT/SECONDS",
                         help="Target: PERCENT of calls answered within SECONDS, or 'none'."),
        ] = f"{DEFAULT_SERVICE_LEVEL.fraction * 100:g}/{DEFAULT_SERVICE_LEVEL.seconds:g}",
        asa: Annotated[
            float | None,
            typer.Option("--asa", metavar="SECONDS", min=0,
                         help="Target: average speed of answer at most SECONDS."),
        ] = None,
        shrinkage: Annotated[
            float,
            typer.Option("--shrinkage", metavar="PERCENT", min=0, max=100,
                         help="Share of paid time not on the phones (breaks, training, absence)."),
        ] = 0.0,
        max_occupancy: Annotated[
            float,
            typer.Option("--max-occupancy", metavar="PERCENT", min=0, max=100,
                         help="Add agents until occupancy is at most this (100: only keep the queue "
                         "stable)."),
        ] = DEFAULT_MAX_OCCUPANCY * 100,
        agents: Annotated[
            int | None,
            typer.Option("--agents", min=0,
                         help="Print the figures of this many agents instead (with --calls)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one line per interval).")] = False,
    ) -> None:
        if (calls is None) == (forecast is None):
            _fail("give --calls (one interval) or --forecast FILE.csv (not both)")
        if as_json and as_csv:
            _fail("give --json or --csv, not both")
        if agents is not None and forecast is not None:
            _fail("--agents goes with --calls, not with --forecast")
        for option, value, bad in (
            ("--interval-minutes", interval_minutes, interval_minutes <= 0),
            ("--asa", asa, asa is not None and asa <= 0),
            ("--shrinkage", shrinkage, shrinkage >= 100),
            ("--max-occupancy", max_occupancy, max_occupancy <= 0),
        ):
            if bad:
                _fail(f"{option}: {value:g} is out of range (see --help)")
        output = "json" if as_json else "csv" if as_csv else "text"
        interval_seconds = interval_minutes * 60.0
        try:
            target = _target(service_level, asa, shrinkage, max_occupancy)
            if forecast is not None:
                _forecast(forecast, aht, interval_seconds, target, output)
            else:
                assert calls is not None
                _single(calls, aht, interval_seconds, target, agents, output)
        except ValueError as exc:
            _fail(str(exc))
