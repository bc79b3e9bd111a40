"""The shape of a configuration: the one source for YAML, JSON Schema, SQL tables and the docs.

Every model forbids unknown fields (a misspelt field is an error, never silently ignored) and every
field carries a ``description`` (the reference docs and the JSON Schema for editors are generated
from it). Field names are a contract: the runtime reads them by these names.

The records follow Unified Service Desk (see ``usd-reference.md`` §1.1): hosted controls, action
calls, events, toolbars, entity searches, window navigation rules, session lines, agent scripts,
scriptlets, options (``$Global``), language resources (``$Resources``) and user-setting defaults
(``$Settings``). The models of the later entities live in the ``schema_*`` modules and are
re-exported here. Cross-record rules (unique names, references that resolve, conditions that
parse) are checked by :mod:`usd_desktop.config.lint`, not here, so that one run reports every
finding with a stable code.

A :class:`Configuration` is treated as immutable (models are frozen; use ``model_copy(update=...)``
to derive a changed one). It remembers where each value came from when it was loaded from YAML
(:meth:`Configuration.locate`), so findings can name the file and line.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, PrivateAttr

from usd_desktop.config.schema_data import CustomField, CustomFieldType, OptionValues
from usd_desktop.config.schema_navigation import (
    CtiRule,
    CtiSearch,
    MatchDecision,
    WindowNavigationRule,
)
from usd_desktop.config.schema_scripts import AgentScriptAnswer, AgentScriptTask, ScriptTrigger
from usd_desktop.config.schema_searches import EntitySearch, SearchFilter, SortKey
from usd_desktop.config.schema_sessions import SessionLine
from usd_desktop.config.schema_types import DataPath, Identifier, Name, ScalarStr, _Model

__all__ = [
    "MODELS", "ActionCall", "AgentScriptAnswer", "AgentScriptTask", "Configuration", "CtiRule",
    "CtiSearch", "CustomField", "CustomFieldType", "DataPath", "EntitySearch", "Event", "HostedControl",
    "Identifier", "Location", "MatchDecision", "Name", "OptionValues", "Provenance", "ScalarStr",
    "ScriptTrigger", "Scriptlet", "SearchFilter", "SessionLine", "SortKey", "Toolbar", "ToolbarButton",
    "WindowNavigationRule", "field_model",
]  # fmt: skip


class HostedControl(_Model):
    """A hosted control: one named instance of a hosted-control type, placed in a panel."""

    name: Name = Field(
        description="Unique name; action calls, events and replacement parameters "
        "(`[[Name.key]]`) refer to the control by it."
    )
    type: Name = Field(
        description="The hosted-control type (USD Component Type), e.g. `GlobalManager`, "
        "`PanelLayout`, `ToolbarContainer`, `StandardWebApplication`, `Debugger`."
    )
    display_name: str | None = Field(
        default=None,
        description="Caption shown on the control's tab; may contain replacement parameters "
        "(`[[account.name]]`). Defaults to the name.",
    )
    sort_order: int = Field(default=100, description="Start-up and tab order; lower numbers load first.")
    panel: str | None = Field(
        default=None,
        description="The panel the control is shown in (USD Display Group). Default: its type's "
        "usual panel (`HiddenPanel` for the Global Manager, `ToolbarPanel` for a toolbar "
        "container, `MainPanel` for most others).",
    )
    is_global: bool = Field(
        default=True,
        description="One instance in the global session (true) or one per customer session (false).",
    )
    is_dynamic: bool = Field(
        default=False,
        description="Created on first use (an action or a navigation rule) instead of at start.",
    )
    user_can_close: bool = Field(default=False, description="The agent may close the control's tab.")
    actions: list[Name] = Field(
        default_factory=list,
        description="Extra UII actions declared on this control beyond its type's predefined "
        "ones (for example USD's hidden `ExecuteOnTimeout`).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Type-specific properties: the `url` of a web application, the panel "
        "arrangement of a PanelLayout, and so on (see the type's documentation).",
    )


class ActionCall(_Model):
    """An action call: one invocation of a UII action on a hosted control, with its data."""

    name: Name = Field(
        description="Unique name; events, toolbar buttons, sub-action calls and "
        "`[[$Return.Name]]` refer to the call by it."
    )
    control: Name = Field(description="Name of the hosted control that runs the action.")
    action: Name = Field(description="The UII action to run on that control (case-insensitive, as in USD).")
    data: str = Field(
        default="",
        description="Multi-line data for the action (usually `key=value` lines); replacement "
        "parameters are substituted first.",
    )
    condition: str = Field(
        default="",
        description="JavaScript expression evaluated after replacement; blank or true runs the "
        "call, false or an error skips it.",
    )
    order: int = Field(
        default=0,
        description="Position among the calls of one event, button or parent call (ascending; "
        "ties keep list order).",
    )
    shortcut: str | None = Field(
        default=None, description="Keyboard shortcut that runs the call, e.g. `Ctrl+R`."
    )
    sub_action_calls: list[Name] = Field(
        default_factory=list,
        description="Names of action calls run after this one (deferring actions such as "
        "`ExecuteOnDataAvailable` postpone them).",
    )
    description: str = Field(default="", description="Free text for administrators.")


class Event(_Model):
    """An event of a hosted control and the action calls it runs."""

    control: Name = Field(description="Name of the hosted control that raises the event.")
    name: Name = Field(
        description="The event name, a predefined one (`DesktopReady`, `SessionNew`, ...) or a "
        "user-defined one raised with `FireEvent`. Unique per control."
    )
    action_calls: list[Name] = Field(
        default_factory=list,
        description="Names of the action calls to run (USD Active Actions), by their `order`, "
        "ties by position in this list.",
    )


class ToolbarButton(_Model):
    """A toolbar button, or an entry of a button's drop-down menu."""

    name: Name = Field(description="Name, unique within its toolbar.")
    text: str = Field(default="", description="Button text; may contain replacement parameters.")
    tooltip: str = Field(default="", description="Tooltip; may contain replacement parameters.")
    icon: str | None = Field(default=None, description="Icon: a resource name or a file path.")
    shortcut: str | None = Field(
        default=None, description="Keyboard shortcut that clicks the button, e.g. `Ctrl+F`."
    )
    order: int = Field(default=0, description="Left-to-right position (ascending).")
    action_calls: list[Name] = Field(
        default_factory=list, description="Names of the action calls the button runs."
    )
    enable_condition: str = Field(
        default="", description="JavaScript condition; blank or true enables the button."
    )
    visible_condition: str = Field(
        default="", description="JavaScript condition; blank or true shows the button."
    )
    buttons: list[ToolbarButton] = Field(
        default_factory=list, description="Drop-down entries; a button with entries is a menu."
    )


