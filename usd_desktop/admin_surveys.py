"""``usd-admin surveys``: the customers' survey answers that arrive from outside the desktop.

* ``usd-admin surveys import FILE.csv [--data URL]`` records the answers of a CSV file with the
  columns ``id`` (the survey, as ``SendSurvey`` returned it), ``score``, ``comment`` (optional) and
  ``answered_at`` (optional, ISO 8601, UTC when no offset; empty: now), whatever the order. A score
  is checked against its survey as ``RecordSurveyAnswer`` checks it
  (:func:`~usd_desktop.data.surveys.survey_score`: 1 to the scale's highest score,
  or yes/no).

The whole file is checked first; when a line is wrong nothing is written and every wrong line is
printed (``FILE.csv line 3: ...``). The answers are then written in one transaction. Importing the
same file again writes the same values.

Exit codes as for the other ``usd-admin`` commands: 0 done; 1 the answers could not be written;
2 bad input (an unreadable file, a missing column, a wrong line); 3 the database is unreachable.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer

from usd_desktop.admin_data import check_url, open_data
from usd_desktop.config.store.location import redact
from usd_desktop.data.errors import DataError
from usd_desktop.data.location import ENV_VAR, resolve_data_url
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.surveys import survey_score
from usd_desktop.data.values import to_utc
from usd_desktop.hosted_controls.data_actions import SURVEY

COLUMNS = ("id", "score", "comment", "answered_at")
REQUIRED = ("id", "score")
#: Surveys read per query while checking.
CHUNK = 500

SURVEYS_HELP = "Record the customers' answers to the satisfaction surveys the desktop sent (they feed CSAT)."
IMPORT_HELP = (
    "Record survey answers from a CSV file with a header line and the columns id (the survey), score, "
    "comment (optional) and answered_at (optional, ISO 8601, UTC without an offset; empty: now). A scale "
    "survey takes a whole number from 1 to its highest score, a yes/no survey yes or no (1 or 0).\n\n"
    "The whole file is checked first: when a line is wrong, nothing is written and every wrong line is "
    "printed. The answers are then written in one transaction.\n\n"
    f"The data database is --data, else ${ENV_VAR}, else the embedded SQLite file.\n\n"
    "Exit status: 0 done, 1 the answers could not be written, 2 bad input, 3 the database is unreachable."
)


@dataclass(frozen=True)
class Answer:
    """One line of the file, checked: the survey and the values to write."""

    line: int
    id: str
    values: dict[str, Any]


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def read_answers(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The lines of ``path`` as (line number, cells by column) and the problems of the file itself."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip().casefold() for name in reader.fieldnames or ()]
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                return [], [f"{path.name}: no column {', '.join(missing)} (columns: {', '.join(COLUMNS)})"]
            unknown = [name for name in header if name not in COLUMNS]
            if unknown:
                known = ", ".join(COLUMNS)
                return [], [f"{path.name}: unknown column {', '.join(unknown)} (columns: {known})"]
            reader.fieldnames = header
            rows = []
            for row in reader:
                cells = {k: (v or "").strip() for k, v in row.items() if k is not None and isinstance(v, str)}
                if any(cells.values()):
                    rows.append((reader.line_num, cells))
            return rows, []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"{path}: cannot be read: {exc}"]


def _surveys(repo: SqlRepository, ids: Sequence[str]) -> dict[str, Any]:
    """The surveys ``ids`` (id, kind, scale_max, sent_at) by id."""
    table = repo.entities[SURVEY].table
    found: dict[str, Any] = {}
    with repo.engine.connect() as conn:
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            query = sa.select(table.c.id, table.c.kind, table.c.scale_max, table.c.sent_at).where(
                table.c.id.in_(chunk))
            found.update((str(row.id), row) for row in conn.execute(query))
    return found


def check(repo: SqlRepository, path: Path, rows: Sequence[tuple[int, dict[str, str]]],
          now: datetime) -> tuple[list[Answer], list[str]]:
    """The answers of ``rows`` checked against their surveys, and a message per wrong line."""
    surveys = _surveys(repo, sorted({cells.get("id", "").strip("{}") for _, cells in rows} - {""}))
    answers: list[Answer] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        where = f"{path.name} line {line}"
        survey = cells.get("id", "").strip("{}")
        found = surveys.get(survey)
        if not survey:
            problems.append(f"{where}: no survey id")
            continue
        if found is None:
            problems.append(f"{where}: there is no survey {survey!r}")
            continue
        if survey in seen:
            problems.append(f"{where}: survey {survey} is answered on line {seen[survey]} already")
            continue
        seen[survey] = line
        try:
            score = survey_score(str(found.kind or "scale"), int(found.scale_max or 5),
                                 cells.get("score", ""))
            answered = _when(cells.get("answered_at", ""), now)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if found.sent_at is not None and answered < to_utc(found.sent_at):
            problems.append(f"{where}: answered at {answered.isoformat()}, before the survey was sent "
                            f"({to_utc(found.sent_at).isoformat()})")
            continue
        values: dict[str, Any] = {"score": score, "answered_at": answered}
        if cells.get("comment"):
            values["comment"] = cells["comment"]
        answers.append(Answer(line, survey, values))
    return answers, problems


def _when(text: str, now: datetime) -> datetime:
    if not text:
        return now
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"answered_at {text!r} is not an ISO 8601 time "
                         "(2026-03-02T09:30:00+02:00)") from None


def write(repo: SqlRepository, answers: Sequence[Answer]) -> None:
    """Write ``answers`` in one transaction."""
    table = repo.entities[SURVEY].table
    with repo.write() as conn, conn.begin():
        for answer in answers:
            values = repo.prepare(SURVEY, answer.values, new=False)
            conn.execute(sa.update(table).where(table.c.id == answer.id).values(values))


def import_answers(repo: SqlRepository, path: Path, *, now: datetime | None = None) -> list[Answer]:
    """The ``surveys import`` command on an open data database: the answers written, or exit 2."""
    rows, problems = read_answers(path)
    answers: list[Answer] = []
    if not problems:
        answers, problems = check(repo, path, rows, now or datetime.now(UTC))
    if problems:
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        _fail(2, f"nothing written: {len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}")
    write(repo, answers)
    return answers


def summary(answers: Sequence[Answer]) -> str:
    comments = sum(1 for a in answers if "comment" in a.values)
    plural = "s" if len(answers) != 1 else ""
    return f"recorded {len(answers):,} survey answer{plural} ({comments:,} with a comment)"


def register(app: typer.Typer) -> None:
    """Add the ``surveys`` command group to ``usd-admin``."""
    surveys_app = typer.Typer(help=SURVEYS_HELP, no_args_is_help=True)
    app.add_typer(surveys_app, name="surveys")

    @surveys_app.command("import", help=IMPORT_HELP)
    def import_(
        file: Annotated[
            Path, typer.Argument(metavar="FILE.csv", help="The answers: id,score,comment,answered_at.")
        ],
        data: Annotated[
            str | None,
            typer.Option("--data",
                         help=f"Data database URL (default: ${ENV_VAR}, else the embedded SQLite file)."),
        ] = None,
    ) -> None:
        if not file.is_file():
            _fail(2, f"{file}: no such file")
        url = resolve_data_url(data)
        check_url(url)
        with open_data(url) as repo:
            try:
                answers = import_answers(repo, file)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                _fail(3, f"the data database at {redact(url)} failed: {str(exc.orig or exc).strip()}")
            except (sa.exc.SQLAlchemyError, DataError) as exc:
                _fail(1, f"the answers could not be written: {str(exc).splitlines()[0]}")
        typer.echo(summary(answers))
