"""``usd-admin kpi report``: a KPI table as CSV or as a printable PDF (see ``docs/kpis.md``).

* ``usd-admin kpi report --period 2026-11-01..2026-11-23 --group-by agent|queue|channel|direction|
  hour|day|week|month --format csv|pdf --output FILE [--data URL] [--utc-offset-minutes N]
  [--service-level 80/20]`` computes the KPIs (:func:`usd_desktop.data.kpi.compute`) of the contacts
  offered in the period, one row per group, and writes them: every KPI as CSV
  (:mod:`usd_desktop.data.kpi_export`), or an A4 PDF with charts and the totals
  (:mod:`usd_desktop.reports`; Qt is imported for that format only).

The period is ``START..END``: dates (``END`` included: ``2026-11-01..2026-11-23`` is 23 days) or
ISO 8601 times (``END`` excluded), in the zone of ``--utc-offset-minutes`` when they carry no offset;
either side may be empty (unbounded).

Exit codes as for the other ``usd-admin`` commands: 0 done; 1 the KPIs could not be computed or the
file written; 2 bad input; 3 the database is unreachable.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer

from usd_desktop.admin_data import check_url, open_data
from usd_desktop.config.store.location import redact
from usd_desktop.data import kpi
from usd_desktop.data.errors import DataError
from usd_desktop.data.kpi_export import write_csv
from usd_desktop.data.location import ENV_VAR, resolve_data_url

KPI_HELP = "Contact-centre KPIs from the interaction records (definitions: docs/kpis.md)."
REPORT_HELP = (
    "Write the KPIs of a period, one row per group, as CSV (every KPI; seconds and percentages as plain "
    "numbers, empty when there is nothing to divide by) or as an A4 PDF (charts of the handled contacts "
    "and the service level, the main KPIs in a table, the totals).\n\n"
    "--period START..END: dates (END included) or ISO 8601 times (END excluded); a side may be empty.\n\n"
    f"The data database is --data, else ${ENV_VAR}, else the embedded SQLite file.\n\n"
    "Exit status: 0 done, 1 the KPIs could not be computed or written, 2 bad input, "
    "3 the database is unreachable."
)


class GroupBy(enum.StrEnum):
    """What a row of the report is (one of :data:`usd_desktop.data.kpi.DIMENSIONS`)."""

    agent = "agent"
    queue = "queue"
    channel = "channel"
    direction = "direction"
    hour = "hour"
    day = "day"
    week = "week"
    month = "month"


class Format(enum.StrEnum):
    csv = "csv"
    pdf = "pdf"


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _bound(text: str, zone: timezone, *, end: bool) -> datetime | None:
    """One side of a period: a date (an end date: the next midnight) or an ISO 8601 time."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1 if end else 0), time(), zone)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def parse_period(text: str, utc_offset_minutes: int = 0) -> tuple[datetime | None, datetime | None]:
    """``START..END`` as ``[start, end)`` (see the module docstring); :class:`ValueError` if wrong."""
    start, sep, end = text.partition("..")
    if not sep:
        raise ValueError(f"{text!r}: write START..END, e.g. 2026-11-01..2026-11-23")
    zone = timezone(timedelta(minutes=utc_offset_minutes))
    bounds = (_bound(start, zone, end=False), _bound(end, zone, end=True))
    if bounds[0] is not None and bounds[1] is not None and bounds[1] <= bounds[0]:
        raise ValueError(f"{text!r}: the period ends before it starts")
    return bounds


def _service_level(text: str) -> tuple[float, float]:
    percent, sep, seconds = text.partition("/")
    try:
        target = (float(percent), float(seconds))
    except ValueError:
        target = (-1.0, -1.0)
    if not sep or not 0 <= target[0] <= 100 or target[1] < 0:
        _fail(2, f"--service-level {text!r}: write PERCENT/SECONDS, e.g. 80/20")
    return target


def register(app: typer.Typer) -> None:
    """Add the ``kpi`` command group to ``usd-admin``."""
    kpi_app = typer.Typer(help=KPI_HELP, no_args_is_help=True)
    app.add_typer(kpi_app, name="kpi")

    @kpi_app.command("report", help=REPORT_HELP)
    def report(
        period: Annotated[
            str,
            typer.Option("--period", metavar="START..END", help="e.g. 2026-11-01..2026-11-23"),
        ],
        group_by: Annotated[GroupBy, typer.Option("--group-by", help="One row per group.")],
        output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write.")],
        format_: Annotated[
            Format, typer.Option("--format", help="csv: every KPI; pdf: printable, with charts.")
        ] = Format.csv,
        data: Annotated[
            str | None,
            typer.Option("--data",
                         help=f"Data database URL (default: ${ENV_VAR}, else the embedded SQLite file)."),
        ] = None,
        utc_offset_minutes: Annotated[
            int,
            typer.Option("--utc-offset-minutes", help="Where days and hours are cut (minutes east of UTC)."),
        ] = 0,
        service_level: Annotated[
            str, typer.Option("--service-level", metavar="PERCENT/SECONDS", help="The service-level target.")
        ] = "80/20",
    ) -> None:
        try:
            bounds = parse_period(period, utc_offset_minutes)
        except ValueError as exc:
            _fail(2, f"--period {exc}")
        target = _service_level(service_level)
        if not output.parent.is_dir():
            _fail(2, f"--output {output}: no such directory {output.parent}")
        url = resolve_data_url(data)
        check_url(url)
        with open_data(url) as repo:
            try:
                rows = kpi.compute(repo, bounds, group_by.value, service_level=target,
                                   utc_offset_minutes=utc_offset_minutes)
                totals = None
                if format_ is Format.pdf:
                    totals = kpi.totals(repo, bounds, service_level=target,
                                        utc_offset_minutes=utc_offset_minutes)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                _fail(3, f"the data database at {redact(url)} failed: {str(exc.orig or exc).strip()}")
            except (sa.exc.SQLAlchemyError, DataError) as exc:
                _fail(1, f"the KPIs could not be computed: {str(exc).splitlines()[0]}")
        try:
            if format_ is Format.csv:
                write_csv(rows, output, group_by=group_by.value)
                pages = ""
            else:
                from usd_desktop import reports  # Qt: for this format only

                reports.ensure_gui_application()
                count = reports.write_pdf(
                    output, rows, period=period, group_by=group_by.value, totals=totals,
                    service_level_target=target[0],
                )
                pages = f", {count} page{'s' if count != 1 else ''}"
        except OSError as exc:
            _fail(1, f"{output}: {exc.strerror or exc}")
        plural = "s" if len(rows) != 1 else ""
        typer.echo(f"wrote {output} ({len(rows):,} row{plural} by {group_by.value}{pages})")
