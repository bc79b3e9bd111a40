"""usd-admin staffing: one interval (text, JSON, CSV, --agents), a forecast file, and bad input
(exit 2 with a message naming the option, field or line)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from usd_desktop import admin_cli

runner = CliRunner()

# peers-cti-kpi.md §3's worked example
EXAMPLE = ["--calls", "100", "--interval-minutes", "30", "--aht", "240", "--service-level", "80/20",
           "--shrinkage", "30", "--max-occupancy", "85"]
FORECAST = "interval,calls,aht\n08:00,20,240\n08:30,60,250\n09:00,100,240\n09:30,0,\n10:00,130,200\n"


def run(*args: str) -> Any:
    return runner.invoke(admin_cli.app, ["staffing", *args])


@pytest.fixture
def forecast(tmp_path: Path) -> Path:
    path = tmp_path / "forecast.csv"
    path.write_text(FORECAST, encoding="utf-8")
    return path


def test_the_command_is_listed() -> None:
    result = runner.invoke(admin_cli.app, ["--help"])
    assert result.exit_code == 0 and "staffing" in result.stdout


def test_the_worked_example_prints_agents_and_figures() -> None:
    result = run(*EXAMPLE)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "traffic           13.33 Erlangs (100 calls in 30 min at 240 s AHT)",
        "target            service level 80% in 20 s, occupancy at most 85%",
        "agents needed     17 (limited by service level)",
        "scheduled agents  25 (17 ÷ (1 - 30% shrinkage), rounded up)",
        "P(wait)           25.7%",
        "service level     81.0% answered within 20 s",
        "ASA               16.8 s",
        "occupancy         78.4%",
    ]
    assert result.stderr == ""


def test_json_and_csv() -> None:
    result = run(*EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["agents"], data["scheduled_agents"], data["limited_by"]) == (17, 25, "service level")
    assert round(data["service_level"], 2) == 0.81 and round(data["asa_seconds"]) == 17
    assert data["target"]["shrinkage"] == 0.3 and data["interval_seconds"] == 1800
    result = run(*EXAMPLE, "--csv")
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert (row["agents"], row["scheduled_agents"], row["occupancy"]) == ("17", "25", "0.784314")


def test_the_defaults_are_80_20_and_85_percent() -> None:
    result = run("--calls", "100", "--aht", "240")
    assert result.exit_code == 0, result.output
    assert "target            service level 80% in 20 s, occupancy at most 85%" in result.stdout
    assert "agents needed     17 (limited by service level)" in result.stdout
    assert "scheduled agents  17 (17 ÷ (1 - 0% shrinkage), rounded up)" in result.stdout


def test_an_asa_target_and_no_service_level() -> None:
    # 15 calls * 240 s / 1800 s = 2 Erlangs: ASA 106.7 s with 3 agents, 20.9 s with 4
    result = run("--calls", "15", "--aht", "240", "--service-level", "none", "--asa", "30")
    assert result.exit_code == 0, result.output
    assert "agents needed     4 (limited by ASA)" in result.stdout
    assert "service level" not in result.stdout.replace("target            ", "")
    assert "ASA               20.9 s" in result.stdout


def test_agents_prints_the_figures_of_a_given_staffing() -> None:
    # SWPP's example (peers-cti-kpi.md §3): 23 agents on 20 Erlangs give 74.8 % in 30 s
    args = ["--calls", "400", "--interval-minutes", "60", "--aht", "180", "--service-level", "80/30"]
    result = run(*args, "--agents", "23")
    assert result.exit_code == 0, result.output
    assert "service level     74.8% answered within 30 s" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "meets the target  no: service level 74.8% is below 80% in 30 s; occupancy 87.0% is above 85%")
    result = run(*args, "--agents", "24", "--max-occupancy", "90")
    assert result.stdout.splitlines()[-1] == "meets the target  yes"
    result = run(*args, "--agents", "20", "--json")
    data = json.loads(result.stdout)
    assert (data["stable"], data["meets_target"], data["asa_seconds"], data["service_level"]) == (False, False, None, 0)
    assert data["shortfalls"] == ["unstable: 20.00 Erlangs need more than 20 agents"]
    result = run(*args, "--agents", "20")
    assert "ASA               ∞ (unstable)" in result.stdout


def test_a_forecast_prints_a_table(forecast: Path) -> None:
    result = run("--forecast", str(forecast), "--shrinkage", "30")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "target: service level 80% in 20 s, occupancy at most 85%; shrinkage 30%; intervals of 30 min"
    assert lines[1].split() == ["interval", "calls", "AHT", "s", "Erlangs", "agents", "sched.", "P(wait)", "SL",
                                "ASA", "s", "occ.", "limited", "by"]
    table = {line.split()[0]: line.split() for line in lines[2:7]}
    assert table["09:00"][:6] == ["09:00", "100", "240", "13.33", "17", "25"]
    assert table["09:30"][4:6] == ["0", "0"] and lines[5].endswith("no calls")
    assert lines[7] == "peak: 18 agents (26 scheduled) at 10:00; 26.0 agent-hours on the phones, 38.5 scheduled"
    assert lines[8].startswith("over the forecast (310 calls): service level 82.1%, ASA ")


def test_a_forecast_as_csv_and_json(forecast: Path) -> None:
    result = run("--forecast", str(forecast), "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["agents"] for row in rows] == ["5", "12", "17", "0", "18"]
    result = run("--forecast", str(forecast), "--json", "--interval-minutes", "15")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["interval_seconds"] == 900
    assert data["totals"]["peak_interval"] == "10:00" and data["totals"]["peak_agents"] > 18


def test_aht_fills_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("interval,calls,aht\n08:00,100,\n", encoding="utf-8")
    result = run("--forecast", str(path), "--aht", "240", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["intervals"][0]["agents"] == 17


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: give --calls (one interval) or --forecast FILE.csv (not both)"),
        (["--calls", "10", "--forecast", "f.csv"], "error: give --calls (one interval) or --forecast FILE.csv"),
        (["--calls", "10"], "error: --aht is needed with --calls"),
        (["--calls", "10", "--aht", "180", "--service-level", "80-20"], "error: service level: write it as PERCENT/SECONDS"),
        (["--calls", "10", "--aht", "180", "--service-level", "100/20"], "error: service level: the percentage"),
        (["--calls", "10", "--aht", "180", "--shrinkage", "100"], "error: --shrinkage: 100 is out of range"),
        (["--calls", "10", "--aht", "180", "--max-occupancy", "0"], "error: --max-occupancy: 0 is out of range"),
        (["--calls", "10", "--aht", "180", "--interval-minutes", "0"], "error: --interval-minutes: 0 is out of range"),
        (["--calls", "10", "--aht", "180", "--asa", "0"], "error: --asa: 0 is out of range"),
        (["--calls", "10", "--aht", "0"], "error: aht_seconds: must be more than zero when there are calls"),
        (["--calls", "10", "--aht", "180", "--json", "--csv"], "error: give --json or --csv, not both"),
        (["--calls", "10", "--aht", "180", "--agents", "3", "--csv"], "error: --csv goes with a requirement"),
        (["--forecast", "f.csv", "--agents", "3"], "error: --agents goes with --calls, not with --forecast"),
        (["--forecast", "no-such-file.csv"], "error: no-such-file.csv: No such file or directory"),
    ],
)
def test_bad_input_exits_2_saying_why(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message), result.stderr
    assert result.stdout == ""


def test_a_bad_forecast_line_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("interval,calls,aht\n08:00,10,180\n08:30,ten,180\n", encoding="utf-8")
    result = run("--forecast", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: line 3: calls: not a number: 'ten'\n"
    path.write_text("interval,calls,aht\n08:00,10,0\n", encoding="utf-8")
    result = run("--forecast", str(path))
    assert result.stderr == f"error: {path}: interval 08:00: aht_seconds: must be more than zero when there are calls\n"


def test_a_negative_option_is_refused_by_the_parser() -> None:
    result = run("--calls", "-1", "--aht", "180")
    assert result.exit_code == 2
    assert "--calls" in result.stderr
