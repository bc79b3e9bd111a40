"""Toolbar Container: draws the configured toolbars and runs their buttons' action calls.

States come from the Qt-free :class:`~usd_desktop.core.toolbar.ToolbarModel`: a button's visible and
enable conditions are re-evaluated when the data they read change (coalesced to one refresh per
event-loop turn) and when the agent switches session.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QToolBar, QToolButton, QVBoxLayout, QWidget

from usd_desktop.config.schema import Toolbar, ToolbarButton
from usd_desktop.core.context import ChangeSet, Session
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError
from usd_desktop.core.paths import resources_dir
from usd_desktop.core.toolbar import ToolbarModel
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import TOOLBAR_CONTAINER
from usd_desktop.hosted_controls.qt.base import QtHostedControl


def _first(data: ActionData) -> str:
    rest = data.remainder().strip()
    return rest.splitlines()[0].strip() if rest else ""


def load_icon(name: str | None) -> QIcon | None:
    if not name:
        return None
    path = resources_dir() / "icons" / name
    for candidate in (path, path.with_suffix(".svg"), path.with_suffix(".png")):
        if candidate.is_file():
            return QIcon(str(candidate))
    icon = QIcon.fromTheme(name)
    return None if icon.isNull() else icon


class ToolbarContainer(QtHostedControl):
    control_type = TOOLBAR_CONTAINER

    model: ToolbarModel
    _bars: dict[str, QToolBar]
    _actions: dict[tuple[str, str], QAction]

    def create_widget(self) -> QWidget:
        sessions = self.env.dispatcher.sessions
        toolbars = sorted(
            (t for t in self.env.config.toolbars if t.container == self.name), key=lambda t: t.order
        )
        self.model = ToolbarModel(
            toolbars, lambda: sessions.data_for(sessions.active),
            self.env.dispatcher.scriptlets,
        )
        self._bars = {}
        self._actions = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for toolbar in toolbars:
            bar = QToolBar(toolbar.title or toolbar.name)
            bar.setObjectName(f"toolbar:{toolbar.name}")
            bar.setMovable(False)
            bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if toolbar.title:
                title = QLabel(f"  {toolbar.title}  ")
                title.setObjectName("toolbarTitle")
                bar.addWidget(title)
            for button in sorted(toolbar.buttons, key=lambda b: b.order):
                self._add_button(bar, toolbar, button)
            layout.addWidget(bar)
            self._bars[toolbar.name] = bar
        self._refresh_timer = QTimer(widget)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self._disposers = [
            sessions.changed.connect(self._on_changed),
            sessions.active_changed.connect(self._on_active_changed),
        ]
        self.refresh()
        return widget

    def _add_button(self, parent: QToolBar | QMenu, toolbar: Toolbar, button: ToolbarButton) -> None:
        action = QAction(button.text or button.name, parent)
        action.setObjectName(f"button:{toolbar.name}.{button.name}")
        icon = load_icon(button.icon)
        if icon is not None:
            action.setIcon(icon)
        if button.shortcut:
            action.setShortcut(QKeySequence(button.shortcut))
        self._actions[(toolbar.name, button.name)] = action
        if button.action_calls:
            action.triggered.connect(lambda _=False, b=button: self.click(b))
        if button.buttons:
            menu = QMenu(parent if isinstance(parent, QWidget) else None)
            for child in sorted(button.buttons, key=lambda b: b.order):
                self._add_button(menu, toolbar, child)
            action.setMenu(menu)
        if isinstance(parent, QToolBar):
            parent.addAction(action)
            tool_button = parent.widgetForAction(action)
            if isinstance(tool_button, QToolButton) and button.buttons:
                tool_button.setPopupMode(
                    QToolButton.ToolButtonPopupMode.MenuButtonPopup if button.action_calls
                    else QToolButton.ToolButtonPopupMode.InstantPopup
                )
        else:
            parent.addAction(action)

    # ------------------------------------------------------------------ state
    def _on_changed(self, change: ChangeSet) -> None:
        if self.model.invalidate(change) and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_active_changed(self, session: Session) -> None:
        self.model.invalidate()
        self._refresh_timer.start()

    def refresh(self) -> None:
        for toolbar in self.model.toolbars:
            bar = self._bars.get(toolbar.name)
            if bar is None:
                continue
            bar.setVisible(self.model.toolbar_visible(toolbar))
            for button in self.model.walk(toolbar):
                action = self._actions[(toolbar.name, button.name)]
                state = self.model.state(toolbar, button)
                action.setVisible(state.visible)
                action.setEnabled(state.enabled)
                action.setText(state.text or button.name)
                action.setToolTip(state.tooltip or state.text or button.name)

    def click(self, button: ToolbarButton) -> None:
        """Run the button's action calls in order, in the active session, without blocking."""
        dispatcher = self.env.dispatcher

        def order(name: str) -> int:
            call = dispatcher.action_calls.get(name)
            return call.order if call is not None else 0

        async def run() -> None:  # by the calls' order; ties keep the button's list order
            for name in sorted(button.action_calls, key=order):
                await dispatcher.run_action_call(name, session=dispatcher.sessions.active)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def action_for(self, toolbar: str, button: str) -> QAction | None:
        self.widget()
        return self._actions.get((toolbar, button))

    # ------------------------------------------------------------------ UII actions
    def _toolbar_name(self, data: ActionData) -> str:
        name = data.take("name") or data.take("toolbar") or _first(data)
        self.widget()
        if name not in self._bars:
            raise ActionError(f"{self.name} has no toolbar named {name!r}")
        return name

    @uii_action("ShowToolbar")
    def show_toolbar(self, data: ActionData, call: CallContext) -> None:
        self.model.hidden_toolbars.discard(self._toolbar_name(data))
        self.refresh()

    @uii_action("HideToolbar")
    def hide_toolbar(self, data: ActionData, call: CallContext) -> None:
        self.model.hidden_toolbars.add(self._toolbar_name(data))
        self.refresh()

    def _force(self, data: ActionData, enabled: bool) -> None:
        self.widget()
        toolbar = data.take("toolbar")
        button = data.take("button") or data.take("name") or _first(data)
        if not self.model.force_enabled(button.strip(), enabled, toolbar):
            raise ActionError(f"{self.name} has no toolbar button named {button!r}")
        self.refresh()

    @uii_action("EnableToolbarButton")
    def enable_button(self, data: ActionData, call: CallContext) -> None:
        self._force(data, True)

    @uii_action("DisableToolbarButton")
    def disable_button(self, data: ActionData, call: CallContext) -> None:
        self._force(data, False)

    def close(self) -> None:
        for dispose in getattr(self, "_disposers", []):
            dispose()
        for task in getattr(self, "_tasks", set()):
            task.cancel()
        super().close()
