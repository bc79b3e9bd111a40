"""Builds the desktop (runtime + window) for a configuration, and swaps in a newly published one.

A new version applies at once when no customer session is open; otherwise the agent is told, and it
applies when the last customer session closes. Sessions are never cut short by an update.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from usd_desktop.config.schema import Configuration
from usd_desktop.core.context import Session
from usd_desktop.core.session_journal import JournaledSession, SessionJournal
from usd_desktop.core.trace import Outcome, TraceJournal, TraceRecord
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.base import SettingsStore
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.hosted_controls.session_recorder import SessionRecorder, restore_sessions
from usd_desktop.shell.host import QtDesktopHost
from usd_desktop.shell.main_window import MainWindow

log = logging.getLogger(__name__)


class DesktopRunner:
    """Owns the current :class:`Desktop` and :class:`MainWindow`; replaces them on an update."""

    def __init__(
        self,
        *,
        registry: Registry,
        journal: TraceJournal,
        settings: SettingsStore,
        user: Mapping[str, str],
        language: str,
        state_file: Path | None,
        data: DataServices | None = None,
        session_journal: SessionJournal | None = None,
    ) -> None:
        self.registry = registry
        self.data = data
        self.journal = journal
        self.settings = settings
        self.user = dict(user)
        self.language = language
        self.state_file = state_file
        self.host = QtDesktopHost()
        self.desktop: Desktop | None = None
        self.window: MainWindow | None = None
        self.label = ""
        self.pending: tuple[Configuration, str] | None = None
        self.applied: list[str] = []
        self._disposers: list[Any] = []
        self._tasks: set[asyncio.Future[Any]] = set()
        #: Where open customer sessions are journaled (None: not at all), and what a crash left.
        self.session_journal = session_journal
        self.crashed_sessions: list[JournaledSession] = (
            session_journal.pending() if session_journal is not None else [])
        self.recorder: SessionRecorder | None = None

    def build(self, config: Configuration, label: str, problems: list[str] | None = None) -> MainWindow:
        """Create the runtime and the window for ``config`` (not started yet)."""
        desktop = Desktop(config, host=self.host, registry=self.registry, journal=self.journal,
                          settings=self.settings, user=self.user, language=self.language,
                          data=self.data)
        desktop.problems.extend(problems or [])
        window = MainWindow(desktop, state_file=self.state_file)
        self.host.bind(window)
        self.desktop, self.window, self.label = desktop, window, label
        if self.session_journal is not None:
            if self.recorder is not None:
                self.recorder.close(clean=False)  # the old desktop has no customer session left
            self.recorder = SessionRecorder(desktop, self.session_journal)
        for dispose in self._disposers:
            dispose()
        self._disposers = [desktop.sessions.session_closed.connect(self._on_session_closed)]
        return window

    # ------------------------------------------------------------------ updates
    def offer(self, config: Configuration, label: str) -> None:
        """A new version was published for this user: apply it now, or when sessions allow."""
        desktop = self.desktop
        if desktop is None or not desktop.sessions.customer_sessions:
            self._schedule(config, label)
            return
        self.pending = (config, label)
        count = len(desktop.sessions.customer_sessions)
        self._note(label, Outcome.DEFERRED, f"applies when the last of {count} customer session(s) closes")
        message = (f"Configuration {label} is ready: it applies when your last customer session "
                   f"closes ({count} open).")
        log.info("%s", message)
        if self.window is not None:
            self.window.set_status(message)

    def _on_session_closed(self, session: Session) -> None:
        desktop = self.desktop
        if self.pending is not None and desktop is not None and not desktop.sessions.customer_sessions:
            config, label = self.pending
            self.pending = None
            self._schedule(config, label)

    def _schedule(self, config: Configuration, label: str) -> None:
        task = asyncio.ensure_future(self.apply(config, label))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def apply(self, config: Configuration, label: str) -> None:
        """Swap in ``config``: the new window appears before the old one closes."""
        old_desktop, old_window = self.desktop, self.window
        geometry = old_window.saveGeometry() if old_window is not None else None
        if old_window is not None:
            old_window.save_state()
        window = self.build(config, label)
        if geometry is not None:
            window.restoreGeometry(geometry)
        window.show()
        assert self.desktop is not None
        await self.desktop.start()
        window.set_status(f"Configuration {label} applied — {self.user.get('fullname', '')}")
        log.info("configuration %s applied", label)
        self.applied.append(label)
        self._note(label, Outcome.RAN, "applied")
        if old_window is not None:
            old_window.close()
            old_window.deleteLater()
        if old_desktop is not None:
            await old_desktop.shutdown()

    def _note(self, label: str, outcome: Outcome, reason: str) -> None:
        self.journal.record(TraceRecord(seq=self.journal.next_seq(), kind="configuration",
                                        name=label, outcome=outcome, reason=reason))

    # ------------------------------------------------------------------ crash recovery
    async def restore_crashed_sessions(self, mode: str) -> list[str]:
        """Offer (``ask``), do (``always``) or skip (``never``) the restore of what a crash left."""
        crashed, self.crashed_sessions = self.crashed_sessions, []
        desktop, recorder = self.desktop, self.recorder
        if not crashed or desktop is None or recorder is None:
            return []
        wanted = mode == "always"
        if mode == "ask":
            from usd_desktop.shell.restore_prompt import ask_restore

            wanted = await ask_restore(self.window, crashed)
        problems: list[str] = []
        if wanted:
            problems = await restore_sessions(desktop, crashed)
            desktop.problems.extend(f"restore: {p}" for p in problems)
            if self.window is not None:
                self.window.refresh_problems()
        recorder.prune()  # declined or not restorable: not offered again
        log.info("%s %d crashed customer session(s)", "restored" if wanted else "discarded", len(crashed))
        return problems

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.recorder is not None:
            self.recorder.close(clean=True)  # a normal close leaves nothing to restore
            self.recorder = None
        if self.desktop is not None:
            await self.desktop.shutdown()
