"""The printable KPI report: an A4 PDF with charts and a paginated table, and ``usd-admin kpi report``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication
from typer.testing import CliRunner

from usd_desktop import reports
from usd_desktop.admin_cli import app as admin
from usd_desktop.data import models_work as work
from usd_desktop.data.kpi import KpiRow
from usd_desktop.testing import make_data_services

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def open_pdf(path: Path) -> QPdfDocument:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_
    return document


def hourly(count: int) -> list[KpiRow]:
    return [
        KpiRow(key={"hour": T0 + timedelta(hours=index)}, offered=index % 9 + 1, handled=index % 9,
               aht=180.0 + index, service_level=None if index % 5 == 0 else 60.0 + index % 40)
        for index in range(count)
    ]


def test_a_long_table_runs_over_pages_with_metadata(qapp: QApplication, tmp_path: Path) -> None:
    target = tmp_path / "hours.pdf"
    pages = reports.write_pdf(target, hourly(200), period="2026-11-01..2026-11-09", group_by="hour",
                              totals=KpiRow(offered=1000, handled=900))
    document = open_pdf(target)
    try:
        assert pages > 1 and document.pageCount() == pages
        title = document.metaData(QPdfDocument.MetaDataField.Title)
        assert title == "KPI report: 2026-11-01..2026-11-09, by hour"
        assert str(document.metaData(QPdfDocument.MetaDataField.Creator)).startswith("usd_desktop")
        size = document.pagePointSize(0)  # A4: 595 x 842 points
        assert (round(size.width()), round(size.height())) == (595, 842)
        first, last = document.getAllText(0).text(), document.getAllText(pages - 1).text()
        assert "Handled contacts" in first and "Service level" in first
        assert "Hour" in last and "Total" in last and f"Page {pages} of {pages}" in last  # header repeated
        assert "2026-11-09 07:00" in last  # the 200th hour
    finally:
        document.close()


def test_a_short_table_is_one_page_and_no_rows_still_print(qapp: QApplication, tmp_path: Path) -> None:
    assert reports.write_pdf(tmp_path / "a.pdf", hourly(5), period="p", group_by="hour") == 1
    assert reports.write_pdf(tmp_path / "b.pdf", [], period="p", group_by="agent") == 1
    document = open_pdf(tmp_path / "b.pdf")
    try:
        assert document.pageCount() == 1 and "Agent" in document.getAllText(0).text()
    finally:
        document.close()


def test_an_unwritable_file_raises(qapp: QApplication, tmp_path: Path) -> None:
    with pytest.raises(OSError):
        reports.write_pdf(tmp_path / "missing" / "x.pdf", hourly(2), period="p", group_by="hour")


def call(day: int, hour: int, agent: str, answered: bool) -> dict[str, Any]:
    offered = T0 + timedelta(days=day, hours=hour)
    ended = offered + timedelta(seconds=200 if answered else 30)
    return {
        "id": str(uuid.uuid4()), "channel": "phone", "direction": "inbound", "queue": "general", "agent": agent,
        "offered_at": offered, "answered_at": offered + timedelta(seconds=15) if answered else None,
        "ended_at": ended, "wrap_up_ended_at": ended + timedelta(seconds=20) if answered else None,
        "hold_seconds": 0, "transfers": 0, "first_contact_resolution": answered,
        "end_cause": "normal" if answered else "abandoned",
    }


@pytest.fixture
def data_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    services = make_data_services(url)
    rows = [call(day, hour, f"agent{hour % 4}", (day + hour) % 6 != 0) for day in range(30) for hour in range(8, 18)]
    with services.repository.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.insert(work.Interaction.__table__), rows)
    services.close()
    return url


def report(url: str, output: Path, *args: str) -> Any:
    command = ["kpi", "report", "--period", "2026-11-01..2026-11-23", "--output", str(output), "--data", url]
    return CliRunner().invoke(admin, [*command, *args])


def test_cli_writes_a_pdf(qapp: QApplication, data_url: str, tmp_path: Path) -> None:
    result = report(data_url, tmp_path / "hours.pdf", "--group-by", "hour", "--format", "pdf")
    assert result.exit_code == 0, result.output
    document = open_pdf(tmp_path / "hours.pdf")
    try:
        pages = document.pageCount()
        assert pages > 1  # 23 days x 10 hours
        assert f"{pages} pages" in result.output and "230 rows by hour" in result.output
        assert "2026-11-23 17:00" in document.getAllText(pages - 1).text()  # the end date is included
    finally:
        document.close()


def test_cli_writes_a_csv_and_rejects_bad_input(data_url: str, tmp_path: Path) -> None:
    result = report(data_url, tmp_path / "agents.csv", "--group-by", "agent", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "agents.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("agent,Interactions,") and len(lines) == 5
    assert [line.split(",")[0] for line in lines[1:]] == ["agent0", "agent1", "agent2", "agent3"]
    bad = CliRunner().invoke(admin, ["kpi", "report", "--period", "2026-11-23..2026-11-01", "--group-by", "day",
                                     "--output", str(tmp_path / "x.csv"), "--data", data_url])
    assert bad.exit_code == 2 and "ends before it starts" in bad.output
    wrong = report(data_url, tmp_path / "x.csv", "--group-by", "day", "--service-level", "eighty")
    assert wrong.exit_code == 2 and "PERCENT/SECONDS" in wrong.output