class Toolbar(_Model):
    """A toolbar shown by a ToolbarContainer hosted control."""

    name: Name = Field(description="Unique name; `ShowToolbar` and `HideToolbar` refer to it.")
    title: str = Field(default="", description="Label shown at the left of the toolbar.")
    container: Name = Field(description="Name of the ToolbarContainer hosted control.")
    order: int = Field(default=0, description="Position among the toolbars of one container (ascending).")
    visible_condition: str = Field(
        default="", description="JavaScript condition; blank or true shows the toolbar."
    )
    enable_condition: str = Field(
        default="", description="JavaScript condition; blank or true enables the toolbar."
    )
    buttons: list[ToolbarButton] = Field(default_factory=list, description="The buttons.")


class Scriptlet(_Model):
    """A named JavaScript snippet, run by `[[script.Name]]` replacement parameters."""

    name: Name = Field(description="Unique name, used as `[[script.Name]]`.")
    script: str = Field(description="JavaScript whose last expression or `return` is the value.")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value was written: file and 1-based line."""

    file: str
    line: int


@dataclass(slots=True)
class Provenance:
    """Source positions of a loaded configuration, keyed by data path.

    ``lines`` maps a path to the line of its key (or list item); ``blocks`` maps the path of a
    literal block scalar (``|``) to the line its content starts on, so a position inside the text
    can be turned into a line.
    """

    lines: dict[DataPath, Location] = field(default_factory=dict)
    blocks: dict[DataPath, int] = field(default_factory=dict)

    def locate(self, path: DataPath) -> Location | None:
        """Where ``path``, or its nearest written ancestor, was written."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None


