"""The registry of hosted-control types, discovered through entry points.

Group ``usd_desktop.hosted_controls``: each entry point names a :class:`ControlType` object. Built-ins
register through the same group as third parties. A plugin that fails to load (import error, wrong
object, duplicate name) is *reported and skipped*: the desktop still starts, and
:attr:`Registry.problems` says what went wrong, for the status bar, the debugger and ``usd-admin``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from usd_desktop.core.plugins import load_plugins
from usd_desktop.hosted_controls.base import ControlType, HostedControl

log = logging.getLogger(__name__)
GROUP = "usd_desktop.hosted_controls"


@dataclass(frozen=True, slots=True)
class PluginProblem:
    source: str  # the entry point or type name
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True, slots=True)
class TypeInfo:
    actions: frozenset[str]
    events: frozenset[str]
    singleton: bool


class Registry:
    """Control types by name, plus the problems met while finding or loading them."""

    def __init__(self, types: Iterable[ControlType] = ()) -> None:
        self.types: dict[str, ControlType] = {}
        self.problems: list[PluginProblem] = []
        self._classes: dict[str, type[HostedControl]] = {}
        self._disposers: dict[str, Callable[[], None]] = {}
        for control_type in types:
            self.register(control_type)

    @classmethod
    def discover(cls, group: str = GROUP) -> Registry:
        registry = cls()
        for _ep, source, obj in load_plugins(group, registry._problem):
            registry._take_plugin(source, obj)
        return registry

    def _take_plugin(self, source: str, obj: object) -> None:
        if not isinstance(obj, ControlType):
            self._problem(source, f"is a {type(obj).__name__}, not a ControlType")
            return
        self.register(obj, source=source)

    def register(self, control_type: ControlType, *, source: str = "") -> Callable[[], None]:
        """Add a type; returns the disposer that removes it again. A duplicate name is refused."""
        if control_type.name in self.types:
            self._problem(source or control_type.name,
                          f"a control type named {control_type.name!r} is already registered")
            return lambda: None

        def dispose() -> None:
            self.types.pop(control_type.name, None)
            self._classes.pop(control_type.name, None)

        self.types[control_type.name] = control_type
        self._disposers[control_type.name] = dispose
        return dispose

    def type_infos(self) -> dict[str, TypeInfo]:
        """What the configuration linter needs of each type (its actions include the common ones)."""
        return {
            name: TypeInfo(t.all_actions, t.events, t.singleton) for name, t in self.types.items()
        }

    def get(self, name: str) -> ControlType | None:
        return self.types.get(name)

    def implementation(self, name: str) -> type[HostedControl] | None:
        """Import the type's class (once). ``None``, with a problem recorded, when it cannot."""
        if name in self._classes:
            return self._classes[name]
        control_type = self.types.get(name)
        if control_type is None:
            return None
        if control_type.needs_qt and importlib.util.find_spec("PySide6") is None:
            self._problem(name, "needs PySide6, which is not installed (install usd-desktop[gui])")
            return None
        module_name, _, attr = control_type.factory.partition(":")
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, attr)
        except Exception as exc:
            self._problem(name, f"implementation {control_type.factory} could not be imported: "
                                f"{type(exc).__name__}: {exc}")
            return None
        if not (isinstance(cls, type) and issubclass(cls, HostedControl)):
            self._problem(name, f"{control_type.factory} is not a HostedControl subclass")
            return None
        self._classes[name] = cls
        return cls

    def _problem(self, source: str, message: str) -> None:
        problem = PluginProblem(source, message)
        if problem not in self.problems:
            self.problems.append(problem)
            log.error("hosted-control plugin %s", problem)
