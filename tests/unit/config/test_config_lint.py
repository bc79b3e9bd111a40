"""Lint: every code fires on a configuration that has the problem and not on a clean one."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from usd_desktop.config.lint import CODES, ControlType, ControlTypeInfo, lint
from usd_desktop.config.lint_navigation import NAVIGATION_CODES
from usd_desktop.config.lint_scripts import SCRIPT_CODES
from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.schema import Configuration

COMMON = frozenset({"default", "Close", "FireEvent", "MoveToPanel", "SetSize", "ExecuteOnTimeout"})
TYPES: dict[str, ControlTypeInfo] = {
    "GlobalManager": ControlType(
        actions=COMMON | {"ShowTab", "CopyToContext", "ExecuteScriptlet", "CreateSession"},
        events=frozenset({"DesktopReady", "SessionNew", "SessionClosed"}),
        singleton=True,
    ),
    "PanelLayout": ControlType(actions=COMMON | {"SetVisualProperty"}, singleton=True),
    "ToolbarContainer": ControlType(actions=COMMON | {"ShowToolbar", "HideToolbar"}),
    "StandardWebApplication": ControlType(
        actions=COMMON | {"Navigate", "RunScript"},
        events=frozenset({"BrowserDocumentComplete", "PageReady", "PageLoadComplete"}),
    ),
    "Debugger": ControlType(actions=COMMON),
}


def base() -> dict[str, Any]:
    """A clean configuration touching every kind of record."""
    return {
        "name": "Clean",
        "options": {"maxNumberOfSessions": "3", "MaxReplacementParameterDepth": "4"},
        "hosted_controls": [
            {"name": "Global Manager", "type": "GlobalManager"},
            {"name": "Layout", "type": "PanelLayout"},
            {"name": "Toolbars", "type": "ToolbarContainer", "panel": "ToolbarPanel"},
            {
                "name": "Contact",
                "type": "StandardWebApplication",
                "is_global": False,
                "display_name": "[[contact.fullname]+]",
                "actions": ["WaitForComplete"],
                "settings": {"url": "https://crm.example.com/[[$Global.Tenant]+]"},
            },
            {"name": "KB Search", "type": "StandardWebApplication"},
        ],
        "action_calls": [
            {
                "name": "Open Contact",
                "control": "Contact",
                "action": "navigate",  # action names are case-insensitive
                "data": "url=[[Contact.url]]\nq=[[KB Search.query]g]\nid=[[SessionId]]",
                "condition": '"[[contact.id]+]" != "" && [[$Return.Wait]+] != 0',
                "shortcut": "Ctrl+R",
                "sub_action_calls": ["Wait"],
            },
            {
                "name": "Wait",
                "control": "Contact",
                "action": "WaitForComplete",  # declared on the control
                "data": "[[script.Greeting]]\n[[$Resources.Welcome]]\n[[cti.ani]+]",
            },
            {"name": "Focus", "control": "Global Manager", "action": "ShowTab", "data": "Contact"},
            {"name": "Later", "control": "Contact", "action": "ExecuteOnTimeout"},
        ],
        "events": [
            {"control": "Global Manager", "name": "SessionNew", "action_calls": ["Open Contact"]},
            {"control": "Global Manager", "name": "MyUserEvent", "action_calls": ["Focus"]},
            {"control": "Contact", "name": "PageReady", "action_calls": ["Focus", "Wait"]},
        ],
        "toolbars": [
            {
                "name": "Main",
                "container": "Toolbars",
                "visible_condition": "true",
                "buttons": [
                    {
                        "name": "Contact",
                        "text": "[[$Resources.Welcome]] [[$User.firstname]+]",
                        "shortcut": "Ctrl+Shift+C",
                        "action_calls": ["Open Contact"],
                        "enable_condition": '"[[$Session.IsGlobal]+]" != "true"',
                        "buttons": [{"name": "Focus", "action_calls": ["Focus"]}],
                    }
                ],
            }
        ],
        "scriptlets": [{"name": "Greeting", "script": 'return "Hi [[contact.firstname]+]";'}],
        "resources": {"en": {"Welcome": "Welcome"}, "fr": {"Bye": "Au revoir"}},
    }


def codes(data: dict[str, Any], types: dict[str, ControlTypeInfo] | None = TYPES) -> list[str]:
    return [issue.code for issue in lint(Configuration.model_validate(data), types)]


def test_the_clean_configuration_is_clean() -> None:
    assert lint(Configuration.model_validate(base()), TYPES) == []
    assert lint(Configuration.model_validate(base())) == []


def set_at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node: Any = data
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def append(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for part in [int(p) if p.isdigit() else p for p in path.split("/")]:
            node = node[part]
        node.append(copy.deepcopy(value))

    return change


def both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for one in changes:
            one(data)

    return change


CASES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("USD101", append("hosted_controls", {"name": "Contact", "type": "Debugger"})),
    ("USD102", append("action_calls", {"name": "Focus", "control": "Contact", "action": "Close"})),
    ("USD103", append("scriptlets", {"name": "Greeting", "script": "1"})),
    ("USD104", append("toolbars", {"name": "Main", "container": "Toolbars"})),
    ("USD105", append("toolbars/0/buttons", {"name": "Focus"})),  # clashes with a nested one
    ("USD106", append("events", {"control": "Contact", "name": "PageReady"})),
    ("USD111", set_at("action_calls/2/control", "Global Manger")),
    ("USD112", set_at("action_calls/2/action", "ShowTabs")),
    ("USD113", set_at("hosted_controls/4/type", "StandardWebApp")),
    ("USD114", append("hosted_controls", {"name": "Layout 2", "type": "PanelLayout"})),
    ("USD115", set_at("events/2/control", "Contacts")),
    ("USD116", set_at("events/1/name", "SessionNw")),
    ("USD121", set_at("events/0/action_calls", ["Open Contact", "Nope"])),
    ("USD122", set_at("toolbars/0/buttons/0/buttons/0/action_calls", ["Nope"])),
    ("USD123", set_at("action_calls/0/sub_action_calls", ["Nope"])),
    ("USD124", set_at("action_calls/1/sub_action_calls", ["Open Contact"])),
    ("USD125", set_at("toolbars/0/container", "Toolbar")),
    ("USD126", set_at("toolbars/0/container", "Contact")),
    ("USD131", set_at("action_calls/0/condition", "[[contact.id]] ==")),
    ("USD131", set_at("toolbars/0/visible_condition", "(")),
    ("USD131", set_at("toolbars/0/buttons/0/buttons/0/enable_condition", "a b")),
    ("USD141", both(set_at("hosted_controls/0/type", "Debugger"), set_at("action_calls/2/action", "Close"))),
    ("USD141", append("hosted_controls", {"name": "GM 2", "type": "GlobalManager"})),
    ("USD142", set_at("events/0/action_calls", ["Focus"] * 11)),
    ("USD143", set_at("events/2/name", "PageLoadComplete")),
    ("USD144", set_at("options/maxNumberOfSessions", "6")),
    ("USD144", set_at("options/maxNumberOfSessions", "0")),
    ("USD145", set_at("options/maxNumberOfSessions", "three")),
    ("USD146", set_at("options/MaxReplacementParameterDepth", "0")),
    ("USD146", set_at("options/MaxReplacementParameterDepth", "deep")),
    ("USD151", set_at("action_calls/2/data", "[[Account.name]]")),
    ("USD151", set_at("action_calls/2/data", "[[$Globals.x]+]")),
    ("USD151", set_at("hosted_controls/3/settings/url", "[[$Nope]]")),
    ("USD152", set_at("action_calls/2/data", "[[$Return.Open]]")),
    ("USD153", set_at("toolbars/0/buttons/0/tooltip", "[[script.Greetings]]")),
    ("USD154", set_at("scriptlets/0/script", "'[[$Resources.Hello]$]'")),
    ("USD161", set_at("toolbars/0/buttons/0/buttons/0/shortcut", "ctrl + r")),
]


@pytest.mark.parametrize(("code", "change"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_each_code_fires(code: str, change: Callable[[dict[str, Any]], None]) -> None:
    data = base()
    change(data)
    found = codes(data)
    assert found == [code], found


def test_every_lint_code_is_exercised() -> None:
    # The codes of searches, navigation rules, session lines and scripts: test_lint_entities.py.
    tested = {code for code, _ in CASES}
    entities = {*NAVIGATION_CODES, *SCRIPT_CODES}
    assert {c for c in CODES if not c.startswith("USD00")} - entities == tested


def test_severities_match_the_table() -> None:
    data = base()
    data["options"]["maxNumberOfSessions"] = "9"
    data["action_calls"][2]["control"] = "Nobody"
    issues = lint(Configuration.model_validate(data))
    assert {(i.code, i.severity) for i in issues} == {("USD144", "warning"), ("USD111", "error")}


def test_type_checks_need_type_metadata() -> None:
    data = base()
    data["action_calls"][2]["action"] = "Bogus"
    data["hosted_controls"][4]["type"] = "Bogus"
    assert codes(data, None) == []
    assert sorted(codes(data)) == ["USD112", "USD113"]


def test_unchecked_types_are_neither_unknown_nor_checked() -> None:
    data = base()
    data["action_calls"][2]["action"] = "Bogus"  # on the Global Manager
    config = Configuration.model_validate(data)
    types = {k: v for k, v in TYPES.items() if k != "GlobalManager"}
    assert [i.code for i in lint(config, types)] == ["USD113"]
    assert lint(config, types, unchecked_types={"GlobalManager"}) == []


def test_singleton_global_manager_is_reported_once() -> None:
    data = base()
    data["hosted_controls"].append({"name": "GM 2", "type": "GlobalManager"})
    assert codes(data) == ["USD141"]


def test_no_global_manager_at_all() -> None:
    [issue] = lint(Configuration.model_validate({"name": "Empty"}))
    assert issue.code == "USD141" and "exactly one" in issue.message


def test_conservative_replacement_checks() -> None:
    data = base()
    data["action_calls"][2]["data"] = "\n".join(
        [
            "[[account.name]]",  # an entity
            "[[incident.customerid.Id]x]",  # an entity with a dotted name
            "[[KB Search.articleurl]g]",  # a control whose name has a space
            "[[$Subject.Default Subject.Id]]",
            "[[url]]",  # a bare event parameter
            "[[Some Parameter]]",  # bare, with a space: still an event parameter
            "[[$Debug]]",
            "[[$Return.Wait]+]",
            "$Expression([[$Context.etc]] == 1)",
        ]
    )
    assert codes(data) == []


def test_cycle_reports_its_path_once() -> None:
    data = base()
    data["action_calls"][0]["sub_action_calls"] = ["Wait"]
    data["action_calls"][1]["sub_action_calls"] = ["Focus"]
    data["action_calls"][2]["sub_action_calls"] = ["Open Contact"]
    data["action_calls"][3]["sub_action_calls"] = ["Later"]
    issues = lint(Configuration.model_validate(data))
    assert [(i.code, i.record) for i in issues] == [
        ("USD124", 'action_calls[0] "Open Contact"'),
        ("USD124", 'action_calls[3] "Later"'),
    ]
    assert issues[0].message.endswith("Open Contact -> Wait -> Focus -> Open Contact")
    assert issues[1].message.endswith("Later -> Later")


def test_suggestions() -> None:
    data = base()
    data["action_calls"][2]["control"] = "Global Manger"
    data["action_calls"][1]["data"] = "[[$Globl.x]]"
    messages = [i.message for i in lint(Configuration.model_validate(data))]
    assert any("did you mean 'Global Manager'?" in m for m in messages)
    assert any("did you mean '$Global'?" in m for m in messages)


def test_findings_carry_file_line_record_and_field() -> None:
    text = textwrap.dedent(
        """\
        name: T
        hosted_controls:
          - {name: Global Manager, type: GlobalManager}
        action_calls:
          - name: Open Contact
            control: Global Manager
            action: ShowTab
            data: |
              first line
              [[Acount.name]]
            condition: "[[x]] =="
        toolbars:
          - name: Main
            container: Global Manager
        """
    )
    issues = lint(loads_configuration(text, "resources/starter/controls.yaml"), TYPES)
    assert [str(i) for i in issues] == [
        'resources/starter/controls.yaml:10: action_calls[0] "Open Contact" field data: '
        "[[Acount.name]]: 'Acount' is neither a hosted control, a system section nor an entity "
        "name",
        'resources/starter/controls.yaml:11: action_calls[0] "Open Contact" field condition: '
        + issues[1].message,
        'resources/starter/controls.yaml:14: toolbars[0] "Main" field container: hosted control '
        "'Global Manager' is a GlobalManager, not a ToolbarContainer",
    ]
    assert issues[1].code == "USD131" and issues[1].line == 11


def test_findings_without_a_file() -> None:
    data = base()
    data["events"][0]["control"] = "Nobody"
    [issue] = lint(Configuration.model_validate(data))
    assert (issue.file, issue.line) == ("", 0)
    assert str(issue) == (
        'events[0] "SessionNew" on "Nobody" field control: no hosted control named \'Nobody\''
    )
