"""The models of entity searches, window navigation rules, session lines and agent scripts:
defaults, validation, lookups, YAML round trip and source positions."""

from __future__ import annotations

import json
import textwrap

import pytest
from pydantic import BaseModel, ValidationError

from usd_desktop.config.lint import lint
from usd_desktop.config.loader import ConfigLoadError, dump_configuration, loads_configuration
from usd_desktop.config.schema import (
    MODELS,
    AgentScriptAnswer,
    AgentScriptTask,
    Configuration,
    CtiRule,
    CtiSearch,
    EntitySearch,
    Location,
    MatchDecision,
    ScriptTrigger,
    SearchFilter,
    SessionLine,
    SortKey,
    WindowNavigationRule,
    field_model,
)

NEW_MODELS: tuple[type[BaseModel], ...] = (
    EntitySearch, SearchFilter, SortKey, WindowNavigationRule, CtiRule, CtiSearch, MatchDecision,
    SessionLine, AgentScriptTask, AgentScriptAnswer, ScriptTrigger,
)  # fmt: skip

#: A configuration that sets every field of every new model to a value other than its default.
FULL = """\
name: Entities
hosted_controls:
  - name: Global Manager
    type: GlobalManager
  - name: CTI
    type: CtiDesktopManager
  - name: Search
    type: StandardWebApplication
  - name: Contact
    type: StandardWebApplication
    is_global: false
action_calls:
  - name: Focus
    control: Global Manager
    action: ShowTab
    data: Contact
  - name: Log
    control: Global Manager
    action: FireEvent
    data: name=Logged
entity_searches:
  - name: Contacts by phone
    entity: contact
    filters:
      - field: telephone1
        operator: begins_with
        value: '[[cti.ani]+]'
      - field: statecode
        value: '0'
      - field: emailaddress1
        operator: 'null'
    match: any
    columns: [fullname, telephone1]
    max_count: 10
    order_by:
      - field: fullname
        descending: true
    description: |
      Finds the caller.
      Used by the after-search rule.
window_navigation_rules:
  - name: After search
    order: 5
    from_control: Search
    from_search: Contacts by phone
    entity: contact
    url: main.aspx
    route_type: on_load
    action: create_session
    destination: entity_search
    target_tab: Contact
    show_tab: Contact
    entity_search: Contacts by phone
    hide_command_bar: true
    hide_navigation_bar: true
    condition: '"[[url]]".indexOf("etn=contact") >= 0'
    action_calls: [Focus, Log]
  - name: Inbound call
    order: 100
    from_control: CTI
    url: '*'
    action: none
    cti:
      initiating_activity: chat
      direction: inbound
      searches:
        - name: By phone
          entity: contact
          filters:
            - field: telephone1
              operator: in
              value: '[[cti.ani]], [[cti.dnis]+]'
          match: any
          columns: [fullname]
          max_count: 5
          order: 2
          direction: outbound
      no_match:
        decision: create_session_then_do_action
        action_calls: [Log]
      single_match:
        decision: create_session_load_match_then_do_action
      multiple_match:
        decision: do_action
        action_calls: [Focus]
session_lines:
  - name: Caller
    order: 3
    type: session_name
    entity: contact
    display: '[[contact.fullname]] ([[contact.telephone1]+])'
    description: The tab label
  - name: Overview
    type: session_overview
    display: |
      <TextBlock Text="[[contact.emailaddress1]+]" />
agent_scripts:
  - name: Greeting
    start_task: true
    show_tab: Contact
    category: Sales
    script_text: Hello [[contact.firstname]+], how can I help?
    instructions: Smile.
    action_calls: [Focus]
    answers:
      - name: Verify
        text: Verify the caller
        linked_task: Verify
        order: 2
        action_calls: [Log]
    triggers:
      - name: Sales line
        type: dnis
        data: '8005550100'
  - name: Verify
    script_text: Ask for the date of birth.
"""


def test_new_models_are_documented_models() -> None:
    for model in NEW_MODELS:
        assert model in MODELS
    fields = list(Configuration.model_fields)
    assert (
        fields.index("toolbars") < fields.index("entity_searches") < fields.index("window_navigation_rules")
    )
    assert fields.index("session_lines") < fields.index("agent_scripts") < fields.index("scriptlets")


