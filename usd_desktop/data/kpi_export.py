"""A KPI table (the rows of :func:`usd_desktop.data.kpi.compute`) as CSV and as display text (Qt-free).

:data:`COLUMNS` is the one list of the KPI columns, their names and units, in the order of
``docs/kpis.md``; the CSV writer and the PDF report (:mod:`usd_desktop.reports`) both read it.

The CSV (:func:`write_csv`) has a header line, then one line per row:

* first the grouped dimensions, in the order of the grouping (``agent``, ``queue``, ``channel``,
  ``direction`` as recorded; a time bucket as the ISO 8601 time it starts, with its UTC offset);
* then every KPI column of :data:`COLUMNS`, always all of them in the same order. The header gives
  the name and the unit, ``AHT (s)``, ``Service level (%)``; counts have no unit.
* **Numbers are plain numbers** (a dot for the decimals, no thousands separator, no unit): seconds
  to the millisecond (``245.5``), percentages as percent (``83.333`` for 83.333 %, not 0.83333),
  to three decimals; counts are whole numbers; ``service_level_met`` is ``yes`` or ``no``.
* **A value that is ``None``** (nothing to divide by: no calls, no AHT) **is an empty cell**, never 0;
  so is a group whose dimension is not recorded (calls of no queue).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from usd_desktop.data.errors import DataError
from usd_desktop.data.kpi import KpiRow
from usd_desktop.data.kpi_sql import DIMENSIONS, TIME_DIMENSIONS


@dataclass(frozen=True)
class Column:
    """One KPI column: the :class:`KpiRow` field, its name and its unit (``s``, ``%`` or none)."""

    field: str
    name: str
    unit: str = ""

    @property
    def header(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


#: Every KPI column, in a fixed order: volumes, times, rates.
COLUMNS: tuple[Column, ...] = (
    Column("interactions", "Interactions"),
    Column("inbound", "Inbound"),
    Column("outbound", "Outbound"),
    Column("offered", "Offered"),
    Column("answered", "Answered"),
    Column("answered_in_threshold", "Answered in threshold"),
    Column("handled", "Handled"),
    Column("abandoned", "Abandoned"),
    Column("short_abandoned", "Short abandons"),
    Column("missed", "Missed"),
    Column("transferred", "Transferred"),
    Column("transfers", "Transfers"),
    Column("agents", "Agents"),
    Column("calls_per_agent", "Calls per agent"),
    Column("fcr_contacts", "FCR contacts"),
    Column("fcr_resolved", "FCR resolved"),
    Column("survey_answers", "Survey answers"),
    Column("aht", "AHT", "s"),
    Column("acw", "ACW", "s"),
    Column("avg_talk", "Average talk", "s"),
    Column("avg_hold", "Average hold", "s"),
    Column("asa", "ASA", "s"),
    Column("busy_seconds", "Busy", "s"),
    Column("available_seconds", "Available", "s"),
    Column("service_level", "Service level", "%"),
    Column("service_level_met", "Service level met"),
    Column("abandonment_rate", "Abandonment rate", "%"),
    Column("fcr", "FCR", "%"),
    Column("csat", "CSAT", "%"),
    Column("csat_scale", "CSAT scale", "%"),
    Column("csat_yes_no", "CSAT yes/no", "%"),
    Column("occupancy", "Occupancy", "%"),
    Column("transfer_rate", "Transfer rate", "%"),
)

COLUMNS_BY_FIELD = {column.field: column for column in COLUMNS}


def key_names(rows: Sequence[KpiRow], group_by: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The grouped dimensions: ``group_by`` when given, else the key of the first row."""
    if group_by is None:
        return tuple(rows[0].key) if rows else ()
    names = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise DataError(f"KPI grouping {', '.join(unknown)}: not one of {', '.join(DIMENSIONS)}")
    return names


def csv_value(value: Any) -> str:
    """A cell of the CSV: ``None`` empty, numbers plain (three decimals at most), times ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def csv_rows(rows: Iterable[KpiRow], names: Sequence[str]) -> Iterable[list[str]]:
    """The header line and the value lines of the CSV, as lists of cells."""
    yield [*names, *(column.header for column in COLUMNS)]
    for row in rows:
        keys = [csv_value(row.key.get(name)) for name in names]
        yield [*keys, *(csv_value(getattr(row, column.field)) for column in COLUMNS)]


def write_csv(
    rows: Sequence[KpiRow], target: TextIO | Path | str, *, group_by: str | Sequence[str] | None = None
) -> None:
    """Write ``rows`` as CSV (see the module docstring) to an open text file or a path (UTF-8)."""
    names = key_names(rows, group_by)
    if isinstance(target, Path | str):
        with Path(target).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(csv_rows(rows, names))
    else:
        csv.writer(target).writerows(csv_rows(rows, names))


def to_csv(rows: Sequence[KpiRow], *, group_by: str | Sequence[str] | None = None) -> str:
    """The CSV text of ``rows`` (lines end with CRLF, as the csv module writes them)."""
    buffer = io.StringIO(newline="")
    write_csv(rows, buffer, group_by=group_by)
    return buffer.getvalue()


# -- display text (the PDF report)


def display_key(name: str, value: Any) -> str:
    """A group as a reader sees it: ``2026-11-03 14:00`` for an hour, ``(none)`` for no value."""
    if value is None:
        return "(none)"
    if name in TIME_DIMENSIONS and isinstance(value, datetime):
        layout = {"hour": "%Y-%m-%d %H:%M", "month": "%Y-%m"}.get(name, "%Y-%m-%d")
        return value.strftime(layout)
    return str(value)


def display_value(column: Column, value: Any) -> str:
    """A KPI as a reader sees it: ``83.3 %``-style figures without the unit (it is in the header),
    one decimal for times and rates, counts whole, ``—`` for ``None``."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if column.field.endswith("_seconds") else f"{value:,.1f}"
    return str(value)


__all__ = [
    "COLUMNS",
    "COLUMNS_BY_FIELD",
    "Column",
    "csv_rows",
    "csv_value",
    "display_key",
    "display_value",
    "key_names",
    "to_csv",
    "write_csv",
]
