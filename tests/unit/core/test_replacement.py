"""Replacement parameters: the worked examples of the USD reference (§3.6, §3.8) and our decisions."""

from __future__ import annotations

from typing import Any

import pytest

from usd_desktop.core import errors, jsengine, replacement
from usd_desktop.core.replacement import (
    MAX_DEPTH_DEFAULT,
    MAX_DEPTH_OPTION,
    ExpansionLimitError,
    ExpressionError,
    ExpressionTimeout,
    MissingParameter,
    Parameter,
    ReplacementDepthError,
    ReplacementError,
    ReplacementSyntaxError,
    SelfReferenceError,
    parse,
    render,
    to_text,
    try_render,
)

GUID = "{5D6B1A4C-2E2F-4C3B-9C1E-8A1B2C3D4E5F}"


def session(**roots: dict[str, Any]) -> dict[str, Any]:
    return {"session": roots}


# ------------------------------------------------------------------ reference §3.8 (25 examples)
SECTION_3_8: list[tuple[str, str, dict[str, Any], str]] = [
    ("01", "[[account.name]]", session(account={"name": "My Account"}), "My Account"),
    ("03", "[[account.name]+]", session(), ""),
    (
        "04",
        "https://mysite?something=[[opportunity.name]u]",
        session(opportunity={"name": "My Opportunity"}),
        "https://mysite?something=My%20Opportunity",
    ),
    (
        "05",
        "[[mytemplate.value]]",
        session(
            account={"name": "My Account"},
            mytemplate={"value": "My template is [[account.name]+]"},
        ),
        "My template is [[account.name]+]",
    ),
    (
        "06",
        "[[mytemplate.value]v]",
        session(
            account={"name": "My Account"},
            mytemplate={"value": "My template is [[account.name]+]"},
        ),
        "My template is My Account",
    ),
    ("07", "Session: [[account.name]]", session(account={"name": "A. Datum"}), "Session: A. Datum"),
    ("09", "[[account.address1_line2]+x]", session(account={"name": "x"}), ""),
    ("10", "{[[incident.customerid.Id]x]}", session(incident={"customerid.Id": GUID[1:-1]}), GUID),
    (
        "11",
        "Welcome [[$Context.name]]. My name is [[$User.firstname]].",
        {
            "session": {"$Context": {"name": "Contoso"}},
            "global": {"$User": {"firstname": "Tracie"}},
        },
        "Welcome Contoso. My name is Tracie.",
    ),
    (
        "12",
        "customerid=EntityReference([[$Context.InitialEntity]],[[$Context.Id]])",
        session(**{"$Context": {"InitialEntity": "account", "Id": GUID}}),
        f"customerid=EntityReference(account,{GUID})",
    ),
    (
        "13",
        "primarycontactid=[[$Context.primarycontactid.id]+]",
        session(**{"$Context": {"name": "Contoso"}}),
        "primarycontactid=",
    ),
    (
        "14",
        "[[$Return.FindNoOfDaysCaseBeingOpened]]",
        session(**{"$Return": {"FindNoOfDaysCaseBeingOpened": "12"}}),
        "12",
    ),
    (
        "15",
        '"[[$Return.FindNoOfDaysCaseBeingOpened]]">9',
        session(**{"$Return": {"FindNoOfDaysCaseBeingOpened": "12"}}),
        '"12">9',
    ),
    # 16: FireEvent rendered var1=[[account.name]] when it fired; the action reads the bare param.
    (
        "16",
        "[[var1]]",
        {
            "session": {"account": {"name": "My Account"}},
            "event": {"name": "MyEvent", "var1": "My Account"},
        },
        "My Account",
    ),
    (
        "17",
        "[[$Resources.Welcome]]",
        {"global": {"$Resources": {"Welcome": "My Translated Welcome"}}},
        "My Translated Welcome",
    ),
    (
        "18",
        "sessionid=[[$Session.Global]g]",
        {
            "session": {"$Session": {"Global": "not this one"}},
            "global": {"$Session": {"Global": "0f1e2d3c"}},
        },
        "sessionid=0f1e2d3c",
    ),
    ("19", "[[cti.ani]]", session(cti={"ani": "1234", "dnis": "4355"}), "1234"),
    (
        "20",
        "You can have a maximum of [[$Global.maxNumberOfSessions]+] concurrent sessions open.",
        {"global": {"$Global": {"maxNumberOfSessions": 3}}},
        "You can have a maximum of 3 concurrent sessions open.",
    ),
    (
        "21",
        'url= https://mysite/showmessage.aspx?displayname=$Expression("[[$Context.etc]]" == "1"'
        ' ? "[[account.name]u+]" : "[[contact.fullname]u+]")',
        session(**{"$Context": {"etc": "1"}, "account": {"name": "My Account"}}),
        "url= https://mysite/showmessage.aspx?displayname=My%20Account",
    ),
    ("22", 'return "[[account.Id]$+]" != "";', session(account={"name": "x"}), 'return "" != "";'),
    (
        "23a",
        "[[Account.name]]",
        session(Account={"name": "Parent Co"}, account={"name": "Sub Co"}),
        "Parent Co",
    ),
    (
        "23b",
        "[[account.name]]",
        session(Account={"name": "Parent Co"}, account={"name": "Sub Co"}),
        "Sub Co",
    ),
    (
        "24",
        "url=[[KB Search.articleurl]g]",
        {"global": {"KB Search": {"articleurl": "https://kb/article/42"}}},
        "url=https://kb/article/42",
    ),
    ("25", "[[$Subject.Default Subject.Id]]", session(**{"$Subject": {"Default Subject.Id": GUID}}), GUID),
]


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [pytest.param(t, d, e, id=f"3.8-{n}") for n, t, d, e in SECTION_3_8],
)
def test_reference_examples(template: str, data: dict[str, Any], expected: str) -> None:
    assert render(template, data) == expected