def test_defaults() -> None:
    search = EntitySearch(name="S", entity="contact")
    assert (search.filters, search.match, search.order_by, search.columns) == ([], "all", [], [])
    assert (search.max_count, search.description) == (50, "")
    assert SearchFilter(field="name") == SearchFilter(field="name", operator="eq", value="")
    assert SortKey(field="name").descending is False
    rule = WindowNavigationRule(name="R")
    assert (rule.order, rule.from_control, rule.from_search, rule.entity, rule.url) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert (rule.route_type, rule.action, rule.destination) == ("popup", "route_window", "tab")
    assert (rule.target_tab, rule.show_tab, rule.entity_search) == (None, None, None)
    assert (rule.hide_command_bar, rule.hide_navigation_bar, rule.condition) == (False, False, "")
    assert (rule.action_calls, rule.cti) == ([], None)
    cti = CtiRule()
    assert (cti.initiating_activity, cti.direction, cti.searches) == ("phonecall", "both", [])
    assert cti.no_match == cti.single_match == cti.multiple_match == MatchDecision()
    assert MatchDecision() == MatchDecision(decision="next_rule", action_calls=[])
    cti_search = CtiSearch(name="C", entity="contact")
    assert (cti_search.order, cti_search.direction, cti_search.max_count, cti_search.match) == (
        0,
        "both",
        50,
        "all",
    )
    line = SessionLine(name="L", type="session_name", display="x")
    assert (line.order, line.entity, line.description) == (0, None, "")
    task = AgentScriptTask(name="T")
    assert (task.start_task, task.show_tab, task.category, task.script_text, task.instructions) == (
        False, None, "", "", "")  # fmt: skip
    assert (task.action_calls, task.answers, task.triggers) == ([], [], [])
    answer = AgentScriptAnswer(name="A", text="Yes")
    assert (answer.linked_task, answer.order, answer.action_calls) == (None, 0, [])
    assert (ScriptTrigger(name="T").type, ScriptTrigger(name="T").data) == ("other", "")
    config = Configuration(name="C")
    assert (config.entity_searches, config.window_navigation_rules, config.session_lines, config.agent_scripts) == (
        [], [], [], [])  # fmt: skip


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (SearchFilter, {"field": ""}),
        (SearchFilter, {"field": "first name"}),
        (SearchFilter, {"field": "1st"}),
        (SearchFilter, {"field": "name; drop table contact"}),
        (SearchFilter, {"field": "name", "operator": "equals"}),
        (SearchFilter, {"field": "name", "value": True}),
        (SortKey, {"field": "a.b"}),
        (EntitySearch, {"name": "S", "entity": "con tact"}),
        (EntitySearch, {"name": "S", "entity": "contact", "columns": ["full name"]}),
        (EntitySearch, {"name": "S", "entity": "contact", "max_count": 0}),
        (EntitySearch, {"name": "S", "entity": "contact", "match": "some"}),
        (EntitySearch, {"name": " S", "entity": "contact"}),
        (EntitySearch, {"name": "S"}),
        (WindowNavigationRule, {"name": "R", "route_type": "inplace"}),
        (WindowNavigationRule, {"name": "R", "action": "default"}),
        (WindowNavigationRule, {"name": "R", "destination": "search"}),
        (WindowNavigationRule, {"name": "R", "from_control": ""}),
        (WindowNavigationRule, {"name": "R", "from": "CTI"}),
        (WindowNavigationRule, {"name": "R", "cti": {"initiating_activity": "phone call"}}),
        (WindowNavigationRule, {"name": "R", "cti": {"direction": "in"}}),
        (WindowNavigationRule, {"name": "R", "cti": {"no_match": {"decision": "create_session"}}}),
        (
            WindowNavigationRule,
            {"name": "R", "cti": {"searches": [{"name": "S", "entity": "x", "direction": "up"}]}},
        ),
        (SessionLine, {"name": "L", "display": "x"}),
        (SessionLine, {"name": "L", "type": "session_name"}),
        (SessionLine, {"name": "L", "type": "overview", "display": "x"}),
        (AgentScriptTask, {"name": "T", "answers": [{"name": "A"}]}),
        (AgentScriptTask, {"name": "T", "triggers": [{"name": "X", "type": "ani"}]}),
        (AgentScriptAnswer, {"name": "A", "text": "x", "linked_task": ""}),
    ],
)
def test_validation(model: type[BaseModel], data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_logical_names_and_values() -> None:
    with pytest.raises(ValidationError, match="'first name' is not a logical name"):
        SearchFilter(field="first name")
    assert SearchFilter(field="_x9").field == "_x9"
    assert SearchFilter.model_validate({"field": "statecode", "value": 0}).value == "0"
    # ``operator: null`` without quotes reads as YAML null, and means the null operator
    assert SearchFilter.model_validate({"field": "x", "operator": None}).operator == "null"
    assert ScriptTrigger.model_validate({"name": "T", "data": 8005550100}).data == "8005550100"


def test_lookups() -> None:
    config = loads_configuration(FULL)
    assert list(config.entity_searches_by_name) == ["Contacts by phone"]
    assert list(config.navigation_rules_by_name) == ["After search", "Inbound call"]
    assert config.navigation_rules_by_name["Inbound call"].cti is not None
    assert list(config.agent_scripts_by_name) == ["Greeting", "Verify"]
    tasks = [AgentScriptTask(name="T", category="1"), AgentScriptTask(name="T", category="2")]
    twice = Configuration(name="C", agent_scripts=tasks)
    assert twice.agent_scripts_by_name["T"].category == "1"  # the first one


def test_field_model_follows_optional_and_nested_records() -> None:
    assert field_model(("window_navigation_rules", 0)) is WindowNavigationRule
    assert field_model(("window_navigation_rules", 0, "cti")) is CtiRule
    assert field_model(("window_navigation_rules", 0, "cti", "no_match")) is MatchDecision
    assert field_model(("window_navigation_rules", 0, "cti", "searches", 1, "filters", 0)) is SearchFilter
    assert field_model(("entity_searches", 0, "order_by", 0)) is SortKey
    assert field_model(("agent_scripts", 0, "answers", 2)) is AgentScriptAnswer
    assert field_model(("agent_scripts", 0, "triggers", 0)) is ScriptTrigger
    assert field_model(("session_lines", 0)) is SessionLine
    assert field_model(("window_navigation_rules", 0, "url")) is None


def test_full_configuration_sets_every_field_and_lints_clean() -> None:
    config = loads_configuration(FULL)
    assert lint(config) == []
    records: list[BaseModel] = [
        *config.entity_searches, *config.entity_searches[0].filters, *config.entity_searches[0].order_by,
        *config.window_navigation_rules, *config.session_lines, *config.agent_scripts,
    ]  # fmt: skip
    cti = config.window_navigation_rules[1].cti
    assert cti is not None
    records += [
        cti,
        *cti.searches,
        *cti.searches[0].filters,
        cti.no_match,
        cti.single_match,
        cti.multiple_match,
    ]
    records += [*config.agent_scripts[0].answers, *config.agent_scripts[0].triggers]
    set_fields = {(type(r).__name__, name) for r in records for name in r.model_dump(exclude_defaults=True)}
    for model in NEW_MODELS:
        for name in model.model_fields:
            assert (model.__name__, name) in set_fields, f"FULL never sets {model.__name__}.{name}"


def test_yaml_round_trip_is_stable() -> None:
    first = loads_configuration(FULL)
    text = dump_configuration(first)
    again = loads_configuration(text)
    assert again == first
    assert dump_configuration(again) == text
    # the dump keeps the schema's layout: new sections between toolbars and scriptlets, defaults left out
    assert (
        text.index("entity_searches:") < text.index("window_navigation_rules:") < text.index("session_lines:")
    )
    assert text.index("session_lines:") < text.index("agent_scripts:")
    assert "    route_type: on_load\n" in text and "route_type: popup" not in text
    assert "              operator: in\n" in text
    assert "        operator: 'null'\n" in text
    assert "    url: '*'\n" in text
    assert "      single_match:\n        decision: create_session_load_match_then_do_action\n" in text
    assert "    columns: [fullname, telephone1]\n" in text


def test_a_default_cti_rule_round_trips() -> None:
    config = Configuration(name="C", window_navigation_rules=[WindowNavigationRule(name="R", cti=CtiRule())])
    text = dump_configuration(config)
    assert "    cti: {}\n" in text
    assert loads_configuration(text) == config


def test_error_inside_a_cti_search_filter_names_file_line_and_records() -> None:
    text = FULL.replace("              operator: in\n", "              operator: within\n")
    with pytest.raises(ConfigLoadError) as caught:
        loads_configuration(text, "rules.yaml")
    [issue] = caught.value.errors
    line = text.splitlines().index("              operator: within") + 1
    assert (issue.file, issue.line, issue.code) == ("rules.yaml", line, "USD003")
    assert issue.record == 'window_navigation_rules[1] "Inbound call" cti.searches[0] "By phone"'
    assert issue.field == "filters[0].operator"
    assert str(issue).startswith(f"rules.yaml:{line}: window_navigation_rules[1] ")


def test_unknown_field_in_a_match_decision_suggests_the_right_one() -> None:
    text = FULL.replace("        decision: do_action\n", "        decison: do_action\n")
    with pytest.raises(ConfigLoadError) as caught:
        loads_configuration(text, "rules.yaml")
    [issue] = caught.value.errors
    assert issue.line == text.splitlines().index("        decison: do_action") + 1
    assert issue.field == "cti.multiple_match.decison"
    assert "did you mean 'decision'?" in issue.message


def test_nested_answer_and_trigger_errors_name_their_task() -> None:
    text = FULL.replace("        type: dnis\n", "        type: ani\n")
    with pytest.raises(ConfigLoadError) as caught:
        loads_configuration(text)
    [issue] = caught.value.errors
    assert issue.record == 'agent_scripts[0] "Greeting" triggers[0] "Sales line"'
    assert issue.field == "type"


def test_locate_new_paths() -> None:
    config = loads_configuration(FULL, "full.yaml")
    lines = FULL.splitlines()
    value_line = lines.index("              value: '[[cti.ani]], [[cti.dnis]+]'") + 1
    path = ("window_navigation_rules", 1, "cti", "searches", 0, "filters", 0, "value")
    assert config.locate(path) == Location("full.yaml", value_line)
    assert config.locate(("agent_scripts", 0, "answers", 0, "linked_task")) == Location(
        "full.yaml", lines.index("        linked_task: Verify") + 1
    )
    description = ("entity_searches", 0, "description")
    text = config.entity_searches[0].description
    assert config.locate(description, text.index("Used")) == Location(
        "full.yaml", lines.index("      Used by the after-search rule.") + 1
    )


def test_json_schema_knows_the_new_entities() -> None:
    schema = json.loads(json.dumps(Configuration.model_json_schema()))
    for name in ("entity_searches", "window_navigation_rules", "session_lines", "agent_scripts"):
        assert name in schema["properties"]
    for model in NEW_MODELS:
        assert model.__name__ in schema["$defs"]
    field = schema["$defs"]["SearchFilter"]["properties"]["field"]
    assert field["pattern"] == "^[A-Za-z_][A-Za-z0-9_]*$"
    rule = schema["$defs"]["WindowNavigationRule"]
    assert rule["additionalProperties"] is False
    assert set(rule["properties"]["route_type"]["enum"]) == {"popup", "in_place", "on_load", "menu_chosen"}


def test_a_lint_finding_in_a_filter_value_names_its_line() -> None:
    text = textwrap.dedent(
        """\
        name: T
        hosted_controls:
          - name: GM
            type: GlobalManager
        entity_searches:
          - name: S
            entity: contact
            filters:
              - field: fullname
                value: '[[Acount.name]]'
        """
    )
    [issue] = lint(loads_configuration(text, "s.yaml"))
    assert (issue.code, issue.file, issue.line) == ("USD151", "s.yaml", 10)
    assert issue.record == 'entity_searches[0] "S"' and issue.field == "filters[0].value"
