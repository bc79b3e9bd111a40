"""Custom fields and option values from the configuration: configure problems, writes, reads, searches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from usd_desktop.config.schema_data import CustomField, OptionValues
from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import ENTITIES, build_entities
from usd_desktop.data.repository import SqlRepository

FIELDS = [
    CustomField(
        entity="contact", name="loyalty_tier", label="Loyalty tier", options=["bronze", "silver", "gold"]
    ),
    CustomField(entity="contact", name="nickname", max_length=40),
    CustomField(entity="contact", name="visits", type="integer"),
    CustomField(entity="contact", name="score", type="float"),
    CustomField(entity="contact", name="vip", type="boolean"),
    CustomField(entity="contact", name="last_seen", type="datetime"),
    CustomField(entity="contact", name="member_since", type="date"),
    CustomField(entity="case", name="product", type="text", label="Product"),
]
OPTIONS = [OptionValues(entity="case", field="priority", values=["critical"])]
CUSTOM_NAMES = [f.name for f in FIELDS if f.entity == "contact"]


@pytest.fixture
def custom(repo: SqlRepository) -> SqlRepository:
    assert repo.configure(FIELDS, OPTIONS) == []
    return repo


def _stored_custom(repo: SqlRepository, table: str, id: str) -> Any:
    with repo.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT custom FROM {table} WHERE id = :id"), {"id": id}).scalar_one()


# ---------------------------------------------------------------------- configure


def test_build_entities_with_custom_fields() -> None:
    entities = build_entities({"case": {"status": ["waiting"]}}, FIELDS)
    assert (
        entities["contact"].fields["visits"].custom and entities["contact"].fields["visits"].label == "visits"
    )
    assert entities["case"].fields["status"].options[-1] == "waiting"
    assert "loyalty_tier" not in ENTITIES["contact"].fields and "custom" not in ENTITIES["contact"].fields
    with pytest.raises(DataError, match="custom field 'x' of unknown entity 'casse'"):
        build_entities(None, [CustomField(entity="casse", name="x")])
    with pytest.raises(DataError, match="'title' of entity 'case' clashes with a built-in field"):
        build_entities(None, [CustomField(entity="case", name="title")])
    with pytest.raises(DataError, match="unknown field 'custom'"):
        build_entities({"case": {"custom": ["x"]}})
    with pytest.raises(DataError, match=r"'contact', field 'visits' is a custom field: it has no column"):
        entities["contact"].column("visits")


def test_configure_adds_fields_and_options(custom: SqlRepository) -> None:
    contact = custom.entities["contact"]
    tier = contact.fields["loyalty_tier"]
    assert tier.custom and tier.label == "Loyalty tier" and tier.options == ("bronze", "silver", "gold")
    assert contact.fields["nickname"].label == "nickname" and contact.fields["nickname"].max_length == 40
    assert contact.fields["visits"].type == "integer" and not contact.fields["full_name"].custom
    assert "custom" not in contact.fields and "custom" not in custom.entities["case"].fields
    assert [f.name for f in contact.custom_fields] == CUSTOM_NAMES
    assert custom.entities["case"].fields["priority"].options[-1] == "critical"
    # the options given when opened stay; configuring again starts from the built-in fields
    assert "waiting_for_customer" in custom.entities["case"].fields["status"].options
    assert custom.configure([], []) == []
    assert "loyalty_tier" not in custom.entities["contact"].fields
    assert "critical" not in custom.entities["case"].fields["priority"].options
    assert "waiting_for_customer" in custom.entities["case"].fields["status"].options


def test_configure_reports_and_skips_only_the_bad_records(repo: SqlRepository) -> None:
    fields = [
        CustomField(entity="contact", name="loyalty_tier"),
        CustomField(entity="contact", name="shoe_size", type="integer"),
        CustomField(entity="contactt", name="loyalty_tier"),
        CustomField(entity="case", name="status"),
        CustomField(entity="contact", name="loyalty_tier", type="integer"),
        CustomField(entity="contact", name="custom"),
        CustomField(entity="contact", name="rank", type="integer", options=["1", "2"]),
        CustomField(entity="contact", name="size", type="float", max_length=3),
        CustomField(entity="contact", name="code", options=["ABCD"], max_length=3),
    ]
    options = [
        OptionValues(entity="case", field="status", values=["waiting_for_parts"]),
        OptionValues(entity="casse", field="status", values=["x"]),
        OptionValues(entity="case", field="state", values=["x"]),
        OptionValues(entity="case", field="title", values=["x"]),
        OptionValues(entity="case", field="status", values=["x" * 41]),
        OptionValues(entity="case", field="status", values=[" "]),
        OptionValues(entity="case", field="shoe_size", values=["x"]),
    ]
    problems = repo.configure(fields, options)
    assert len(problems) == 13, problems
    expected = [
        ('custom_fields[2] "loyalty_tier"', "entity 'contactt' is unknown (entities: account, contact,"),
        (
            'custom_fields[3] "status"',
            "entity 'case', field 'status' clashes with the built-in field 'status'",
        ),
        ('custom_fields[4] "loyalty_tier"', "already has a custom field 'loyalty_tier' (custom_fields[0])"),
        ('custom_fields[5] "custom"', "'custom' is reserved"),
        ('custom_fields[6] "rank"', "options need a string or text field, not integer"),
        ('custom_fields[7] "size"', "max_length needs a string or text field, not float"),
        ('custom_fields[8] "code"', "option 'ABCD' is longer than max_length 3"),
        ("option_values[1] (casse.status)", "entity 'casse' is unknown"),
        ("option_values[2] (case.state)", "entity 'case' has no field 'state'"),
        ("option_values[3] (case.title)", "field 'title' (Title) has no option set"),
        ("option_values[4] (case.status)", "is longer than 40 characters"),
        ("option_values[5] (case.status)", "an option value is empty"),
        ("option_values[6] (case.shoe_size)", "entity 'case' has no field 'shoe_size'"),
    ]
    for problem, (where, what) in zip(problems, expected, strict=True):
        assert problem.startswith(where + ": ") and what in problem, problem
    contact = repo.entities["contact"]
    assert contact.fields["loyalty_tier"].type == "string" and contact.fields["shoe_size"].type == "integer"
    assert not {"custom", "rank", "size", "code"} & set(contact.fields)
    assert repo.entities["case"].fields["status"].options[-2:] == (
        "waiting_for_customer",
        "waiting_for_parts",
    )
    assert "x" not in repo.entities["case"].fields["status"].options


# ---------------------------------------------------------------------- writes and reads


def test_create_get_update_with_custom_fields(custom: SqlRepository) -> None:
    contact = custom.create(
        "contact",
        {
            "first_name": "Aino",
            "last_name": "Virtanen",
            "loyalty_tier": "gold",
            "nickname": "Ainoski",
            "visits": "12",
            "score": "2.5",
            "vip": "yes",
            "last_seen": "2026-03-04T10:30:00+02:00",
            "member_since": "2020-02-29",
        },
    )
    got = custom.get("contact", contact)
    assert got is not None and "custom" not in got
    assert (
        got["full_name"] == "Aino Virtanen" and got["loyalty_tier"] == "gold" and got["nickname"] == "Ainoski"
    )
    assert got["visits"] == 12 and isinstance(got["visits"], int)
    assert got["score"] == 2.5 and got["vip"] is True
    assert got["last_seen"] == datetime(2026, 3, 4, 8, 30, tzinfo=UTC) and got["last_seen"].tzinfo is UTC
    assert got["member_since"] == date(2020, 2, 29)
    stored = _stored_custom(custom, "contacts", contact)
    text = stored if isinstance(stored, str) else json.dumps(stored)
    assert "2026-03-04T08:30:00.000000+00:00" in text and "2020-02-29" in text  # JSON-friendly, in UTC

    custom.update("contact", contact, {"visits": 13})  # merged: the others stay
    got = custom.get("contact", contact)
    assert got is not None and got["visits"] == 13 and got["loyalty_tier"] == "gold" and got["vip"] is True
    assert got["member_since"] == date(2020, 2, 29)
    custom.update("contact", contact, {"nickname": None, "vip": False, "last_name": "Korhonen"})
    got = custom.get("contact", contact)
    assert got is not None and got["nickname"] is None and got["vip"] is False and got["visits"] == 13
    assert got["last_name"] == "Korhonen" and got["score"] == 2.5

    plain = custom.create("contact", {"last_name": "Plain"})
    got = custom.get("contact", plain)
    assert got is not None and all(got[name] is None for name in CUSTOM_NAMES)
    assert _stored_custom(custom, "contacts", plain) is None
    custom.update("contact", plain, {"score": 1})  # the first custom value of a record
    assert custom.get("contact", plain)["score"] == 1.0  # type: ignore[index]

    case = custom.create("case", {"title": "Broken", "contact_id": contact, "product": "Router X"})
    custom.update("case", case, {"priority": "critical"})
    got = custom.get("case", case)
    assert got is not None and got["product"] == "Router X" and got["priority"] == "critical"


def test_each_update_merges_into_the_stored_values(custom: SqlRepository) -> None:
    contact = custom.create("contact", {"last_name": "Merge", "visits": 1})
    for index, name in enumerate(["loyalty_tier", "nickname", "score"]):
        value = {"loyalty_tier": "silver", "nickname": "m", "score": 0.5}[name]
        custom.update("contact", contact, {name: value})
        got = custom.get("contact", contact)
        assert got is not None and got["visits"] == 1 and got[name] == value, index
    got = custom.get("contact", contact)
    assert got is not None and (got["loyalty_tier"], got["nickname"], got["score"]) == ("silver", "m", 0.5)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"loyalty_tier": "platinum"}, ["'contact'", "'loyalty_tier'", "Loyalty tier", "platinum"]),
        ({"nickname": "x" * 41}, ["'contact'", "'nickname'", "longer than 40"]),
        ({"visits": "many"}, ["'contact'", "'visits'", "many"]),
        ({"visits": str(2**63)}, ["'visits'", "out of range"]),
        ({"score": "nan"}, ["'score'", "finite"]),
        ({"vip": "maybe"}, ["'vip'", "true or false"]),
        ({"last_seen": "yesterday"}, ["'last_seen'"]),
        ({"member_since": "2021-02-30"}, ["'member_since'"]),
        ({"custom": {"visits": 1}}, ["'contact' has no field 'custom'"]),
    ],
)
def test_custom_values_are_checked(custom: SqlRepository, values: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(DataError) as caught:
        custom.create("contact", {"last_name": "Checked", **values})
    for word in words:
        assert word in str(caught.value)
    contact = custom.create("contact", {"last_name": "Checked"})
    with pytest.raises(DataError) as caught:
        custom.update("contact", contact, values)
    assert words[0] in str(caught.value)


def test_a_required_custom_field(custom: SqlRepository) -> None:
    campaign = custom.create("campaign", {"name": "Before"})
    required = [CustomField(entity="campaign", name="budget", type="float", required=True, label="Budget")]
    assert custom.configure(required, []) == []
    with pytest.raises(DataError, match=r"entity 'campaign', field 'budget' \(Budget\) is required"):
        custom.create("campaign", {"name": "Spring"})
    created = custom.create("campaign", {"name": "Spring", "budget": "1000"})
    assert custom.get("campaign", created)["budget"] == 1000.0  # type: ignore[index]
    custom.update("campaign", campaign, {"status": "active"})  # an older record, not touching it
    with pytest.raises(DataError, match=r"'budget'.*required"):
        custom.update("campaign", created, {"budget": None})


def test_a_value_that_no_longer_fits_its_type_is_read_as_stored(custom: SqlRepository) -> None:
    contact = custom.create("contact", {"last_name": "Changed", "nickname": "twelve"})
    retyped = [CustomField(entity="contact", name="nickname", type="integer")]
    assert custom.configure(retyped, []) == []
    assert custom.get("contact", contact)["nickname"] == "twelve"  # type: ignore[index]


def test_searching_a_value_that_no_longer_fits_its_type(custom: SqlRepository) -> None:
    custom.create("contact", {"last_name": "Changed", "full_name": "Changed", "nickname": "twelve"})
    custom.create("contact", {"last_name": "Fits", "full_name": "Fits", "nickname": "12"})
    assert custom.configure([CustomField(entity="contact", name="nickname", type="integer")], []) == []
    if custom.engine.dialect.name == "postgresql":  # the cast fails: an error naming the search and entity
        with pytest.raises(DataError, match="search 's' of entity 'contact' failed"):
            _names(custom, filters=_flt("nickname", "gt", "1"))
    else:  # SQLite casts text that is no number to 0
        assert _names(custom, filters=_flt("nickname", "gt", "1")) == ["Fits"]


def test_values_of_fields_no_longer_configured_stay_stored(custom: SqlRepository) -> None:
    contact = custom.create("contact", {"last_name": "Kept", "loyalty_tier": "bronze", "visits": 3})
    assert custom.configure([f for f in FIELDS if f.name != "loyalty_tier"], []) == []
    got = custom.get("contact", contact)
    assert got is not None and "loyalty_tier" not in got and got["visits"] == 3
    custom.update("contact", contact, {"visits": 4})
    assert custom.configure(FIELDS, []) == []
    got = custom.get("contact", contact)
    assert got is not None and got["loyalty_tier"] == "bronze" and got["visits"] == 4


# ---------------------------------------------------------------------- searches

BASE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PEOPLE = [
    # name, tier, nickname, visits, score, vip, last seen (hours after BASE), member since
    ("Aino", "gold", "Ace", 9, 1.5, True, 0, date(2019, 5, 1)),
    ("Ioana", "silver", "' OR 1=1 --", 10, -2.0, False, 5, date(2021, 1, 1)),
    ("Fang", "bronze", "100%_sure", 100, 10.25, True, 30, date(2018, 12, 31)),
    ("Sean", "gold", "a_b%c", 2, 3.0, False, -3, None),
    ("Maria", None, "O'Brien", None, None, None, None, None),
    ("Wang", "silver", "100 percent", 1000, 0.0, True, 2, date(2024, 2, 29)),
]


@pytest.fixture
def people(custom: SqlRepository) -> dict[str, str]:
    offset = timezone(timedelta(hours=3))
    ids = {}
    for name, tier, nick, visits, score, vip, hours, since in PEOPLE:
        values: dict[str, Any] = {"first_name": name, "last_name": name, "full_name": name}
        optional = {
            "loyalty_tier": tier,
            "nickname": nick,
            "visits": visits,
            "score": score,
            "vip": vip,
            # written in another offset: kept and compared in UTC
            "last_seen": None
            if hours is None
            else (BASE + timedelta(hours=hours)).astimezone(offset).isoformat(),
            "member_since": since,
        }
        values.update({k: v for k, v in optional.items() if v is not None})
        ids[name] = custom.create("contact", values)
    return ids


def _names(repo: SqlRepository, data: dict[str, Any] | None = None, **search: Any) -> list[str]:
    search.setdefault("name", "s")
    search.setdefault("entity", "contact")
    search.setdefault("columns", ["full_name"])
    search.setdefault("order_by", [{"field": "full_name"}])
    result = repo.search(EntitySearch.model_validate(search), data or {})
    assert result.total == len(result.rows)
    return [row["full_name"] for row in result.rows]


def _flt(field: str, operator: str, value: str = "") -> list[dict[str, str]]:
    return [{"field": field, "operator": operator, "value": value}]


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("visits", "eq", "10", ["Ioana"]),
        ("visits", "gt", "9", ["Fang", "Ioana", "Wang"]),  # numeric, not text ("100" < "9")
        ("visits", "le", "10", ["Aino", "Ioana", "Sean"]),
        ("visits", "ne", "9", ["Fang", "Ioana", "Maria", "Sean", "Wang"]),
        ("visits", "in", "2, 1000", ["Sean", "Wang"]),
        ("visits", "null", "", ["Maria"]),
        ("visits", "not_null", "", ["Aino", "Fang", "Ioana", "Sean", "Wang"]),
        ("score", "lt", "1", ["Ioana", "Wang"]),
        ("score", "ge", "3", ["Fang", "Sean"]),
        ("score", "eq", "10.25", ["Fang"]),
        ("vip", "eq", "true", ["Aino", "Fang", "Wang"]),
        ("vip", "eq", "no", ["Ioana", "Sean"]),
        ("last_seen", "lt", "2026-01-01T14:00:00+00:00", ["Aino", "Sean"]),
        ("last_seen", "ge", "2026-01-01T16:00:00+02:00", ["Fang", "Ioana", "Wang"]),  # 14:00 UTC
        ("last_seen", "eq", "2026-01-01T17:00:00Z", ["Ioana"]),
        ("member_since", "lt", "2020-01-01", ["Aino", "Fang"]),
        ("member_since", "eq", "2024-02-29", ["Wang"]),
        ("member_since", "null", "", ["Maria", "Sean"]),
        ("loyalty_tier", "eq", "gold", ["Aino", "Sean"]),
        ("loyalty_tier", "in", "gold,bronze", ["Aino", "Fang", "Sean"]),
        ("loyalty_tier", "ne", "gold", ["Fang", "Ioana", "Maria", "Wang"]),
        ("nickname", "eq", "' OR 1=1 --", ["Ioana"]),
        ("nickname", "eq", "x' OR 1=1 --", []),
        ("nickname", "contains", "' OR 1=1 --", ["Ioana"]),
        ("nickname", "contains", "' OR '1'='1", []),
        ("nickname", "contains", "%_", ["Fang"]),
        ("nickname", "contains", "_", ["Fang", "Sean"]),
        ("nickname", "contains", "%", ["Fang", "Sean"]),
        ("nickname", "begins_with", "100%", ["Fang"]),
        ("nickname", "begins_with", "100", ["Fang", "Wang"]),
        ("nickname", "like", "a_b%", ["Sean"]),
        ("nickname", "like", "%o'b%", ["Maria"]),  # ignores case
        ("nickname", "contains", "ACE", ["Aino"]),
    ],
)
def test_filters_on_custom_fields(
    custom: SqlRepository, people: dict[str, str], field: str, operator: str, value: str, expected: list[str]
) -> None:
    assert _names(custom, filters=_flt(field, operator, value)) == expected
    assert custom.search(EntitySearch(name="all", entity="contact"), {}).total == len(PEOPLE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("' OR 1=1 --", ["Ioana"]),
        ("%_", ["Fang"]),
        ("%", ["Fang", "Sean"]),
        ("'; DELETE FROM contacts; --", []),
    ],
)
def test_replacement_values_on_custom_fields_are_bound(
    custom: SqlRepository, people: dict[str, str], value: str, expected: list[str]
) -> None:
    data = {"session": {"c": {"nick": value}}}
    assert _names(custom, data, filters=_flt("nickname", "contains", "[[c.nick]]")) == expected
    assert _names(custom, data, filters=_flt("nickname", "like", "%[[c.nick]]%")) == expected
    assert custom.search(EntitySearch(name="all", entity="contact"), {}).total == len(PEOPLE)


@pytest.mark.parametrize(
    ("field", "descending", "expected"),
    [
        ("visits", False, ["Sean", "Aino", "Ioana", "Fang", "Wang"]),
        ("visits", True, ["Wang", "Fang", "Ioana", "Aino", "Sean"]),
        ("score", False, ["Ioana", "Wang", "Aino", "Sean", "Fang"]),
        ("last_seen", False, ["Sean", "Aino", "Wang", "Ioana", "Fang"]),
        ("member_since", True, ["Wang", "Ioana", "Aino", "Fang"]),
        ("loyalty_tier", True, ["Ioana", "Wang", "Aino", "Sean", "Fang"]),
        ("vip", False, ["Ioana", "Sean", "Aino", "Fang", "Wang"]),
    ],
)
def test_sorting_on_custom_fields(
    custom: SqlRepository, people: dict[str, str], field: str, descending: bool, expected: list[str]
) -> None:
    order = [{"field": field, "descending": descending}, {"field": "full_name"}]
    assert (
        _names(custom, filters=_flt(field, "not_null"), order_by=order, columns=["full_name", field])
        == expected
    )


def test_custom_columns_come_back_typed(custom: SqlRepository, people: dict[str, str]) -> None:
    columns = ["full_name", *CUSTOM_NAMES]
    search = {"name": "c", "entity": "contact", "columns": columns, "order_by": [{"field": "full_name"}]}
    rows = {row["full_name"]: row for row in custom.search(EntitySearch.model_validate(search), {}).rows}
    assert set(rows["Aino"]) == {"id", *columns}
    fang = rows["Fang"]
    assert fang["loyalty_tier"] == "bronze" and fang["nickname"] == "100%_sure"
    assert fang["visits"] == 100 and isinstance(fang["visits"], int)
    assert fang["score"] == 10.25 and fang["vip"] is True
    assert fang["last_seen"] == BASE + timedelta(hours=30) and fang["last_seen"].tzinfo is not None
    assert fang["member_since"] == date(2018, 12, 31)
    assert rows["Ioana"]["vip"] is False and rows["Wang"]["score"] == 0.0
    assert all(rows["Maria"][name] is None for name in CUSTOM_NAMES if name != "nickname")
    for name, row in rows.items():  # a search row holds what get() reads
        got = custom.get("contact", people[name])
        assert got is not None and {f: got[f] for f in columns} == {f: row[f] for f in columns}


def test_custom_fields_with_match_any_and_paging(custom: SqlRepository, people: dict[str, str]) -> None:
    filters = [*_flt("vip", "eq", "true"), *_flt("visits", "lt", "5")]
    assert _names(custom, filters=filters, match="any") == ["Aino", "Fang", "Sean", "Wang"]
    assert _names(custom, filters=filters, match="all") == []
    search = EntitySearch.model_validate(
        {
            "name": "p",
            "entity": "contact",
            "max_count": 2,
            "order_by": [{"field": "visits", "descending": True}],
        }
    )
    pages = [custom.search(search, {}, page=page) for page in (1, 2, 3)]
    assert [len(p.rows) for p in pages] == [2, 2, 2] and {p.total for p in pages} == {len(PEOPLE)}


def test_custom_field_search_errors(custom: SqlRepository, people: dict[str, str]) -> None:
    with pytest.raises(DataError, match=r"'contact', field 'visits': contains needs a text field"):
        _names(custom, filters=_flt("visits", "contains", "1"))
    with pytest.raises(DataError, match="'visits'"):
        _names(custom, filters=_flt("visits", "gt", "many"))
    with pytest.raises(DataError, match="'contact' has no field 'custom'"):
        _names(custom, filters=_flt("custom", "null"))
    with pytest.raises(DataError, match="'contact' has no field 'custom'"):
        _names(custom, columns=["custom"])
