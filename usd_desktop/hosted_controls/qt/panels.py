"""Panels: where hosted controls are shown, and the kinds USD knows (reference §2.4).

* ``tab``: one tab per control, labelled with its display name (USDTabPanel);
* ``stack``: controls side by side or stacked, all visible (USDStackPanel, with an orientation);
* ``deck``: like tab, but the tab strip appears only with two or more controls (USDDeckTabPanel);
* ``floating``: each control in a window of its own (USDFloatingPanel / USDFloatingToolPanel);
* ``hidden``: controls that have no UI (HiddenPanel, and the ``Unknown`` parking panel).

Any panel can *collapse* when it holds nothing (USDCollapsePanel), so empty side panels take no room.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QBoxLayout, QTabWidget, QVBoxLayout, QWidget

PANEL_KINDS = ("tab", "stack", "deck", "floating", "hidden")


class PanelSignals(QObject):
    close_requested = Signal(str)
    """The user clicked the close button of a control's tab (the control's name)."""
    contents_changed = Signal()
    """A control was added or removed (the layout may collapse or expand panels)."""


class Panel(QWidget):
    """Base of all panel kinds: a named place that holds control widgets."""

    kind = "stack"

    def __init__(self, name: str, *, collapse: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        self.collapse = collapse
        self.signals = PanelSignals()
        self._titles: dict[QWidget, str] = {}

    # each panel kind implements _insert and _take (and may refine _focus)
    def _insert(self, widget: QWidget, title: str, closable: bool) -> None:
        raise TypeError(f"{type(self).__name__} does not implement _insert")

    def _take(self, widget: QWidget, park: QWidget | None = None) -> None:
        raise TypeError(f"{type(self).__name__} does not implement _take")

    def _focus(self, widget: QWidget) -> None:
        widget.show()

    def add(self, widget: QWidget, title: str, *, closable: bool = False) -> None:
        self._titles[widget] = title
        self._insert(widget, title, closable)
        self.signals.contents_changed.emit()

    def remove(self, widget: QWidget, *, park: QWidget | None = None) -> None:
        """Take ``widget`` out; ``park``: the (hidden) widget that keeps it alive meanwhile."""
        if widget in self._titles:
            del self._titles[widget]
            # straight to ``park``: never through a parentless (top-level) state, which costs a
            # native window each time a session is switched
            self._take(widget, park)
            self.signals.contents_changed.emit()

    def contains(self, widget: QWidget) -> bool:
        return widget in self._titles

    def show_widget(self, widget: QWidget) -> None:
        if widget in self._titles:
            self._focus(widget)

    def set_title(self, widget: QWidget, title: str) -> None:
        if widget in self._titles:
            self._titles[widget] = title

    def current_widget(self) -> QWidget | None:
        """The control shown in front (tab and deck panels); ``None`` where all are shown."""
        return None

    @property
    def widgets(self) -> list[QWidget]:
        return list(self._titles)

    def is_empty(self) -> bool:
        return not self._titles

    def wants_visible(self) -> bool:
        return not (self.collapse and self.is_empty())


class StackPanel(Panel):
    kind = "stack"

    def __init__(self, name: str, *, orientation: str = "vertical", collapse: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(name, collapse=collapse, parent=parent)
        direction = (QBoxLayout.Direction.LeftToRight if orientation == "horizontal"
                     else QBoxLayout.Direction.TopToBottom)
        self._layout = QBoxLayout(direction, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    def _insert(self, widget: QWidget, title: str, closable: bool) -> None:
        self._layout.addWidget(widget)
        widget.show()

    def _take(self, widget: QWidget, park: QWidget | None = None) -> None:
        self._layout.removeWidget(widget)
        widget.setParent(park)


class TabPanel(Panel):
    kind = "tab"

    def __init__(self, name: str, *, collapse: bool = True, auto_hide_bar: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(name, collapse=collapse, parent=parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName(f"{name}.tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setMovable(True)
        self.tabs.setTabBarAutoHide(auto_hide_bar)
        self.tabs.tabCloseRequested.connect(self._on_close_requested)
        layout.addWidget(self.tabs)
        self._closable: set[QWidget] = set()

    def _insert(self, widget: QWidget, title: str, closable: bool) -> None:
        index = self.tabs.addTab(widget, title)
        if closable:
            self._closable.add(widget)
        self.tabs.setTabsClosable(bool(self._closable))
        if not closable and self._closable:
            bar = self.tabs.tabBar()
            for side in (bar.ButtonPosition.RightSide, bar.ButtonPosition.LeftSide):
                button = bar.tabButton(index, side)
                if button is not None:
                    button.hide()

    def _take(self, widget: QWidget, park: QWidget | None = None) -> None:
        index = self.tabs.indexOf(widget)
        if index >= 0:
            self.tabs.removeTab(index)
        self._closable.discard(widget)
        widget.setParent(park)

    def _focus(self, widget: QWidget) -> None:
        self.tabs.setCurrentWidget(widget)

    def current_widget(self) -> QWidget | None:
        return self.tabs.currentWidget()

    def set_title(self, widget: QWidget, title: str) -> None:
        super().set_title(widget, title)
        index = self.tabs.indexOf(widget) if widget in self._titles else -1
        if index >= 0:
            self.tabs.setTabText(index, title)

    def _on_close_requested(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is not None:
            self.signals.close_requested.emit(widget.objectName())


class DeckPanel(TabPanel):
    kind = "deck"

    def __init__(self, name: str, *, collapse: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(name, collapse=collapse, auto_hide_bar=True, parent=parent)


class FloatingPanel(Panel):
    """Each control in a tool window of its own, above the main window."""

    kind = "floating"

    def __init__(self, name: str, *, parent: QWidget | None = None) -> None:
        super().__init__(name, collapse=True, parent=parent)
        self._windows: dict[QWidget, QWidget] = {}
        self.hide()

    def wants_visible(self) -> bool:
        return False

    def _insert(self, widget: QWidget, title: str, closable: bool) -> None:
        window = QWidget(self.window(), Qt.WindowType.Tool)
        window.setWindowTitle(title)
        layout = QVBoxLayout(window)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget)
        window.resize(480, 360)
        self._windows[widget] = window
        window.show()

    def _take(self, widget: QWidget, park: QWidget | None = None) -> None:
        window = self._windows.pop(widget, None)
        widget.setParent(park)
        if window is not None:
            window.close()
            window.deleteLater()

    def _focus(self, widget: QWidget) -> None:
        window = self._windows.get(widget)
        if window is not None:
            window.show()
            window.raise_()


class HiddenPanel(Panel):
    """Holds controls without showing them (HiddenPanel, and the parking panel ``Unknown``)."""

    kind = "hidden"

    def __init__(self, name: str, *, parent: QWidget | None = None) -> None:
        super().__init__(name, collapse=True, parent=parent)
        self.hide()

    def wants_visible(self) -> bool:
        return False

    def _insert(self, widget: QWidget, title: str, closable: bool) -> None:
        widget.setParent(self)
        widget.hide()

    def _take(self, widget: QWidget, park: QWidget | None = None) -> None:
        widget.setParent(park)


def make_panel(name: str, kind: str, *, orientation: str = "vertical",
               collapse: bool = True) -> Panel:
    if kind == "tab":
        return TabPanel(name, collapse=collapse)
    if kind == "deck":
        return DeckPanel(name, collapse=collapse)
    if kind == "stack":
        return StackPanel(name, orientation=orientation, collapse=collapse)
    if kind == "floating":
        return FloatingPanel(name)
    if kind == "hidden":
        return HiddenPanel(name)
    raise ValueError(f"unknown panel kind {kind!r} (choose {', '.join(PANEL_KINDS)})")
