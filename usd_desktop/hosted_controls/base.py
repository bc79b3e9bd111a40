"""The hosted-control contract (Qt-free).

A *control type* is described by a :class:`ControlType` (data: its name, predefined UII actions,
events, whether it is a singleton, where its implementation lives); the admin tooling validates a
configuration against that data without importing the implementation. A *control instance* is a
:class:`HostedControl` subclass: it implements its actions as methods marked :func:`uii_action`,
raises events with :meth:`HostedControl.raise_event`, and reaches the desktop only through its
:class:`ControlEnvironment`, never through the shell.

Controls with a user interface live in :mod:`usd_desktop.hosted_controls.qt` and add a ``widget``;
everything else about them is the same contract.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError

if TYPE_CHECKING:
    from usd_desktop.config.schema import Configuration
    from usd_desktop.config.schema import HostedControl as HostedControlDef
    from usd_desktop.core.context import ChangeSet, Session
    from usd_desktop.core.dispatcher import CallContext, Dispatcher
    from usd_desktop.core.signals import Signal
    from usd_desktop.data.services import DataServices
    from usd_desktop.hosted_controls.navigation_router import NavigationRouter

#: Actions every control type accepts (USD: Close, FireEvent, MoveToPanel, SetSize, default, and
#: the ExecuteOn* family, which the dispatcher intercepts).
COMMON_ACTIONS = frozenset(
    {
        "default",
        "Close",
        "FireEvent",
        "MoveToPanel",
        "SetSize",
        "ExecuteOnTimeout",
        "ExecuteOnDataAvailable",
        "ExecuteOnExpressionTrue",
    }
)


@dataclass(frozen=True, slots=True)
class ControlType:
    """A hosted-control type as data (what an entry point of ``usd_desktop.hosted_controls`` gives)."""

    name: str
    factory: str  # "package.module:Class", imported only when a configuration uses the type
    description: str = ""
    actions: frozenset[str] = field(default_factory=frozenset)
    events: frozenset[str] = field(default_factory=frozenset)
    singleton: bool = False  # at most one per configuration (Global Manager, Panel Layout...)
    needs_qt: bool = False
    default_panel: str = "MainPanel"

    @property
    def all_actions(self) -> frozenset[str]:
        return self.actions | COMMON_ACTIONS


class DesktopHost(Protocol):
    """What the desktop around the controls offers (the Qt shell, or a recorder in tests)."""

    def display_message(self, text: str, caption: str) -> None: ...
    def show_control(self, control: str) -> None: ...
    def move_to_panel(self, control: str, panel: str) -> None: ...
    def copy_to_clipboard(self, text: str) -> None: ...
    def launch_url(self, url: str) -> None: ...
    def set_theme(self, theme: str) -> None: ...
    def show_about(self) -> None: ...
    def close_control(self, control: str) -> None: ...
    def set_control_size(self, control: str, width: int | None, height: int | None) -> None: ...
    def show_outside(self, url: str) -> None:
        """Open ``url`` in an unmanaged window outside the desktop (a navigation rule's Show Outside)."""
        ...


class ControlEnvironment(Protocol):
    """The runtime as a control sees it."""

    @property
    def config(self) -> Configuration: ...
    @property
    def dispatcher(self) -> Dispatcher: ...
    @property
    def host(self) -> DesktopHost: ...
    def settings_store(self) -> SettingsStore: ...
    @property
    def data(self) -> DataServices | None:
        """The service-desk records (``None`` when the desktop runs without a data source)."""
        ...
    def spawn(self, coro: Awaitable[Any], *, session: Session | None = None) -> None:
        """Run a coroutine in the background, tied to ``session``'s lifetime."""
        ...
    @property
    def control_state_changed(self) -> Signal[HostedControl]:
        """Emitted with a control whose :meth:`HostedControl.session_state` changed (the journal listens)."""
        ...
    async def create_session(
        self,
        *,
        name: str = "",
        entity: str = "",
        context: Mapping[str, str] | None = None,
        background: bool = False,
        chain: Any = None,
        redo: Callable[[], Awaitable[Any]] | None = None,
    ) -> Session:
        """A new customer session (its events fired); :class:`SessionLimitReached` past the limit."""
        ...
    async def switch_session(self, session: Session, *, chain: Any = None) -> None: ...
    async def request_close(self, session: Session, *, chain: Any = None) -> bool: ...
    async def close_session(self, session: Session, *, chain: Any = None) -> None: ...
    async def redo_screen_pop(self) -> bool: ...
    @property
    def router(self) -> NavigationRouter:
        """Window navigation: ``decide`` a load, ``apply`` the decision, or ``route`` both."""
        ...


class SettingsStore(Protocol):
    """Per-user settings (``$Settings``): SaveSetting writes here, ReadSettings reads back."""

    def load(self) -> dict[str, str]: ...
    def save(self, name: str, value: str) -> None: ...


Handler = Callable[..., Awaitable[str | None] | str | None]


def uii_action(name: str) -> Callable[[Handler], Handler]:
    """Mark a method as the implementation of the UII action ``name`` (matched case-insensitively).

    The method receives ``(data: ActionData, call: CallContext)`` and returns the ``$Return`` text
    or ``None``; it may be ``async``.
    """

    def mark(func: Handler) -> Handler:
        func.__uii_action__ = name  # type: ignore[attr-defined]
        return func

    return mark


class HostedControl:
    """Base of every hosted-control implementation."""

    #: Set by subclasses: the type this class implements.
    control_type: ClassVar[ControlType]
    _handlers: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                name = getattr(value, "__uii_action__", None)
                if name is not None:
                    handlers[name.lower()] = attr
        cls._handlers = handlers

    def __init__(
        self, definition: HostedControlDef, env: ControlEnvironment, session: Session
    ) -> None:
        self.definition = definition
        self.env = env
        self.session = session
        self.closed = False

    # ------------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def display_name(self) -> str:
        return self.definition.display_name or self.definition.name

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.definition.settings

    @classmethod
    def implemented_actions(cls) -> frozenset[str]:
        return frozenset(cls._handlers)

    # ------------------------------------------------------------------ the contract
    async def do_action(self, action: str, data: ActionData, call: CallContext) -> str | None:
        """Run one UII action; unknown actions fail with a message naming control and action."""
        attr = self._handlers.get(action.lower())
        if attr is None:
            declared = {a.lower() for a in self.definition.actions}
            if action.lower() in declared:
                raise ActionError(
                    f"{self.name} ({self.control_type.name}) declares UII action {action!r} but its "
                    "type does not implement it"
                )
            raise ActionError(
                f"hosted control {self.name} ({self.control_type.name}) has no UII action {action!r}"
            )
        result = getattr(self, attr)(data, call)
        if inspect.isawaitable(result):
            result = await result
        return None if result is None else str(result)

    def raise_event(self, event: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Raise ``event`` of this control; its configured action calls run in the background."""
        self.env.spawn(
            self.env.dispatcher.fire_event(self.name, event, parameters, session=self.session),
            session=self.session,
        )

    async def raise_event_and_wait(
        self, event: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        await self.env.dispatcher.fire_event(self.name, event, parameters, session=self.session)

    def publish(self, values: Mapping[str, Any]) -> None:
        """Write ``values`` under this control's name (``[[ControlName.key]]``) in its session."""
        self.session.store.update(self.name, values)

    def follow_context(self, listener: Callable[[ChangeSet], object]) -> None:
        """Call ``listener`` with the context changes that can concern this control, until it
        closes: a session control gets its own session's and the global session's; a global
        control every session's (it follows whichever is active)."""
        sessions = self.env.dispatcher.sessions
        if self.session.is_global:
            self.keep(sessions.changed.connect(listener))
        else:
            self.keep(sessions.changes_for(self.session).connect(listener))
            self.keep(sessions.changes_for(sessions.global_session).connect(listener))

    def data_services(self) -> DataServices:
        """The desktop's data services; :class:`ActionError` naming this control when there are none."""
        services = self.env.data
        if services is None:
            raise ActionError(f"{self.name} ({self.control_type.name}) needs the service-desk data, "
                              "and this desktop runs without a data source")
        return services

    def keep(self, dispose: Callable[[], None]) -> Callable[[], None]:
        """Hold ``dispose`` (what ``Signal.connect`` returns) until the control closes; returns it."""
        self.__dict__.setdefault("_kept_disposers", []).append(dispose)
        return dispose

    # ------------------------------------------------------------------ crash recovery
    def session_state(self) -> dict[str, Any] | None:
        """What to journal so a restored session shows this control as it was (JSON-able): its
        page, its record, its position. ``None``: being open is all there is to restore."""
        return None

    def restore_session_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`session_state` gave, without running any action call."""

    def state_changed(self) -> None:
        """Tell the desktop that :meth:`session_state` changed (the journal writes it soon)."""
        if not self.closed:
            self.env.control_state_changed.emit(self)

    def close(self) -> None:
        """Release what the control holds; the desktop calls it when the control or session ends."""
        for dispose in self.__dict__.pop("_kept_disposers", []):
            dispose()
        self.closed = True

    # ------------------------------------------------------------------ common actions
    @uii_action("default")
    def _default(self, data: ActionData, call: CallContext) -> None:
        self.env.host.show_control(self.name)

    @uii_action("FireEvent")
    async def _fire_event(self, data: ActionData, call: CallContext) -> None:
        name = data.take("name") or data.take("EventName")
        if not name:
            raise ActionError("FireEvent needs a first line name=<event>")
        params = data.as_dict()
        await call.dispatcher.fire_event(
            self.name, name, params, session=call.session, chain=call.chain
        )

    @uii_action("Close")
    def _close(self, data: ActionData, call: CallContext) -> None:
        self.env.host.close_control(self.name)

    @uii_action("MoveToPanel")
    def _move_to_panel(self, data: ActionData, call: CallContext) -> None:
        panel = data.take("panel") or data.take("panelName")
        app = data.take("app") or data.take("application") or self.name
        if not panel:
            rest = data.remainder().strip()
            panel = rest.splitlines()[0].strip() if rest else ""
        if not panel:
            raise ActionError("MoveToPanel needs panel=<panel name>")
        self.env.host.move_to_panel(app, panel)

    @uii_action("SetSize")
    def _set_size(self, data: ActionData, call: CallContext) -> None:
        def number(key: str) -> int | None:
            raw = data.take(key)
            if raw is None or not raw.strip():
                return None
            try:
                return int(float(raw))
            except ValueError:
                raise ActionError(f"SetSize: {key}={raw!r} is not a number") from None

        self.env.host.set_control_size(self.name, number("width"), number("height"))


def ensure_future(coro: Awaitable[Any]) -> asyncio.Future[Any]:
    """Schedule ``coro`` on the running loop (a helper for controls' synchronous callbacks)."""
    return asyncio.ensure_future(coro)
