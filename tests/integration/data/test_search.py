"""Entity searches: operators, match, order, columns, paging, replacement parameters, injection."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.core.errors import MissingParameter
from usd_desktop.data.errors import DataError
from usd_desktop.data.repository import SqlRepository

NAMES = [
    ("Aino", "Virtanen", 0),
    ("Ioana", "Popescu", 1),
    ("Fang", "Wang", 2),
    ("Sean", "O'Brien", 3),
    ("Percent", "100% Sure", 4),
    ("Under", "snake_case", 5),
    ("Slash", "a/b", 6),
    ("Robert", "'); DROP TABLE contacts; --", 7),
    ("Null", None, 8),
]


@pytest.fixture
def people(repo: SqlRepository) -> dict[str, str]:
    ids = {}
    for first, last, level in NAMES:
        contact = repo.create("contact", {"first_name": first, "last_name": last or "-", "full_name": first})
        ids[first] = contact
        repo.create(
            "case",
            {
                "title": f"{first} case",
                "contact_id": contact,
                "escalation_level": level,
                "category": last,
                "due_at": f"2026-01-{level + 1:02d}T12:00:00+00:00",
            },
        )
    return ids


def _run(repo: SqlRepository, data: dict[str, Any] | None = None, **search: Any) -> list[str]:
    search.setdefault("name", "s")
    search.setdefault("entity", "case")
    search.setdefault("columns", ["title"])
    result = repo.search(EntitySearch.model_validate(search), data or {})
    assert result.total >= len(result.rows)
    return [row["title"].removesuffix(" case") for row in result.rows]


def _one(field: str, operator: str, value: str = "", **kw: Any) -> list[str]:
    return [{"field": field, "operator": operator, "value": value}]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("eq", "3", ["Sean"]),
        ("ne", "3", ["Aino", "Ioana", "Fang", "Percent", "Under", "Slash", "Robert", "Null"]),
        ("lt", "2", ["Aino", "Ioana"]),
        ("le", "2", ["Aino", "Ioana", "Fang"]),
        ("gt", "6", ["Robert", "Null"]),
        ("ge", "7", ["Robert", "Null"]),
        ("in", "1, 3,5", ["Ioana", "Sean", "Under"]),
    ],
)
def test_comparison_operators(
    repo: SqlRepository, people: dict[str, str], operator: str, value: str, expected: list[str]
) -> None:
    order = [{"field": "escalation_level"}]
    assert _run(repo, filters=_one("escalation_level", operator, value), order_by=order) == expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("like", "%an%", ["Aino", "Fang"]),
        ("like", "w_ng", ["Fang"]),
        ("begins_with", "vir", ["Aino"]),
        ("contains", "'", ["Sean", "Robert"]),
        ("contains", "%", ["Percent"]),
        ("contains", "_", ["Under"]),
        ("begins_with", "100%", ["Percent"]),
        ("contains", "/", ["Slash"]),
        ("eq", "O'Brien", ["Sean"]),
        ("eq", "'); DROP TABLE contacts; --", ["Robert"]),
        ("contains", "' OR '1'='1", []),
        ("eq", "x' OR 1=1 --", []),
        ("null", "", ["Null"]),
        ("not_null", "", [n[0] for n in NAMES if n[1] is not None]),
    ],
)
def test_text_operators_and_injection(
    repo: SqlRepository, people: dict[str, str], operator: str, value: str, expected: list[str]
) -> None:
    order = [{"field": "escalation_level"}]
    assert _run(repo, filters=_one("category", operator, value), order_by=order) == expected
    assert _contacts(repo) == len(NAMES)


def _contacts(repo: SqlRepository) -> int:
    with repo.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM contacts")).scalar_one())


@pytest.mark.parametrize(
    ("operator", "template", "value", "expected"),
    [
        ("eq", "[[c.name]]", "O'Brien", ["Sean"]),
        ("contains", "[[c.name]]", "%", ["Percent"]),
        ("contains", "[[c.name]]", "_", ["Under"]),
        ("begins_with", "[[c.name]]", "%", []),
        ("like", "[[c.name]]", "%", []),  # a value's wildcard is literal text
        ("like", "%[[c.name]]%", "_", ["Under"]),
        ("like", "%[[c.name]]", "case", ["Under"]),
        ("eq", "[[c.name]]", "'); DROP TABLE contacts; --", ["Robert"]),
        ("contains", "[[c.name]]", "'; DELETE FROM cases; --", []),
        ("in", "[[c.name]]", "Wang,Popescu", ["Ioana", "Fang"]),
    ],
)
def test_replacement_values_are_bound_not_pasted(
    repo: SqlRepository, people: dict[str, str], operator: str, template: str, value: str, expected: list[str]
) -> None:
    data = {"session": {"c": {"name": value}}}
    order = [{"field": "escalation_level"}]
    assert _run(repo, data, filters=_one("category", operator, template), order_by=order) == expected
    assert _contacts(repo) == len(NAMES)
    assert repo.search(EntitySearch(name="all", entity="case"), {}).total == len(NAMES)


def test_match_any_order_columns_and_paging(repo: SqlRepository, people: dict[str, str]) -> None:
    filters = [*_one("category", "eq", "Wang"), *_one("escalation_level", "ge", "7")]
    assert _run(
        repo, filters=filters, match="any", order_by=[{"field": "escalation_level", "descending": True}]
    ) == [
        "Null",
        "Robert",
        "Fang",
    ]
    assert _run(repo, filters=filters, match="all") == []
    search = EntitySearch(name="p", entity="case", max_count=4, order_by=[{"field": "due_at"}])  # type: ignore[list-item]
    pages = [repo.search(search, {}, page=page) for page in (1, 2, 3)]
    assert [len(p.rows) for p in pages] == [4, 4, 1] and {p.total for p in pages} == {len(NAMES)}
    assert pages[0].rows[0]["title"] == "Aino case" and set(pages[0].rows[0]) == {"id", "title"}
    contact = repo.search(EntitySearch(name="c", entity="contact", max_count=1), {}).rows[0]
    assert set(contact) == {"id", "full_name"}
    due = _run(repo, filters=_one("due_at", "lt", "2026-01-03T00:00:00Z"), order_by=[{"field": "due_at"}])
    assert due == ["Aino", "Ioana"]


def test_search_errors(repo: SqlRepository, people: dict[str, str]) -> None:
    with pytest.raises(DataError, match="unknown entity 'casse'"):
        _run(repo, entity="casse")
    with pytest.raises(DataError, match="'case' has no field 'nope'"):
        _run(repo, filters=_one("nope", "eq", "x"))
    with pytest.raises(DataError, match="'case' has no field 'nope'"):
        _run(repo, columns=["nope"])
    with pytest.raises(DataError, match="'escalation_level'"):
        _run(repo, filters=_one("escalation_level", "eq", "high"))
    with pytest.raises(DataError, match="needs a text field"):
        _run(repo, filters=_one("escalation_level", "contains", "1"))
    with pytest.raises(MissingParameter):
        _run(repo, filters=_one("category", "eq", "[[c.missing]]"))
    assert _run(repo, filters=_one("category", "eq", "[[c.missing]+]")) == []