def test_example_2_missing_parameter_aborts() -> None:
    with pytest.raises(MissingParameter) as info:
        render("[[account.name]]", session(account={"id": "1"}))
    assert info.value.parameter == "account.name"
    assert info.value.token == "[[account.name]]"
    assert isinstance(info.value, errors.MissingParameter)


def test_example_8_rule_with_a_missing_parameter_fails_so_the_next_rule_is_tried() -> None:
    data = session(account={"name": "A. Datum"})
    rules = ["[[account.name]]-[[account.address1_primarycontactname]]", "[[account.name]]"]
    results = [try_render(rule, data) for rule in rules]
    assert results == [None, "A. Datum"]
    assert next(r for r in results if r is not None) == "A. Datum"


def test_example_15_condition_is_true_in_javascript() -> None:
    rendered = render(
        '"[[$Return.FindNoOfDaysCaseBeingOpened]]">9',
        session(**{"$Return": {"FindNoOfDaysCaseBeingOpened": "12"}}),
    )
    assert jsengine.evaluate_to_bool(rendered) is True


def test_example_22_expression_is_false_while_the_id_is_missing() -> None:
    rendered = render('return "[[account.Id]$+]" != "";', session())
    assert rendered == 'return "" != "";'
    assert jsengine.evaluate_to_bool(rendered) is False
    rendered = render('return "[[account.Id]$+]" != "";', session(account={"Id": GUID}))
    assert jsengine.evaluate_to_bool(rendered) is True


# ---------------------------------------------------------------------------- §3.6 nesting
def test_depth_example_expands_inner_v_tokens_without_v_on_the_outer_token() -> None:
    data = {"event": {"Str3": "Level 3", "Str2": "Level 2 - [[Str3]v]", "Str1": "TopLevel - [[Str2]v]"}}
    assert render("[[Str1]]", data) == "TopLevel - Level 2 - Level 3"
    assert render("[[Str1]]", data, max_depth=2) == "TopLevel - Level 2 - Level 3"
    with pytest.raises(ReplacementDepthError) as info:
        render("[[Str1]]", data, max_depth=1)
    message = str(info.value)
    assert "[[Str1]] -> [[Str2]v] -> [[Str3]v]" in message
    assert MAX_DEPTH_OPTION in message
    assert "(1)" in message
    assert info.value.max_depth == 1
    assert info.value.chain == ("[[Str1]]", "[[Str2]v]", "[[Str3]v]")


