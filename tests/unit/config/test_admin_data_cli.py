"""usd-admin demo-data: counts printed, refusal without --replace/--append, exit codes (SQLite)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from usd_desktop import admin_cli

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(admin_cli.app, ["demo-data", *args])


def printed(output: str) -> dict[str, int]:
    """The per-entity counts the command printed."""
    return {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^  (\w+) +([\d,]+)$", output, re.M)}


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "demo.db"


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_creates_customers_and_prints_the_counts(db: Path) -> None:
    result = run("--customers", "120", "--data", url(db), "--seed", "5")
    assert result.exit_code == 0, result.output
    counts = printed(result.stdout)
    assert counts["contact"] == 120 and counts["account"] == 12
    assert counts["knowledge_article"] == 6  # the default: at least 5, one per 20 customers
    for entity, table in [
        ("contact", "contacts"),
        ("account", "accounts"),
        ("phone", "phones"),
        ("email", "emails"),
        ("address", "addresses"),
        ("case", "cases"),
        ("interaction", "interactions"),
        ("note", "notes"),
        ("knowledge_article", "knowledge_articles"),
    ]:
        assert count(db, table) == counts[entity], entity
    assert re.search(r"^created in [\d.]+ s:$", result.stdout, re.M)
    assert "knowledge index built: 6 articles indexed" in result.stdout
    assert count(db, "knowledge_docs") == 6 and count(db, "knowledge_dirty") == 0
    assert re.search(r"^done in [\d.]+ s$", result.stdout, re.M)


def test_articles_option_and_no_index_without_articles(db: Path) -> None:
    result = run("--customers", "10", "--articles", "0", "--data", url(db))
    assert result.exit_code == 0, result.output
    assert printed(result.stdout)["knowledge_article"] == 0
    assert "knowledge index" not in result.stdout
    result = run("--customers", "0", "--articles", "25", "--data", url(db), "--append")
    assert result.exit_code == 0, result.output
    assert printed(result.stdout)["knowledge_article"] == 25 and count(db, "knowledge_docs") == 25


def test_refuses_a_database_with_customers(db: Path) -> None:
    assert run("--customers", "30", "--data", url(db)).exit_code == 0
    result = run("--customers", "30", "--data", url(db))
    assert result.exit_code == 2
    assert "already has 33 customers" in result.stderr  # 30 contacts and 3 accounts
    assert "--replace" in result.stderr and "--append" in result.stderr
    assert count(db, "contacts") == 30


def test_replace_empties_first(db: Path) -> None:
    assert run("--customers", "50", "--data", url(db), "--seed", "1").exit_code == 0
    with sqlite3.connect(db) as conn:
        before = {row[0] for row in conn.execute("SELECT id FROM contacts")}
    result = run("--customers", "20", "--data", url(db), "--seed", "2", "--replace")
    assert result.exit_code == 0, result.output
    assert "emptied the service-desk tables (55 customers deleted)" in result.stdout
    assert count(db, "contacts") == 20 and count(db, "accounts") == 2
    assert count(db, "knowledge_articles") == 5 and count(db, "knowledge_docs") == 5
    with sqlite3.connect(db) as conn:
        after = {row[0] for row in conn.execute("SELECT id FROM contacts")}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert not before & after


def test_append_adds_after_the_existing_customers(db: Path) -> None:
    assert run("--customers", "40", "--data", url(db)).exit_code == 0
    result = run("--customers", "25", "--data", url(db), "--append")  # the same seed: still new records
    assert result.exit_code == 0, result.output
    assert count(db, "contacts") == 65
    with sqlite3.connect(db) as conn:
        numbers = [row[0] for row in conn.execute("SELECT case_number FROM cases")]
    assert len(numbers) == len(set(numbers))


def test_replace_and_append_together_are_bad_input(db: Path) -> None:
    result = run("--customers", "5", "--data", url(db), "--replace", "--append")
    assert result.exit_code == 2 and "not both" in result.stderr
    assert not db.exists()


def test_a_negative_count_is_bad_input(db: Path) -> None:
    assert run("--customers", "-1", "--data", url(db)).exit_code == 2
    assert run("--data", url(db)).exit_code == 2  # --customers is required


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("mysql://usd@db/usd", "SQLite or PostgreSQL"),
        ("postgresql+psycopg2://usd@db/usd", "psycopg driver"),
        ("not a url", "not a database URL"),
    ],
)
def test_a_bad_url_is_bad_input(bad: str, words: str) -> None:
    result = run("--customers", "5", "--data", bad)
    assert result.exit_code == 2
    assert words in result.stderr


def test_an_unreachable_database_exits_three_with_the_url_redacted() -> None:
    result = run("--customers", "5", "--data", "postgresql+psycopg://usd:s3cret@127.0.0.1:1/usd")
    assert result.exit_code == 3
    assert "postgresql+psycopg://usd:***@127.0.0.1:1/usd" in result.stderr
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_the_default_database_comes_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USD_DESKTOP_DATA", url(db))
    result = run("--customers", "8")
    assert result.exit_code == 0, result.output
    assert f"data database: {url(db)}" in result.stdout
    assert count(db, "contacts") == 8
