"""The Qt side of :class:`~usd_desktop.hosted_controls.base.DesktopHost`: what actions ask of the UI.

Nothing here blocks: messages and the about box are non-modal, so the asyncio loop (and the calls
waiting on it) keep running while the agent reads them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from usd_desktop import __version__
from usd_desktop.core.errors import ActionError
from usd_desktop.shell import themes

if TYPE_CHECKING:
    from usd_desktop.shell.main_window import MainWindow

log = logging.getLogger(__name__)


class QtDesktopHost:
    """Implements DesktopHost on top of the main window (bound after the window exists)."""

    def __init__(self) -> None:
        self.window: MainWindow | None = None
        self.theme = "light"
        self._boxes: list[QMessageBox] = []
        self._outside: list[QWidget] = []

    def bind(self, window: MainWindow) -> None:
        self.window = window

    def _window(self) -> MainWindow:
        if self.window is None:
            raise ActionError("the desktop window is not ready yet")
        return self.window

    def _box(self, title: str, text: str, icon: QMessageBox.Icon) -> QMessageBox:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setModal(False)
        box.finished.connect(lambda _=0, b=box: self._forget(b))
        self._boxes.append(box)
        box.open()
        return box

    def _forget(self, box: QMessageBox) -> None:
        if box in self._boxes:
            self._boxes.remove(box)
        box.deleteLater()

    @property
    def open_messages(self) -> list[QMessageBox]:
        return list(self._boxes)

    # ------------------------------------------------------------------ DesktopHost
    def display_message(self, text: str, caption: str) -> None:
        self._box(caption, text, QMessageBox.Icon.Information)
        if self.window is not None:
            self.window.statusBar().showMessage(f"{caption}: {text}", 8000)

    def show_control(self, control: str) -> None:
        self._window().show_control(control)

    def move_to_panel(self, control: str, panel: str) -> None:
        self._window().move_control(control, panel)

    def copy_to_clipboard(self, text: str) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(text)

    def launch_url(self, url: str) -> None:
        if not QDesktopServices.openUrl(QUrl(url)):
            raise ActionError(f"no application could open {url}")

    def set_theme(self, theme: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            themes.apply(app, theme)
        self.theme = theme
        if self.window is not None:
            self.window.theme_changed(theme)

    def show_about(self) -> None:
        window = self.window
        config = window.desktop.config.name if window is not None else ""
        text = (
            f"<b>usd_desktop {__version__}</b><br>An open agent desktop for contact centres."
            f"<br><br>Configuration: {config}<br>Qt for Python {pyside_version}"
        )
        self._box("About usd_desktop", text, QMessageBox.Icon.NoIcon)

    def close_control(self, control: str) -> None:
        window = self._window()
        window.desktop.close_control(control, window.desktop.sessions.active)

    def set_control_size(self, control: str, width: int | None, height: int | None) -> None:
        self._window().resize_control(control, width, height)

    def show_outside(self, url: str) -> None:
        """A navigation rule's Show Outside: web pages in their own top-level window, which the
        desktop does not manage (it may go to a second monitor); other URLs to the system."""
        if QUrl(url).scheme().lower() not in ("http", "https", "file", "about", "data"):
            self.launch_url(url)
            return
        from PySide6.QtWebEngineWidgets import QWebEngineView  # only when a rule asks for it

        view = QWebEngineView()
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.setObjectName("outsideWindow")
        view.setWindowTitle(url)
        view.titleChanged.connect(view.setWindowTitle)
        view.destroyed.connect(lambda *_, v=view: self._outside.remove(v) if v in self._outside else None)
        self._outside.append(view)
        view.resize(1000, 700)
        view.load(QUrl(url))
        view.show()

    @property
    def outside_windows(self) -> list[QWidget]:
        return list(self._outside)