def test_v_renders_every_inner_token_with_its_own_flags() -> None:
    data = session(a={"b": "<[[c.d]x]> [[e.f]u] [[g.h]+]"}, c={"d": "1<2"}, e={"f": "a b"})
    assert render("[[a.b]v]", data) == "<1&lt;2> a%20b "
    assert render("[[a.b]]", data) == "<[[c.d]x]> [[e.f]u] [[g.h]+]"


def test_a_nested_miss_follows_the_inner_token_flags() -> None:
    data = session(a={"b": "x [[c.d]v]"})
    with pytest.raises(MissingParameter) as info:
        render("[[a.b]+]", data)
    assert info.value.parameter == "c.d"
    assert render("[[a.b]]", session(a={"b": "x [[c.d]v+]"})) == "x "


def test_outer_modifiers_apply_after_expansion() -> None:
    data = session(a={"b": "[[c.d]v] & more"}, c={"d": "<b>"})
    assert render("[[a.b]x]", data) == "&lt;b&gt; &amp; more"
    assert render("[[a.b]u]", data) == "%3Cb%3E%20%26%20more"


def test_resources_are_always_rescanned() -> None:
    data = {
        "session": {"$Context": {"name": "Contoso"}},
        "global": {"$Resources": {"Hello": "Hello [[$Context.name]]!"}},
    }
    assert render("[[$Resources.Hello]]", data) == "Hello Contoso!"


def test_default_depth_and_the_option() -> None:
    chain = {f"s{i}": f"[[s{i + 1}]v]" for i in range(12)}
    chain["s12"] = "end"
    assert MAX_DEPTH_DEFAULT == 10
    with pytest.raises(ReplacementDepthError, match=r"\(10\)"):
        render("[[s0]]", {"event": chain})
    ten = {**chain, "s10": "end"}
    assert render("[[s0]]", {"event": ten}) == "end"
    option = {"$Global": {MAX_DEPTH_OPTION: "12"}}
    assert render("[[s0]]", {"event": chain, "global": option}) == "end"
    assert render("[[s0]]", {"event": chain, "session": option}) == "end"
    # the argument wins over the option; a bad option value falls back to the default
    with pytest.raises(ReplacementDepthError, match=r"\(3\)"):
        render("[[s0]]", {"event": chain, "global": option}, max_depth=3)
    bad = {"$Global": {MAX_DEPTH_OPTION: "lots"}}
    with pytest.raises(ReplacementDepthError, match=r"\(10\)"):
        render("[[s0]]", {"event": chain, "global": bad})


def test_depth_zero_allows_no_nested_expansion() -> None:
    data = session(a={"b": "[[c.d]v]", "plain": "no tokens"}, c={"d": "x"})
    with pytest.raises(ReplacementDepthError):
        render("[[a.b]]", data, max_depth=0)
    assert render("[[a.plain]v]", data, max_depth=0) == "no tokens"


@pytest.mark.parametrize(
    ("data", "template", "cycle"),
    [
        (session(a={"b": "x [[a.b]v]"}), "[[a.b]]", ("a.b", "a.b")),
        (session(a={"b": "x [[a.b]]"}), "[[a.b]v]", ("a.b", "a.b")),
        (session(a={"b": "[[c.d]v]"}, c={"d": "[[a.b]v]"}), "[[a.b]]", ("a.b", "c.d", "a.b")),
        ({"event": {"x": "[[y]v]", "y": "[[x]v]"}}, "[[x]]", ("x", "y", "x")),
    ],
)
def test_self_reference_is_reported_as_a_cycle(
    data: dict[str, Any], template: str, cycle: tuple[str, ...]
) -> None:
    with pytest.raises(SelfReferenceError) as info:
        render(template, data, max_depth=1 if len(cycle) == 2 else 10)
    assert info.value.cycle == cycle
    assert " -> ".join(cycle) in str(info.value)


