"""The desktop runtime, Qt-free: a configuration brought to life.

:class:`Desktop` builds the sessions, the dispatcher and the hosted-control instances from a
:class:`~usd_desktop.config.schema.Configuration`, and runs the start sequence of USD (reference §1):
global, non-dynamic controls are created by sort order (dynamic ones on first use), then the Global
Manager raises ``DesktopReady``. A control type that cannot be loaded is reported in
:attr:`Desktop.problems` and skipped; the desktop still starts.

The shell listens to :attr:`Desktop.control_created` to place each control's widget in its panel;
tests use the same object with a recording host and no Qt at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any

from usd_desktop.config.schema import Configuration
from usd_desktop.config.schema import HostedControl as HostedControlDef
from usd_desktop.core.context import Session, Sessions
from usd_desktop.core.dispatcher import DEFAULT_MAX_CHAIN_DEPTH, Dispatcher
from usd_desktop.core.errors import ActionError
from usd_desktop.core.paths import resources_dir
from usd_desktop.core.signals import Signal
from usd_desktop.core.trace import TraceJournal
from usd_desktop.data.services import DataServices, RecordChange
from usd_desktop.hosted_controls.base import DesktopHost, HostedControl, SettingsStore
from usd_desktop.hosted_controls.navigation_router import NavigationRouter
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.hosted_controls.session_lifecycle import SessionLifecycle

log = logging.getLogger(__name__)


class MemorySettings:
    """A :class:`SettingsStore` kept in memory (tests, and machines with nowhere to write)."""

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self.values = dict(initial or {})

    def load(self) -> dict[str, str]:
        return dict(self.values)

    def save(self, name: str, value: str) -> None:
        self.values[name] = value


class JsonSettingsStore:
    """User settings in a JSON file, written atomically (a crash never leaves half a file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.error("user settings %s could not be read (%s); starting without them",
                      self.path, exc)
            return {}
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def save(self, name: str, value: str) -> None:
        values = self.load()
        values[name] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(values, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class Desktop(SessionLifecycle):
    """Sessions + dispatcher + hosted-control instances for one configuration and one user."""

    def __init__(
        self,
        config: Configuration,
        *,
        host: DesktopHost,
        registry: Registry | None = None,
        journal: TraceJournal | None = None,
        settings: SettingsStore | None = None,
        user: Mapping[str, str] | None = None,
        language: str = "en",
        data: DataServices | None = None,
    ) -> None:
        self.config = config
        self._data = data
        self._host = host
        self.registry = registry if registry is not None else Registry.discover()
        self.sessions = Sessions()
        self._settings = settings or MemorySettings()
        depth = _int_option(config.options, "MaxActionCallDepth", DEFAULT_MAX_CHAIN_DEPTH)
        self._dispatcher = Dispatcher(self.sessions, self, journal, max_chain_depth=depth)
        self.control_created: Signal[HostedControl] = Signal("control.created")
        self.control_closed: Signal[HostedControl] = Signal("control.closed")
        self.problems: list[str] = [str(p) for p in self.registry.problems]
        self._global: dict[str, HostedControl] = {}
        self._per_session: dict[str, dict[str, HostedControl]] = {}
        self._tasks: dict[str, set[asyncio.Task[Any]]] = {}
        self._failed: set[str] = set()
        self.ready = False
        self._load(language, user or {})
        self._init_sessions()
        self.router = NavigationRouter(self)
        self._disposers = [self.sessions.session_closed.connect(self._on_session_closed)]
        if data is not None:
            self.problems.extend(f"data: {p}" for p in data.configure(config))
            self._disposers.append(data.changed.connect(self._on_record_changed))

    # ------------------------------------------------------------------ ControlEnvironment
    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    @property
    def host(self) -> DesktopHost:
        return self._host

    def settings_store(self) -> SettingsStore:
        return self._settings

    @property
    def data(self) -> DataServices | None:
        return self._data

    def spawn(self, coro: Awaitable[Any], *, session: Session | None = None) -> None:
        owner = session or self.sessions.global_session
        task = asyncio.ensure_future(coro)
        bucket = self._tasks.setdefault(owner.id, set())
        bucket.add(task)
        task.add_done_callback(self._task_done(bucket))

    @staticmethod
    def _task_done(bucket: set[asyncio.Task[Any]]) -> Any:
        def done(task: asyncio.Task[Any]) -> None:
            bucket.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("background task failed", exc_info=task.exception())

        return done

    # ------------------------------------------------------------------ configuration
    def _load(self, language: str, user: Mapping[str, str]) -> None:
        cfg = self.config
        self._dispatcher.load(
            cfg.action_calls,
            {(e.control, e.name): e.action_calls for e in cfg.events},
            {s.name: s.script for s in cfg.scriptlets},
        )
        store = self.sessions.global_session.store
        with store.batch():
            store.replace_root("$Global", cfg.options)
            settings = dict(cfg.user_settings)
            settings.update(self._settings.load())
            store.replace_root("$Settings", settings)
            store.replace_root("$User", user)
            store.replace_root("$Resources", _resources(cfg.resources, language))
            store.update(
                "$SystemParameters",
                {"HighContrast": False, "Theme": settings.get("Theme", "light"),
                 "ResourcesUrl": resources_dir().as_uri()},
            )

    def definition(self, name: str) -> HostedControlDef | None:
        return self.config.controls_by_name.get(name)

    # ------------------------------------------------------------------ start sequence
    async def start(self) -> None:
        """Create global, non-dynamic controls by sort order, then raise ``DesktopReady``."""
        for definition in sorted(self.config.hosted_controls, key=lambda d: d.sort_order):
            if definition.is_global and not definition.is_dynamic and (
                definition.name not in self._global
            ):
                self._instantiate(definition, self.sessions.global_session)
        manager = self.global_manager_name()
        self.ready = True
        if manager:
            await self._dispatcher.fire_event(
                manager, "DesktopReady", session=self.sessions.global_session
            )

    def global_manager_name(self) -> str | None:
        for definition in self.config.hosted_controls:
            if definition.type == "GlobalManager":
                return definition.name
        return None

    # ------------------------------------------------------------------ ControlDirectory
    def is_global(self, control: str) -> bool | None:
        definition = self.definition(control)
        return None if definition is None else definition.is_global

    def resolve(self, control: str, session: Session) -> HostedControl:
        definition = self.definition(control)
        if definition is None:
            raise ActionError(f"no hosted control named {control!r} in this configuration")
        if definition.is_global:
            instance = self._global.get(control)
            if instance is None:
                instance = self._instantiate(definition, self.sessions.global_session)
        else:
            if session.is_global:
                raise ActionError(
                    f"{control} is a session control: it exists only inside a customer session"
                )
            instance = self._per_session.get(session.id, {}).get(control)
            if instance is None:
                instance = self._instantiate(definition, session)
        if instance is None:
            raise ActionError(f"hosted control {control} could not be created: "
                              + "; ".join(p for p in self.problems if control in p or
                                          definition.type in p))
        return instance

    def instance(self, control: str, session: Session | None = None) -> HostedControl | None:
        """The existing instance, without creating it."""
        if control in self._global:
            return self._global[control]
        if session is not None:
            return self._per_session.get(session.id, {}).get(control)
        return None

    @property
    def global_controls(self) -> Mapping[str, HostedControl]:
        return self._global

    def all_controls(self) -> list[HostedControl]:
        """Every existing instance: the global ones, then each customer session's."""
        found = list(self._global.values())
        for controls in self._per_session.values():
            found.extend(controls.values())
        return found

    def _instantiate(self, definition: HostedControlDef, session: Session) -> HostedControl | None:
        key = f"{session.id}:{definition.name}"
        if key in self._failed:
            return None
        cls = self.registry.implementation(definition.type)
        if cls is None:
            self._failed.add(key)
            if definition.type not in self.registry.types:
                self._problem(f"{definition.name}: unknown hosted-control type {definition.type!r}")
            else:
                self.problems.extend(str(p) for p in self.registry.problems
                                     if str(p) not in self.problems)
            return None
        try:
            instance = cls(definition, self, session)
        except Exception as exc:
            log.exception("creating hosted control %s failed", definition.name)
            self._failed.add(key)
            self._problem(f"{definition.name}: could not be created: {type(exc).__name__}: {exc}")
            return None
        if session.is_global:
            self._global[definition.name] = instance
        else:
            self._per_session.setdefault(session.id, {})[definition.name] = instance
        self.control_created.emit(instance)
        return instance

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)
            log.error("%s", message)

    # ------------------------------------------------------------------ closing
    def close_control(self, control: str, session: Session | None = None) -> None:
        instance = self._global.pop(control, None)
        if instance is None and session is not None:
            instance = self._per_session.get(session.id, {}).pop(control, None)
        if instance is not None:
            instance.close()
            self.control_closed.emit(instance)

    def _on_session_closed(self, session: Session) -> None:
        for instance in self._per_session.pop(session.id, {}).values():
            instance.close()
            self.control_closed.emit(instance)
        for task in self._tasks.pop(session.id, set()):
            task.cancel()

    def _on_record_changed(self, change: RecordChange) -> None:
        """Raise the Global Manager's case events (``CaseClosed``...) for the lifecycle steps of a write."""
        manager = self.global_manager_name()
        if manager is None or not change.transitions:
            return
        session = change.session if change.session is not None and (
            self.sessions.get(change.session.id) is change.session) else self.sessions.global_session
        for step in change.transitions:
            params = {_event_key(k): "" if v is None else str(v) for k, v in step.case.items()}
            params.update({"Id": change.id, "LogicalName": change.entity})
            self.spawn(self._dispatcher.fire_event(manager, CASE_EVENTS[step.kind], params, session=session),
                       session=session)

    async def shutdown(self) -> None:
        for control in self.all_controls():  # controls holding connections close them first
            aclose = getattr(control, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    log.exception("closing %s failed", control.name)
        for session in list(self.sessions.customer_sessions):
            self.sessions.close(session)  # its controls close (and save what they hold) here
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()
        self._close_sessions_lifecycle()
        for name in list(self._global):
            self.close_control(name)
        tasks: list[asyncio.Task[Any]] = [t for bucket in self._tasks.values() for t in bucket]
        tasks.extend(self._dispatcher.cancel_all())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


#: The Global Manager event each case lifecycle step raises.
CASE_EVENTS = {
    "resolved": "CaseResolved",
    "closed": "CaseClosed",
    "reopened": "CaseReopened",
    "escalated": "CaseEscalated",
    "follow_up": "CaseFollowUp",
}


def _event_key(field: str) -> str:
    """``case_number`` -> ``CaseNumber``: event parameters in USD's casing."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


def _int_option(options: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(options.get(name, default))
    except (TypeError, ValueError):
        return default


def _resources(resources: Mapping[str, Mapping[str, str]], language: str) -> dict[str, str]:
    """Resources for ``language``: the base language first (fallback), then the exact culture."""
    by_code = {code.lower(): texts for code, texts in resources.items()}
    merged: dict[str, str] = {}
    wanted = language.replace("_", "-").lower()
    for code in ("en", wanted.split("-", maxsplit=1)[0], wanted):
        for key, text in by_code.get(code, {}).items():
            merged[key] = text
    return merged
