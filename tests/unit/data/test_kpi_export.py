"""The CSV of a KPI table: header with names and units, fixed column order, None as empty, plain numbers."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.data import kpi
from usd_desktop.data import models_work as work
from usd_desktop.data.errors import DataError
from usd_desktop.data.kpi_export import COLUMNS, csv_value, display_key, to_csv, write_csv
from usd_desktop.data.services import DataServices
from usd_desktop.testing import make_data_services

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def call(start: float, *, queue: str | None, wait: float | None = 10.0, talk: float = 60.0,
         acw: float = 30.0, ring: float = 40.0) -> dict[str, Any]:
    """An inbound call offered ``start`` s after T0, answered after ``wait`` s (None: abandoned)."""
    offered = T0 + timedelta(seconds=start)
    answered = None if wait is None else offered + timedelta(seconds=wait)
    ended = offered + timedelta(seconds=ring) if answered is None else answered + timedelta(seconds=talk)
    return {
        "id": str(uuid.uuid4()), "channel": "phone", "direction": "inbound", "queue": queue, "agent": "ann",
        "offered_at": offered, "answered_at": answered, "ended_at": ended,
        "wrap_up_ended_at": None if answered is None else ended + timedelta(seconds=acw),
        "hold_seconds": 0, "transfers": 0, "first_contact_resolution": False,
        "end_cause": "normal" if answered is not None else "abandoned",
    }


@pytest.fixture
def services(tmp_path: Path) -> Iterator[DataServices]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}")
    engine = services.repository.engine  # type: ignore[attr-defined]
    rows = [
        call(0, queue="billing"),
        call(100, queue="billing", wait=30.0, talk=90.0),
        call(200, queue="billing", wait=None),
        call(300, queue="sales", wait=5.0, talk=120.0, acw=0.0),
        call(400, queue=None, wait=None),  # no queue recorded: abandoned
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(work.Interaction.__table__), rows)
    yield services
    services.close()


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_names_units_and_fixed_order(services: DataServices) -> None:
    rows = kpi.compute(services.repository.engine, None, "queue")  # type: ignore[attr-defined]
    header = parse(to_csv(rows, group_by="queue"))[0]
    assert header[0] == "queue"
    assert header[1:] == [column.header for column in COLUMNS]
    assert "AHT (s)" in header and "Service level (%)" in header and "Handled" in header
    assert len(header) == len(set(header))


def test_values_are_plain_numbers_and_none_is_empty(services: DataServices) -> None:
    rows = kpi.compute(services.repository.engine, None, "queue")  # type: ignore[attr-defined]
    table = parse(to_csv(rows, group_by="queue"))
    header, lines = table[0], table[1:]
    by_queue = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert list(by_queue) == ["", "billing", "sales"]  # no queue first (as kpi sorts), then by name
    billing = by_queue["billing"]
    assert billing["Offered"] == "3" and billing["Handled"] == "2" and billing["Abandoned"] == "1"
    assert billing["AHT (s)"] == "105"  # (60 + 30 + 90 + 30) / 2
    assert billing["ASA (s)"] == "20"
    assert billing["Service level (%)"] == "33.333"  # 1 of 3 within 20 s: percent, 3 decimals
    assert billing["Abandonment rate (%)"] == "33.333"
    assert billing["Service level met"] == "no"
    assert billing["FCR (%)"] == "0"  # handled, not marked resolved
    assert billing["CSAT (%)"] == "" and billing["Occupancy (%)"] == ""  # nothing to divide by: empty
    sales = by_queue["sales"]
    assert sales["Service level (%)"] == "100" and sales["ACW (s)"] == "0"
    nothing = by_queue[""]
    assert nothing["Handled"] == "0" and nothing["AHT (s)"] == "" and nothing["Abandonment rate (%)"] == "100"


def test_time_buckets_are_iso_8601_and_a_path_is_written(services: DataServices, tmp_path: Path) -> None:
    engine = services.repository.engine  # type: ignore[attr-defined]
    rows = kpi.compute(engine, None, "day", utc_offset_minutes=120)
    target = tmp_path / "kpi.csv"
    write_csv(rows, target, group_by="day")
    table = parse(target.read_text(encoding="utf-8"))
    assert [line[0] for line in table[1:]] == ["2026-11-02T00:00:00+02:00"]
    assert table[1][table[0].index("Offered")] == "5"


def test_empty_table_has_its_header_and_bad_groupings_fail() -> None:
    assert parse(to_csv([], group_by=("agent", "hour")))[0][:3] == ["agent", "hour", "Interactions"]
    assert len(parse(to_csv([], group_by="agent"))) == 1
    with pytest.raises(DataError, match="nope"):
        to_csv([], group_by="nope")


def test_cells_and_display_keys() -> None:
    assert csv_value(None) == "" and csv_value(0.0) == "0" and csv_value(12.3456) == "12.346"
    assert csv_value(True) == "yes" and csv_value(7) == "7" and csv_value(-0.0001) == "0"
    hour = datetime(2026, 11, 2, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert display_key("hour", hour) == "2026-11-02 14:00"
    assert display_key("day", hour) == "2026-11-02" and display_key("month", hour) == "2026-11"
    assert display_key("queue", None) == "(none)"
