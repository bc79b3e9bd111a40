"""The toolbar view-model (Qt-free): which buttons are visible and enabled, and their texts.

Toolbars and buttons are data (reference §6.2). A button has a *visible* condition and an *enable*
condition, evaluated separately (VS Code's ``when`` vs ``enablement``), re-evaluated when the
context changes, and only when something they read changed: each condition's replacement
parameters are known from the parsed template, so a change to ``$Context.x`` does not re-run a
button that reads only ``account.name``. ``Enable/DisableToolbarButton`` and ``Show/HideToolbar``
override the conditions at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from usd_desktop.core import conditions, replacement
from usd_desktop.core.context import ChangeSet


class ButtonDef(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def tooltip(self) -> str: ...
    @property
    def enable_condition(self) -> str: ...
    @property
    def visible_condition(self) -> str: ...
    @property
    def order(self) -> int: ...
    @property
    def buttons(self) -> Sequence[ButtonDef]: ...


class ToolbarDef(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def visible_condition(self) -> str: ...
    @property
    def enable_condition(self) -> str: ...
    @property
    def buttons(self) -> Sequence[ButtonDef]: ...


@dataclass(frozen=True, slots=True)
class ButtonState:
    visible: bool
    enabled: bool
    text: str
    tooltip: str


class ToolbarModel:
    """States of every toolbar and button, recomputed on demand from a data view."""

    def __init__(
        self,
        toolbars: Sequence[ToolbarDef],
        data: Callable[[], Mapping[str, Any]],
        scriptlets: Mapping[str, str] | None = None,
    ) -> None:
        self.toolbars = list(toolbars)
        self._data = data
        self._scriptlets = scriptlets or {}
        self.hidden_toolbars: set[str] = set()
        self.forced: dict[tuple[str, str], bool] = {}  # (toolbar, button) -> enabled override
        self._deps: dict[tuple[str, str], frozenset[tuple[str, str | None]] | None] = {}
        self._states: dict[tuple[str, str], ButtonState] = {}
        for toolbar in self.toolbars:
            for button in self.walk(toolbar):
                self._deps[(toolbar.name, button.name)] = replacement.dependencies(
                    button.enable_condition, button.visible_condition, button.text,
                    button.tooltip, toolbar.enable_condition, toolbar.visible_condition,
                )

    @staticmethod
    def walk(toolbar: ToolbarDef) -> list[ButtonDef]:
        """Every button of a toolbar, drop-down children included, depth first."""
        out: list[ButtonDef] = []
        stack = list(reversed(sorted(toolbar.buttons, key=lambda b: b.order)))
        while stack:
            button = stack.pop()
            out.append(button)
            stack.extend(reversed(sorted(button.buttons, key=lambda b: b.order)))
        return out

    def toolbar_visible(self, toolbar: ToolbarDef) -> bool:
        if toolbar.name in self.hidden_toolbars:
            return False
        return conditions.evaluate_condition(
            toolbar.visible_condition, self._data(), scriptlets=self._scriptlets
        ).run

    def state(self, toolbar: ToolbarDef, button: ButtonDef) -> ButtonState:
        key = (toolbar.name, button.name)
        cached = self._states.get(key)
        if cached is None:
            cached = self._compute(toolbar, button)
            self._states[key] = cached
        return cached

    def _compute(self, toolbar: ToolbarDef, button: ButtonDef) -> ButtonState:
        data = self._data()
        scriptlets = self._scriptlets
        visible = conditions.evaluate_condition(
            button.visible_condition, data, scriptlets=scriptlets
        ).run
        enabled = conditions.evaluate_condition(
            toolbar.enable_condition, data, scriptlets=scriptlets
        ).run and conditions.evaluate_condition(
            button.enable_condition, data, scriptlets=scriptlets
        ).run
        forced = self.forced.get((toolbar.name, button.name))
        if forced is not None:
            enabled = forced
        text = replacement.try_render(button.text, data, scriptlets=scriptlets)
        tooltip = replacement.try_render(button.tooltip, data, scriptlets=scriptlets)
        return ButtonState(visible, enabled, text or "", tooltip or "")

    def invalidate(self, change: ChangeSet | None = None) -> list[tuple[str, str]]:
        """Forget the states a change may affect; returns the ``(toolbar, button)`` keys to redraw."""
        if change is None:
            stale = list(self._states)
        else:
            stale = [key for key in self._states if self._affected(key, change)]
        for key in stale:
            del self._states[key]
        return stale

    def _affected(self, key: tuple[str, str], change: ChangeSet) -> bool:
        deps = self._deps.get(key)
        if deps is None:
            return True
        return any((root, name) in deps or (root, None) in deps for root, name in change.keys)

    def find(self, button: str, toolbar: str | None = None) -> list[tuple[ToolbarDef, ButtonDef]]:
        found = []
        for tb in self.toolbars:
            if toolbar and tb.name != toolbar:
                continue
            for b in self.walk(tb):
                if b.name == button:
                    found.append((tb, b))
        return found

    def force_enabled(self, button: str, enabled: bool, toolbar: str | None = None) -> int:
        matches = self.find(button, toolbar)
        for tb, b in matches:
            self.forced[(tb.name, b.name)] = enabled
            self._states.pop((tb.name, b.name), None)
        return len(matches)