def test_self_reference_wins_over_a_small_depth_limit() -> None:
    with pytest.raises(SelfReferenceError):
        render("[[a.b]]", session(a={"b": "[[a.b]v]"}), max_depth=0)


def test_exponential_fan_out_is_stopped() -> None:
    data = {"event": {f"l{i}": f"[[l{i + 1}]v][[l{i + 1}]v]" for i in range(40)}}
    data["event"]["l40"] = ""
    with pytest.raises(ExpansionLimitError):
        render("[[l0]]", data, max_depth=45)


def test_huge_depth_option_is_capped() -> None:
    chain = {f"s{i}": f"[[s{i + 1}]v]" for i in range(200)}
    chain["s200"] = "end"
    with pytest.raises(ReplacementDepthError, match=r"\(50\)"):
        render("[[s0]]", {"event": chain}, max_depth=10_000)


# ---------------------------------------------------------------------------------- modifiers
@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("[[a.b]]", 'it\'s "x" <&>', 'it\'s "x" <&>'),
        ("[[a.b]u]", "My Opportunity", "My%20Opportunity"),
        ("[[a.b]u]", "a/b?c=d&e#f~g-h.i_j", "a%2Fb%3Fc%3Dd%26e%23f~g-h.i_j"),
        ("[[a.b]u]", "é €", "%C3%A9%20%E2%82%AC"),
        ("[[a.b]x]", "a & b < c > d \" e ' f", "a &amp; b &lt; c &gt; d &quot; e &apos; f"),
        ("[[a.b]$]", 'say "hi"', 'say \\"hi\\"'),
        ("[[a.b]$]", "it's", "it\\'s"),
        ("[[a.b]$]", "back\\slash", "back\\\\slash"),
        ("[[a.b]$]", "l1\r\nl2\tt", "l1\\r\\nl2\\tt"),
        ("[[a.b]$]", "a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("[[a.b]$]", "</script>", "<\\/script>"),
        ("[[a.b]^]", "l1\r\nl2\rl3\nl4", "l1 l2 l3 l4"),
        ("[[a.b]^]", "two\n\nbreaks", "two  breaks"),
        ("[[a.b]^]", 'keeps "quotes"', 'keeps "quotes"'),
        # combinations: flatten, then JS-escape, then XML-escape, then URL-encode
        ("[[a.b]^$]", 'a\n"b"', 'a \\"b\\"'),
        ("[[a.b]$^]", 'a\n"b"', 'a \\"b\\"'),
        ("[[a.b]$x]", '"<', "\\&quot;&lt;"),
        ("[[a.b]xu]", "<a b>", "%26lt%3Ba%20b%26gt%3B"),
        ("[[a.b]ux]", "<a b>", "%26lt%3Ba%20b%26gt%3B"),
        ("[[a.b]$u]", "'", "%5C%27"),
        ("[[a.b]+x]", "<", "&lt;"),
        ("[[a.b]u+]", "a b", "a%20b"),
        ("[[a.b]$+]", "'", "\\'"),
        ("[[a.b]++]", "same", "same"),
    ],
)
def test_modifiers(template: str, value: str, expected: str) -> None:
    assert render(template, session(a={"b": value})) == expected


@pytest.mark.parametrize("flags", ["+", "+x", "u+", "$+", "^$+", "+v", "g+", "a+", "+xu"])
def test_plus_makes_a_missing_value_empty(flags: str) -> None:
    assert render(f"<[[a.b]{flags}]>", {}) == "<>"


@pytest.mark.parametrize("flags", ["", "x", "u", "$", "^", "v", "g", "a"])
def test_without_plus_a_missing_value_raises(flags: str) -> None:
    with pytest.raises(MissingParameter):
        render(f"<[[a.b]{flags}]>", {})


def test_escaped_value_is_a_valid_javascript_string() -> None:
    nasty = 'it\'s "q" \\ \r\n\t\u2028\u2029 </script> end'
    for quote in "'\"":
        code = f"{quote}[[a.b]$]{quote}"
        assert jsengine.evaluate_to_string(render(code, session(a={"b": nasty}))) == nasty


