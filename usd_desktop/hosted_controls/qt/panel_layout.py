"""Panel Layout: the arrangement of the desktop's panels, from configuration.

The layout is the ``layout`` setting of the PanelLayout hosted control, a tree of nodes:

* ``{panel: NAME, kind: tab|stack|deck|floating|hidden, orientation: horizontal|vertical,
  collapse: true|false}`` — a panel (``collapse``: hide it while it holds no control);
* ``{split: horizontal|vertical, sizes: [..], children: [..]}`` — a splitter the agent can drag
  (its position is remembered per user);
* ``{box: horizontal|vertical, children: [..]}`` — children at their natural size (tool bars).

Without a PanelLayout control (or without a ``layout`` setting) the *Standard Main Panel* below is
used, as in USD; its ``SessionTabsPanel`` (the session tab strip) sits above ``MainPanel``.
``HiddenPanel``, ``FloatingPanel``, ``FloatingToolPanel`` and the parking panel ``Unknown`` always
exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QBoxLayout, QSplitter, QWidget

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError, ConfigError
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import PANEL_LAYOUT
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.panels import Panel, make_panel

STANDARD_LAYOUT: dict[str, Any] = {
    "box": "vertical",
    "children": [
        {"panel": "ToolbarPanel", "kind": "stack", "orientation": "horizontal"},
        {"panel": "CtiPanel", "kind": "stack", "orientation": "horizontal"},
        {
            "split": "horizontal",
            "sizes": [260, 940, 340],
            "children": [
                {
                    "split": "vertical",
                    "children": [
                        {"panel": "SessionExplorerPanel", "kind": "stack"},
                        {"panel": "LeftPanel1", "kind": "tab"},
                        {"panel": "LeftPanel2", "kind": "tab"},
                    ],
                },
                {
                    "box": "vertical",
                    "children": [
                        {"panel": "SessionTabsPanel", "kind": "stack", "orientation": "horizontal"},
                        {
                            "split": "vertical",
                            "sizes": [700, 220],
                            "children": [
                                {"panel": "MainPanel", "kind": "tab", "collapse": False},
                                {"panel": "WorkflowPanel", "kind": "deck"},
                            ],
                        },
                    ],
                },
                {"panel": "RightPanel", "kind": "deck"},
            ],
        },
        {"panel": "StatusPanel", "kind": "stack", "orientation": "horizontal"},
    ],
}
ALWAYS = {"HiddenPanel": "hidden", "Unknown": "hidden", "FloatingPanel": "floating",
          "FloatingToolPanel": "floating"}


class LayoutWidget(QWidget):
    """The built arrangement: panels by name, splitters by path, visibility kept in step."""

    def __init__(self, spec: Mapping[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PanelLayout")
        self.panels: dict[str, Panel] = {}
        self.splitters: dict[str, QSplitter] = {}
        self._containers: list[tuple[QWidget, list[QWidget]]] = []
        outer = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._build(spec, "root"))
        for name, kind in ALWAYS.items():
            if name not in self.panels:
                panel = make_panel(name, kind)
                panel.setParent(self)
                self.panels[name] = panel
        for panel in self.panels.values():
            panel.signals.contents_changed.connect(self.refresh_visibility)
        self.refresh_visibility()

    def _build(self, node: Mapping[str, Any], path: str) -> QWidget:
        if not isinstance(node, Mapping):
            raise ConfigError(f"layout node at {path} must be a mapping, not {node!r}")
        if "panel" in node:
            name = str(node["panel"])
            if name in self.panels:
                raise ConfigError(f"panel {name!r} appears twice in the layout", f"layout {path}")
            try:
                panel = make_panel(name, str(node.get("kind", "tab")),
                                   orientation=str(node.get("orientation", "vertical")),
                                   collapse=bool(node.get("collapse", True)))
            except ValueError as exc:
                raise ConfigError(str(exc), f"layout {path} panel {name}") from None
            self.panels[name] = panel
            return panel
        children = node.get("children") or []
        if not isinstance(children, list) or not children:
            raise ConfigError("a split or box needs a non-empty children list", f"layout {path}")
        if "split" in node:
            orientation = (Qt.Orientation.Horizontal if node["split"] == "horizontal"
                           else Qt.Orientation.Vertical)
            splitter = QSplitter(orientation)
            splitter.setObjectName(f"split:{path}")
            splitter.setChildrenCollapsible(False)
            built = [self._build(child, f"{path}.{i}") for i, child in enumerate(children)]
            for widget in built:
                splitter.addWidget(widget)
            sizes = node.get("sizes")
            if isinstance(sizes, list) and len(sizes) == len(built):
                splitter.setSizes([int(s) for s in sizes])
            self.splitters[path] = splitter
            self._containers.append((splitter, built))
            return splitter
        if "box" in node:
            box = QWidget()
            box.setObjectName(f"box:{path}")
            direction = (QBoxLayout.Direction.LeftToRight if node["box"] == "horizontal"
                         else QBoxLayout.Direction.TopToBottom)
            layout = QBoxLayout(direction, box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(0)
            built = [self._build(child, f"{path}.{i}") for i, child in enumerate(children)]
            for widget in built:
                stretch = 0 if isinstance(widget, Panel) and widget.kind == "stack" else 1
                layout.addWidget(widget, stretch)
            self._containers.append((box, built))
            return box
        raise ConfigError("a layout node needs 'panel', 'split' or 'box'", f"layout {path}")

    def refresh_visibility(self) -> None:
        """Collapse empty panels, and containers whose children are all collapsed."""
        wanted: dict[QWidget, bool] = {}
        for panel in self.panels.values():
            wanted[panel] = panel.wants_visible()
        for container, children in reversed(self._containers):
            wanted[container] = any(wanted.get(child, True) for child in children)
        for widget, visible in wanted.items():
            if widget.isHidden() == visible:
                widget.setVisible(visible)

    def panel(self, name: str) -> Panel | None:
        return self.panels.get(name)

    def save_state(self) -> dict[str, str]:
        return {path: bytes(s.saveState().toBase64().data()).decode("ascii")
                for path, s in self.splitters.items()}

    def restore_state(self, state: Mapping[str, str]) -> None:
        for path, encoded in state.items():
            splitter = self.splitters.get(path)
            if splitter is not None:
                splitter.restoreState(QByteArray.fromBase64(encoded.encode("ascii")))


class PanelLayoutControl(QtHostedControl):
    """The hosted control whose widget is the whole arrangement of panels."""

    control_type = PANEL_LAYOUT
    problem: str | None = None

    def create_widget(self) -> LayoutWidget:
        spec = self.settings.get("layout") or STANDARD_LAYOUT
        try:
            return LayoutWidget(spec)
        except ConfigError as exc:
            # A broken layout must not keep the desktop from starting: use the standard one.
            self.problem = f"{self.name}: setting layout: {exc}; using the standard layout"
            return LayoutWidget(STANDARD_LAYOUT)

    @property
    def layout_widget(self) -> LayoutWidget:
        widget = self.widget()
        assert isinstance(widget, LayoutWidget)
        return widget

    @uii_action("SetVisualProperty")
    def set_visual_property(self, data: ActionData, call: CallContext) -> None:
        element = data.take("elementname") or ""
        prop = (data.take("propertyname") or "").lower()
        value = data.take("value") or ""
        panel = self.layout_widget.panel(element)
        if panel is None:
            raise ActionError(f"SetVisualProperty: no panel named {element!r}")
        if prop == "visibility":
            panel.collapse = False
            panel.setVisible(value.lower() in ("visible", "true", "1"))
        elif prop in ("width", "height"):
            try:
                size = int(float(value))
            except ValueError:
                raise ActionError(f"SetVisualProperty: {prop}={value!r} is not a number") from None
            if prop == "width":
                panel.setFixedWidth(size)
            else:
                panel.setFixedHeight(size)
        else:
            raise ActionError(f"SetVisualProperty: unsupported property {prop!r} "
                              "(visibility, width, height)")
