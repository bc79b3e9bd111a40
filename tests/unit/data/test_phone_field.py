"""A customer's ``phone`` field: kept in the phones table, read, searched and written through the customer.

SQLite only, like the rest of tests/unit/data (the PostgreSQL runs are in tests/integration/data).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.config.schema_data import CustomField
from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import ENTITIES, build_entities
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.search import statements
from usd_desktop.data.services import DataServices, RecordChange


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SqlRepository]:
    opened = SqlRepository(f"sqlite:///{tmp_path / 'data.db'}", default_region="FI")
    yield opened
    opened.close()


def phones_of(repo: SqlRepository, owner: str, key: str = "contact_id") -> list[dict[str, Any]]:
    table = repo.entities["phone"].table
    query = sa.select(table).where(table.c[key] == owner).order_by(table.c.id)
    with repo.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def add_phone(repo: SqlRepository, owner: str, number: str, kind: str, id: str) -> None:
    repo.create("phone", {"id": id, "contact_id": owner, "number": number, "kind": kind})


def spec(entity: str = "contact", **fields: Any) -> EntitySearch:
    return EntitySearch.model_validate({"name": "s", "entity": entity, **fields})


def search(repo: SqlRepository, *filters: dict[str, str]) -> list[str]:
    order = [{"field": "last_name"}]
    result = repo.search(spec(columns=["last_name", "phone"], filters=filters, order_by=order))
    assert result.total == len(result.rows)
    return [row["last_name"] for row in result.rows]


def plan(repo: SqlRepository, query: sa.Select[Any]) -> str:
    text = str(query.compile(repo.engine, compile_kwargs={"literal_binds": True}))
    with repo.engine.connect() as conn:
        return "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + text))


# ---------------------------------------------------------------------- metadata


def test_customers_have_a_phone_field_that_is_no_column() -> None:
    for name in ("contact", "account"):
        meta = ENTITIES[name]
        phone = meta.field("phone")
        assert (phone.label, phone.type, phone.stored_in) == ("Phone", "string", "phone")
        assert phone.max_length == 64  # the phones' number column
        assert not phone.is_column and not phone.read_only and not phone.required and not phone.custom
        assert meta.stored_fields == [phone] and "phone" not in meta.table.c
        with pytest.raises(DataError, match=f"entity '{name}', field 'phone' is kept in the phone records"):
            meta.column("phone")
        assert meta.column("id") is meta.table.c.id
    assert "phone" not in ENTITIES["phone"].fields and ENTITIES["phone"].stored_fields == []
    assert ENTITIES["case"].stored_fields == []


def test_a_custom_field_named_phone_clashes_with_the_built_in_one(repo: SqlRepository) -> None:
    with pytest.raises(DataError, match="'phone' of entity 'contact' clashes with a built-in field"):
        build_entities(None, [CustomField(entity="contact", name="phone")])
    build_entities(None, [CustomField(entity="case", name="phone")])  # a case has no phone field
    problems = repo.configure([CustomField(entity="account", name="phone", label="Switchboard"),
                               CustomField(entity="case", name="phone")], [])
    assert problems == ["custom_fields[0] \"phone\": entity 'account', field 'phone' clashes with the "
                        "built-in field 'phone' (Phone)"]
    assert repo.entities["account"].fields["phone"].stored_in == "phone"
    assert repo.entities["case"].fields["phone"].custom


# ---------------------------------------------------------------------- writes and reads


def test_create_with_a_phone_adds_a_mobile_phone_row(repo: SqlRepository) -> None:
    cid = repo.create("contact", {"last_name": "Virtanen", "phone": "+358 40 123 4567"})
    [row] = phones_of(repo, cid)
    assert (row["number"], row["e164"], row["kind"], row["account_id"]) == (
        "+358 40 123 4567", "+358401234567", "mobile", None)
    record = repo.get("contact", cid)
    assert record is not None and record["phone"] == "+358 40 123 4567"
    national = repo.create("contact", {"last_name": "Korhonen", "phone": "040 765 4321"})
    assert phones_of(repo, national)[0]["e164"] == "+358407654321"  # the repository's default region


def test_create_without_or_with_an_empty_phone_adds_none(repo: SqlRepository) -> None:
    for values in ({}, {"phone": None}, {"phone": ""}, {"phone": "   "}):
        cid = repo.create("contact", {"last_name": "Nieminen", **values})
        assert phones_of(repo, cid) == []
        assert (repo.get("contact", cid) or {})["phone"] is None


def test_an_invalid_number_is_kept_as_typed(repo: SqlRepository) -> None:
    cid = repo.create("contact", {"last_name": "Mäkinen", "phone": "ext. 12"})
    [row] = phones_of(repo, cid)
    assert (row["number"], row["e164"]) == ("ext. 12", None)


def test_a_bad_phone_value_writes_nothing(repo: SqlRepository) -> None:
    with pytest.raises(DataError, match=r"field 'phone' \(Phone\).*longer than 64"):
        repo.create("contact", {"last_name": "Long", "phone": "1" * 65})
    with pytest.raises(DataError, match=r"field 'phone' \(Phone\).*is not text"):
        repo.create("contact", {"last_name": "List", "phone": ["+358401234567"]})
    assert repo.search(EntitySearch(name="all", entity="contact")).total == 0


def test_the_contact_and_its_phone_are_written_in_one_transaction(repo: SqlRepository) -> None:
    # a required custom field on phones makes the phone row fail after the contact was inserted
    assert repo.configure([CustomField(entity="phone", name="extension", required=True)], []) == []
    with pytest.raises(DataError, match="entity 'phone', field 'extension'"):
        repo.create("contact", {"id": "c-1", "last_name": "Rolled back", "phone": "+358401234567"})
    assert repo.get("contact", "c-1") is None
    cid = repo.create("contact", {"last_name": "Kept"})
    with pytest.raises(DataError, match="entity 'phone', field 'extension'"):
        repo.update("contact", cid, {"last_name": "Changed", "phone": "+358401234567"})
    assert (repo.get("contact", cid) or {})["last_name"] == "Kept"


def test_the_main_phone_is_the_first_mobile_else_the_first_other(repo: SqlRepository) -> None:
    cid = repo.create("contact", {"last_name": "Lahtinen"})
    add_phone(repo, cid, "09 123 4567", "home", "p1")
    assert (repo.get("contact", cid) or {})["phone"] == "09 123 4567"
    add_phone(repo, cid, "040 000 0002", "mobile", "p3")
    add_phone(repo, cid, "040 000 0001", "mobile", "p2")
    add_phone(repo, cid, "050 000 0000", "work", "p0")
    assert (repo.get("contact", cid) or {})["phone"] == "040 000 0001"  # mobiles first, then by id


def test_update_changes_the_main_phone_only(repo: SqlRepository) -> None:
    cid = repo.create("contact", {"last_name": "Heikkinen"})
    add_phone(repo, cid, "09 123 4567", "home", "p1")
    add_phone(repo, cid, "040 000 0001", "mobile", "p2")
    repo.update("contact", cid, {"phone": "+358 50 111 2222"})
    rows = {row["id"]: row for row in phones_of(repo, cid)}
    assert (rows["p2"]["number"], rows["p2"]["e164"], rows["p2"]["kind"]) == (
        "+358 50 111 2222", "+358501112222", "mobile")
    assert rows["p1"]["number"] == "09 123 4567" and len(rows) == 2
    assert (repo.get("contact", cid) or {})["phone"] == "+358 50 111 2222"


def test_update_adds_a_phone_when_there_is_none_and_an_empty_one_changes_nothing(
    repo: SqlRepository,
) -> None:
    cid = repo.create("contact", {"last_name": "Koskinen"})
    repo.update("contact", cid, {"phone": "040 123 4567", "segment": "vip"})
    [row] = phones_of(repo, cid)
    assert (row["number"], row["e164"], row["kind"]) == ("040 123 4567", "+358401234567", "mobile")
    assert (repo.get("contact", cid) or {})["segment"] == "vip"
    for empty in (None, "", "  "):
        repo.update("contact", cid, {"phone": empty})
        assert phones_of(repo, cid) == [row]
    repo.update("contact", cid, {"phone": "040 123 4568"})  # only the phone: the contact row stays
    assert [p["id"] for p in phones_of(repo, cid)] == [row["id"]]


def test_update_of_a_missing_customer_names_it(repo: SqlRepository) -> None:
    for values in ({"phone": "+358401234567"}, {"phone": "+358401234567", "last_name": "X"}):
        with pytest.raises(DataError, match="entity 'contact' has no record 'nobody' to update"):
            repo.update("contact", "nobody", values)
    assert repo.search(EntitySearch(name="all", entity="phone")).total == 0


def test_an_accounts_phone_is_its_own_not_its_contacts(repo: SqlRepository) -> None:
    aid = repo.create("account", {"name": "Contoso", "phone": "+358 9 1234567"})
    cid = repo.create("contact", {"last_name": "Aalto", "account_id": aid, "phone": "+358401234567"})
    [row] = phones_of(repo, aid, "account_id")
    assert (row["number"], row["contact_id"], row["kind"]) == ("+358 9 1234567", None, "mobile")
    assert (repo.get("account", aid) or {})["phone"] == "+358 9 1234567"
    assert (repo.get("contact", cid) or {})["phone"] == "+358401234567"
    repo.update("account", aid, {"phone": "+358 9 7654321"})
    assert (repo.get("account", aid) or {})["phone"] == "+358 9 7654321"
    assert [(m.entity, m.id) for m in repo.find_customers_by_phone("09 7654321")] == [("account", aid)]
    found = spec("account", columns=["name", "phone"], filters=[{"field": "phone", "value": "09 7654321"}])
    assert repo.search(found).rows == [{"id": aid, "name": "Contoso", "phone": "+358 9 7654321"}]


def test_deleting_the_customer_deletes_its_phones(repo: SqlRepository) -> None:
    cid = repo.create("contact", {"last_name": "Gone", "phone": "+358401234567"})
    repo.delete("contact", cid)
    assert phones_of(repo, cid) == []


# ---------------------------------------------------------------------- searches


@pytest.fixture
def people(repo: SqlRepository) -> dict[str, str]:
    ids = {
        "Aho": repo.create("contact", {"last_name": "Aho", "phone": "+358 40 123 4567"}),
        "Berg": repo.create("contact", {"last_name": "Berg", "phone": "09 765 4321"}),
        "Cole": repo.create("contact", {"last_name": "Cole", "phone": "ask reception"}),
        "Dahl": repo.create("contact", {"last_name": "Dahl"}),
    }
    add_phone(repo, ids["Berg"], "050 555 0000", "work", "zz-second")  # a second phone of Berg
    return ids


def test_search_columns_return_and_sort_by_the_main_phone(
    repo: SqlRepository, people: dict[str, str]
) -> None:
    result = repo.search(spec(columns=["last_name", "phone"], order_by=[{"field": "phone"}]))
    found = [(r["last_name"], r["phone"]) for r in result.rows]
    assert [row for row in found if row[1] is not None] == [  # where NULL sorts depends on the database
        ("Aho", "+358 40 123 4567"), ("Berg", "09 765 4321"), ("Cole", "ask reception")]
    assert ("Dahl", None) in found and result.total == 4


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"field": "phone", "value": "040 1234567"}, ["Aho"]),  # E.164 of the default region
        ({"field": "phone", "value": "+358401234567"}, ["Aho"]),
        ({"field": "phone", "value": "0505550000"}, ["Berg"]),  # any phone, not only the main one
        ({"field": "phone", "value": "ask reception"}, ["Cole"]),  # no number: the text as typed
        ({"field": "phone", "value": "0401234568"}, []),
        ({"field": "phone", "operator": "ne", "value": "040 123 4567"}, ["Berg", "Cole", "Dahl"]),
        ({"field": "phone", "operator": "ne", "value": "050 555 0000"}, ["Aho", "Cole", "Dahl"]),
        ({"field": "phone", "operator": "in", "value": "+358401234567, 050 5550000"}, ["Aho", "Berg"]),
        ({"field": "phone", "operator": "contains", "value": "765 43"}, ["Berg"]),  # as typed
        ({"field": "phone", "operator": "contains", "value": "1234567"}, ["Aho"]),  # its E.164
        ({"field": "phone", "operator": "contains", "value": "RECEPTION"}, ["Cole"]),
        ({"field": "phone", "operator": "begins_with", "value": "+358 40"}, ["Aho"]),
        ({"field": "phone", "operator": "begins_with", "value": "+35850"}, ["Berg"]),
        ({"field": "phone", "operator": "begins_with", "value": "09"}, ["Berg"]),
        ({"field": "phone", "operator": "like", "value": "%555%"}, ["Berg"]),
        ({"field": "phone", "operator": "contains", "value": "%"}, []),  # literal text
        ({"field": "phone", "operator": "null"}, ["Dahl"]),
        ({"field": "phone", "operator": "not_null"}, ["Aho", "Berg", "Cole"]),
    ],
)
def test_phone_filters_match_any_phone_of_the_customer(
    repo: SqlRepository, people: dict[str, str], flt: dict[str, str], expected: list[str]
) -> None:
    assert search(repo, flt) == expected


def test_phone_filters_combine_and_take_replacement_values(
    repo: SqlRepository, people: dict[str, str]
) -> None:
    both = ({"field": "phone", "value": "[[cti.ani]]"}, {"field": "last_name", "value": "Dahl"})
    either = spec(filters=both, match="any", order_by=[{"field": "last_name"}])
    rows = repo.search(either, {"session": {"cti": {"ani": "09 7654321"}}}).rows
    assert [r["full_name"] for r in rows] == ["Berg", "Dahl"]
    part = spec(filters=[{"field": "phone", "operator": "contains", "value": "[[c.part]]"}])
    assert repo.search(part, {"session": {"c": {"part": "%"}}}).total == 0
    assert repo.search(part, {"session": {"c": {"part": "555"}}}).total == 1


def test_ordering_operators_are_refused_on_phones(repo: SqlRepository, people: dict[str, str]) -> None:
    with pytest.raises(DataError, match=r"entity 'contact', field 'phone' \(Phone\): lt is not supported"):
        search(repo, {"field": "phone", "operator": "lt", "value": "+358"})


def test_the_queries_use_the_phone_indexes(repo: SqlRepository, people: dict[str, str]) -> None:
    by_number = spec(columns=["phone"], filters=[{"field": "phone", "value": "+358401234567"}])
    rows, count = statements(by_number, {}, repo.entities, default_region="FI")
    assert "ix_phones_contact_id (contact_id=?)" in plan(repo, rows)  # the main phone per row
    assert "ix_phones_e164 (e164=?)" in plan(repo, rows)  # eq starts from the number
    assert "ix_phones_e164 (e164=?)" in plan(repo, count)
    assert "SCAN contacts" not in plan(repo, count)
    account = EntitySearch(name="a", entity="account", columns=["phone"])
    assert "ix_phones_account_id (account_id=?)" in plan(repo, statements(account, {}, repo.entities)[0])


# ---------------------------------------------------------------------- notifications


async def test_data_services_announce_contact_saves_with_a_phone(repo: SqlRepository) -> None:
    services = DataServices(repo)
    changes: list[RecordChange] = []
    services.changed.connect(changes.append)
    try:
        cid = await services.create("contact", {"last_name": "Salo", "phone": "+358401234567"})
        after = await services.update("contact", cid, {"phone": "+358 50 123 4567"})
    finally:
        services.close()
    assert [(c.kind, c.entity, c.id) for c in changes] == [
        ("created", "contact", cid), ("updated", "contact", cid)]
    assert changes[0].values["phone"] == "+358401234567"
    assert changes[1].values == {"phone": "+358 50 123 4567"}
    assert (changes[1].before or {})["phone"] == "+358401234567"
    assert after["phone"] == "+358 50 123 4567"
