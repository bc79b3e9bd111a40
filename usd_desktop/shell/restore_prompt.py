"""The question asked at start after a crash: bring back the customer sessions that were open?

Non-modal (the asyncio loop keeps running while the agent reads it); the answer is awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from html import escape

from PySide6.QtWidgets import QMessageBox, QWidget

from usd_desktop.core.session_journal import JournaledSession


def describe(sessions: Sequence[JournaledSession]) -> str:
    names = [escape(s.name or s.id[:8]) for s in sessions[:8]]
    more = len(sessions) - len(names)
    listing = "".join(f"<li>{name}</li>" for name in names) + (f"<li>and {more} more</li>" if more else "")
    return (f"<b>The desktop did not close normally.</b><br>{len(sessions)} customer session(s) were "
            f"open:<ul>{listing}</ul>Restore them as they were (pages, records, scripts and "
            "unsaved text)?")


async def ask_restore(parent: QWidget | None, sessions: Sequence[JournaledSession]) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, "Restore customer sessions", describe(sessions),
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("restorePrompt")
    restore = box.addButton("Restore sessions", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Start without them", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def answered(*_: object) -> None:
        if not answer.done():
            answer.set_result(box.clickedButton() is restore)

    box.finished.connect(answered)
    box.setModal(False)
    box.open()
    try:
        return await answer
    finally:
        box.deleteLater()
