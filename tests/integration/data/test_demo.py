"""Demo data: counts, multilingual names and articles, valid phone numbers that the lookup finds,\nthe same data for the same seed, the bulk load leaving indexes and settings as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import sqlalchemy as sa

from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.data import demo
from usd_desktop.data.demo import count_customers, empty_service_desk, generate
from usd_desktop.data.knowledge import KnowledgeSearch
from usd_desktop.data.phones import normalise
from usd_desktop.data.repository import SqlRepository


def _count(repo: SqlRepository, table: str) -> int:
    with repo.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_demo_generation(repo: SqlRepository) -> None:
    counts = generate(repo, 300, seed=7).counts
    assert counts["contact"] == 300 and counts["account"] == 30
    assert 300 <= counts["phone"] <= 900 and counts["email"] == counts["address"] == 300
    assert counts["case"] > 100 and counts["interaction"] > 100 and counts["knowledge_article"] >= 5
    for entity, table in [
        ("contact", "contacts"),
        ("phone", "phones"),
        ("case", "cases"),
        ("interaction", "interactions"),
    ]:
        assert _count(repo, table) == counts[entity]
    with repo.engine.connect() as conn:
        phones = conn.execute(sa.text("SELECT number, e164, contact_id FROM phones")).all()
        languages = {
            row[0] for row in conn.execute(sa.text("SELECT DISTINCT preferred_language FROM contacts"))
        }
    assert {"fi", "ro", "zh", "en"} <= languages
    assert len({e164[:4] for _, e164, _ in phones}) >= 5  # several countries
    for number, e164, contact in phones[:200]:
        assert normalise(number) == e164
        assert contact in {m.id for m in repo.find_customers_by_phone(number)}
    result = repo.search(
        EntitySearch(name="zh", entity="contact", filters=[{"field": "preferred_language", "value": "zh"}]),
        {},
    )  # type: ignore[list-item]
    assert result.total > 0 and all(row["full_name"] for row in result.rows)
    case = repo.search(EntitySearch(name="c", entity="case", columns=["due_at"], max_count=1), {}).rows[0]
    assert repo.get("case", case["id"])["due_at"] == case["due_at"]  # type: ignore[index]


def test_same_seed_same_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for name in ("a", "b"):
        with SqlRepository(f"sqlite:///{tmp_path / name}.db") as repo:
            generate(repo, 40, seed=3)
            with repo.engine.connect() as conn:
                rows.append(conn.execute(sa.text("SELECT id, full_name FROM contacts ORDER BY id")).all())
    assert rows[0] == rows[1]


# ---------------------------------------------------------------------- determinism, phones, loading

TABLES = ("accounts", "contacts", "phones", "emails", "addresses", "cases", "interactions", "notes")


def _dump(url: str, tables: tuple[str, ...] = (*TABLES, "knowledge_articles")) -> dict[str, list[Any]]:
    with SqlRepository(url) as repo, repo.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in tables}


def test_the_same_seed_makes_the_same_rows_and_another_seed_others(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c")]
    for url, seed in zip(urls, (11, 11, 12), strict=True):
        with SqlRepository(url) as repo:
            generate(repo, 60, seed=seed, articles=30)
    first, again, other = (_dump(url) for url in urls)
    assert first == again
    for table in ("contacts", "phones", "knowledge_articles"):
        assert first[table] != other[table]


def test_phone_numbers_are_valid_numbers_of_their_country(repo: SqlRepository) -> None:
    generate(repo, 150, seed=4)
    with repo.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.number, p.e164, p.kind, a.country FROM phones p"
                " JOIN addresses a ON a.contact_id = p.contact_id"
            )
        ).all()
    regions = set()
    for number, e164, kind, country in rows:
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(parsed), e164
        assert phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ), e164
        region = phonenumbers.region_code_for_number(parsed)
        regions.add(region)
        if kind == "mobile":
            assert region == country  # a customer's mobile is of their own country
        assert normalise(number) == e164  # as typed, it reads back as the same number
    assert {"FI", "RO", "CN", "US", "GB", "SE", "DE"} <= regions


def test_names_and_articles_are_multilingual(repo: SqlRepository) -> None:
    generate(repo, 200, seed=9, articles=120)
    with repo.engine.connect() as conn:
        names = [r[0] for r in conn.execute(sa.text("SELECT full_name FROM contacts"))]
        articles = conn.execute(sa.text("SELECT title, body, language FROM knowledge_articles")).all()
        about_passwords = {
            r[0]
            for r in conn.execute(sa.text("SELECT id FROM knowledge_articles WHERE tags LIKE '%,password,%'"))
        }
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in names)  # Chinese
    assert any(ch in "äöåÄÖ" for name in names for ch in name)  # Finnish or Swedish
    assert any(ch in "ăâîșțĂÂÎȘȚ" for name in names for ch in name)  # Romanian
    assert {"en", "fi", "ro"} <= {language for _, _, language in articles}
    finnish = " ".join(body for _, body, language in articles if language == "fi")
    assert any(ch in "äö" for ch in finnish)
    hits = KnowledgeSearch(repo).search("pasword")  # misspelt: found by its phonetic key
    assert hits and hits[0].id in about_passwords


def test_generating_again_adds_new_customers(repo: SqlRepository) -> None:
    generate(repo, 30, seed=1)
    counts = generate(repo, 20, seed=1).counts  # the same seed: numbered on, so no clash
    assert counts["contact"] == 20
    with repo.engine.connect() as conn:
        assert _scalar(conn, "SELECT count(*) FROM contacts") == 50
        assert _scalar(conn, "SELECT count(DISTINCT case_number) FROM cases") == _scalar(
            conn, "SELECT count(*) FROM cases"
        )
        assert _scalar(conn, "SELECT count(DISTINCT address) FROM emails") == 50


def _scalar(conn: sa.Connection, sql: str) -> int:
    return int(conn.execute(sa.text(sql)).scalar_one())


def _indexes(repo: SqlRepository) -> dict[str, list[str]]:
    with repo.engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {t: sorted(str(i["name"]) for i in inspector.get_indexes(t)) for t in TABLES}


def test_the_indexes_are_there_after_a_load(repo: SqlRepository) -> None:
    before = _indexes(repo)
    assert before["phones"]  # the caller-lookup index among them
    generate(repo, 50, seed=2)
    assert _indexes(repo) == before
    generate(repo, 10, seed=2)  # into tables that are not empty: nothing dropped
    assert _indexes(repo) == before


def test_a_failed_load_keeps_what_was_committed_and_the_indexes(
    repo: SqlRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _indexes(repo)
    monkeypatch.setattr(demo, "BATCH", 10)
    made = demo._Maker.customers
    calls = []

    def failing(self: Any, first: int, count: int) -> Any:
        calls.append(first)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return made(self, first, count)

    monkeypatch.setattr(demo._Maker, "customers", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        generate(repo, 50, seed=3)
    assert _indexes(repo) == before
    with repo.engine.connect() as conn:
        assert _scalar(conn, "SELECT count(*) FROM contacts") == 20  # two batches committed


def test_the_sqlite_connection_settings_are_put_back(tmp_path: Path) -> None:
    with SqlRepository(f"sqlite:///{tmp_path / 'p.db'}") as repo:
        pragmas = ("synchronous", "cache_size", "temp_store", "foreign_keys", "journal_mode")

        def settings() -> list[Any]:
            with repo.engine.connect() as conn:
                return [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]

        before = settings()
        generate(repo, 20)
        assert settings() == before


def test_emptying_the_service_desk(repo: SqlRepository) -> None:
    generate(repo, 40, seed=6, articles=20)
    assert KnowledgeSearch(repo).sync() == 20
    assert count_customers(repo) == 44
    empty_service_desk(repo)
    assert count_customers(repo) == 0
    with repo.engine.connect() as conn:
        for table in (*TABLES, "knowledge_articles", "knowledge_docs", "knowledge_terms", "knowledge_dirty"):
            assert _scalar(conn, f"SELECT count(*) FROM {table}") == 0, table
    generate(repo, 10, seed=6, articles=8)  # and it fills again, searchable
    assert KnowledgeSearch(repo).sync() == 8
