"""Themes: light, dark and high contrast (SetTheme), as a palette plus a small style sheet."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from usd_desktop.core.paths import resources_dir

log = logging.getLogger(__name__)
THEMES = ("light", "dark", "high-contrast")

_COLOURS: dict[str, dict[QPalette.ColorRole, str]] = {
    "light": {
        QPalette.ColorRole.Window: "#f3f4f6", QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f6f8fa",
        QPalette.ColorRole.Text: "#1f2328", QPalette.ColorRole.Button: "#eef0f3",
        QPalette.ColorRole.ButtonText: "#1f2328", QPalette.ColorRole.Highlight: "#0b64c0",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffe1",
        QPalette.ColorRole.ToolTipText: "#1f2328", QPalette.ColorRole.Link: "#0b64c0",
        QPalette.ColorRole.PlaceholderText: "#6e7781",
    },
    "dark": {
        QPalette.ColorRole.Window: "#1e2228", QPalette.ColorRole.WindowText: "#e6e9ee",
        QPalette.ColorRole.Base: "#15181d", QPalette.ColorRole.AlternateBase: "#1b1f24",
        QPalette.ColorRole.Text: "#e6e9ee", QPalette.ColorRole.Button: "#2a2f37",
        QPalette.ColorRole.ButtonText: "#e6e9ee", QPalette.ColorRole.Highlight: "#3d8bfd",
        QPalette.ColorRole.HighlightedText: "#0b0d10", QPalette.ColorRole.ToolTipBase: "#2a2f37",
        QPalette.ColorRole.ToolTipText: "#e6e9ee", QPalette.ColorRole.Link: "#6cb6ff",
        QPalette.ColorRole.PlaceholderText: "#8b949e",
    },
    "high-contrast": {
        QPalette.ColorRole.Window: "#000000", QPalette.ColorRole.WindowText: "#ffffff",
        QPalette.ColorRole.Base: "#000000", QPalette.ColorRole.AlternateBase: "#101010",
        QPalette.ColorRole.Text: "#ffffff", QPalette.ColorRole.Button: "#000000",
        QPalette.ColorRole.ButtonText: "#ffff00", QPalette.ColorRole.Highlight: "#00ffff",
        QPalette.ColorRole.HighlightedText: "#000000", QPalette.ColorRole.ToolTipBase: "#000000",
        QPalette.ColorRole.ToolTipText: "#ffffff", QPalette.ColorRole.Link: "#ffff00",
        QPalette.ColorRole.PlaceholderText: "#c0c0c0",
    },
}


def palette(theme: str) -> QPalette:
    pal = QPalette()
    for role, colour in _COLOURS[theme].items():
        pal.setColor(role, QColor(colour))
    disabled = QColor("#8c959f" if theme != "high-contrast" else "#a0a0a0")
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal


def apply(app: QApplication, theme: str) -> None:
    """Apply ``theme`` to the whole application (palette + resources/themes/<theme>.qss)."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(palette(theme))
    sheet = ""
    for name in ("base", theme):
        path = resources_dir() / "themes" / f"{name}.qss"
        try:
            sheet += path.read_text(encoding="utf-8") + "\n"
        except OSError as exc:
            log.warning("theme style sheet %s unavailable: %s", path, exc)
    app.setStyleSheet(sheet)
    app.setProperty("usdTheme", theme)
