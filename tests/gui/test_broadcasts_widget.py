"""The Broadcasts banner in the real main window: a message sent appears as a row with its
severity's colours and disappears when the agent dismisses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from tests.gui.support import close_shell, open_shell
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.qt.broadcasts_widget import BroadcastsControl, BroadcastsWidget
from usd_desktop.testing import make_data_services, until

CONFIG = """
name: broadcasts banner
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - name: Broadcasts
    type: Broadcasts
    panel: MainPanel
    settings: {poll_seconds: 0.05, popup_severity: none}
"""


async def test_a_broadcast_shows_and_is_dismissed(qtbot: Any, tmp_path: Path) -> None:
    services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}", user="sam")
    desktop, window, host = await open_shell(CONFIG, data=services)
    try:
        control = desktop.instance("Broadcasts")
        assert isinstance(control, BroadcastsControl)
        sent = await desktop.dispatcher.run_action(
            "Broadcasts", "Broadcast", "title=Phones down\nbody=Use the backup line\nseverity=critical")
        assert sent.outcome is Outcome.RAN, sent.reason
        widget = control.widget()
        assert isinstance(widget, BroadcastsWidget)
        await until(lambda: len(widget.rows) == 1, "the message row")
        row = widget.rows[0]
        assert "Phones down" in row.title.text() and row.body.text() == "Use the backup line"
        assert "#c53030" in row.styleSheet()  # critical: the red border
        qtbot.mouseClick(row.dismiss, Qt.MouseButton.LeftButton)
        await until(lambda: widget.rows == [], "the message dismissed")
    finally:
        await close_shell(desktop, window, host)
        services.close()