# ------------------------------------------------------------------------------------ values
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (3.0, "3"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (1e21, "1e+21"),
        (1e16, "10000000000000000"),
        (1.5e-7, "1.5e-7"),
        (2**-24, "5.960464477539063e-8"),  # the shortest round-trip digits, as ECMAScript asks
        (2.0**60, "1152921504606847000"),
        (0.000001, "0.000001"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        ("", ""),
        ("text", "text"),
    ],
)
def test_values_are_shown_as_javascript_shows_them(value: Any, text: str) -> None:
    assert to_text(value) == text
    assert render("[[a.b]]", session(a={"b": value})) == text


def test_none_is_missing_and_empty_string_is_present() -> None:
    with pytest.raises(MissingParameter):
        render("[[a.b]]", session(a={"b": None}))
    assert render("<[[a.b]]>", session(a={"b": ""})) == "<>"


# ------------------------------------------------------------------------------------ scopes
SCOPED = {
    "session": {"a": {"b": "session"}},
    "global": {"a": {"b": "global"}, "g": {"only": "global only"}},
    "active": {"a": {"b": "active"}},
}


def test_scopes() -> None:
    assert render("[[a.b]]|[[a.b]g]|[[a.b]a]", SCOPED) == "session|global|active"


def test_active_defaults_to_session() -> None:
    data = {"session": {"a": {"b": "session"}}}
    assert render("[[a.b]a]", data) == "session"
    assert render("[[a.b]a]", {**data, "active": None}) == "session"


def test_scope_misses_do_not_fall_back() -> None:
    with pytest.raises(MissingParameter) as info:
        render("[[g.only]]", SCOPED)
    assert info.value.scope == "session"
    with pytest.raises(MissingParameter) as info:
        render("[[c.d]g]", SCOPED)
    assert info.value.scope == "global"
    assert "global session" in str(info.value)
    with pytest.raises(MissingParameter) as info:
        render("[[g.only]a]", SCOPED)
    assert info.value.scope == "active"


@pytest.mark.parametrize("root", ["$Global", "$Settings", "$User", "$Resources", "$SystemParameters"])
def test_desktop_wide_roots_fall_back_to_the_global_session(root: str) -> None:
    data = {"session": {"a": {"b": "x"}}, "global": {root: {"k": "desk"}}}
    assert render(f"[[{root}.k]]", data) == "desk"
    assert render(f"[[{root}.k]a]", data) == "desk"
    # a session that has the root is used as it is (no fallback per name)
    data["session"][root] = {"other": "1"}
    with pytest.raises(MissingParameter):
        render(f"[[{root}.k]]", data)


def test_other_roots_do_not_fall_back() -> None:
    with pytest.raises(MissingParameter):
        render("[[$Context.k]]", {"global": {"$Context": {"k": "x"}}})


def test_bare_tokens_read_event_parameters() -> None:
    data = {"event": {"url": "https://x/?a=1", "newId": 7}, "session": {"url": {"x": "y"}}}
    assert render("[[url]]|[[newId]]", data) == "https://x/?a=1|7"
    assert render("[[url]u]", data) == "https%3A%2F%2Fx%2F%3Fa%3D1"
    assert render("[[url]g]", data) == "https://x/?a=1"  # g and a do not apply to event params
    with pytest.raises(MissingParameter) as info:
        render("[[postdata]]", data)
    assert info.value.scope == "event"
    assert render("[[postdata]+]", data) == ""


def test_names_may_contain_dots_and_spaces_and_roots_spaces() -> None:
    data = session(
        **{"$Subject": {"Default Subject.Id": "1"}, "KB Search": {"article url": "2"}},
        incident={"customerid.Id": "3", "customerid": "4"},
    )
    assert render("[[$Subject.Default Subject.Id]]", data) == "1"
    assert render("[[KB Search.article url]]", data) == "2"
    assert render("[[incident.customerid.Id]]|[[incident.customerid]]", data) == "3|4"


