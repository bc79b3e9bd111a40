"""Session Tabs: the strip of customer sessions (USD's Session Tabs hosted control, reference §6.0).

One tab per customer session, in creation order, labelled with the session's name (kept current by
the desktop from the session lines) and with its overview lines as the tooltip. Clicking a tab
switches to its session; its close button (hidden by the setting ``HideSessionCloseButton``) asks
the desktop to close it, which raises ``SessionCloseRequested`` and closes the session unless an
action call handles that event. The desktop raises this control's events; the control raises none.

Per tab: the time since the session started (one 1-second timer for the whole strip, stopped while
there is no session), an *attention* mark (set by ``ShowAttention``, and when a session in the
background is created or its data changes; cleared when the session is activated or by
``HideAttention``), a *busy* mark while a control of the session is working, and USD's 3-minute
*progress* bar (``ResetProgressIndicator`` starts it, ``HideProgressIndicator`` hides it).

Keyboard (anywhere in the desktop): Ctrl+Tab / Ctrl+PgDown next session, Ctrl+Shift+Tab / Ctrl+PgUp
previous one, Alt+1..9 the n-th session, Ctrl+F4 asks to close the active session.

When the session limit refused a screen pop, a banner says so, with a "Redo screen pop" button that
is enabled once a slot is free.

Actions: ``SwitchSession`` (``SessionId=`` or the first line; the global session's id shows the
global view), ``CloseSession`` (``SessionId=``, default the active session), ``CloseActive``,
``ShowAttention`` / ``HideAttention`` / ``ResetProgressIndicator`` / ``HideProgressIndicator``
(``SessionId=``, default the active session), ``RedoScreenPop`` (``$Return``: true when it ran).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from usd_desktop.core.context import ChangeSet, Session
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError
from usd_desktop.hosted_controls.base import HostedControl, uii_action
from usd_desktop.hosted_controls.catalog import SESSION_TABS
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.session_tabs_widget import (
    SessionTabsWidget,
    TabInfo,
    format_elapsed,
)
from usd_desktop.hosted_controls.session_lifecycle import SessionLifecycle

log = logging.getLogger(__name__)

#: Roots whose writes never draw attention to a background session (the desktop refreshes them).
QUIET_ROOTS = frozenset({"$Session"})
#: The keyboard: (name, key sequences) -> what it does, bound by :meth:`SessionTabsControl._bind_keys`.
NEXT_KEYS = ("Ctrl+Tab", "Ctrl+PgDown")
PREVIOUS_KEYS = ("Ctrl+Shift+Tab", "Ctrl+Backtab", "Ctrl+PgUp")
CLOSE_KEYS = ("Ctrl+F4",)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


class SessionTabsControl(QtHostedControl):
    """The session tab strip (see the module doc)."""

    control_type = SESSION_TABS
    task_failure = "a session request failed"
    #: How long USD's progress indicator runs once reset (seconds).
    PROGRESS_SECONDS = 180.0
    #: The strip's one timer (milliseconds).
    TICK_MS = 1000
    #: A session shows the busy mark once a control of it has been working this long (no flashes).
    BUSY_DELAY = timedelta(seconds=0.5)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attention: set[str] = set()
        self.progress_started: dict[str, datetime] = {}
        #: The clock the timers read (tests replace it).
        self.clock: Callable[[], datetime] = _utcnow
        self.timer: QTimer | None = None
        self.shortcuts: list[QShortcut] = []
        self._busy: dict[str, bool] = {}  # the busy mark shown
        self._busy_since: dict[str, datetime] = {}  # since when a control of the session works
        self._maybe_attention: set[str] = set()
        self._flush_scheduled = False
        sessions = self.env.dispatcher.sessions
        self.keep(sessions.session_created.connect(self._on_created))
        self.keep(sessions.session_closed.connect(self._on_closed))
        self.keep(sessions.active_changed.connect(self._on_active))
        self.keep(sessions.session_updated.connect(self._on_updated))
        self.keep(sessions.changed.connect(self._on_context_changed))
        lifecycle = self.lifecycle
        if lifecycle is not None:
            self.keep(lifecycle.pending_pop_changed.connect(lambda _pop: self._render_banner()))

    # ------------------------------------------------------------------ helpers
    @property
    def lifecycle(self) -> SessionLifecycle | None:
        env = self.env
        return env if isinstance(env, SessionLifecycle) else None

    @property
    def closable(self) -> bool:
        return not _truthy(self.settings.get("HideSessionCloseButton", False))

    @property
    def tabs_widget(self) -> SessionTabsWidget | None:
        widget = self._widget
        return widget if isinstance(widget, SessionTabsWidget) else None

    def customer_sessions(self) -> list[Session]:
        return self.env.dispatcher.sessions.customer_sessions

    def _session(self, data: ActionData, action: str, *, default_active: bool = True) -> Session:
        sessions = self.env.dispatcher.sessions
        wanted = (data.take("SessionId") or "").strip()
        if not wanted:
            rest = data.remainder().strip()
            wanted = rest.splitlines()[0].strip() if rest else ""
        if wanted:
            session = sessions.get(wanted)
            if session is None:
                raise ActionError(f"{self.name}: {action}: no session with id {wanted!r}")
            return session
        if default_active and not sessions.active.is_global:
            return sessions.active
        raise ActionError(f"{self.name}: {action} needs SessionId= (no customer session is active)")

    def _customer(self, data: ActionData, action: str) -> Session:
        session = self._session(data, action)
        if session.is_global:
            raise ActionError(f"{self.name}: {action}: the global session has no tab")
        return session

    # ------------------------------------------------------------------ the widget
    def create_widget(self) -> QWidget:
        widget = SessionTabsWidget()
        widget.closable = self.closable
        widget.switch_requested.connect(self._on_tab_chosen)
        widget.close_requested.connect(self._on_close_clicked)
        widget.redo_requested.connect(lambda: self.start_task(self._redo()))
        self.timer = QTimer(widget)
        self.timer.setObjectName("sessionTabsTimer")
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._bind_keys(widget)
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        self.refresh()
        return widget

    def _widget_destroyed(self, widget: SessionTabsWidget) -> None:
        if self._widget is widget:
            self._widget = None
            self.timer = None
            self.shortcuts = []

    def _bind_keys(self, widget: QWidget) -> None:
        def bind(keys: tuple[str, ...], name: str, slot: Callable[[], None]) -> None:
            shortcut = QShortcut(widget)
            shortcut.setObjectName(f"sessionShortcut:{name}")
            shortcut.setKeys([QKeySequence(k) for k in keys])
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts.append(shortcut)

        bind(NEXT_KEYS, "next", lambda: self.step(1))
        bind(PREVIOUS_KEYS, "previous", lambda: self.step(-1))
        for n in range(1, 10):
            bind((f"Alt+{n}",), f"session{n}", functools.partial(self.switch_to_nth, n))
        bind(CLOSE_KEYS, "close", self.close_active_tab)

    def refresh(self) -> None:
        """Show every session as it is now (tabs, marks, times, banner)."""
        widget = self.tabs_widget
        if widget is None:
            return
        widget.sync([self._info(s) for s in self.customer_sessions()], self._current_id())
        self._update_busy()
        for session in self.customer_sessions():
            self._render_marks(session.id)
        self.tick()
        self._render_banner()

    def _current_id(self) -> str | None:
        active = self.env.dispatcher.sessions.active
        return None if active.is_global else active.id

    @staticmethod
    def _info(session: Session) -> TabInfo:
        view = session.view
        overview = tuple(line.text for line in getattr(view, "overview", ()) or ())
        started = session.started.astimezone().strftime("%H:%M")
        return TabInfo(session.id, session.name, overview, started)

    def _render_marks(self, session_id: str) -> None:
        widget = self.tabs_widget
        if widget is None:
            return
        widget.set_marks(session_id, attention=session_id in self.attention,
                         busy=self._busy.get(session_id, False), progress=self._progress(session_id))

    def _progress(self, session_id: str) -> float | None:
        started = self.progress_started.get(session_id)
        if started is None:
            return None
        return (self.clock() - started).total_seconds() / self.PROGRESS_SECONDS

    def _render_banner(self) -> None:
        widget = self.tabs_widget
        lifecycle = self.lifecycle
        if widget is None:
            return
        pending = lifecycle.pending_pop if lifecycle is not None else None
        if pending is None or lifecycle is None:
            widget.set_banner(None, can_redo=False)
            return
        limit = lifecycle.session_limit
        text = (f"Session limit reached ({limit}): close a session, then Redo screen pop"
                if limit is not None else "A screen pop is waiting: Redo screen pop")
        widget.set_banner(text, can_redo=lifecycle.slot_free, tooltip=f"Waiting: {pending}")

    # ------------------------------------------------------------------ the timer
    def tick(self) -> None:
        """Once a second: the elapsed times, the progress bars and the busy marks."""
        widget = self.tabs_widget
        if widget is None:
            return
        sessions = self.customer_sessions()
        now = self.clock()
        changed_busy = self._update_busy()
        for session in sessions:
            widget.set_elapsed(session.id, format_elapsed((now - session.started).total_seconds()))
            if session.id in self.progress_started or session.id in changed_busy:
                self._render_marks(session.id)
        self._run_timer(bool(sessions))

    def _run_timer(self, needed: bool) -> None:
        timer = self.timer
        if timer is None:
            return
        if needed and not timer.isActive():
            timer.start()
        elif not needed and timer.isActive():
            timer.stop()

    def _update_busy(self) -> set[str]:
        """Which sessions show the busy mark now (a control has been working for
        :attr:`BUSY_DELAY`); returns those whose mark changed."""
        lifecycle = self.lifecycle
        now = self.clock()
        changed = set()
        for session in self.customer_sessions():
            controls: list[HostedControl] = lifecycle.session_controls(session) if lifecycle else []
            working = any(isinstance(c, QtHostedControl) and c.busy for c in controls)
            if working:
                busy = now - self._busy_since.setdefault(session.id, now) >= self.BUSY_DELAY
            else:
                busy = False
                self._busy_since.pop(session.id, None)
            if self._busy.get(session.id, False) != busy:
                self._busy[session.id] = busy
                changed.add(session.id)
        return changed

    # ------------------------------------------------------------------ the runtime's signals
    def _on_created(self, session: Session) -> None:
        widget = self.tabs_widget
        if widget is not None:
            widget.sync([self._info(s) for s in self.customer_sessions()], self._current_id())
            self.tick()
            self._render_banner()
        self._note_activity(session.id)  # marked only if it stays in the background

    def _on_closed(self, session: Session) -> None:
        self.attention.discard(session.id)
        self.progress_started.pop(session.id, None)
        self._busy.pop(session.id, None)
        self._busy_since.pop(session.id, None)
        self._maybe_attention.discard(session.id)
        widget = self.tabs_widget
        if widget is not None:
            widget.sync([self._info(s) for s in self.customer_sessions()], self._current_id())
            self.tick()
            self._render_banner()

    def _on_active(self, session: Session) -> None:
        if session.id in self.attention:
            self.attention.discard(session.id)
            self._render_marks(session.id)
        self._maybe_attention.discard(session.id)
        widget = self.tabs_widget
        if widget is not None:
            widget.set_current(self._current_id())

    def _on_updated(self, session: Session) -> None:
        widget = self.tabs_widget
        if widget is not None and not session.is_global:
            widget.set_info(self._info(session))

    def _on_context_changed(self, change: ChangeSet) -> None:
        if change.roots <= QUIET_ROOTS:
            return
        self._note_activity(change.session_id)

    def _note_activity(self, session_id: str) -> None:
        """A session did something: if it is (still) in the background once the current step is
        over, it gets the attention mark. Deferred, so a session created and then activated in one
        step never flashes the mark."""
        sessions = self.env.dispatcher.sessions
        if session_id in (sessions.active.id, sessions.global_session.id):
            return
        self._maybe_attention.add(session_id)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            QTimer.singleShot(0, self._flush_attention)

    def _flush_attention(self) -> None:
        self._flush_scheduled = False
        if self.closed:
            return
        sessions = self.env.dispatcher.sessions
        candidates, self._maybe_attention = self._maybe_attention, set()
        for sid in candidates:
            session = sessions.get(sid)
            if session is not None and session is not sessions.active and sid not in self.attention:
                self.attention.add(sid)
                self._render_marks(sid)
        for sid in self._update_busy():
            self._render_marks(sid)

    # ------------------------------------------------------------------ the agent's requests
    def _on_tab_chosen(self, session_id: str) -> None:
        session = self.env.dispatcher.sessions.get(session_id)
        if session is not None and session is not self.env.dispatcher.sessions.active:
            self.start_task(self._switch(session))

    def _on_close_clicked(self, session_id: str) -> None:
        session = self.env.dispatcher.sessions.get(session_id)
        if session is not None and not session.is_global:
            self.start_task(self.env.request_close(session))

    async def _switch(self, session: Session) -> None:
        try:
            await self.env.switch_session(session)
        finally:  # refused or failed: the strip shows the session that really is active
            widget = self.tabs_widget
            if widget is not None and not self.closed:
                widget.set_current(self._current_id())

    async def _redo(self) -> bool:
        lifecycle = self.lifecycle
        if lifecycle is None:
            return False
        return await lifecycle.redo_screen_pop()

    def step(self, offset: int) -> None:
        """Switch to the next (``1``) or previous (``-1``) session, wrapping around."""
        sessions = self.customer_sessions()
        if not sessions:
            return
        active = self.env.dispatcher.sessions.active
        if active in sessions:
            target = sessions[(sessions.index(active) + offset) % len(sessions)]
        else:
            target = sessions[0] if offset > 0 else sessions[-1]
        if target is not active:
            self.start_task(self._switch(target))

    def switch_to_nth(self, n: int) -> None:
        sessions = self.customer_sessions()
        if 1 <= n <= len(sessions) and sessions[n - 1] is not self.env.dispatcher.sessions.active:
            self.start_task(self._switch(sessions[n - 1]))

    def close_active_tab(self) -> None:
        """Ctrl+F4: as the active tab's close button (and not when close buttons are hidden)."""
        active = self.env.dispatcher.sessions.active
        if not active.is_global and self.closable:
            self.start_task(self.env.request_close(active))

    # ------------------------------------------------------------------ UII actions
    @uii_action("SwitchSession")
    async def switch_session_action(self, data: ActionData, call: CallContext) -> None:
        session = self._session(data, "SwitchSession", default_active=False)
        await self.env.switch_session(session, chain=call.chain)

    @uii_action("CloseSession")
    async def close_session_action(self, data: ActionData, call: CallContext) -> None:
        await self.env.close_session(self._customer(data, "CloseSession"), chain=call.chain)

    @uii_action("CloseActive")
    async def close_active_action(self, data: ActionData, call: CallContext) -> None:
        active = self.env.dispatcher.sessions.active
        if active.is_global:
            raise ActionError(f"{self.name}: CloseActive: no customer session is active")
        await self.env.close_session(active, chain=call.chain)

    @uii_action("ShowAttention")
    def show_attention(self, data: ActionData, call: CallContext) -> None:
        session = self._customer(data, "ShowAttention")
        self.attention.add(session.id)
        self._render_marks(session.id)

    @uii_action("HideAttention")
    def hide_attention(self, data: ActionData, call: CallContext) -> None:
        session = self._customer(data, "HideAttention")
        self.attention.discard(session.id)
        self._render_marks(session.id)

    @uii_action("ResetProgressIndicator")
    def reset_progress(self, data: ActionData, call: CallContext) -> None:
        session = self._customer(data, "ResetProgressIndicator")
        self.progress_started[session.id] = self.clock()
        self._render_marks(session.id)

    @uii_action("HideProgressIndicator")
    def hide_progress(self, data: ActionData, call: CallContext) -> None:
        session = self._customer(data, "HideProgressIndicator")
        self.progress_started.pop(session.id, None)
        self._render_marks(session.id)

    @uii_action("RedoScreenPop")
    async def redo_screen_pop(self, data: ActionData, call: CallContext) -> str:
        return "true" if await self._redo() else "false"

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self.timer is not None:
            self.timer.stop()
        super().close()
