"""Demo data: counts, multilingual names, valid phone numbers that the lookup finds."""

from __future__ import annotations

import sqlalchemy as sa

from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.data.demo import generate
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
