"""The configuration models: shape, defaults, names, lookups."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from usd_desktop.config.schema import (
    MODELS,
    ActionCall,
    Configuration,
    HostedControl,
    Location,
    Provenance,
    Toolbar,
    ToolbarButton,
    field_model,
)


def make() -> Configuration:
    return Configuration(
        name="Test",
        hosted_controls=[
            HostedControl(name="Global Manager", type="GlobalManager"),
            HostedControl(name="Contact", type="StandardWebApplication", is_global=False),
            HostedControl(name="Contact", type="Debugger"),
        ],
        action_calls=[
            ActionCall(name="Open", control="Contact", action="Navigate"),
            ActionCall(name="Close", control="Contact", action="Close"),
        ],
        events=[
            {"control": "Global Manager", "name": "DesktopReady", "action_calls": ["Open"]},
            {"control": "Contact", "name": "PageReady"},
            {"control": "Global Manager", "name": "SessionNew"},
        ],
    )


def test_defaults_follow_usd() -> None:
    control = HostedControl(name="X", type="Debugger")
    assert (control.sort_order, control.panel, control.is_global) == (100, None, True)  # None: the type's usual panel
    assert (control.is_dynamic, control.user_can_close, control.actions, control.settings) == (
        False,
        False,
        [],
        {},
    )
    call = ActionCall(name="A", control="X", action="Close")
    assert (call.data, call.condition, call.order, call.shortcut) == ("", "", 0, None)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_described_and_extra_fields_are_forbidden(model: type[BaseModel]) -> None:
    assert model.__doc__
    for name, info in model.model_fields.items():
        assert info.description, f"{model.__name__}.{name} has no description"
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("name", ["", "   ", " padded", "padded ", "two\nlines"])
def test_names_must_be_one_clean_line(name: str) -> None:
    with pytest.raises(ValidationError):
        HostedControl(name=name, type="Debugger")
    with pytest.raises(ValidationError):
        Configuration(name=name)


def test_names_may_contain_spaces_and_numbers_become_text() -> None:
    assert HostedControl(name="KB Search", type="Debugger").name == "KB Search"
    assert ToolbarButton(name=7, text=1).text == "1"  # type: ignore[arg-type]


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="conditon"):
        ActionCall.model_validate({"name": "A", "control": "X", "action": "Y", "conditon": "1"})


def test_option_setting_and_resource_values_become_text() -> None:
    config = Configuration.model_validate(
        {
            "name": "T",
            "options": {"maxNumberOfSessions": 3, "HideSessionCloseButton": False, "Zoom": 0.5},
            "user_settings": {"Volume": 7},
            "resources": {"en": {"Count": 2}},
        }
    )
    assert config.options == {
        "maxNumberOfSessions": "3",
        "HideSessionCloseButton": "False",
        "Zoom": "0.5",
    }
    assert config.user_settings == {"Volume": "7"}
    assert config.resources == {"en": {"Count": "2"}}
    with pytest.raises(ValidationError):
        Configuration.model_validate({"name": "T", "options": {"X": None}})


def test_nested_toolbar_buttons() -> None:
    toolbar = Toolbar.model_validate(
        {
            "name": "Main",
            "container": "Toolbars",
            "buttons": [{"name": "More", "buttons": [{"name": "Inner", "action_calls": ["A"]}]}],
        }
    )
    assert toolbar.buttons[0].buttons[0].action_calls == ["A"]


def test_lookups() -> None:
    config = make()
    assert config.control("Contact").type == "StandardWebApplication"  # the first of two
    assert config.action_call("Close").action == "Close"
    assert [e.name for e in config.events_for("Global Manager")] == ["DesktopReady", "SessionNew"]
    assert config.events_for("Nobody") == ()
    assert set(config.controls_by_name) == {"Global Manager", "Contact"}
    assert set(config.action_calls_by_name) == {"Open", "Close"}
    assert config.scriptlets_by_name == {} and config.toolbars_by_name == {}
    with pytest.raises(KeyError, match="no hosted control named 'Nobody'"):
        config.control("Nobody")
    with pytest.raises(KeyError, match="no action call named 'Nope'"):
        config.action_call("Nope")


def test_configuration_is_frozen() -> None:
    with pytest.raises(ValidationError):
        make().name = "Other"  # type: ignore[misc]
    assert make().model_copy(update={"name": "Other"}).name == "Other"


def test_equality_ignores_provenance() -> None:
    a, b = make(), make()
    a.with_provenance(Provenance({(): Location("a.yaml", 1)}))
    assert a == b
    assert a != make().model_copy(update={"description": "changed"})
    assert a.locate(("action_calls", 0)) == Location("a.yaml", 1)
    assert b.locate(("action_calls", 0)) is None
    assert (a == 3) is False


def test_field_model() -> None:
    assert field_model(()) is Configuration
    assert field_model(("toolbars", 0)) is Toolbar
    assert field_model(("toolbars", 0, "buttons", 1, "buttons", 0)) is ToolbarButton
    assert field_model(("options",)) is None
    assert field_model(("nonsense",)) is None


def test_json_schema_is_valid_json_and_accepts_bare_option_values() -> None:
    schema = json.loads(json.dumps(Configuration.model_json_schema()))
    assert schema["additionalProperties"] is False
    options = schema["properties"]["options"]["additionalProperties"]
    assert set(options["type"]) == {"string", "number", "boolean"}
    assert "ToolbarButton" in schema["$defs"]
