"""The Data field: splitting, rendering line by line, reading by name/position/remainder, typed values."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usd_desktop.core.datafield import (
    ActionData,
    DataFieldError,
    EntityReference,
    OptionSetValue,
    PartyList,
    parse_typed,
    render_data,
    split_data,
)
from usd_desktop.core.errors import MissingParameter, UsdError
from usd_desktop.core.replacement import ReplacementSyntaxError

GUID = "{5D6B1A4C-2E2F-4C3B-9C1E-8A1B2C3D4E5F}"


# ------------------------------------------------------------------------------------ split_data
def test_split_on_every_kind_of_line_break_and_drop_blank_lines() -> None:
    assert split_data("a=1\r\nb=2\rc=3\nd\n\n   \r\n\te=5 ") == ["a=1", "b=2", "c=3", "d", "\te=5 "]
    assert split_data("") == []
    assert split_data("\n\r\n") == []


def test_line_breaks_inside_constructs_do_not_split() -> None:
    template = (
        "header=$Multiline(accessToken;[[a.b]]\nrefreshToken;x)\n"
        "script=$Expression(function f() {\n  return ')\\n';\n}\nf();)\n"
        "last=[[$Context.x]]"
    )
    assert split_data(template) == [
        "header=$Multiline(accessToken;[[a.b]]\nrefreshToken;x)",
        "script=$Expression(function f() {\n  return ')\\n';\n}\nf();)",
        "last=[[$Context.x]]",
    ]


def test_nested_construct_across_lines() -> None:
    template = "a\n$Multiline( $Expression( function doWork(){\nreturn 1;\n} doWork(); ))\nb"
    assert split_data(template) == [
        "a",
        "$Multiline( $Expression( function doWork(){\nreturn 1;\n} doWork(); ))",
        "b",
    ]


def test_unclosed_construct_raises() -> None:
    with pytest.raises(ReplacementSyntaxError):
        split_data("a=1\nb=$Expression(1 +\n2\n")


# ----------------------------------------------------------------------------------- render_data
DATA: dict[str, Any] = {
    "session": {
        "contact": {"Id": GUID, "notes": "line one\r\nline two"},
        "$Context": {"etc": "1"},
    },
    "event": {"url": "https://x/?a=b"},
}


def test_render_data_renders_each_line() -> None:
    data = render_data("LogicalName=contact\nid=[[contact.Id]]\nurl=[[url]]", DATA)
    assert data.lines == ("LogicalName=contact", f"id={GUID}", "url=https://x/?a=b")
    assert data.get("id") == GUID
    assert data.get("url") == "https://x/?a=b"


def test_a_rendered_value_with_line_breaks_stays_one_item() -> None:
    data = render_data("text=[[contact.notes]]\nnext=1", DATA)
    assert data.lines == ("text=line one\r\nline two", "next=1")
    assert data.get("text") == "line one\r\nline two"


def test_missing_parameter_aborts_the_whole_call() -> None:
    with pytest.raises(MissingParameter) as info:
        render_data("a=1\nb=[[contact.nothing]]\nc=[[contact.Id]]", DATA)
    assert info.value.parameter == "contact.nothing"


def test_lines_rendering_blank_are_dropped_but_empty_values_kept() -> None:
    data = render_data("[[contact.nothing]+]\nkey=[[contact.nothing]+]\nlast", DATA)
    assert data.lines == ("key=", "last")
    assert data.get("key") == ""


def test_render_data_with_multiline_and_expression() -> None:
    template = 'header=$Multiline(\n  a;[[$Context.etc]]\n  b\n)\nx=$Expression("[[$Context.etc]]" == "1"\n)'
    data = render_data(template, DATA)
    assert data.get("header") == "a;1\n  b"
    assert data.get("x") == "true"


def test_render_data_scriptlets() -> None:
    data = render_data("v=[[script.Two]]", DATA, scriptlets={"Two": "1 + 1"})
    assert data.get("v") == "2"


# ------------------------------------------------------------------------------------ ActionData
def test_key_value_split_at_the_first_equals_sign() -> None:
    data = ActionData(["  url =https://x/?a=b&c=d", "title= spaced value ", "trail=cr\r"])
    assert data.get("url") == "https://x/?a=b&c=d"
    assert data.get("title") == " spaced value "
    assert data.get("trail") == "cr"
    assert data.items() == [
        ("url", "https://x/?a=b&c=d"),
        ("title", " spaced value "),
        ("trail", "cr"),
    ]


def test_lookup_ignores_case_and_first_match_wins() -> None:
    data = ActionData(["Name=first", "NAME=second", "other=x"])
    assert data.get("name") == "first"
    assert "nAmE" in data
    assert "missing" not in data
    assert 3 not in data
    assert data.get("missing") is None
    assert data.get("missing", "dflt") == "dflt"
    assert data.as_dict() == {"Name": "first", "other": "x"}


def test_take_removes_like_get_and_remove_parameter() -> None:
    data = ActionData(["name=first", "name=second", "free text", "k=v"])
    assert data.take("NAME") == "first"
    assert data.get("name") == "second"
    assert data.take("name") == "second"
    assert data.take("name") is None
    assert data.take("name", "none left") == "none left"
    assert "name" not in data
    assert data.items() == [("k", "v")]
    assert data.remainder() == "free text\nk=v"
    assert data.lines == ("name=first", "name=second", "free text", "k=v")
    assert data.raw == "name=first\nname=second\nfree text\nk=v"


def test_remainder_keeps_the_original_lines() -> None:
    data = ActionData(["caption=Hi", "Hello [x] = y", "second line"])
    assert data.take("caption") == "Hi"
    assert data.remainder() == "Hello [x] = y\nsecond line"


def test_positional_lines() -> None:
    data = ActionData(["webResourceName=new_x", "functionName=go", "'a'", "=odd", "'c'"])
    assert data.positionals() == ("'a'", "=odd", "'c'")
    assert data.positional(0) == "'a'"
    assert data.positional(2) == "'c'"
    assert data.positional(-1) == "'c'"
    assert data.positional(3) is None
    assert data.positional(9, "none") == "none"
    assert data.take("webResourceName") == "new_x"
    assert data.positional(0) == "'a'"


def test_parse_and_from_mapping_and_copy() -> None:
    parsed = ActionData.parse("a=1\r\n\r\nb=2\rc")
    assert parsed.lines == ("a=1", "b=2", "c")
    made = ActionData.from_mapping({"name": "MyEvent", "n": 3, "f": True, "none": None})
    assert made.lines == ("name=MyEvent", "n=3", "f=true", "none=")
    assert made.take("name") == "MyEvent"
    copy = made.copy()
    assert copy.get("name") == "MyEvent"
    assert copy == made
    assert len(made) == 4
    assert list(made) == list(made.lines)
    assert "ActionData" in repr(made)
    assert ActionData() == ActionData([])
    assert ActionData().remainder() == ""


def test_typed_reads_a_typed_value_by_name() -> None:
    data = ActionData([f"customerid=EntityReference(account,{GUID})", "n=OptionSetValue(x)"])
    assert data.typed("CustomerId") == EntityReference("account", GUID)
    assert data.typed("absent") is None
    assert data.typed("absent", 5) == 5
    with pytest.raises(DataFieldError) as info:
        data.typed("n")
    assert info.value.key == "n"
    assert "n=OptionSetValue(x)" in str(info.value)


# ---------------------------------------------------------------------------------- typed values
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'EntityReference("account","{GUID}")', EntityReference("account", GUID)),
        (f"EntityReference(account,{GUID})", EntityReference("account", GUID)),
        (f" EntityReference( 'contact' , {GUID} ) ", EntityReference("contact", GUID)),
        ("OptionSetValue(3)", OptionSetValue(3)),
        ("OptionSetValue( -12 )", OptionSetValue(-12)),
        ('OptionSetValue("7")', OptionSetValue(7)),
        ("Boolean(true)", True),
        ("Boolean(1)", True),
        ("Boolean(False)", False),
        ("Boolean(0)", False),
        ("boolean(TRUE)", True),
        (
            f'PartyList(email["a@b"], er["contact", {GUID}])',
            PartyList((("email", "a@b"), EntityReference("contact", GUID))),
        ),
        ("PartyList(email[x@y.z])", PartyList((("email", "x@y.z"),))),
        ("PartyList()", PartyList(())),
        ("plain text", "plain text"),
        ("", ""),
        ("Entity(account)", "Entity(account)"),
        ("see EntityReference(a,b)", "see EntityReference(a,b)"),
    ],
)
def test_parse_typed(text: str, expected: Any) -> None:
    result = parse_typed(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "OptionSetValue(x)",
        "OptionSetValue()",
        "OptionSetValue(1, 2)",
        "OptionSetValue(3",
        "OptionSetValue(1.5)",
        "Boolean(maybe)",
        "Boolean()",
        "EntityReference(account)",
        "EntityReference(account,)",
        "EntityReference(a,b,c)",
        'EntityReference("account, x)',
        "PartyList(phone[123])",
        'PartyList(email[""])',
        "PartyList(er[contact])",
        "PartyList(email[a@b]",
        "PartyList(email[a@b]]",
    ],
)
def test_malformed_typed_values_raise(text: str) -> None:
    with pytest.raises(DataFieldError) as info:
        parse_typed(text, key="field")
    assert isinstance(info.value, UsdError)
    assert info.value.key == "field"
    assert info.value.value == text
    assert "field=" in str(info.value)


def test_party_list_takes_a_list_too() -> None:
    parties = PartyList([("email", "a@b")])  # type: ignore[arg-type]
    assert parties.parties == (("email", "a@b"),)
    assert hash(parties) == hash(PartyList((("email", "a@b"),)))


# ------------------------------------------------------------------------------------ properties
plain = st.text(alphabet=st.characters(blacklist_characters="$"), max_size=60)


@settings(max_examples=150, deadline=None)
@given(plain)
def test_split_data_without_constructs_is_a_plain_line_split(text: str) -> None:
    expected = [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    assert split_data(text) == expected
    assert ActionData.parse(text).lines == tuple(expected)


lines = st.lists(st.text(alphabet=st.sampled_from(list("ab =Ab\t")), max_size=8), max_size=8)


@settings(max_examples=150, deadline=None)
@given(lines, st.lists(st.sampled_from(["a", "A", "b", " ab ", "", "x"]), max_size=6))
def test_take_then_remainder_matches_a_simple_model(raw_lines: list[str], names: list[str]) -> None:
    data = ActionData(raw_lines)
    model = [(line.partition("=")[0].strip().casefold(), "=" in line, line) for line in raw_lines]
    left = list(range(len(model)))
    for name in names:
        fold = name.strip().casefold()
        hit = next((i for i in left if model[i][1] and model[i][0] and model[i][0] == fold), None)
        value = data.take(name)
        if hit is None:
            assert value is None
        else:
            assert value == model[hit][2].partition("=")[2]
            left.remove(hit)
    assert data.remainder() == "\n".join(model[i][2] for i in left)
    assert data.raw == "\n".join(raw_lines)