def test_roots_and_names_are_case_sensitive() -> None:
    data = session(Account={"name": "control"}, account={"name": "entity"})
    assert render("[[Account.name]]/[[account.name]]", data) == "control/entity"
    with pytest.raises(MissingParameter):
        render("[[ACCOUNT.name]]", data)
    with pytest.raises(MissingParameter):
        render("[[account.Name]]", data)


def test_missing_scopes_and_bad_data() -> None:
    assert render("[[a.b]+][[c]+][[d.e]g+]", {}) == ""
    with pytest.raises(ReplacementError, match="not a name -> value mapping"):
        render("[[a.b]]", {"session": {"a": "not a mapping"}})
    with pytest.raises(ReplacementError, match=r"\[\[url\]\] is not a name -> value mapping"):
        render("[[url]]", {"event": ["not", "a", "mapping"]})
    bad_option = {"global": {"$Global": "oops"}, "event": {"a": "[[b]v]", "b": "x"}}
    assert render("[[a]]", bad_option) == "x"


# ------------------------------------------------------------------------------ literal text
@pytest.mark.parametrize(
    "template",
    [
        "[[",
        "]]",
        "[[]]",
        "[[ ]",
        "[[a.b]",
        "[[a.b",
        "[a.b]]",
        "[[a.b]q]",
        "[[a.b]+q]",
        "[[a.b]ga]",
        "[[.b]]",
        "[[a.]]",
        "[[a\nb.c]]",
        "$Expression",
        "$Expression ()",
        "$expression(1)",
        "$Escaped(x)",
        "cost: $5 (approx.)",
        "a ) b ( c",
    ],
)
def test_text_that_is_not_a_token_stays_literal(template: str) -> None:
    assert render(template, {}) == template
    assert parse(template).is_constant


def test_literal_brackets_around_tokens() -> None:
    data = session(a={"b": "X"})
    assert render("[[[a.b]]]", data) == "[X]"
    assert render("[[a.b]q] [[a.b]]", data) == "[[a.b]q] X"
    assert render("[[a.b]]]", data) == "X]"


# ------------------------------------------------------------------------------- $Expression
def test_expression_with_parentheses_inside_strings_and_comments() -> None:
    data = session(a={"b": "x"})
    template = '$Expression("(" + \')\' + `)` + "[[a.b]]" /* ) */ + (1+1) // )\n)!'
    assert render(template, data) == "())x2!"


def test_expression_result_replaces_the_whole_construct() -> None:
    assert render("a $Expression(1 + 2) b $Expression('x'.toUpperCase()) c", {}) == "a 3 b X c"
    assert render('$Expression("[[n]]" > 9)', {"event": {"n": "12"}}) == "true"


def test_expression_statements_and_return() -> None:
    assert render("$Expression(function f(){ return 'y'; } f();)", {}) == "y"
    assert render('$Expression(return "[[a.b]+]" != "";)', {}) == "false"


def test_nested_expression() -> None:
    assert render("$Expression($Expression(1 + 1) * 10)", {}) == "20"


def test_tokens_inside_javascript_strings_are_still_tokens() -> None:
    # replacement is textual: a "[[" in the code always starts a token candidate
    with pytest.raises(MissingParameter):
        render("$Expression('[[' + 'a.b]]')", {})


def test_expression_does_not_rescan_its_result() -> None:
    data = session(a={"b": "secret"})
    assert render("$Expression('[' + '[a.b]]')", data) == "[[a.b]]"


def test_values_are_never_evaluated() -> None:
    data = session(a={"b": "$Expression(1+1)", "c": "[[a.b]v]"})
    assert render("[[a.b]]", data) == "$Expression(1+1)"
    assert render("[[a.b]v]", data) == "$Expression(1+1)"
    assert render("[[a.c]]", data) == "$Expression(1+1)"


def test_expression_missing_parameter_aborts_everything() -> None:
    with pytest.raises(MissingParameter) as info:
        render('before $Expression("[[a.b]]" == "x") after', {})
    assert info.value.parameter == "a.b"


