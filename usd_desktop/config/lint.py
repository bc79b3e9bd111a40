"""Cross-record checks of a configuration, each finding with a stable code.

:func:`lint` returns :class:`~usd_desktop.config.loader.ConfigIssue` s (``error`` or
``warning``), with the file and line when the configuration came from the loader. :data:`CODES`
lists every code; the configuration reference documents them. The checks of window navigation
rules and entity searches are in :mod:`~usd_desktop.config.lint_navigation`, those of session
lines and agent scripts in :mod:`~usd_desktop.config.lint_scripts`.

Hosted-control type metadata (the actions and events of each type) comes from the layer above as
:class:`ControlTypeInfo` objects, so this module never imports the hosted controls. Without it the
checks that need it are skipped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from usd_desktop.config.lint_common import ERROR, WARNING
from usd_desktop.config.lint_common import close as _close
from usd_desktop.config.lint_navigation import NAVIGATION_CODES, lint_navigation, navigation_texts
from usd_desktop.config.lint_scripts import SCRIPT_CODES, lint_scripts, script_texts
from usd_desktop.config.loader import ConfigIssue, issue_at
from usd_desktop.config.schema import Configuration, DataPath, Toolbar, ToolbarButton
from usd_desktop.core.conditions import condition_syntax_error

_CORE_CODES: dict[str, tuple[str, str]] = {
    "USD001": (ERROR, "YAML syntax error, or a top level that is not a mapping"),
    "USD002": (ERROR, "duplicate key in a YAML mapping"),
    "USD003": (ERROR, "a field is missing, unknown or of the wrong type"),
    "USD004": (ERROR, "two files of a directory give different values for the same key"),
    "USD005": (ERROR, "file or directory missing, empty or unreadable"),
    "USD101": (ERROR, "duplicate hosted control name"),
    "USD102": (ERROR, "duplicate action call name"),
    "USD103": (ERROR, "duplicate scriptlet name"),
    "USD104": (ERROR, "duplicate toolbar name"),
    "USD105": (ERROR, "duplicate button name within a toolbar"),
    "USD106": (ERROR, "the same event configured twice on one hosted control"),
    "USD111": (ERROR, "action call on an unknown hosted control"),
    "USD112": (ERROR, "action not declared by the control's type nor by the control"),
    "USD113": (ERROR, "unknown hosted-control type"),
    "USD114": (ERROR, "more than one hosted control of a single-instance type"),
    "USD115": (ERROR, "event on an unknown hosted control"),
    "USD116": (WARNING, "event name looks like a misspelt predefined event of the control's type"),
    "USD121": (ERROR, "event names an unknown action call"),
    "USD122": (ERROR, "toolbar button names an unknown action call"),
    "USD123": (ERROR, "sub-action call names an unknown action call"),
    "USD124": (ERROR, "sub-action calls form a cycle"),
    "USD125": (ERROR, "toolbar container is not a hosted control"),
    "USD126": (ERROR, "toolbar container is not a ToolbarContainer"),
    "USD131": (ERROR, "condition is not valid JavaScript"),
    "USD141": (ERROR, "not exactly one GlobalManager hosted control"),
    "USD142": (WARNING, "more than 10 action calls on a desktop or session event"),
    "USD143": (WARNING, "action calls on PageLoadComplete (it fires once per frame)"),
    "USD144": (WARNING, "option maxNumberOfSessions is 0 or more than 5"),
    "USD145": (ERROR, "option maxNumberOfSessions is not a whole number"),
    "USD146": (ERROR, "option MaxReplacementParameterDepth is not a positive whole number"),
    "USD151": (WARNING, "replacement parameter root can never resolve"),
    "USD152": (WARNING, "[[$Return.X]] where X is not an action call"),
    "USD153": (ERROR, "[[script.X]] where X is not a scriptlet"),
    "USD154": (WARNING, "[[$Resources.K]] where no language has K"),
    "USD161": (WARNING, "the same keyboard shortcut on two action calls or buttons"),
}
#: code -> (severity, what it means), by code. Load errors (USD00x) come from the loader; the
#: codes of navigation rules, searches, session lines and agent scripts from the ``lint_*`` modules.
CODES: dict[str, tuple[str, str]] = dict(sorted({**_CORE_CODES, **NAVIGATION_CODES, **SCRIPT_CODES}.items()))

#: Roots that the runtime always provides (usd-reference §3.5).
SYSTEM_ROOTS = frozenset(
    {
        "$Context", "$Session", "$Global", "$User", "$Settings", "$Return", "$Resources",
        "$SystemParameters", "$Subject", "$Panel", "$Debug", "$GlobalDictionary", "$Search", "script", "cti",
    }
)  # fmt: skip
BUSY_EVENTS = frozenset(
    {"DesktopReady", "SessionNew", "SessionActivated", "SessionDeactivated", "SessionClosed"}
)
MAX_ACTIONS_ON_BUSY_EVENT = 10
GLOBAL_MANAGER = "GlobalManager"
TOOLBAR_CONTAINER = "ToolbarContainer"

#: A replacement token: ``[[path]flags]``.
TOKEN = re.compile(r"\[\[([^\[\]]+)\]([+$^uxgav]*)\]")
_ENTITY_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


class ControlTypeInfo(Protocol):
    """What lint needs to know about a hosted-control type (the plugin declares it as data)."""

    @property
    def actions(self) -> Collection[str]: ...
    @property
    def events(self) -> Collection[str]: ...
    @property
    def singleton(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ControlType:
    """A plain :class:`ControlTypeInfo`."""

    actions: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    singleton: bool = False


def lint(
    config: Configuration,
    control_types: Mapping[str, ControlTypeInfo] | None = None,
    *,
    unchecked_types: Collection[str] = (),
) -> list[ConfigIssue]:
    """Every finding about ``config``, sorted by file and line.

    ``control_types`` maps type names to their metadata; when given, types and actions are
    checked. ``unchecked_types`` are types known to exist whose metadata could not be loaded:
    their controls are neither reported as unknown nor checked for actions.
    """
    return _Linter(config, control_types, frozenset(unchecked_types)).run()


def _walk_buttons(
    buttons: Sequence[ToolbarButton], path: DataPath
) -> Iterator[tuple[DataPath, ToolbarButton]]:
    for i, button in enumerate(buttons):
        button_path = (*path, "buttons", i)
        yield button_path, button
        yield from _walk_buttons(button.buttons, button_path)


class _Linter:
    def __init__(
        self,
        config: Configuration,
        types: Mapping[str, ControlTypeInfo] | None,
        unchecked: frozenset[str],
    ) -> None:
        self.config = config
        self.types = types
        self.unchecked = unchecked
        self.issues: list[ConfigIssue] = []

    def report(self, path: DataPath, code: str, message: str, offset: int | None = None) -> None:
        severity = CODES[code][0]
        self.issues.append(
            issue_at(self.config, path, code=code, severity=severity, message=message, offset=offset)
        )

    def run(self) -> list[ConfigIssue]:
        self.duplicates()
        self.controls()
        self.action_calls()
        self.events()
        self.toolbars()
        self.cycles()
        self.options()
        self.shortcuts()
        lint_navigation(self.config, self.report)
        lint_scripts(self.config, self.report)
        self.replacements()
        return sorted(self.issues, key=lambda i: (i.file, i.line))

    # ------------------------------------------------------------------ names
    def _unique(self, records: Sequence[Any], kind: str, code: str, what: str) -> None:
        first: dict[Any, int] = {}
        for i, record in enumerate(records):
            key = record.name if kind != "events" else (record.control, record.name)
            if key in first:
                self.report(
                    (kind, i),
                    code,
                    f"duplicate {what} {record.name!r} (first is {kind}[{first[key]}])",
                )
            else:
                first[key] = i

    def duplicates(self) -> None:
        c = self.config
        self._unique(c.hosted_controls, "hosted_controls", "USD101", "hosted control name")
        self._unique(c.action_calls, "action_calls", "USD102", "action call name")
        self._unique(c.scriptlets, "scriptlets", "USD103", "scriptlet name")
        self._unique(c.toolbars, "toolbars", "USD104", "toolbar name")
        self._unique(c.events, "events", "USD106", "event")
        for t, toolbar in enumerate(c.toolbars):
            seen: dict[str, DataPath] = {}
            for path, button in _walk_buttons(toolbar.buttons, ("toolbars", t)):
                if button.name in seen:
                    self.report(path, "USD105", f"duplicate button name {button.name!r}")
                else:
                    seen[button.name] = path

    # ------------------------------------------------------------------ controls and types
    def type_info(self, type_name: str) -> ControlTypeInfo | None:
        if self.types is None or type_name in self.unchecked:
            return None
        return self.types.get(type_name)

    def controls(self) -> None:
        c = self.config
        managers = [i for i, hc in enumerate(c.hosted_controls) if hc.type == GLOBAL_MANAGER]
        if not managers:
            self.report((), "USD141", "no hosted control of type GlobalManager; exactly one needed")
        for i in managers[1:]:
            self.report(
                ("hosted_controls", i, "type"),
                "USD141",
                f"a second GlobalManager (the first is hosted_controls[{managers[0]}]); "
                "exactly one is allowed",
            )
        if self.types is None:
            return
        by_type: dict[str, list[int]] = {}
        for i, hc in enumerate(c.hosted_controls):
            by_type.setdefault(hc.type, []).append(i)
            if hc.type not in self.types and hc.type not in self.unchecked:
                known = set(self.types) | self.unchecked
                self.report(
                    ("hosted_controls", i, "type"),
                    "USD113",
                    f"unknown hosted-control type {hc.type!r}{_close(hc.type, known)}",
                )
        for type_name, indexes in by_type.items():
            info = self.type_info(type_name)
            if info is not None and info.singleton and type_name != GLOBAL_MANAGER:
                for i in indexes[1:]:
                    self.report(
                        ("hosted_controls", i, "type"),
                        "USD114",
                        f"type {type_name!r} allows one hosted control; the first is "
                        f"hosted_controls[{indexes[0]}]",
                    )

    def action_calls(self) -> None:
        controls = self.config.controls_by_name
        for i, call in enumerate(self.config.action_calls):
            control = controls.get(call.control)
            if control is None:
                self.report(
                    ("action_calls", i, "control"),
                    "USD111",
                    f"no hosted control named {call.control!r}{_close(call.control, controls)}",
                )
            else:
                info = self.type_info(control.type)
                if info is not None:
                    known = {a.lower(): a for a in (*info.actions, *control.actions)}
                    if call.action.lower() not in known:
                        self.report(
                            ("action_calls", i, "action"),
                            "USD112",
                            f"hosted control {control.name!r} (type {control.type}) has no "
                            f"action {call.action!r}{_close(call.action, known.values())}; "
                            "declare extra actions in the control's `actions`",
                        )
            self.condition(("action_calls", i, "condition"), call.condition)
            for j, sub in enumerate(call.sub_action_calls):
                self.call_ref(("action_calls", i, "sub_action_calls", j), sub, "USD123")

    def condition(self, path: DataPath, text: str) -> None:
        error = condition_syntax_error(text)
        if error:
            self.report(path, "USD131", f"condition is not valid JavaScript: {error}")

    def call_ref(self, path: DataPath, name: str, code: str) -> None:
        calls = self.config.action_calls_by_name
        if name not in calls:
            self.report(path, code, f"no action call named {name!r}{_close(name, calls)}")

    # ------------------------------------------------------------------ events
    def events(self) -> None:
        controls = self.config.controls_by_name
        for i, event in enumerate(self.config.events):
            control = controls.get(event.control)
            if control is None:
                self.report(
                    ("events", i, "control"),
                    "USD115",
                    f"no hosted control named {event.control!r}{_close(event.control, controls)}",
                )
            else:
                info = self.type_info(control.type)
                if info is not None and event.name not in info.events:
                    match = [e for e in info.events if e.lower() == event.name.lower()]
                    match = match or difflib.get_close_matches(event.name, list(info.events), 1, 0.85)
                    if match:
                        self.report(
                            ("events", i, "name"),
                            "USD116",
                            f"{event.name!r} is not an event of type {control.type}; did you "
                            f"mean {match[0]!r}? (a user-defined event only fires with FireEvent)",
                        )
            for j, name in enumerate(event.action_calls):
                self.call_ref(("events", i, "action_calls", j), name, "USD121")
            count = len(event.action_calls)
            if event.name in BUSY_EVENTS and count > MAX_ACTIONS_ON_BUSY_EVENT:
                self.report(
                    ("events", i, "action_calls"),
                    "USD142",
                    f"{count} action calls on {event.name}; keep it to "
                    f"{MAX_ACTIONS_ON_BUSY_EVENT} or fewer (move work to sub-action calls "
                    "or later events)",
                )
            if event.name == "PageLoadComplete" and count:
                self.report(
                    ("events", i, "name"),
                    "USD143",
                    "PageLoadComplete fires once per frame; use DataReady or BrowserDocumentComplete instead",
                )

    # ------------------------------------------------------------------ toolbars
    def toolbars(self) -> None:
        controls = self.config.controls_by_name
        for t, toolbar in enumerate(self.config.toolbars):
            container = controls.get(toolbar.container)
            if container is None:
                self.report(
                    ("toolbars", t, "container"),
                    "USD125",
                    f"no hosted control named {toolbar.container!r}{_close(toolbar.container, controls)}",
                )
            elif container.type != TOOLBAR_CONTAINER:
                self.report(
                    ("toolbars", t, "container"),
                    "USD126",
                    f"hosted control {container.name!r} is a {container.type}, not a {TOOLBAR_CONTAINER}",
                )
            self.toolbar_conditions(("toolbars", t), toolbar)
            for path, button in _walk_buttons(toolbar.buttons, ("toolbars", t)):
                self.toolbar_conditions(path, button)
                for j, name in enumerate(button.action_calls):
                    self.call_ref((*path, "action_calls", j), name, "USD122")

    def toolbar_conditions(self, path: DataPath, record: Toolbar | ToolbarButton) -> None:
        self.condition((*path, "visible_condition"), record.visible_condition)
        self.condition((*path, "enable_condition"), record.enable_condition)

    # ------------------------------------------------------------------ cycles
    def cycles(self) -> None:
        calls = self.config.action_calls_by_name
        position = {call.name: i for i, call in reversed(list(enumerate(self.config.action_calls)))}
        done: set[str] = set()
        reported: set[frozenset[str]] = set()

        def visit(name: str, stack: list[str]) -> None:
            if name in stack:
                cycle = [*stack[stack.index(name) :], name]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    head = min(cycle[:-1], key=lambda n: position[n])
                    start = cycle.index(head)
                    ordered = [*cycle[start:-1], *cycle[:start], head]
                    self.report(
                        ("action_calls", position[head], "sub_action_calls"),
                        "USD124",
                        "sub-action calls form a cycle: " + " -> ".join(ordered),
                    )
                return
            if name in done or name not in calls:
                return
            stack.append(name)
            for sub in calls[name].sub_action_calls:
                visit(sub, stack)
            stack.pop()
            done.add(name)

        for call in self.config.action_calls:
            visit(call.name, [])

    # ------------------------------------------------------------------ options
    def option(self, name: str) -> tuple[str, str] | None:
        for key, value in self.config.options.items():
            if key.lower() == name.lower():
                return key, value
        return None

    def options(self) -> None:
        found = self.option("maxNumberOfSessions")
        if found is not None:
            key, value = found
            try:
                sessions = int(value.strip())
            except ValueError:
                self.report(("options", key), "USD145", f"{value!r} is not a whole number")
            else:
                if sessions == 0 or sessions > 5:
                    self.report(
                        ("options", key),
                        "USD144",
                        f"{sessions} sessions; USD's best-practice analyser wants 1 to 5",
                    )
        found = self.option("MaxReplacementParameterDepth")
        if found is not None:
            key, value = found
            try:
                ok = int(value.strip()) > 0
            except ValueError:
                ok = False
            if not ok:
                self.report(("options", key), "USD146", f"{value!r} is not a positive whole number")

    def shortcuts(self) -> None:
        seen: dict[str, str] = {}
        places: list[tuple[DataPath, str | None, str]] = [
            (("action_calls", i, "shortcut"), call.shortcut, f"action call {call.name!r}")
            for i, call in enumerate(self.config.action_calls)
        ]
        for t, toolbar in enumerate(self.config.toolbars):
            for path, button in _walk_buttons(toolbar.buttons, ("toolbars", t)):
                places.append(((*path, "shortcut"), button.shortcut, f"button {button.name!r}"))
        for path, shortcut, owner in places:
            if not shortcut:
                continue
            key = re.sub(r"\s+", "", shortcut).lower()
            if key in seen:
                self.report(path, "USD161", f"shortcut {shortcut!r} is also used by {seen[key]}")
            else:
                seen[key] = owner

    # ------------------------------------------------------------------ replacement parameters
    def texts(self) -> Iterator[tuple[DataPath, str]]:
        c = self.config
        for i, hc in enumerate(c.hosted_controls):
            if hc.display_name:
                yield ("hosted_controls", i, "display_name"), hc.display_name
            yield from _strings(hc.settings, ("hosted_controls", i, "settings"))
        for i, call in enumerate(c.action_calls):
            yield ("action_calls", i, "data"), call.data
            yield ("action_calls", i, "condition"), call.condition
        for t, toolbar in enumerate(c.toolbars):
            for field in ("title", "visible_condition", "enable_condition"):
                yield ("toolbars", t, field), getattr(toolbar, field)
            for path, button in _walk_buttons(toolbar.buttons, ("toolbars", t)):
                for field in ("text", "tooltip", "visible_condition", "enable_condition"):
                    yield (*path, field), getattr(button, field)
        for i, scriptlet in enumerate(c.scriptlets):
            yield ("scriptlets", i, "script"), scriptlet.script
        for language, texts in c.resources.items():
            for key, text in texts.items():
                yield ("resources", language, key), text
        yield from navigation_texts(c)
        yield from script_texts(c)

    def replacements(self) -> None:
        c = self.config
        resource_keys = {key for texts in c.resources.values() for key in texts}
        roots = set(c.controls_by_name) | SYSTEM_ROOTS
        for path, text in self.texts():
            for match in TOKEN.finditer(text):
                self.token(path, match, roots, resource_keys)

    def token(self, path: DataPath, match: re.Match[str], roots: set[str], resource_keys: set[str]) -> None:
        param, offset = match.group(1), match.start()
        root, dot, name = param.partition(".")
        if not dot:
            if root.startswith("$") and root not in SYSTEM_ROOTS:
                self.report(
                    path,
                    "USD151",
                    f"{match.group(0)}: {root!r} is not a system section{_close(root, roots)}",
                    offset,
                )
            return  # a bare event parameter
        if root == "$Return" and name not in self.config.action_calls_by_name:
            self.report(path, "USD152", f"{match.group(0)}: no action call named {name!r}", offset)
        elif root == "script" and name not in self.config.scriptlets_by_name:
            self.report(path, "USD153", f"{match.group(0)}: no scriptlet named {name!r}", offset)
        elif root == "$Resources" and name not in resource_keys:
            self.report(path, "USD154", f"{match.group(0)}: no language has resource {name!r}", offset)
        elif root not in roots and not _ENTITY_NAME.match(root):
            self.report(
                path,
                "USD151",
                f"{match.group(0)}: {root!r} is neither a hosted control, a system section nor "
                f"an entity name{_close(root, roots)}",
                offset,
            )


def _strings(value: Any, path: DataPath) -> Iterator[tuple[DataPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))
