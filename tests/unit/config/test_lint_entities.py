"""Lint of entity searches, window navigation rules, session lines and agent scripts: each code
fires on a configuration that has the problem and not on a clean one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from usd_desktop.config.lint import CODES, lint
from usd_desktop.config.lint_navigation import NAVIGATION_CODES, shadows
from usd_desktop.config.lint_scripts import SCRIPT_CODES
from usd_desktop.config.loader import dump_configuration, loads_configuration
from usd_desktop.config.schema import Configuration, WindowNavigationRule

Change = Callable[[dict[str, Any]], None]
RULES = "window_navigation_rules"


def base() -> dict[str, Any]:
    """A clean configuration with every new kind of record."""
    return {
        "name": "Entities",
        "hosted_controls": [
            {"name": "Global Manager", "type": "GlobalManager"},
            {"name": "CTI", "type": "CtiDesktopManager"},
            {"name": "Search", "type": "StandardWebApplication"},
            {"name": "Contact", "type": "StandardWebApplication", "is_global": False},
            {"name": "Account", "type": "StandardWebApplication", "is_global": False},
        ],
        "action_calls": [
            {"name": "Focus", "control": "Global Manager", "action": "ShowTab", "data": "Contact"},
            {"name": "Log", "control": "Global Manager", "action": "FireEvent", "data": "name=Logged"},
        ],
        "entity_searches": [
            {
                "name": "Contacts by phone",
                "entity": "contact",
                "filters": [
                    {"field": "telephone1", "value": "[[cti.ani]+]"},
                    {"field": "statecode", "value": "0"},
                ],
                "order_by": [{"field": "fullname"}],
                "columns": ["fullname", "telephone1"],
            },
            {
                "name": "Accounts",
                "entity": "account",
                "filters": [{"field": "name", "operator": "begins_with", "value": "[[$Context.query]+]"}],
            },
        ],
        RULES: [
            {  # 0
                "name": "Contact pop-ups",
                "order": 10,
                "from_control": "Search",
                "entity": "contact",
                "action": "create_session",
                "target_tab": "Contact",
                "show_tab": "Contact",
                "action_calls": ["Focus"],
            },
            {  # 1
                "name": "Account pop-ups",
                "order": 20,
                "from_control": "Contact",
                "entity": "account",
                "target_tab": "Account",
                "condition": '"[[url]]".indexOf("main.aspx") >= 0',
            },
            {"name": "Help pages", "order": 30, "url": "help.example.com", "action": "show_outside"},  # 2
            {"name": "Block tel", "order": 40, "url": "tel:", "action": "none", "action_calls": ["Log"]},  # 3
            {  # 4
                "name": "After contact search",
                "order": 50,
                "route_type": "on_load",
                "from_search": "Contacts by phone",
                "destination": "entity_search",
                "entity_search": "Accounts",
            },
            {  # 5: the Global Manager as target: create the session, then evaluate the rules again
                "name": "Sessions first",
                "order": 60,
                "route_type": "in_place",
                "from_control": "Search",
                "action": "create_session",
                "target_tab": "Global Manager",
            },
            {  # 6
                "name": "Inbound call",
                "order": 100,
                "from_control": "CTI",
                "target_tab": "Contact",
                "action_calls": ["Focus"],
                "cti": {
                    "direction": "inbound",
                    "searches": [
                        {
                            "name": "By phone",
                            "entity": "contact",
                            "filters": [{"field": "telephone1", "value": "[[cti.ani]]"}],
                        },
                        {"name": "By account phone", "entity": "account", "order": 1},
                    ],
                    "no_match": {"decision": "create_session_then_do_action", "action_calls": ["Log"]},
                    "single_match": {"decision": "create_session_load_match_then_do_action"},
                    "multiple_match": {"decision": "do_action", "action_calls": ["Focus"]},
                },
            },
            {  # 7: other direction, so not shadowed by "Inbound call"
                "name": "Outbound call",
                "order": 110,
                "from_control": "CTI",
                "cti": {"direction": "outbound", "single_match": {"decision": "do_action"}},
            },
        ],
        "session_lines": [
            {
                "name": "Caller",
                "type": "session_name",
                "entity": "contact",
                "display": "[[contact.fullname]]",
            },
            {"name": "Fallback", "order": 10, "type": "session_name", "display": "Call from [[cti.ani]+]"},
            {
                "name": "Phone",
                "type": "session_overview",
                "display": "[[contact.telephone1]+] [[$Resources.Phone]+]",
            },
        ],
        "agent_scripts": [
            {  # 0
                "name": "Greeting",
                "start_task": True,
                "show_tab": "Contact",
                "script_text": "Hello [[contact.firstname]+]",
                "instructions": "Use [[$Settings.Tone]+] tone",
                "action_calls": ["Focus"],
                "answers": [
                    {"name": "Yes", "text": "Yes", "linked_task": "Verify", "action_calls": ["Log"]},
                    {"name": "No", "text": "[[$Resources.No]+]", "linked_task": "Goodbye"},
                    {"name": "Stay", "text": "Wait"},
                ],
            },
            {"name": "Verify", "answers": [{"name": "Done", "text": "Done", "linked_task": "Goodbye"}]},  # 1
            {"name": "Goodbye", "script_text": "Goodbye"},  # 2
            {  # 3: reached by its trigger
                "name": "Sales line",
                "triggers": [{"name": "Sales DNIS", "type": "dnis", "data": "8005550100"}],
                "answers": [{"name": "Next", "text": "Next", "linked_task": "Offer"}],
            },
            {"name": "Offer", "script_text": "[[$Return.Log]+]"},  # 4: reached from the triggered task
        ],
        "resources": {"en": {"Phone": "Phone", "No": "No"}},
    }


def issues_of(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(i.code, i.record, i.field) for i in lint(Configuration.model_validate(data))]


def codes(data: dict[str, Any]) -> list[str]:
    return [code for code, _, _ in issues_of(data)]


def set_at(path: str, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split("/")]
        node: Any = data
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)

    return change


def append(path: str, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for part in [int(p) if p.isdigit() else p for p in path.split("/")]:
            node = node[part]
        node.append(copy.deepcopy(value))

    return change


def delete(path: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node: Any = data
        for part in parents:
            node = node[part]
        del node[last]

    return change


def both(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for one in changes:
            one(data)

    return change


def many_rules(count: int) -> Change:
    def change(data: dict[str, Any]) -> None:
        data[RULES] = [
            {"name": f"Rule {i}", "order": i, "url": f"https://example.com/page{i:03}/"} for i in range(count)
        ]

    return change


def test_the_clean_configuration_is_clean() -> None:
    assert lint(Configuration.model_validate(base())) == []


def test_the_clean_configuration_round_trips_through_yaml_and_stays_clean() -> None:
    config = Configuration.model_validate(base())
    again = loads_configuration(dump_configuration(config))
    assert again == config
    assert lint(again) == []


CASES: list[tuple[str, Change]] = [
    ("USD147", many_rules(51)),
    ("USD171", append(RULES, {"name": "Block tel", "order": 45, "url": "skype:", "action": "none"})),
    ("USD172", set_at(f"{RULES}/6/cti/searches/1/name", "By phone")),
    ("USD173", set_at(f"{RULES}/0/from_control", "Serch")),
    ("USD173", set_at(f"{RULES}/0/target_tab", "Contacts")),
    ("USD173", set_at(f"{RULES}/1/show_tab", "Nobody")),
    ("USD174", set_at(f"{RULES}/4/from_search", "Contacts")),
    ("USD174", set_at(f"{RULES}/4/entity_search", "Account")),
    ("USD175", set_at(f"{RULES}/3/action_calls", ["Lg"])),
    ("USD175", set_at(f"{RULES}/6/cti/no_match/action_calls", ["Nope"])),
    ("USD175", set_at(f"{RULES}/6/cti/multiple_match/action_calls", ["Focus", "Nope"])),
    ("USD176", delete(f"{RULES}/4/entity_search")),
    ("USD177", delete(f"{RULES}/4/from_search")),
    ("USD178", set_at(f"{RULES}/6/cti/no_match/decision", "create_session_load_match_then_do_action")),
    ("USD178", set_at(f"{RULES}/6/cti/multiple_match/decision", "create_session_load_match_then_do_action")),
    (
        "USD179",
        append(RULES, {"name": "More contacts", "order": 15, "from_control": "Search", "entity": "contact"}),
    ),
    ("USD179", append(RULES, {"name": "Help again", "order": 35, "url": "https://help.example.com/kb"})),
    ("USD179", set_at(f"{RULES}/7/cti/direction", "inbound")),
    (
        "USD180",
        append(
            RULES,
            {
                "name": "Loop",
                "order": 70,
                "route_type": "in_place",
                "from_control": "Contact",
                "entity": "contact",
                "target_tab": "Contact",
            },
        ),
    ),
    ("USD181", append("entity_searches", {"name": "Accounts", "entity": "account"})),
    ("USD182", append("session_lines", {"name": "Phone", "type": "session_overview", "display": "x"})),
    ("USD183", set_at("session_lines", [{"name": "Phone", "type": "session_overview", "display": "x"}])),
    ("USD191", append("agent_scripts", {"name": "Verify", "start_task": True})),
    ("USD192", append("agent_scripts/1/answers", {"name": "Done", "text": "Again"})),
    ("USD193", append("agent_scripts/3/triggers", {"name": "Sales DNIS", "data": "1"})),
    ("USD194", set_at("agent_scripts/0/action_calls", ["Focus", "Fokus"])),
    ("USD194", set_at("agent_scripts/0/answers/0/action_calls", ["Nope"])),
    ("USD195", set_at("agent_scripts/1/answers/0/linked_task", "Good bye")),
    ("USD196", set_at("agent_scripts/0/show_tab", "Contacts")),
    ("USD197", set_at("agent_scripts/0/start_task", False)),
    ("USD198", append("agent_scripts", {"name": "Orphan"})),
    ("USD198", delete("agent_scripts/3/triggers")),  # the triggered task and the one it leads to
    # shared checks, now also on the new texts
    ("USD131", set_at(f"{RULES}/1/condition", '"[[url]]".indexOf("x") >=')),
    ("USD151", set_at("entity_searches/0/filters/1/value", "[[Acount.statecode]]")),
    ("USD151", set_at(f"{RULES}/6/cti/searches/0/filters/0/value", "[[$CTI.ani]]")),
    ("USD151", set_at("session_lines/0/display", "[[Contact Page.name]]")),
    ("USD152", set_at("agent_scripts/2/script_text", "[[$Return.Nope]]")),
    ("USD153", set_at("agent_scripts/0/instructions", "[[script.Tone]]")),
    ("USD154", set_at("agent_scripts/0/answers/2/text", "[[$Resources.Wait]]")),
    ("USD151", set_at(f"{RULES}/1/condition", '"[[Acount.name]+]" != ""')),
]


@pytest.mark.parametrize(("code", "change"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_each_code_fires(code: str, change: Change) -> None:
    data = base()
    change(data)
    found = codes(data)
    if code == "USD198" and len(found) == 2:
        assert found == [code, code]  # the triggered task and the task it links to
    else:
        assert found == [code], found


def test_every_entity_code_is_exercised_and_in_the_table() -> None:
    tested = {code for code, _ in CASES}
    assert set(NAVIGATION_CODES) | set(SCRIPT_CODES) <= tested
    assert set(NAVIGATION_CODES) | set(SCRIPT_CODES) <= set(CODES)
    assert list(CODES) == sorted(CODES)


def test_severities() -> None:
    data = base()
    set_at(f"{RULES}/0/target_tab", "Nobody")(data)
    append(RULES, {"name": "Help again", "order": 35, "url": "https://help.example.com/kb"})(data)
    issues = lint(Configuration.model_validate(data))
    assert {(i.code, i.severity) for i in issues} == {("USD173", "error"), ("USD179", "warning")}
    for code, (severity, _) in {**NAVIGATION_CODES, **SCRIPT_CODES}.items():
        assert CODES[code][0] == severity


# ---------------------------------------------------------------------- messages and places
def test_messages_name_both_rules_and_suggest_names() -> None:
    data = base()
    append(RULES, {"name": "More contacts", "order": 15, "from_control": "Search", "entity": "contact"})(data)
    set_at(f"{RULES}/0/show_tab", "Contacts")(data)
    set_at("agent_scripts/1/answers/0/linked_task", "Good bye")(data)
    issues = {i.code: i for i in lint(Configuration.model_validate(data))}
    assert issues["USD179"].record == f'{RULES}[8] "More contacts"'
    assert issues["USD179"].message == "unreachable: rule 'Contact pop-ups' (order 10) always matches first"
    assert issues["USD173"].field == "show_tab"
    assert issues["USD173"].message == "no hosted control named 'Contacts' (did you mean 'Contact'?)"
    assert issues["USD195"].record == 'agent_scripts[1] "Verify" answers[0] "Done"'
    assert issues["USD195"].message == "no task named 'Good bye' (did you mean 'Goodbye'?)"


def test_places_of_nested_findings() -> None:
    data = base()
    set_at(f"{RULES}/6/cti/searches/1/name", "By phone")(data)
    set_at(f"{RULES}/6/cti/multiple_match/decision", "create_session_load_match_then_do_action")(data)
    append("agent_scripts/3/triggers", {"name": "Sales DNIS"})(data)
    assert sorted(issues_of(data)) == [
        ("USD172", f'{RULES}[6] "Inbound call" cti.searches[1] "By phone"', ""),
        ("USD178", f'{RULES}[6] "Inbound call"', "cti.multiple_match.decision"),
        ("USD193", 'agent_scripts[3] "Sales line" triggers[1] "Sales DNIS"', ""),
    ]


def test_findings_have_file_and_line() -> None:
    data = base()
    set_at(f"{RULES}/6/cti/no_match/action_calls", ["Nope"])(data)
    text = dump_configuration(Configuration.model_validate(data))
    [issue] = lint(loads_configuration(text, "c.yaml"))
    lines = text.splitlines()
    start = lines.index("      no_match:")
    assert issue.file == "c.yaml"
    assert lines[issue.line - 1].strip() == "action_calls: [Nope]" and issue.line > start


def test_the_bpa_limit_is_more_than_fifty() -> None:
    data = base()
    many_rules(50)(data)
    assert codes(data) == []


@pytest.mark.parametrize(
    "change",
    [
        # USD173: the Global Manager may be the target tab (create the session, evaluate again)
        set_at(f"{RULES}/0/target_tab", "Global Manager"),
        # USD177: from_control alone is enough for an on_load rule
        both(delete(f"{RULES}/4/from_search"), set_at(f"{RULES}/4/from_control", "Search")),
        # USD178: allowed on a single match
        set_at(f"{RULES}/7/cti/single_match/decision", "create_session_load_match_then_do_action"),
        # USD180: in place to another tab, or routed with another action
        append(
            RULES,
            {
                "name": "To account",
                "order": 70,
                "route_type": "in_place",
                "from_control": "Contact",
                "target_tab": "Account",
            },
        ),
        append(
            RULES,
            {
                "name": "New session",
                "order": 70,
                "route_type": "in_place",
                "from_control": "Contact",
                "action": "create_session",
                "target_tab": "Contact",
            },
        ),
        # USD183: no session lines at all
        set_at("session_lines", []),
        # USD197 and USD198: no agent scripts at all
        set_at("agent_scripts", []),
    ],
)
def test_near_misses_are_clean(change: Change) -> None:
    data = base()
    change(data)
    assert codes(data) == []


def test_no_start_task_reports_once_not_every_task() -> None:
    data = base()
    set_at("agent_scripts/0/start_task", False)(data)
    append("agent_scripts", {"name": "Orphan"})(data)
    assert codes(data) == ["USD197"]


# ---------------------------------------------------------------------- unreachable rules
def rule(**fields: Any) -> WindowNavigationRule:
    return WindowNavigationRule.model_validate({"name": "R", **fields})


ALL_DECIDED = {
    "no_match": {"decision": "do_action"},
    "single_match": {"decision": "do_action"},
    "multiple_match": {"decision": "create_session_then_do_action"},
}


@pytest.mark.parametrize(
    ("first", "later", "expected"),
    [
        ({}, {}, True),
        ({}, {"from_control": "A", "entity": "contact", "url": "x"}, True),
        ({"condition": "true"}, {}, False),
        ({"condition": "  "}, {}, True),
        ({"route_type": "in_place"}, {}, False),
        ({"from_control": "A"}, {"from_control": "A"}, True),
        ({"from_control": "A"}, {"from_control": "B"}, False),
        ({"from_control": "A"}, {}, False),
        ({"from_search": "S"}, {"from_search": "S", "entity": "x"}, True),
        ({"from_search": "S"}, {"from_search": "T"}, False),
        ({"entity": "contact"}, {"entity": "account"}, False),
        ({"entity": "contact"}, {}, False),
        ({"url": "*"}, {"url": "anything"}, True),
        ({"url": ""}, {}, True),
        ({"url": "example.com"}, {"url": "https://example.com/a"}, True),
        ({"url": "example.com/a"}, {"url": "example.com"}, False),
        ({"url": "example.com"}, {}, False),
        ({"url": "example.com"}, {"url": "*"}, False),
        ({"cti": ALL_DECIDED}, {}, False),
        ({}, {"cti": {}}, False),
        ({"cti": ALL_DECIDED}, {"cti": {}}, True),
        ({"cti": {**ALL_DECIDED, "single_match": {}}}, {"cti": {}}, False),
        ({"cti": {**ALL_DECIDED, "initiating_activity": "chat"}}, {"cti": {}}, False),
        ({"cti": {**ALL_DECIDED, "direction": "inbound"}}, {"cti": {"direction": "inbound"}}, True),
        ({"cti": {**ALL_DECIDED, "direction": "inbound"}}, {"cti": {}}, False),
        ({"cti": ALL_DECIDED}, {"cti": {"direction": "outbound"}}, True),
    ],
)
def test_shadows(first: dict[str, Any], later: dict[str, Any], expected: bool) -> None:
    assert shadows(rule(**first), rule(**later)) is expected


def test_rules_are_ordered_by_order_then_position() -> None:
    data = base()
    data[RULES] = [
        {"name": "Listed first", "order": 5, "url": "example.com/a"},
        {"name": "Catch-all", "order": 1},
        {"name": "Tie", "order": 1, "url": "tie.example.org"},
    ]
    assert sorted(issues_of(data)) == [
        ("USD179", f'{RULES}[0] "Listed first"', ""),
        ("USD179", f'{RULES}[2] "Tie"', ""),
    ]
    data[RULES][1]["order"] = 9  # the catch-all now comes last: nothing is hidden
    assert issues_of(data) == []


def test_a_session_for_the_global_manager_to_route_does_not_shadow_later_rules() -> None:
    data = base()
    managers = [c["name"] for c in data["hosted_controls"] if c["type"] == "GlobalManager"]
    append(RULES, {"name": "Session first", "order": 1, "entity": "contact", "action": "create_session",
                   "target_tab": managers[0]})(data)
    append(RULES, {"name": "Then its tab", "order": 2, "entity": "contact", "target_tab": "Contact"})(data)
    codes = {(i.code, i.record) for i in lint(Configuration.model_validate(data))}
    assert not any(code == "USD179" and "Then its tab" in record for code, record in codes)
    data[RULES][-2]["target_tab"] = "Contact"  # an ordinary target: the later rule is unreachable
    data[RULES][-2]["action"] = "route_window"
    codes = {(i.code, i.record) for i in lint(Configuration.model_validate(data))}
    assert any(code == "USD179" and "Then its tab" in record for code, record in codes)