@pytest.mark.parametrize(
    ("template", "position"),
    [
        ("x $Expression(1 + (2)", 2),
        ("$Expression(')", 12),
        ('ab $Expression("never closed', 15),
        ("$Multiline(a (b)", 0),
        ("$Expression(1 /* open", 14),
        ("$Multiline( $Expression( ')' )", 0),
        ("ab $Expression(f(')')", 3),
    ],
)
def test_unbalanced_constructs_name_the_position(template: str, position: int) -> None:
    with pytest.raises(ReplacementSyntaxError) as info:
        render(template, {})
    assert info.value.position == position
    assert f"position {position}" in str(info.value)


def test_nesting_limit() -> None:
    deep = "$Multiline(" * 40 + "x" + ")" * 40
    with pytest.raises(ReplacementSyntaxError, match="nest"):
        render(deep, {})
    ok = "$Multiline(" * 20 + "x" + ")" * 20
    assert render(ok, {}) == "x"


def test_expression_errors() -> None:
    with pytest.raises(ExpressionError) as info:
        render("$Expression(throw new Error('boom'))", {})
    assert "boom" in str(info.value)
    assert "$Expression at position 0" in str(info.value)
    assert info.value.scriptlet is None
    assert isinstance(info.value, ReplacementError)
    assert isinstance(info.value, errors.ScriptError)
    with pytest.raises(ExpressionError, match="SyntaxError"):
        render("$Expression(1 +)", {})


def test_expression_timeout() -> None:
    with pytest.raises(ExpressionTimeout) as info:
        render("$Expression(while(true){})", {}, time_limit=0.05)
    assert isinstance(info.value, ExpressionError)
    assert isinstance(info.value, errors.ScriptTimeout)


def test_unreadable_characters_do_not_reach_the_engine() -> None:
    data = session(a={"b": "x\ud800y\x00z"})
    assert render("$Expression('[[a.b]$]'.length)", data) == "5"


# --------------------------------------------------------------------------------- $Multiline
def test_multiline_spans_lines_and_is_trimmed() -> None:
    data = session(a={"b": "B"})
    template = "header=$Multiline(  \n accessToken;[[a.b]]\n refreshToken;x \n  )!"
    assert render(template, data) == "header=accessToken;B\n refreshToken;x!"


def test_multiline_with_expression_and_apostrophes() -> None:
    template = "$Multiline( It's $Expression( function doWork(){\n return ')' + 1; }\n doWork(); ) )"
    assert render(template, {}) == "It's )1"


def test_constant_multiline_is_constant() -> None:
    parsed = parse("$Multiline( a\nb )")
    assert parsed.is_constant
    assert render("$Multiline( a\nb )", {}) == "a\nb"


# --------------------------------------------------------------------------------- scriptlets
SCRIPTLETS = {
    "Greeting": '"Hello, " + "[[account.name]$]"',
    "Count": "[[$Return.n]] * 2",
    "Throws": "throw new Error('scriptlet says no')",
    "Loops": "while (true) {}",
    "Selfish": "'[[script.Selfish]]'",
    "PingA": "'[[script.PingB]]'",
    "PingB": "'[[script.PingA]]'",
    "Multi": "'a\\nb'",
    "NeedsMissing": "'[[nobody.home]]'",
}


def test_scriptlet_renders_its_parameters_then_runs() -> None:
    data = session(account={"name": "O'Brien"}, **{"$Return": {"n": "21"}})
    assert render("[[script.Greeting]]", data, scriptlets=SCRIPTLETS) == "Hello, O'Brien"
    assert render("[[script.Count]]", data, scriptlets=SCRIPTLETS) == "42"
    assert render("[[script.Greeting]u]", data, scriptlets=SCRIPTLETS) == "Hello%2C%20O%27Brien"
    assert render("[[script.Multi]$]|[[script.Multi]^]", {}, scriptlets=SCRIPTLETS) == "a\\nb|a b"


def test_unknown_scriptlet_is_a_missing_parameter() -> None:
    with pytest.raises(MissingParameter):
        render("[[script.Nope]]", {}, scriptlets=SCRIPTLETS)
    with pytest.raises(MissingParameter):
        render("[[script.Greeting]]", session(account={"name": "x"}))
    assert render("[[script.Nope]+]", {}, scriptlets=SCRIPTLETS) == ""


