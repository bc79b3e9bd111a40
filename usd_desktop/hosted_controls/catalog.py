"""The built-in hosted-control types, as data.

pyproject.toml registers each of these under the entry-point group ``usd_desktop.hosted_controls``,
exactly as a partner's package registers its own: the desktop discovers built-ins and plugins the
same way. Importing this module is cheap (no Qt); the ``factory`` is imported only when used.
A test checks that every type's ``actions`` match what its implementation provides.
"""

from __future__ import annotations

from usd_desktop.hosted_controls.base import ControlType

GLOBAL_MANAGER = ControlType(
    name="GlobalManager",
    factory="usd_desktop.hosted_controls.global_manager:GlobalManager",
    description="The core of the desktop: desktop-wide actions, settings, messages, DesktopReady.",
    actions=frozenset(
        {
            "CopyToContext", "Pause", "SaveSetting", "ReadSettings", "DisplayMessage",
            "ShowTab", "CopyToClipboard", "LaunchURL", "ExecuteScriptlet", "SetTheme", "ShowAbout",
            "CreateSession", "CloseSession",
        }
    ),
    events=frozenset({"DesktopReady", "SessionNew", "SessionActivated", "SessionDeactivated",
                      "SessionClosed"}),
    singleton=True,
    default_panel="HiddenPanel",
)

CONNECTION_MANAGER = ControlType(
    name="ConnectionManager",
    factory="usd_desktop.hosted_controls.global_manager:ConnectionManager",
    description="Owns the connection to the configuration and data stores.",
    singleton=True,
    default_panel="HiddenPanel",
)

PANEL_LAYOUT = ControlType(
    name="PanelLayout",
    factory="usd_desktop.hosted_controls.qt.panel_layout:PanelLayoutControl",
    description="Arranges the desktop's panels (tab, stack, deck, collapse, floating).",
    actions=frozenset({"SetVisualProperty"}),
    singleton=True,
    needs_qt=True,
    default_panel="MainWorkArea",
)

TOOLBAR_CONTAINER = ControlType(
    name="ToolbarContainer",
    factory="usd_desktop.hosted_controls.qt.toolbar_container:ToolbarContainer",
    description="Shows the configured toolbars and their buttons.",
    actions=frozenset({"ShowToolbar", "HideToolbar", "EnableToolbarButton",
                       "DisableToolbarButton"}),
    needs_qt=True,
    default_panel="ToolbarPanel",
)

STANDARD_WEB_APPLICATION = ControlType(
    name="StandardWebApplication",
    factory="usd_desktop.hosted_controls.qt.web_application:StandardWebApplication",
    description="Hosts any web page (QtWebEngine); pages raise events through https://event/.",
    actions=frozenset({"Navigate", "GoBack", "GoForward", "GoHome", "RunScript", "Refresh"}),
    events=frozenset({"BrowserDocumentComplete", "PageReady"}),
    needs_qt=True,
)

DEBUGGER = ControlType(
    name="Debugger",
    factory="usd_desktop.hosted_controls.qt.debugger:DebuggerControl",
    description="Live trace of action calls, the data parameters, and a place to run actions.",
    actions=frozenset({"SetReplacementParameter", "TestScriptlet", "Clear"}),
    needs_qt=True,
)

BUILTIN_TYPES = (
    GLOBAL_MANAGER,
    CONNECTION_MANAGER,
    PANEL_LAYOUT,
    TOOLBAR_CONTAINER,
    STANDARD_WEB_APPLICATION,
    DEBUGGER,
)