class Configuration(_Model):
    """A whole configuration: what one agent desktop loads (a USD Configuration)."""

    name: Name = Field(description="Name of the configuration.")
    description: str = Field(default="", description="Free text for administrators.")
    options: dict[Name, ScalarStr] = Field(
        default_factory=dict,
        description="USD Active UII Options (name to value), readable as `[[$Global.name]]`; "
        "e.g. `maxNumberOfSessions`, `MaxReplacementParameterDepth`.",
    )
    hosted_controls: list[HostedControl] = Field(default_factory=list, description="The hosted controls.")
    action_calls: list[ActionCall] = Field(default_factory=list, description="The action calls.")
    events: list[Event] = Field(default_factory=list, description="Events and the action calls they run.")
    toolbars: list[Toolbar] = Field(default_factory=list, description="The toolbars.")
    entity_searches: list[EntitySearch] = Field(
        default_factory=list,
        description="Entity searches, run by `DoSearch` and by window navigation rules (not run yet).",
    )
    window_navigation_rules: list[WindowNavigationRule] = Field(
        default_factory=list,
        description="Window navigation rules, tried by `order` (not applied yet).",
    )
    session_lines: list[SessionLine] = Field(
        default_factory=list,
        description="Session names and overview lines (USD Session Information; not shown yet).",
    )
    agent_scripts: list[AgentScriptTask] = Field(
        default_factory=list, description="Agent script tasks (not shown yet)."
    )
    scriptlets: list[Scriptlet] = Field(default_factory=list, description="The scriptlets.")
    custom_fields: list[CustomField] = Field(
        default_factory=list,
        description="Fields added to the service-desk entities (forms, searches and actions use them).",
    )
    option_values: list[OptionValues] = Field(
        default_factory=list,
        description="Values added to built-in option sets, e.g. case statuses.",
    )
    resources: dict[Name, dict[Name, ScalarStr]] = Field(
        default_factory=dict,
        description="Localised strings: language code (`en`, `fr-CA`) to key to text, readable "
        "as `[[$Resources.key]]`.",
    )
    user_settings: dict[Name, ScalarStr] = Field(
        default_factory=dict,
        description="Default user settings (name to value), readable as `[[$Settings.name]]`.",
    )

    _provenance: Provenance | None = PrivateAttr(default=None)
    _index: dict[str, dict[Any, Any]] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # Equal when the fields are equal; where it was loaded from does not matter.
        if not isinstance(other, Configuration):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ lookups
    def _built_index(self) -> dict[str, dict[Any, Any]]:
        if self._index is None:
            events: dict[str, list[Event]] = {}
            for event in self.events:
                events.setdefault(event.control, []).append(event)
            self._index = {
                "controls": _first_by_name(self.hosted_controls),
                "action_calls": _first_by_name(self.action_calls),
                "scriptlets": _first_by_name(self.scriptlets),
                "toolbars": _first_by_name(self.toolbars),
                "entity_searches": _first_by_name(self.entity_searches),
                "navigation_rules": _first_by_name(self.window_navigation_rules),
                "agent_scripts": _first_by_name(self.agent_scripts),
                "events": events,
            }
        return self._index

    @property
    def controls_by_name(self) -> Mapping[str, HostedControl]:
        """Hosted controls by name (the first one when a name is duplicated)."""
        return self._built_index()["controls"]

    @property
    def action_calls_by_name(self) -> Mapping[str, ActionCall]:
        """Action calls by name (the first one when a name is duplicated)."""
        return self._built_index()["action_calls"]

    @property
    def scriptlets_by_name(self) -> Mapping[str, Scriptlet]:
        """Scriptlets by name (the first one when a name is duplicated)."""
        return self._built_index()["scriptlets"]

    @property
    def toolbars_by_name(self) -> Mapping[str, Toolbar]:
        """Toolbars by name (the first one when a name is duplicated)."""
        return self._built_index()["toolbars"]

    @property
    def entity_searches_by_name(self) -> Mapping[str, EntitySearch]:
        """Entity searches by name (the first one when a name is duplicated)."""
        return self._built_index()["entity_searches"]

    @property
    def navigation_rules_by_name(self) -> Mapping[str, WindowNavigationRule]:
        """Window navigation rules by name (the first one when a name is duplicated)."""
        return self._built_index()["navigation_rules"]

    @property
    def agent_scripts_by_name(self) -> Mapping[str, AgentScriptTask]:
        """Agent script tasks by name (the first one when a name is duplicated)."""
        return self._built_index()["agent_scripts"]

    def control(self, name: str) -> HostedControl:
        """The hosted control called ``name``; :class:`KeyError` when there is none."""
        try:
            return self.controls_by_name[name]
        except KeyError:
            raise KeyError(f"no hosted control named {name!r}") from None

    def action_call(self, name: str) -> ActionCall:
        """The action call called ``name``; :class:`KeyError` when there is none."""
        try:
            return self.action_calls_by_name[name]
        except KeyError:
            raise KeyError(f"no action call named {name!r}") from None

    def events_for(self, control: str) -> Sequence[Event]:
        """The events configured on the hosted control ``control``, in configuration order."""
        events: dict[str, list[Event]] = self._built_index()["events"]
        return tuple(events.get(control, ()))

    # ------------------------------------------------------------------ provenance
    @property
    def provenance(self) -> Provenance | None:
        """Source positions when the configuration came from the loader, else ``None``."""
        return self._provenance

    def with_provenance(self, provenance: Provenance | None) -> Configuration:
        """Attach source positions (used by the loader); returns ``self``."""
        self._provenance = provenance
        return self

    def locate(self, path: DataPath, offset: int | None = None) -> Location | None:
        """Where the value at ``path`` (or its nearest written ancestor) came from.

        ``offset`` is a character position inside the string at ``path``; for a literal block
        scalar (``|``) the line is then the line of that character.
        """
        prov = self._provenance
        if prov is None:
            return None
        if offset is not None and path in prov.blocks and path in prov.lines:
            value: Any = self
            for part in path:
                value = value[part] if isinstance(part, int) else _get(value, part)
            if isinstance(value, str):
                start = prov.blocks[path]
                return Location(prov.lines[path].file, start + value.count("\n", 0, offset))
        return prov.locate(path)


def _get(value: Any, part: str) -> Any:
    if isinstance(value, Mapping):
        return value[part]
    return getattr(value, part)


def _first_by_name(records: Sequence[Any]) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for record in records:
        index.setdefault(record.name, record)
    return index


def field_model(path: DataPath) -> type[BaseModel] | None:
    """The model whose fields the value at ``path`` holds (``("toolbars", 0)`` -> Toolbar)."""
    model: type[BaseModel] = Configuration
    i = 0
    while i < len(path):
        info = model.model_fields.get(str(path[i]))
        if info is None:
            return None
        annotation = _unoptional(info.annotation)
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
            i += 1  # the list index
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
        i += 1
    return model


def _unoptional(annotation: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


#: The record models in the order the reference documents them.
MODELS: tuple[type[BaseModel], ...] = (
    Configuration,
    HostedControl,
    ActionCall,
    Event,
    Toolbar,
    ToolbarButton,
    EntitySearch,
    SearchFilter,
    SortKey,
    WindowNavigationRule,
    CtiRule,
    CtiSearch,
    MatchDecision,
    SessionLine,
    AgentScriptTask,
    AgentScriptAnswer,
    ScriptTrigger,
    Scriptlet,
    CustomField,
    OptionValues,
)