def test_scriptlet_missing_parameter_aborts() -> None:
    with pytest.raises(MissingParameter) as info:
        render("[[script.NeedsMissing]+]", {}, scriptlets=SCRIPTLETS)
    assert info.value.parameter == "nobody.home"


def test_scriptlet_that_throws() -> None:
    with pytest.raises(ExpressionError) as info:
        render("[[script.Throws]+]", {}, scriptlets=SCRIPTLETS)
    assert info.value.scriptlet == "Throws"
    assert "'Throws'" in str(info.value)
    assert "scriptlet says no" in str(info.value)


def test_scriptlet_that_loops_forever_is_stopped() -> None:
    with pytest.raises(ExpressionTimeout) as info:
        render("[[script.Loops]]", {}, scriptlets=SCRIPTLETS, time_limit=0.05)
    assert info.value.scriptlet == "Loops"
    assert isinstance(info.value, ReplacementError)


def test_scriptlet_self_reference() -> None:
    with pytest.raises(SelfReferenceError) as info:
        render("[[script.Selfish]]", {}, scriptlets=SCRIPTLETS)
    assert info.value.cycle == ("script.Selfish", "script.Selfish")
    with pytest.raises(SelfReferenceError) as info:
        render("[[script.PingA]]", {}, scriptlets=SCRIPTLETS)
    assert info.value.cycle == ("script.PingA", "script.PingB", "script.PingA")


def test_scriptlet_counts_toward_depth() -> None:
    data = session(**{"$Return": {"n": "1"}})
    with pytest.raises(ReplacementDepthError):
        render("[[script.Count]]", data, scriptlets=SCRIPTLETS, max_depth=0)
    assert render("[[script.Count]]", data, scriptlets=SCRIPTLETS, max_depth=1) == "2"


# ------------------------------------------------------------------------------ parse / cache
def test_parse_is_cached() -> None:
    template = "cache me [[a.b]] " + "x" * 10
    assert parse(template) is parse(template)
    assert parse(template) is replacement.parse(str(template))


def test_parameters_include_tokens_inside_constructs() -> None:
    template = (
        'x [[account.name]u+] [[url]] $Expression("[[$Context.etc]]" == "1")'
        " $Multiline([[KB Search.articleurl]g]) [[account.name]u+] [[script.S]]"
    )
    parsed = parse(template)
    assert parsed.parameters == (
        Parameter("account", "name", frozenset("u+"), "[[account.name]u+]"),
        Parameter("url", None, frozenset(), "[[url]]"),
        Parameter("$Context", "etc", frozenset(), "[[$Context.etc]]"),
        Parameter("KB Search", "articleurl", frozenset("g"), "[[KB Search.articleurl]g]"),
        Parameter("script", "S", frozenset(), "[[script.S]]"),
    )
    assert not parsed.is_constant
    first = parsed.parameters[0]
    assert (first.path, first.scope, first.optional) == ("account.name", "session", True)
    assert parsed.parameters[1].scope == "event"
    assert parsed.parameters[3].scope == "global"


@pytest.mark.parametrize(
    ("template", "constant"),
    [
        ("plain text", True),
        ("", True),
        ("$Multiline(a)", True),
        ("[[a.b]]", False),
        ("$Expression(1)", False),
        ("$Multiline([[a.b]])", False),
    ],
)
def test_is_constant(template: str, constant: bool) -> None:
    assert parse(template).is_constant is constant


def test_render_never_evaluates_plain_text() -> None:
    assert render("alert('x'); [[a.b]]", session(a={"b": "1"})) == "alert('x'); 1"


def test_errors_are_replacement_errors() -> None:
    for cls in (
        ReplacementDepthError,
        SelfReferenceError,
        ExpressionError,
        ExpressionTimeout,
        ExpansionLimitError,
        ReplacementSyntaxError,
        MissingParameter,
    ):
        assert issubclass(cls, ReplacementError)
    assert replacement.MissingParameter is errors.MissingParameter
