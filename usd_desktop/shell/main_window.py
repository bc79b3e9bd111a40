"""The main window: the panel layout, hosted controls placed in their panels, status bar, shortcuts.

It reacts to the runtime through signals (``control_created``, ``control_closed``, context changes)
and never drives the runtime except through the dispatcher, like any other source of actions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

from usd_desktop.core import replacement
from usd_desktop.core.context import ChangeSet, Session
from usd_desktop.hosted_controls.base import HostedControl
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.panel_layout import (
    STANDARD_LAYOUT,
    LayoutWidget,
    PanelLayoutControl,
)
from usd_desktop.hosted_controls.qt.panels import Panel
from usd_desktop.shell.session_placement import SessionPlacement

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, desktop: Desktop, *, state_file: Path | None = None) -> None:
        super().__init__()
        self.desktop = desktop
        self.state_file = state_file
        self.setObjectName("MainWindow")
        self.resize(1440, 900)
        self._placed: dict[QWidget, Panel] = {}  # each control widget's home panel
        self._widgets: dict[HostedControl, QWidget] = {}  # the widget of each placed control
        self._tasks: set[asyncio.Future[Any]] = set()
        self.layout_widget = self._make_layout()
        self.setCentralWidget(self.layout_widget)
        self.placement = SessionPlacement(
            self, desktop, self.layout_widget, widgets=lambda: list(self._widgets.items()),
            home=self.panel_of, title=self._title,
        )
        self.refresh_window_title()
        self._status = QLabel("Starting…")
        self._status.setObjectName("desktopStatus")
        self._problems = QLabel("")
        self._problems.setObjectName("desktopProblems")
        self.statusBar().addWidget(self._status, 1)
        self.statusBar().addPermanentWidget(self._problems)
        self._titles = QTimer(self)
        self._titles.setSingleShot(True)
        self._titles.setInterval(0)
        self._titles.timeout.connect(self.refresh_titles)
        self._disposers = [
            desktop.control_created.connect(self._on_control_created),
            desktop.control_closed.connect(self._on_control_closed),
            desktop.sessions.changed.connect(self._on_context_changed),
            desktop.sessions.active_changed.connect(lambda _s: self.refresh_window_title()),
            desktop.sessions.session_updated.connect(self._on_session_updated),
            self.placement.dispose,
        ]
        for panel in self.layout_widget.panels.values():
            panel.signals.close_requested.connect(self._on_close_requested)
        self._bind_shortcuts()
        self._restore_state()
        self.refresh_problems()

    # ------------------------------------------------------------------ layout
    def _make_layout(self) -> LayoutWidget:
        name = next((d.name for d in self.desktop.config.hosted_controls
                     if d.type == "PanelLayout"), None)
        if name is not None:
            control = self.desktop.resolve(name, self.desktop.sessions.global_session)
            if isinstance(control, PanelLayoutControl):
                widget = control.layout_widget
                if control.problem:
                    self.desktop.problems.append(control.problem)
                return widget
        return LayoutWidget(STANDARD_LAYOUT)

    def panel_of(self, widget: QWidget) -> Panel | None:
        return self._placed.get(widget)

    def _on_control_created(self, control: HostedControl) -> None:
        if isinstance(control, PanelLayoutControl) or not isinstance(control, QtHostedControl):
            return
        definition = control.definition
        wanted = definition.panel or control.control_type.default_panel
        panel = self.layout_widget.panel(wanted)
        if panel is None:
            self.desktop.problems.append(
                f"{control.name}: panel {wanted!r} is not in the layout; "
                "the control is parked in the Unknown panel"
            )
            panel = self.layout_widget.panels["Unknown"]
            self.refresh_problems()
        widget = control.widget()
        self._placed[widget] = panel
        self._widgets[control] = widget
        if self.placement.belongs_shown(control):
            panel.add(widget, self._title(control), closable=definition.user_can_close)
        else:  # a control of a session in the background waits, hidden, until it is active
            self.placement.park(widget)

    def _on_control_closed(self, control: HostedControl) -> None:
        widget = self._widgets.pop(control, None)
        if widget is None:
            return
        panel = self._placed.pop(widget, None)
        if panel is not None and shiboken6.isValid(widget):
            panel.remove(widget)

    def _on_close_requested(self, control: str) -> None:
        self.desktop.close_control(control, self.desktop.sessions.active)

    def _title(self, control: HostedControl) -> str:
        template = control.definition.display_name or control.name
        data = self.desktop.sessions.data_for(control.session)
        rendered = replacement.try_render(template, data,
                                          scriptlets=self.desktop.dispatcher.scriptlets)
        return rendered or control.name

    def _on_context_changed(self, change: ChangeSet) -> None:
        if not self._titles.isActive():
            self._titles.start()

    def refresh_titles(self) -> None:
        for control, widget in list(self._widgets.items()):
            if not shiboken6.isValid(widget):  # deleted while its control closes (the desktop shuts down)
                continue
            panel = self._placed.get(widget)
            if panel is not None and panel.contains(widget):
                panel.set_title(widget, self._title(control))

    def _on_session_updated(self, session: Session) -> None:
        if session is self.desktop.sessions.active:
            self.refresh_window_title()

    def refresh_window_title(self) -> None:
        """``<active session> — usd_desktop — <configuration>``; without the session in the global view."""
        title = f"usd_desktop — {self.desktop.config.name}"
        active = self.desktop.sessions.active
        if not active.is_global and active.name:
            title = f"{active.name} — {title}"
        self.setWindowTitle(title)

    # ------------------------------------------------------------------ host requests
    def _find(self, name: str) -> QtHostedControl | None:
        control = self.desktop.instance(name, self.desktop.sessions.active)
        return control if isinstance(control, QtHostedControl) else None

    def show_control(self, name: str) -> None:
        control = self._find(name)
        if control is None:
            return
        widget = control.widget()
        panel = self._placed.get(widget)
        if panel is not None:
            panel.show_widget(widget)
        self.raise_()
        self.activateWindow()

    def move_control(self, name: str, panel_name: str) -> None:
        from usd_desktop.core.errors import ActionError

        control = self._find(name)
        target = self.layout_widget.panel(panel_name)
        if control is None:
            raise ActionError(f"MoveToPanel: no visible hosted control named {name!r}")
        if target is None:
            raise ActionError(f"MoveToPanel: no panel named {panel_name!r}")
        widget = control.widget()
        current = self._placed.get(widget)
        if current is target:
            return
        if current is not None:
            current.remove(widget)
        target.add(widget, self._title(control), closable=control.definition.user_can_close)
        self._placed[widget] = target
        self.desktop.sessions.global_session.store.set("$Panel", name, panel_name)

    def resize_control(self, name: str, width: int | None, height: int | None) -> None:
        control = self._find(name)
        if control is None:
            return
        widget = control.widget()
        if widget.window() is not self:  # a floating panel's window: size the window
            size = widget.window().size()
            widget.window().resize(width or size.width(), height or size.height())
            return
        # docked: the layout decides the size, so SetSize sets the least room the control gets
        widget.setMinimumSize(width or widget.minimumWidth(), height or widget.minimumHeight())

    def theme_changed(self, theme: str) -> None:
        self.save_state()

    # ------------------------------------------------------------------ status
    def set_status(self, text: str) -> None:
        self._status.setText(text)

    def refresh_problems(self) -> None:
        count = len(self.desktop.problems)
        self._problems.setText(f"⚠ {count} problem(s) — see the Debugger" if count else "")
        self._problems.setToolTip("\n".join(self.desktop.problems))

    # ------------------------------------------------------------------ shortcuts
    def _bind_shortcuts(self) -> None:
        for call in self.desktop.config.action_calls:
            if not call.shortcut:
                continue
            shortcut = QShortcut(QKeySequence(call.shortcut.replace("-", "+")), self)
            shortcut.setObjectName(f"shortcut:{call.name}")
            shortcut.activated.connect(lambda name=call.name: self.run_action_call(name))

    def run_action_call(self, name: str) -> None:
        dispatcher = self.desktop.dispatcher
        task = asyncio.ensure_future(
            dispatcher.run_action_call(name, session=dispatcher.sessions.active)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ remembered state
    def _restore_state(self) -> None:
        if self.state_file is None:
            return
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("window state %s ignored: %s", self.state_file, exc)
            return
        geometry = state.get("geometry")
        if isinstance(geometry, str):
            self.restoreGeometry(QByteArray(base64.b64decode(geometry)))
        splitters = state.get("splitters")
        if isinstance(splitters, dict):
            self.layout_widget.restore_state(splitters)

    def save_state(self) -> None:
        if self.state_file is None:
            return
        state = {
            "geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii"),
            "splitters": self.layout_widget.save_state(),
        }
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.warning("window state could not be saved to %s: %s", self.state_file, exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        for dispose in self._disposers:
            dispose()
        self._disposers.clear()
        super().closeEvent(event)
