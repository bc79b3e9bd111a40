"""Only the active session's controls are in the panels.

Each customer session has its own instances of the session controls. The main window keeps, for
every control widget, the panel it belongs in (its *home*); :class:`SessionPlacement` decides
whether it is in that panel now. When the active session changes, the old session's widgets leave
their panels (they are parked, alive and hidden, in a holder widget: never deleted, so a page, an
edit or a scroll position survives the switch) and the new session's widgets return, in the order
they were created; the control each panel had in front for that session is put in front again. A
control created in a session that is not active is parked at once. Global controls never move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtWidgets import QWidget

from usd_desktop.core.context import Session
from usd_desktop.hosted_controls.base import HostedControl

if TYPE_CHECKING:
    from usd_desktop.hosted_controls.desktop import Desktop
    from usd_desktop.hosted_controls.qt.panel_layout import LayoutWidget
    from usd_desktop.hosted_controls.qt.panels import Panel


class SessionPlacement:
    """Moves session controls' widgets in and out of their panels as the active session changes."""

    def __init__(
        self,
        window: QWidget,
        desktop: Desktop,
        layout: LayoutWidget,
        *,
        widgets: Callable[[], Iterable[tuple[HostedControl, QWidget]]],
        home: Callable[[QWidget], Panel | None],
        title: Callable[[HostedControl], str],
    ) -> None:
        self.window = window
        self.desktop = desktop
        self.layout = layout
        self._widgets = widgets
        self._home = home
        self._title = title
        self.holder = QWidget(window)
        self.holder.setObjectName("parkedSessionControls")
        self.holder.hide()
        #: The session whose controls are in the panels now.
        self.shown: Session = desktop.sessions.active
        #: Session id -> panel name -> the widget that panel had in front when the session was left.
        self.fronts: dict[str, dict[str, QWidget]] = {}
        sessions = desktop.sessions
        self._disposers = [
            sessions.active_changed.connect(self.show_session),
            sessions.session_closed.connect(lambda s: self.fronts.pop(s.id, None)),
        ]

    def dispose(self) -> None:
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()

    # ------------------------------------------------------------------ queries
    def belongs_shown(self, control: HostedControl) -> bool:
        """Whether ``control``'s widget goes in its panel now (global, or of the shown session)."""
        return control.session.is_global or control.session is self.shown

    def is_parked(self, widget: QWidget) -> bool:
        return shiboken6.isValid(widget) and widget.parent() is self.holder

    def park(self, widget: QWidget) -> None:
        widget.setParent(self.holder)
        widget.hide()

    # ------------------------------------------------------------------ switching
    def _session_widgets(self, session: Session) -> list[tuple[HostedControl, QWidget, Panel]]:
        found = []
        for control, widget in self._widgets():
            if control.session is session and shiboken6.isValid(widget):
                panel = self._home(widget)
                if panel is not None:
                    found.append((control, widget, panel))
        return found

    def show_session(self, session: Session) -> None:
        """Put ``session``'s controls in the panels, in place of the shown session's."""
        old = self.shown
        if session is old:
            return
        self.fronts[old.id] = self._fronts()
        self.window.setUpdatesEnabled(False)
        try:
            if not old.is_global:
                for _control, widget, panel in self._session_widgets(old):
                    if panel.contains(widget):
                        panel.remove(widget, park=self.holder)
                    widget.hide()
            self.shown = session
            if not session.is_global:
                for control, widget, panel in self._session_widgets(session):
                    if not panel.contains(widget):
                        panel.add(widget, self._title(control),
                                  closable=control.definition.user_can_close)
            self._restore_fronts(self.fronts.get(session.id, {}))
        finally:
            self.window.setUpdatesEnabled(True)

    def _fronts(self) -> dict[str, QWidget]:
        fronts = {}
        for name, panel in self.layout.panels.items():
            widget = panel.current_widget()
            if widget is not None:
                fronts[name] = widget
        return fronts

    def _restore_fronts(self, fronts: dict[str, QWidget]) -> None:
        for name, widget in fronts.items():
            panel = self.layout.panel(name)
            if panel is not None and shiboken6.isValid(widget) and panel.contains(widget):
                panel.show_widget(widget)
