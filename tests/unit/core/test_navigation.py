"""The window navigation rule engine (usd-reference §5.2, §5.3): ordering, first match, each
criterion, conditions, CTI rules and the skip list, URL parsing, and the debugger's explanation."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.config.schema_navigation import CtiRule, WindowNavigationRule
from usd_desktop.core import navigation as navigation_module
from usd_desktop.core.navigation import (
    ROUTE_TYPES,
    Decision,
    Navigation,
    NavigationRules,
    RuleCheck,
    url_matches,
)

CRM = "https://crm.test/main.aspx"
ACCOUNT_URL = f"{CRM}?etn=account&id={{6C1F2D3E-0000-4000-8000-00000000A001}}&pagetype=entityrecord"


def rule(name: str, **fields: Any) -> WindowNavigationRule:
    return WindowNavigationRule(name=name, **fields)


def decide(rules: list[WindowNavigationRule], nav: Navigation, data: Any = None, **kw: Any) -> Decision[Any]:
    return NavigationRules(rules, **kw).decide(nav, data)


def names(decision: Decision[Any]) -> list[str]:
    return [check.rule for check in decision.checks]


def winner(decision: Decision[Any]) -> str | None:
    return None if decision.rule is None else decision.rule.name


# ---------------------------------------------------------------------- Navigation
@pytest.mark.parametrize("route_type", ROUTE_TYPES)
def test_every_route_type_is_accepted(route_type: str) -> None:
    assert Navigation("Web", route_type=route_type).route_type == route_type


@pytest.mark.parametrize("route_type", ["Popup", "inplace", "InPlace", "", "default", "popup "])
def test_an_unknown_route_type_is_a_value_error(route_type: str) -> None:
    with pytest.raises(ValueError, match="route type"):
        Navigation("Web", route_type=route_type)


def test_route_types_are_usds_four() -> None:
    assert ROUTE_TYPES == ("popup", "in_place", "on_load", "menu_chosen")


@pytest.mark.parametrize(
    ("url", "entity", "record_id"),
    [
        (ACCOUNT_URL, "account", "6C1F2D3E-0000-4000-8000-00000000A001"),
        (f"{CRM}?ETN=contact&ID=%7Bdef-1%7D", "contact", "def-1"),  # keys any case, encoded braces
        (f"{CRM}?Etn=incident", "incident", None),
        (f"{CRM}?id=42", None, "42"),
        (f"{CRM}?pagetype=entityrecord&id={{ab}}&etn=account", "account", "ab"),  # any position
        (f"{CRM}?etn=&id=", None, None),  # blank values: nothing
        (f"{CRM}?etn=account&etn=contact", "account", None),  # the first one counts
        (f"{CRM}#etn=account&id=1", None, None),  # only the query is read
        ("https://www.bing.com/search?q=etn%3Daccount", None, None),
        ("https://www.bing.com/search?etnx=account&xid=1", None, None),
        ("tel:+358401234567", None, None),
        ("", None, None),
        ("http://[::1/x?etn=account", None, None),  # not a URL urllib can split: no entity
    ],
)
def test_of_url_reads_entity_and_id(url: str, entity: str | None, record_id: str | None) -> None:
    nav = Navigation.of_url("Web", url)
    assert (nav.entity, nav.record_id) == (entity, record_id)
    assert nav.url == url


def test_of_url_keeps_the_other_fields() -> None:
    nav = Navigation.of_url("Account Search", ACCOUNT_URL, "on_load", from_search="Accounts", session_id="s1")
    assert (nav.from_control, nav.route_type, nav.from_search, nav.session_id) == (
        "Account Search", "on_load", "Accounts", "s1")
    with pytest.raises(ValueError):
        Navigation.of_url("Web", ACCOUNT_URL, "Popup")


def test_navigation_parameters() -> None:
    full = Navigation("Web", "https://x.test", "in_place", entity="account", record_id="1", from_search="S")
    assert full.parameters() == {"url": "https://x.test", "routetype": "in_place", "from": "Web",
                                 "entity": "account", "id": "1", "fromsearch": "S"}
    assert Navigation("").parameters() == {"url": "", "routetype": "popup"}


# ---------------------------------------------------------------------- ordering
def test_rules_are_ordered_by_order_then_list_position() -> None:
    rules = [rule("c", order=3), rule("a1", order=1), rule("b", order=2), rule("a2", order=1),
             rule("neg", order=-5)]
    engine = NavigationRules(rules)
    assert [r.name for r in engine.rules] == ["neg", "a1", "a2", "b", "c"]
    assert all(r is orig for r, orig in zip(engine.rules, [rules[4], rules[1], rules[3], rules[2], rules[0]],
                                            strict=True))


def test_cti_rules_are_listed_apart_in_the_same_order() -> None:
    rules = [rule("web", order=1), rule("cti2", order=9, cti=CtiRule()), rule("cti1", order=2, cti=CtiRule()),
             rule("web2", order=2)]
    engine = NavigationRules(rules)
    assert [r.name for r in engine.rules] == ["web", "web2"]
    assert [r.name for r in engine.cti_rules()] == ["cti1", "cti2"]


@pytest.mark.parametrize("count", [1, 2, 5])
def test_first_match_wins_and_later_rules_are_not_tried(count: int) -> None:
    misses = [rule(f"miss{i}", order=i, url="nowhere") for i in range(count)]
    rules = [*misses, rule("hit", order=100), rule("also", order=101), rule("late", order=102)]
    decision = decide(rules, Navigation("Web", "https://x.test"))
    assert winner(decision) == "hit"
    assert names(decision) == [f"miss{i}" for i in range(count)] + ["hit"]
    assert [c.matched for c in decision.checks] == [False] * count + [True]
    assert decision.checks[-1].field == ""


def test_a_tie_keeps_list_order() -> None:
    rules = [rule("second listed", order=5, url="x.test"), rule("first listed", order=5)]
    assert winner(decide(rules, Navigation("Web", "https://x.test"))) == "second listed"
    assert winner(decide(list(reversed(rules)), Navigation("Web", "https://x.test"))) == "first listed"


def test_the_order_not_the_list_position_decides() -> None:
    rules = [rule("catch-all", order=1000, url="*"), rule("bing", order=10, url="*bing.com*")]
    assert winner(decide(rules, Navigation("Web", "https://www.bing.com/q"))) == "bing"
    assert winner(decide(rules, Navigation("Web", "https://example.com"))) == "catch-all"


def test_a_catch_all_placed_first_hides_the_specific_rules() -> None:
    """§5.2.1: put catch-all rules high, or the specific ones never fire."""
    rules = [rule("catch-all", order=1, url="*"), rule("bing", order=10, url="*bing.com*")]
    decision = decide(rules, Navigation("Web", "https://www.bing.com/q"))
    assert winner(decision) == "catch-all" and names(decision) == ["catch-all"]


def test_no_rule_matched_is_the_default() -> None:
    decision = decide([rule("in place", route_type="in_place")], Navigation("Web", "https://x.test"))
    assert decision.rule is None and decision.action == "default"
    assert [(c.rule, c.matched, c.field) for c in decision.checks] == [("in place", False, "route_type")]


def test_no_rules_at_all() -> None:
    decision = NavigationRules([]).decide(Navigation("Web", "https://x.test"))
    assert decision.rule is None and decision.checks == () and decision.action == "default"
    assert decision.explain().endswith("→ no rule matched: the page opens where it was requested")


# ---------------------------------------------------------------------- URL
@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        (None, "https://anything.test", True),
        (None, "", True),
        ("*", "https://anything.test", True),
        ("*", "", True),
        ("", "https://anything.test", True),
        ("tel:*", "tel:+358401234567", True),
        ("tel:*", "TEL:+358401234567", True),
        ("TEL:*", "tel:+358401234567", True),
        ("tel:*", "tel:", True),
        ("tel:*", "https://x.test/call?n=tel:1", False),  # a wildcard covers the whole URL
        ("tel:*", "skype:echo123", False),
        ("*bing.com*", "https://www.bing.com/search?q=x", True),
        ("*BING.COM*", "https://www.Bing.com/search", True),
        ("*bing.com*", "https://www.google.com/", False),
        ("*.test", "https://x.test", True),
        ("*.test", "https://x.test/", False),
        ("https://*.test/*.aspx", "https://crm.test/main.aspx", True),
        ("https://*.test/*.aspx", "https://crm.test/main.aspx?etn=account", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "a-b-c-d", False),
        ("*a+b?(c)[d]*", "x a+b?(c)[d] y", True),  # only * is special
        ("*a+b*", "aab", False),
        ("*.aspx", "https://crm.test/mainXaspx", False),  # a dot is a dot
        ("*\n*", "a\nb", True),
        ("https://crm.test/main.aspx", f"{CRM}?etn=account", True),  # no *: the URL contains it
        ("main.aspx", "HTTPS://CRM.TEST/MAIN.ASPX", True),
        ("MAIN.ASPX", "https://crm.test/main.aspx", True),
        ("main.aspx", "https://crm.test/other.aspx", False),
        ("main.aspx", "", False),
        ("tel:", "tel:+1", True),
        ("tel:", "mailto:tel:", True),  # the substring form is anywhere in the URL
    ],
)
def test_url_matching(pattern: str | None, url: str, expected: bool) -> None:
    assert url_matches(pattern, url) is expected
    decision = decide([rule("R", url=pattern)], Navigation("Web", url))
    assert (decision.rule is not None) is expected
    check = decision.checks[0]
    if not expected:
        assert check.field == "url"
        verb = "does not match" if "*" in (pattern or "") else "does not contain"
        assert check.reason == f"url: {url or '(no URL)'} {verb} {pattern}"


def test_a_url_match_says_how() -> None:
    [check] = decide([rule("R", url="*x.test*")], Navigation("Web", "https://x.test/a")).checks
    assert "url: https://x.test/a matches *x.test*" in check.reason
    [check] = decide([rule("R", url="x.test")], Navigation("Web", "https://x.test/a")).checks
    assert "url: https://x.test/a contains x.test" in check.reason


# ---------------------------------------------------------------------- from, from_search, route type, entity
@pytest.mark.parametrize(
    ("wanted", "actual", "expected"),
    [
        (None, "Contacts", True),
        (None, "", True),
        ("Contacts", "Contacts", True),
        ("Contacts", "contacts", False),  # exact: a control name is case-sensitive
        ("Contacts", "Contacts ", False),
        ("Web Search", "Contacts", False),
        ("Web Search", "", False),
    ],
)
def test_from_control(wanted: str | None, actual: str, expected: bool) -> None:
    decision = decide([rule("R", from_control=wanted)], Navigation(actual, "https://x.test"))
    assert (decision.rule is not None) is expected
    if not expected:
        assert decision.checks[0].field == "from"


def test_from_reasons() -> None:
    [check] = decide([rule("R", from_control="Web Search")], Navigation("Contacts")).checks
    assert check.reason == "from: the load comes from Contacts, the rule wants Web Search"
    [check] = decide([rule("R", from_control="Web Search")], Navigation("")).checks
    assert check.reason == "from: the load's control is unknown, the rule wants Web Search"


@pytest.mark.parametrize(
    ("wanted", "actual", "expected"),
    [
        (None, None, True),
        (None, "Accounts", True),
        ("Accounts", "Accounts", True),
        ("Accounts", "accounts", False),
        ("Accounts", "Contacts", False),
        ("Accounts", None, False),
    ],
)
def test_from_search(wanted: str | None, actual: str | None, expected: bool) -> None:
    rules = [rule("R", from_search=wanted, from_control="Search", route_type="on_load")]
    decision = decide(rules, Navigation("Search", route_type="on_load", from_search=actual))
    assert (decision.rule is not None) is expected
    if not expected:
        check = decision.checks[0]
        assert check.field == "from_search"
        assert check.reason == (
            f"from_search: the load follows the search {actual}, the rule wants {wanted}" if actual
            else f"from_search: the load follows no entity search, the rule wants {wanted}")


@pytest.mark.parametrize("wanted", ROUTE_TYPES)
@pytest.mark.parametrize("actual", ROUTE_TYPES)
def test_route_type_must_be_equal(wanted: str, actual: str) -> None:
    decision = decide([rule("R", route_type=wanted)], Navigation("Web", "https://x.test", actual))
    assert (decision.rule is not None) is (wanted == actual)
    if wanted != actual:
        assert decision.checks[0].field == "route_type"
        assert decision.checks[0].reason == f"route_type: the load is {actual}, the rule wants {wanted}"


def test_one_engine_explains_each_route_type_it_meets() -> None:
    engine = NavigationRules([rule("menu", route_type="menu_chosen"), rule("cti", order=-1, cti=CtiRule())])
    for route_type in ("popup", "in_place", "on_load", "popup"):
        decision = engine.decide(Navigation("Web", route_type=route_type))
        assert [c.reason for c in decision.checks] == [
            "a CTI rule: tried only for CTI lookups",
            f"route_type: the load is {route_type}, the rule wants menu_chosen"]
    assert winner(engine.decide(Navigation("Web", route_type="menu_chosen"))) == "menu"


@pytest.mark.parametrize(
    ("wanted", "actual", "expected"),
    [
        (None, None, True),
        (None, "account", True),
        ("account", "account", True),
        ("account", "Account", True),
        ("Account", "ACCOUNT", True),
        ("account", "contact", False),
        ("account", "accounts", False),
        ("account", None, False),  # not an entity page
        ("account", "", False),
    ],
)
def test_entity(wanted: str | None, actual: str | None, expected: bool) -> None:
    decision = decide([rule("R", entity=wanted)], Navigation("Web", "https://x.test", entity=actual))
    assert (decision.rule is not None) is expected
    if not expected:
        check = decision.checks[0]
        assert check.field == "entity"
        what = f"a {actual} page" if actual else "not an entity page"
        assert check.reason == f"entity: the page is {what}, the rule wants {wanted}"


def test_entity_from_the_url() -> None:
    rules = [rule("contacts", entity="contact"), rule("accounts", entity="account")]
    assert winner(decide(rules, Navigation.of_url("Web", ACCOUNT_URL))) == "accounts"
    assert winner(decide(rules, Navigation.of_url("Web", "https://x.test/?etn=Contact"))) == "contacts"
    assert winner(decide(rules, Navigation.of_url("Web", "https://x.test/"))) is None


def test_entity_and_url_combine() -> None:
    rules = [rule("R", entity="account", url="crm.test")]
    assert winner(decide(rules, Navigation.of_url("Web", ACCOUNT_URL))) == "R"
    assert decide(rules, Navigation("Web", "https://other.test/?etn=account", entity="account")).checks[0].field == "url"


@pytest.mark.parametrize(
    ("nav", "field"),
    [
        (Navigation("Other", ACCOUNT_URL, "popup", entity="account", from_search="S"), "from"),
        (Navigation("Search", ACCOUNT_URL, "popup", entity="account", from_search="T"), "from_search"),
        (Navigation("Search", ACCOUNT_URL, "in_place", entity="account", from_search="S"), "route_type"),
        (Navigation("Search", ACCOUNT_URL, "popup", entity="contact", from_search="S"), "entity"),
        (Navigation("Search", "https://other.test", "popup", entity="account", from_search="S"), "url"),
        (Navigation("Search", ACCOUNT_URL, "popup", entity="account", from_search="S"), "condition"),
    ],
)
def test_the_first_failing_criterion_is_reported(nav: Navigation, field: str) -> None:
    rules = [rule("R", from_control="Search", from_search="S", entity="account", url="crm.test",
                  condition="1 == 2")]
    [check] = decide(rules, nav).checks
    assert (check.matched, check.field) == (False, field)
    assert check.reason.startswith(field)


def test_a_match_lists_the_criteria() -> None:
    rules = [rule("R", from_control="Search", from_search="S", entity="account", url="*crm.test*",
                  route_type="on_load", condition='"[[entity]]" == "account"')]
    nav = Navigation.of_url("Search", ACCOUNT_URL, "on_load", from_search="S")
    [check] = decide(rules, nav).checks
    assert check == RuleCheck("R", 0, True, "", (
        "from: Search; from_search: S; route_type: on_load; entity: account; "
        f'url: {ACCOUNT_URL} matches *crm.test*; condition true: "account" == "account"'))
    [check] = decide([rule("any")], Navigation("Web")).checks
    assert check.reason == "route_type: popup"
    [check] = decide([rule("star", url="*")], Navigation("Web")).checks
    assert check.reason == "route_type: popup; url: * (any URL)"


# ---------------------------------------------------------------------- conditions
@pytest.mark.parametrize(
    ("condition", "url", "expected"),
    [
        ('"[[url]]".indexOf("vip") >= 0', "https://x.test/vip/1", True),
        ('"[[url]]".indexOf("vip") >= 0', "https://x.test/std/1", False),
        ('"[[url]$]".length > 5', 'https://x.test/"quoted"', True),
        ("", "https://x.test", True),
        ("   \n ", "https://x.test", True),
        ("true", "https://x.test", True),
        ("false", "https://x.test", False),
        ("1 + 1 == 2", "https://x.test", True),
        ('"" ', "https://x.test", False),  # an empty string is falsy
        ("0", "https://x.test", False),
    ],
)
def test_condition_with_url(condition: str, url: str, expected: bool) -> None:
    decision = decide([rule("R", condition=condition)], Navigation("Web", url))
    assert (decision.rule is not None) is expected
    if not expected:
        assert decision.checks[0].field == "condition"
        assert decision.checks[0].reason.startswith("condition false: ")


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("url", ACCOUNT_URL), ("entity", "account"), ("id", "6C1F2D3E-0000-4000-8000-00000000A001"),
     ("from", "Account Search"), ("routetype", "menu_chosen"), ("fromsearch", "Accounts")],
)
def test_the_navigation_parameters_reach_the_condition(parameter: str, value: str) -> None:
    nav = Navigation.of_url("Account Search", ACCOUNT_URL, "menu_chosen", from_search="Accounts")
    rules = [rule("R", route_type="menu_chosen", condition=f'"[[{parameter}]$]" == "{value}"')]
    decision = decide(rules, nav)
    assert winner(decision) == "R", decision.explain()


@pytest.mark.parametrize("parameter", ["entity", "id", "fromsearch", "from"])
def test_absent_navigation_parameters_are_missing(parameter: str) -> None:
    nav = Navigation("", "https://x.test")
    strict = decide([rule("R", condition=f'"[[{parameter}]]" == ""')], nav)
    assert strict.rule is None
    assert strict.checks[0].field == "condition"
    assert f"[[{parameter}]] has no value" in strict.checks[0].reason
    lenient = decide([rule("R", condition=f'"[[{parameter}]+]" == ""')], nav)
    assert winner(lenient) == "R"


def test_condition_reads_session_data() -> None:
    data = {"session": {"$Context": {"callerid": "+358401234567"}}, "global": {}, "active": {}, "event": {}}
    rules = [rule("Finnish callers", condition='"[[$Context.callerid]]".indexOf("+358") == 0'),
             rule("others", order=1)]
    assert winner(decide(rules, Navigation("Web"), data)) == "Finnish callers"
    data["session"]["$Context"]["callerid"] = "+40211234567"
    assert winner(decide(rules, Navigation("Web"), data)) == "others"


def test_condition_reads_global_options_and_caller_event_data() -> None:
    data = {"session": {}, "global": {"$Global": {"Routing": "on"}}, "event": {"x": "7"}}
    rules = [rule("R", condition='"[[$Global.Routing]]" == "on" && [[x]] == 7')]
    assert winner(decide(rules, Navigation("Web"), data)) == "R"


def test_the_navigation_overrides_event_keys_of_the_same_name() -> None:
    data = {"event": {"url": "https://stale.test", "other": "kept"}}
    rules = [rule("R", condition='"[[url]]" == "https://fresh.test" && "[[other]]" == "kept"')]
    assert winner(decide(rules, Navigation("Web", "https://fresh.test"), data)) == "R"


def test_the_callers_data_is_not_changed() -> None:
    data = {"session": {"$Context": {"a": "1"}}, "global": {}, "active": {}, "event": {"e": "x"}}
    before = copy.deepcopy(data)
    decision = decide([rule("R", condition='"[[url]]" != "" && [[$Context.a]] == 1')],
                      Navigation("Web", "https://x.test"), data)
    assert winner(decision) == "R"
    assert data == before


def test_data_none_is_an_empty_view() -> None:
    assert winner(decide([rule("R", condition='"[[url]]" == "u"')], Navigation("Web", "u"))) == "R"
    decision = decide([rule("R", condition="[[$Context.a]] == 1")], Navigation("Web", "u"))
    assert decision.rule is None and "[[$Context.a]] has no value" in decision.checks[0].reason


@pytest.mark.parametrize(
    ("condition", "reason_start"),
    [
        ('throw new Error("no routing")', "condition threw: Error: no routing"),
        ("undefinedFunction()", "condition threw: ReferenceError"),
        ("if (", "condition threw: SyntaxError"),
        ("[[$Context.missing]] == 1", "condition: replacement parameter [[$Context.missing]] has no value"),
        ('"[[nothing]]" == ""', "condition: replacement parameter [[nothing]] has no value"),
        ("false", "condition false: false"),
    ],
)
def test_a_failing_condition_skips_the_rule(condition: str, reason_start: str) -> None:
    rules = [rule("broken", order=1, condition=condition), rule("next", order=2)]
    decision = decide(rules, Navigation("Web", "https://x.test"), {"session": {}, "global": {}})
    assert winner(decision) == "next"
    first = decision.checks[0]
    assert (first.rule, first.matched, first.field) == ("broken", False, "condition")
    assert first.reason.startswith(reason_start), first.reason


def test_scriptlets_serve_conditions() -> None:
    rules = [rule("R", condition='[[script.IsVip]] == true')]
    scriptlets = {"IsVip": '"[[url]]".indexOf("/vip/") >= 0'}
    assert winner(decide(rules, Navigation("Web", "https://x.test/vip/1"), scriptlets=scriptlets)) == "R"
    assert decide(rules, Navigation("Web", "https://x.test/std/1"), scriptlets=scriptlets).rule is None
    assert decide(rules, Navigation("Web", "https://x.test/vip/1")).rule is None  # no such scriptlet


def test_conditions_run_only_when_the_cheap_criteria_matched(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = navigation_module.evaluate_condition

    def counting(condition: str, data: Any, **kw: Any) -> Any:
        calls.append(condition)
        return real(condition, data, **kw)

    monkeypatch.setattr(navigation_module, "evaluate_condition", counting)
    rules = [rule(f"c{i}", order=i, from_control="Elsewhere", condition="true") for i in range(50)]
    rules += [rule("url", order=60, url="nowhere", condition='throw new Error("never run")')]
    rules += [rule("entity", order=61, entity="account", condition="true")]
    rules += [rule("hit", order=70, condition="1 == 1"), rule("after", order=80, condition="true")]
    decision = decide(rules, Navigation("Web", "https://x.test"))
    assert winner(decision) == "hit"
    assert calls == ["1 == 1"]
    assert decision.checks[50].field == "url" and decision.checks[51].field == "entity"


def test_patterns_are_compiled_once_not_per_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = NavigationRules([rule(f"r{i}", order=i, url=f"*site{i}.test*") for i in range(20)])

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("re.compile called while deciding")

    monkeypatch.setattr(navigation_module.re, "compile", refuse)
    decision = engine.decide(Navigation("Web", "https://site19.test/"))
    assert winner(decision) == "r19" and len(decision.checks) == 20


# ---------------------------------------------------------------------- CTI rules and skip
def test_cti_rules_are_never_matched() -> None:
    rules = [rule("Inbound call", order=1, cti=CtiRule()), rule("web", order=2)]
    decision = decide(rules, Navigation("CTI", "https://x.test"))
    assert winner(decision) == "web"
    assert decision.checks[0] == RuleCheck("Inbound call", 1, False, "cti",
                                           "a CTI rule: tried only for CTI lookups")


def test_only_cti_rules_means_the_default() -> None:
    decision = decide([rule("a", cti=CtiRule()), rule("b", cti=CtiRule(initiating_activity="chat"))],
                      Navigation("CTI"))
    assert decision.rule is None and [c.field for c in decision.checks] == ["cti", "cti"]


@pytest.mark.parametrize("skip", [["Creates"], ("Creates",), {"Creates"}, frozenset({"Creates", "Unknown"})])
def test_skipped_rules_are_not_matched(skip: Any) -> None:
    rules = [rule("Creates", order=1, action="create_session", target_tab="Global Manager"),
             rule("Routes", order=2, target_tab="Account")]
    engine = NavigationRules(rules)
    nav = Navigation("Search", ACCOUNT_URL)
    assert winner(engine.decide(nav)) == "Creates"
    decision = engine.decide(nav, skip=skip)
    assert winner(decision) == "Routes"
    assert (decision.checks[0].field, decision.checks[0].matched) == ("skip", False)
    assert decision.checks[0].reason.startswith("skip: ")


def test_skip_names_a_rule_not_a_pattern() -> None:
    rules = [rule("Creates", order=1), rule("Routes", order=2)]
    assert winner(NavigationRules(rules).decide(Navigation("W"), skip=["creates", "Create"])) == "Creates"


# ---------------------------------------------------------------------- explain and to_dict
def test_explain_has_a_header_a_line_per_rule_and_the_outcome() -> None:
    rules = [rule("Phones", order=5, url="tel:*", action="none"),
             rule("Accounts", order=10, entity="account", action="create_session", target_tab="Account",
                  show_tab="Account"),
             rule("Later", order=20)]
    nav = Navigation.of_url("Account Search", ACCOUNT_URL, session_id="s-1")
    text = decide(rules, nav).explain()
    assert text.splitlines() == [
        f"Navigation: popup from Account Search to {ACCOUNT_URL} (entity account, "
        "record 6C1F2D3E-0000-4000-8000-00000000A001, session s-1)",
        f"✗ Phones (order 5): url: {ACCOUNT_URL} does not match tel:*",
        "✓ Accounts (order 10): route_type: popup; entity: account",
        "→ Create Session, target tab Account, show tab Account",
    ]


def test_explain_without_a_match() -> None:
    text = decide([rule("Only in place", route_type="in_place")], Navigation("", on_url := "https://x.test")).explain()
    assert text.splitlines() == [
        f"Navigation: popup from an unknown control to {on_url}",
        "✗ Only in place (order 0): route_type: the load is popup, the rule wants in_place",
        "→ no rule matched: the page opens where it was requested",
    ]


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"action": "create_session", "target_tab": "Account", "show_tab": "Account"},
         "Create Session, target tab Account, show tab Account"),
        ({"action": "create_session", "target_tab": "Global Manager"},
         "Create Session, target tab Global Manager (the Global Manager as target: the session is "
         "created, then the rules are evaluated again without 'R')"),
        ({"action": "route_window", "target_tab": "Web", "hide_command_bar": True, "hide_navigation_bar": True},
         "Route Window, target tab Web, hide the command bar, hide the navigation bar"),
        ({"action": "route_window", "destination": "entity_search", "entity_search": "Accounts"},
         "Route Window, entity search Accounts"),
        ({"action": "route_window"}, "Route Window, no target tab: the first entity search of account"),
        ({"action": "show_outside", "target_tab": "Web", "show_tab": "Web"},
         "Show Outside: the page opens in an unmanaged window"),
        ({"action": "none", "action_calls": ["Dial", "Log"]},
         "None: the navigation is blocked; action calls: Dial, Log"),
    ],
)
def test_the_outcome_of_each_action(fields: dict[str, Any], outcome: str) -> None:
    decision = decide([rule("R", **fields)], Navigation("Web", ACCOUNT_URL, entity="account"))
    assert decision.action == fields["action"]
    assert decision.explain().splitlines()[-1] == f"→ {outcome}"
    assert decision.to_dict()["outcome"] == outcome


def test_to_dict_is_json_and_complete() -> None:
    rules = [rule("Phones", order=5, url="tel:*", action="none", action_calls=["Dial"]),
             rule("Accounts", order=10, entity="account", action="route_window", target_tab="Account",
                  show_tab="Account", hide_navigation_bar=True)]
    nav = Navigation.of_url("Web", ACCOUNT_URL, "popup", from_search="S", session_id="s-1")
    out = json.loads(json.dumps(decide(rules, nav).to_dict()))
    assert out["navigation"] == {"from_control": "Web", "url": ACCOUNT_URL, "route_type": "popup",
                                 "entity": "account", "record_id": "6C1F2D3E-0000-4000-8000-00000000A001",
                                 "from_search": "S", "session_id": "s-1"}
    assert (out["rule"], out["order"], out["action"]) == ("Accounts", 10, "route_window")
    assert (out["destination"], out["target_tab"], out["show_tab"], out["entity_search"]) == (
        "tab", "Account", "Account", None)
    assert (out["hide_command_bar"], out["hide_navigation_bar"], out["action_calls"]) == (False, True, [])
    assert [(c["rule"], c["matched"], c["field"]) for c in out["checks"]] == [
        ("Phones", False, "url"), ("Accounts", True, "")]
    assert out["checks"][0]["order"] == 5 and out["checks"][0]["reason"].startswith("url: ")


def test_to_dict_without_a_match() -> None:
    out = decide([], Navigation("Web", "tel:1")).to_dict()
    assert out["rule"] is None and out["action"] == "default" and out["target_tab"] is None
    assert out["checks"] == [] and out["outcome"].startswith("no rule matched")


# ---------------------------------------------------------------------- the layer boundary
def test_the_engine_imports_no_qt_config_data_cti_or_controls() -> None:
    source = Path(navigation_module.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    forbidden = ("PySide6", "qasync", "usd_desktop.config", "usd_desktop.data", "usd_desktop.cti",
                 "usd_desktop.hosted_controls")
    assert not [m for m in imported if m.startswith(forbidden)]
    assert "usd_desktop.core.conditions" in imported
