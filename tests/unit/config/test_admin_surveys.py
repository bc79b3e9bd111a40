"""usd-admin surveys import: answers from a CSV file, checked as a whole, written in one go (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from usd_desktop import admin_cli
from usd_desktop.data import kpi
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.values import to_utc

runner = CliRunner()
SENT = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, SqlRepository]]:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    repo = SqlRepository(url)
    surveys = [("s-scale", "scale", 5), ("s-yes", "yes_no", 1), ("s-ten", "scale", 10),
               *((f"s-{n}", "scale", 5) for n in range(3))]
    for survey, kind, scale_max in surveys:
        repo.create("survey_response", {"id": survey, "kind": kind, "scale_max": scale_max, "channel": "phone",
                                        "sent_at": SENT})
    yield url, repo
    repo.close()


def run(url: str, path: Path) -> Any:
    return runner.invoke(admin_cli.app, ["surveys", "import", str(path), "--data", url])


def csv_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_answers_are_recorded_and_feed_csat(db: tuple[str, SqlRepository], tmp_path: Path) -> None:
    url, repo = db
    path = csv_file(tmp_path, "id,score,comment,answered_at\n"
                              "s-scale,4,\"Quick, and friendly.\",2026-03-02T11:30:00+02:00\n"
                              "s-yes,no,,2026-03-03T10:00:00\n"
                              "\n"
                              "s-ten,9,,\n")
    before = datetime.now(UTC)
    result = run(url, path)
    assert result.exit_code == 0, result.output
    assert "recorded 3 survey answers (1 with a comment)" in result.stdout
    scale, yes, ten = (repo.get("survey_response", s) for s in ("s-scale", "s-yes", "s-ten"))
    assert scale and yes and ten
    assert (scale["score"], scale["comment"]) == (4, "Quick, and friendly.")
    assert to_utc(scale["answered_at"]) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # +02:00 given
    assert (yes["score"], yes["comment"]) == (0, None)
    assert to_utc(yes["answered_at"]) == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # no offset: UTC
    assert ten["score"] == 9 and to_utc(ten["answered_at"]) >= before  # no time given: now
    row = kpi.totals(repo)
    assert row.survey_answers == 3 and row.csat_scale == 100.0 and row.csat_yes_no == 0.0
    again = run(url, path)  # the same file again: the same values
    assert again.exit_code == 0, again.output
    assert repo.get("survey_response", "s-scale") == scale


def test_columns_in_any_order_and_only_the_required_ones(db: tuple[str, SqlRepository], tmp_path: Path) -> None:
    url, repo = db
    result = run(url, csv_file(tmp_path, "Score,ID\nyes,s-yes\n"))
    assert result.exit_code == 0, result.output
    stored = repo.get("survey_response", "s-yes")
    assert stored is not None and stored["score"] == 1 and stored["answered_at"] is not None


def test_a_wrong_line_writes_nothing_and_every_problem_is_printed(
        db: tuple[str, SqlRepository], tmp_path: Path) -> None:
    url, repo = db
    path = csv_file(tmp_path, "id,score,comment,answered_at\n"
                              "s-scale,5,,\n"
                              "s-scale,6,,\n"
                              "s-yes,maybe,,\n"
                              "nobody,3,,\n"
                              "s-ten,11,,\n"
                              "s-0,4,,yesterday\n"
                              "s-1,4,,2026-03-01T09:00:00Z\n"
                              ",3,,\n")
    result = run(url, path)
    assert result.exit_code == 2
    err = result.stderr
    assert "answers.csv line 3: survey s-scale is answered on line 2 already" in err
    assert "answers.csv line 4: score 'maybe': a yes/no survey takes yes (1) or no (0)" in err
    assert "answers.csv line 5: there is no survey 'nobody'" in err
    assert "answers.csv line 6: score '11': this survey's scale takes a whole number from 1 to 10" in err
    assert "answers.csv line 7: answered_at 'yesterday' is not an ISO 8601 time" in err
    assert "answers.csv line 8: answered at 2026-03-01T09:00:00+00:00, before the survey was sent" in err
    assert "answers.csv line 9: no survey id" in err
    assert "nothing written: 7 problems" in err
    assert all(repo.get("survey_response", s)["score"] is None  # type: ignore[index]
               for s in ("s-scale", "s-yes", "s-ten"))


@pytest.mark.parametrize(("text", "expected"), [
    ("survey,score\ns-yes,1\n", "no column id"),
    ("id,score,stars\ns-yes,1,5\n", "unknown column stars"),
])
def test_a_file_without_the_columns_is_refused(db: tuple[str, SqlRepository], tmp_path: Path, text: str,
                                               expected: str) -> None:
    url, _repo = db
    result = run(url, csv_file(tmp_path, text))
    assert result.exit_code == 2 and expected in result.stderr


def test_a_missing_file_and_a_bad_url(db: tuple[str, SqlRepository], tmp_path: Path) -> None:
    url, _repo = db
    missing = run(url, tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    bad_url = runner.invoke(admin_cli.app, ["surveys", "import", str(csv_file(tmp_path, "id,score\n")),
                                            "--data", "mysql://db/x"])
    assert bad_url.exit_code == 2


def test_help_lists_the_command() -> None:
    result = runner.invoke(admin_cli.app, ["surveys", "--help"])
    assert result.exit_code == 0 and "import" in result.stdout
