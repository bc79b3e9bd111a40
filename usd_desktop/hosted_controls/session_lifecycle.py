"""Customer sessions' lifecycle, mixed into :class:`~usd_desktop.hosted_controls.desktop.Desktop`.

Creating, switching and closing a session fire USD's events in USD's order (usd-reference §6.0):

* create: the limit (``maxNumberOfSessions``) is checked first; a refused pop is kept so the agent
  can redo it once a slot frees (``RedoScreenPop``); then ``SessionDeactivated`` (the old active
  session) and ``SessionActivated`` (unless created in the background), then ``SessionNew``;
* switch: ``SessionDeactivated`` in the old session, ``SessionActivated`` in the new one;
* the tab's close button: ``SessionCloseRequested``; when any action call handles it the session
  stays open (the configuration closes it itself with ``CloseSession``);
* close: ``SessionClosing`` in the session, its controls close, ``SessionClosed`` in the global
  session (and ``SessionActivated`` for the session that becomes active).

The Global Manager fires them all; the session events of USD's Session Tabs control
(``SessionCloseRequested``, ``SessionClosing``, ``SessionClosed``) are fired on every SessionTabs
control as well. A session's tab name and overview follow its session lines, re-evaluated after
the context changes that can alter them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from usd_desktop.core.context import ChangeSet, Session, Sessions
from usd_desktop.core.dispatcher import Chain, Dispatcher
from usd_desktop.core.errors import SessionLimitReached
from usd_desktop.core.session_lines import SessionLines
from usd_desktop.core.signals import Signal
from usd_desktop.core.soon import SoonOnce

if TYPE_CHECKING:
    from usd_desktop.config.schema import Configuration
    from usd_desktop.hosted_controls.base import DesktopHost, HostedControl

log = logging.getLogger(__name__)

SESSION_TABS_TYPE = "SessionTabs"


class SessionLifecycle:
    """Session creation, switching, closing and naming for the desktop."""

    sessions: Sessions
    config: Configuration

    # provided by Desktop
    _dispatcher: Dispatcher
    _host: DesktopHost
    global_manager_name: Callable[[], str | None]
    all_controls: Callable[[], list[HostedControl]]

    # ------------------------------------------------------------------ set-up
    def _init_sessions(self) -> None:
        self.restoring = False
        self.pending_pop: str | None = None
        self.pending_pop_changed: Signal[str | None] = Signal("desktop.pending_pop_changed")
        self.control_state_changed: Signal[HostedControl] = Signal("control.state_changed")
        self._redo: Callable[[], Awaitable[Any]] | None = None
        self._given_names: dict[str, str] = {}
        self.session_lines = SessionLines(self.config.session_lines, scriptlets=self._dispatcher.scriptlets)
        self._stale_views: set[str] = set()
        self._views_soon = SoonOnce(self._refresh_views)
        self._session_disposers = [self.sessions.changed.connect(self._on_context_for_lines)]

    @property
    def session_limit(self) -> int | None:
        raw = self.sessions.global_session.store.get("$Global", "maxNumberOfSessions")
        try:
            limit = int(raw) if raw is not None and raw.strip() else 0
        except ValueError:
            return None
        return limit if limit > 0 else None

    def session_controls(self, session: Session) -> list[HostedControl]:
        return [c for c in self.all_controls() if c.session is session]

    # ------------------------------------------------------------------ create
    async def create_session(
        self,
        *,
        name: str = "",
        entity: str = "",
        context: Mapping[str, str] | None = None,
        background: bool = False,
        chain: Chain | None = None,
        redo: Callable[[], Awaitable[Any]] | None = None,
    ) -> Session:
        limit = self.session_limit
        sessions = self.sessions
        if limit is not None and len(sessions.customer_sessions) >= limit:
            async def again() -> Any:
                return await self.create_session(name=name, entity=entity, context=context,
                                                 background=background)

            what = name or (f"{entity} " if entity else "") + "session"
            self._set_pending(f"{what} for {_describe(context)}" if context else what, redo or again)
            message = (f"{limit} customer session(s) are open, the most this desktop allows "
                       "(option maxNumberOfSessions). Close a session, then use Redo screen pop.")
            self._host.display_message(message, "Session limit reached")
            raise SessionLimitReached(f"CreateSession: {message}")
        given = name or f"Session {len(sessions.customer_sessions) + 1}"
        session = sessions.create(given, activate=False, entity=entity)
        self._given_names[session.id] = given
        if context:  # the new session starts with these in $Context (e.g. LogicalName, Id)
            session.store.update("$Context", context)
        self._refresh_view(session)
        if not background:
            await self.switch_session(session, chain=chain)
        manager = self.global_manager_name()
        if manager and not self.restoring:
            await self._dispatcher.fire_event(
                manager, "SessionNew", {"SessionId": session.id, "IsGlobal": "false"},
                session=session, chain=chain,
            )
        return session

    # ------------------------------------------------------------------ switch
    async def switch_session(self, session: Session, *, chain: Chain | None = None) -> None:
        old = self.sessions.active
        if old is session:
            return
        manager = self.global_manager_name()
        if manager and old is not None:
            await self._dispatcher.fire_event(
                manager, "SessionDeactivated", _ids(old, Activate="false"), session=old, chain=chain)
        self.sessions.activate(session)
        if manager:
            await self._dispatcher.fire_event(
                manager, "SessionActivated", _ids(session, Activate="true"), session=session, chain=chain)

    # ------------------------------------------------------------------ close
    async def request_close(self, session: Session, *, chain: Chain | None = None) -> bool:
        """The tab's close button: closes unless an action call handles ``SessionCloseRequested``."""
        targets = self._session_event_controls()
        handled = any(self._dispatcher.events.get((c, "sessioncloserequested")) for c in targets)
        for control in targets:
            await self._dispatcher.fire_event(control, "SessionCloseRequested", _ids(session),
                                             session=session, chain=chain)
        if handled:
            return False
        if self.sessions.get(session.id) is session:
            await self.close_session(session, chain=chain)
        return True

    async def close_session(self, session: Session, *, chain: Chain | None = None) -> None:
        if session.is_global:
            raise ValueError("the global session cannot be closed")
        if self.sessions.get(session.id) is not session:
            return
        targets = self._session_event_controls()
        for control in targets:
            await self._dispatcher.fire_event(control, "SessionClosing", _ids(session),
                                             session=session, chain=chain)
        was_active = self.sessions.active is session
        self.sessions.close(session)
        self._given_names.pop(session.id, None)
        self._stale_views.discard(session.id)
        glob = self.sessions.global_session
        for control in targets:
            await self._dispatcher.fire_event(control, "SessionClosed", _ids(session),
                                             session=glob, chain=chain)
        manager = self.global_manager_name()
        new_active = self.sessions.active
        if manager and was_active and not new_active.is_global:
            await self._dispatcher.fire_event(manager, "SessionActivated",
                                             _ids(new_active, Activate="true"), session=new_active,
                                             chain=chain)
        if self.pending_pop is not None:
            self.pending_pop_changed.emit(self.pending_pop)  # a slot is free now

    def _session_event_controls(self) -> list[str]:
        names = [d.name for d in self.config.hosted_controls if d.type == SESSION_TABS_TYPE]
        manager = self.global_manager_name()
        return ([manager] if manager else []) + names

    # ------------------------------------------------------------------ redo screen pop
    def _set_pending(self, description: str | None, redo: Callable[[], Awaitable[Any]] | None) -> None:
        self.pending_pop, self._redo = description, redo
        self.pending_pop_changed.emit(description)

    @property
    def slot_free(self) -> bool:
        limit = self.session_limit
        return limit is None or len(self.sessions.customer_sessions) < limit

    async def redo_screen_pop(self) -> bool:
        """Replay the pop the session limit refused; False when there is none or still no slot."""
        redo = self._redo
        if redo is None or not self.slot_free:
            return False
        self._set_pending(None, None)
        await redo()
        return True

    # ------------------------------------------------------------------ session lines
    def _on_context_for_lines(self, change: ChangeSet) -> None:
        if not self.session_lines.affected_by(change):
            return
        if change.session_id == self.sessions.global_session.id:
            stale = {s.id for s in self.sessions.customer_sessions}
        else:
            stale = {change.session_id}
        self._stale_views |= stale
        self._views_soon.request()

    def _refresh_views(self) -> None:
        stale, self._stale_views = self._stale_views, set()
        for sid in stale:
            session = self.sessions.get(sid)
            if session is not None and not session.is_global:
                self._refresh_view(session)

    def _refresh_view(self, session: Session) -> None:
        if not self.session_lines:
            return
        view = self.session_lines.evaluate(self.sessions.data_for(session), session.entity or None)
        name = view.name or self._given_names.get(session.id, session.name)
        self.sessions.update(session, name=name, view=view)

    def _close_sessions_lifecycle(self) -> None:
        for dispose in self._session_disposers:
            dispose()
        self._session_disposers.clear()


def _ids(session: Session, **extra: str) -> dict[str, str]:
    return {"SessionId": session.id, "IsGlobal": "true" if session.is_global else "false", **extra}


def _describe(context: Mapping[str, str]) -> str:
    shown = [f"{k}={v}" for k, v in list(context.items())[:3]]
    return ", ".join(shown)
