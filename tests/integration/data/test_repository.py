"""CRUD through the SQL repository, validation errors that name entity and field, phone lookup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from usd_desktop.data.errors import DataError
from usd_desktop.data.repository import Repository, SqlRepository


def test_sql_repository_is_a_repository(repo: SqlRepository) -> None:
    assert isinstance(repo, Repository)
    assert (
        "case" in repo.entities and "waiting_for_customer" in repo.entities["case"].fields["status"].options
    )


def test_create_get_update_delete(repo: SqlRepository) -> None:
    account = repo.create("account", {"name": "Mäkinen Oy", "segment": "enterprise"})
    contact = repo.create(
        "contact",
        {"first_name": "Ioana", "last_name": "Popescu", "account_id": account, "preferred_language": "ro"},
    )
    got = repo.get("contact", contact)
    assert got is not None and got["full_name"] == "Ioana Popescu" and got["account_id"] == account
    assert got["created_at"].tzinfo is not None
    due = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    case = repo.create("case", {"title": "Invoice wrong", "contact_id": contact, "due_at": due.isoformat()})
    row = repo.get("case", case)
    assert row is not None
    assert row["status"] == "open" and row["priority"] == "normal" and row["case_number"].startswith("CAS-")
    assert row["due_at"] == due
    repo.update("case", case, {"status": "resolved", "resolution": "Credited", "escalation_level": "2"})
    row = repo.get("case", case)
    assert row is not None and row["status"] == "resolved" and row["escalation_level"] == 2
    assert row["updated_at"] is not None
    repo.update("case", case, {"status": "waiting_for_customer"})  # a status the configuration adds
    interaction = repo.create(
        "interaction",
        {
            "channel": "phone",
            "case_id": case,
            "contact_id": contact,
            "first_contact_resolution": "true",
            "transfers": 1,
        },
    )
    note = repo.create("note", {"interaction_id": interaction, "body": "Called back", "author": "agent1"})
    assert repo.get("interaction", interaction)["first_contact_resolution"] is True  # type: ignore[index]
    repo.delete("contact", contact)  # its cases, interactions and notes go with it
    assert repo.get("contact", contact) is None
    assert repo.get("case", case) is None and repo.get("note", note) is None
    assert repo.get("account", account) is not None
    repo.create("knowledge_article", {"title": "Reset a password", "body": "Steps", "tags": "account,login"})
    campaign = repo.create("campaign", {"name": "Renewals", "status": "active"})
    entry = repo.create("call_list_entry", {"campaign_id": campaign, "number": "+40 721 234 567"})
    repo.update("call_list_entry", entry, {"status": "callback", "attempts": 1, "callback_at": due})
    assert repo.get("call_list_entry", entry)["callback_at"] == due  # type: ignore[index]


@pytest.mark.parametrize(
    ("entity", "values", "words"),
    [
        ("casse", {"title": "x"}, ["'casse'"]),
        ("case", {"titel": "x"}, ["'case'", "'titel'"]),
        ("case", {"description": "x"}, ["'case'", "'title'", "required"]),
        ("case", {"title": "x", "status": "lost"}, ["'case'", "'status'", "lost"]),
        ("case", {"title": "x", "escalation_level": "high"}, ["'case'", "'escalation_level'"]),
        ("interaction", {"channel": "pigeon"}, ["'interaction'", "'channel'"]),
        (
            "interaction",
            {"channel": "chat", "first_contact_resolution": "maybe"},
            ["'first_contact_resolution'"],
        ),
        ("phone", {"number": "+358401234567", "e164": "+1"}, ["'phone'", "'e164'", "cannot be written"]),
        ("account", {"name": "x" * 201}, ["'account'", "'name'", "longer"]),
    ],
)
def test_validation_errors_name_entity_and_field(
    repo: SqlRepository, entity: str, values: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(DataError) as caught:
        repo.create(entity, values)
    for word in words:
        assert word in str(caught.value)


def test_update_and_delete_errors(repo: SqlRepository) -> None:
    case = repo.create("case", {"title": "x"})
    with pytest.raises(DataError, match=r"'title'.*required"):
        repo.update("case", case, {"title": None})
    with pytest.raises(DataError, match="no record 'nope'"):
        repo.update("case", "nope", {"title": "y"})
    with pytest.raises(DataError, match="no record 'nope'"):
        repo.delete("case", "nope")
    with pytest.raises(DataError, match="cannot create the case record"):
        repo.create("case", {"title": "x", "contact_id": "no-such-contact"})


NUMBERS = {
    "+358401234567": ["+358 40 123 4567", "00358401234567", "+358-40-123-45-67", "+358 (0)40 1234567"],
    "+40721234567": ["+40 721 234 567", "0040 721 234 567", "+40 (721) 234-567"],
    "+8613812345678": ["+86 138 1234 5678", "0086 13812345678"],
    "+12025550143": ["(202) 555-0143", "202.555.0143", "+1 202 555 0143", "1-202-555-0143"],
    "+447400123456": ["+44 7400 123456", "0044 7400 123 456"],
}


def test_phone_lookup_finds_the_customer_by_any_formatting_of_any_number(repo: SqlRepository) -> None:
    contact = repo.create("contact", {"first_name": "Wang", "last_name": "Fang"})
    account = repo.create("account", {"name": "Tamm & Co"})
    other = repo.create("contact", {"first_name": "Other", "last_name": "Person"})
    repo.create("phone", {"contact_id": other, "number": "+358 40 765 4321"})
    owners = {}
    for index, e164 in enumerate(NUMBERS):
        owner = ("contact", contact) if index % 2 == 0 else ("account", account)
        owners[e164] = owner
        typed = NUMBERS[e164][0]
        phone = repo.create("phone", {f"{owner[0]}_id": owner[1], "number": typed})
        assert repo.get("phone", phone)["e164"] == e164  # type: ignore[index]
    for e164, variants in NUMBERS.items():
        for variant in [e164, *variants]:
            found = repo.find_customers_by_phone(variant)
            assert [(m.entity, m.id) for m in found] == [owners[e164]], variant
    assert repo.find_customers_by_phone("+358 40 000 0000") == []
    assert repo.find_customers_by_phone("not a number'; DROP TABLE phones; --") == []
    assert repo.get("contact", other) is not None


def test_a_shared_number_finds_every_customer(repo: SqlRepository) -> None:
    a = repo.create("contact", {"last_name": "Virtanen", "first_name": "Aino"})
    b = repo.create("contact", {"last_name": "Virtanen", "first_name": "Eero"})
    for owner in (a, b):
        repo.create("phone", {"contact_id": owner, "number": "09 123 4567", "kind": "home"})
    # a national number is read in the repository's default region (US here: not a valid number)
    assert repo.find_customers_by_phone("+358 9 123 4567") == []
    finnish = SqlRepository(repo.url, default_region="FI")
    try:
        phone = finnish.create("phone", {"contact_id": a, "number": "09 123 4567"})
        finnish.create("phone", {"contact_id": b, "number": "+358 9 1234567"})
        assert finnish.get("phone", phone)["e164"] == "+35891234567"  # type: ignore[index]
        assert {m.id for m in finnish.find_customers_by_phone("(09) 123 4567")} == {a, b}
    finally:
        finnish.close()
