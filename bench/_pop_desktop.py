"""The desktop side of bench/screen_pop.py: the configuration, the real main window, and the probes
that stamp a pop's moments (the session tab painted with the name, the ``cti_pop`` trace records,
the event loop's lateness). Qt is imported here: the bench sets ``QT_QPA_PLATFORM`` first."""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QTabBar

from usd_desktop.config.loader import loads_configuration
from usd_desktop.core.session_journal import SessionJournal
from usd_desktop.core.trace import TraceJournal, TraceRecord
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.cti_desktop import CtiDesktopManager
from usd_desktop.hosted_controls.desktop import Desktop, MemorySettings
from usd_desktop.hosted_controls.qt.session_tabs import SessionTabsControl
from usd_desktop.hosted_controls.qt.session_tabs_widget import MAX_NAME_WIDTH
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.shell import gc_guard, themes
from usd_desktop.shell.main_window import MainWindow
from usd_desktop.shell.runner import DesktopRunner

#: Modelled on resources/starter (controls.yaml, sessions.yaml, service-desk.yaml): the panel
#: layout, the session tab strip, the Customer form with its two sub-lists, the session lines that
#: name a session after its customer (before that: after the caller's number), and a CTI rule that
#: finds the caller by phone and loads the single match into the Customer form.
CONFIG = """
name: screen-pop bench
options: {maxNumberOfSessions: 1000}
hosted_controls:
  - {name: Global Manager, type: GlobalManager, sort_order: 2, panel: HiddenPanel}
  - name: Panel Layout
    type: PanelLayout
    sort_order: 3
    panel: MainWorkArea
    settings:
      layout:
        box: vertical
        children:
          - {panel: CtiPanel, kind: stack, orientation: horizontal}
          - split: horizontal
            sizes: [980, 420]
            children:
              - box: vertical
                children:
                  - {panel: SessionTabsPanel, kind: stack, orientation: horizontal}
                  - {panel: MainPanel, kind: tab, collapse: false}
              - {panel: RightPanel, kind: deck}
  - {name: Session Tabs, type: SessionTabs, sort_order: 5, panel: SessionTabsPanel}
  - name: CTI
    type: CtiDesktopManager
    sort_order: 6
    panel: HiddenPanel
    settings:
      adapter: ADAPTER
      default_region: REGION
      wrap_up_seconds: 0
      adapter_settings: ADAPTER_SETTINGS
  - name: Customer
    type: EntityForm
    is_global: false
    display_name: "[[contact.full_name]+]"
    sort_order: 50
    panel: MainPanel
    settings:
      entity: contact
      related:
        - title: Open cases
          entity: case
          field: contact_id
          columns: [case_number, title, status, priority, due_at]
          filters: [{field: status, operator: ne, value: closed}]
          order_by: [{field: due_at}]
        - title: Recent interactions
          entity: interaction
          field: contact_id
          columns: [offered_at, channel, direction, subject, disposition]
          order_by: [{field: offered_at, descending: true}]
          max_count: 20
session_lines:
  - {name: Customer, order: 1, type: session_name, display: "[[contact.full_name]]"}
  - {name: Caller, order: 3, type: session_name, display: "Call from [[cti.ani]]"}
window_navigation_rules:
  - name: Known callers
    order: 1
    from_control: CTI
    target_tab: Customer
    show_tab: Customer
    cti:
      initiating_activity: phonecall
      direction: inbound
      searches: [{name: Caller, entity: contact, filters: [{field: phone, value: "[[cti.ani]]"}]}]
      no_match: {decision: create_session_then_do_action}
      single_match: {decision: create_session_load_match_then_do_action}
      multiple_match: {decision: create_session_then_do_action}
"""


def config_text(adapter: str, settings: dict[str, Any], region: str) -> str:
    import json

    return (CONFIG.replace("ADAPTER_SETTINGS", json.dumps(settings)).replace("ADAPTER", adapter)
            .replace("REGION", region))


@dataclass
class OpenDesktop:
    runner: DesktopRunner
    desktop: Desktop
    window: MainWindow
    cti: CtiDesktopManager
    tabs: SessionTabsControl
    watcher: TabWatcher
    stamps: PopStamps
    sessions_journal: SessionJournal

    async def close(self) -> None:
        self.watcher.detach()
        self.stamps.detach()
        for box in list(self.runner.host.open_messages):
            box.done(0)
        self.window.close()
        await self.runner.close()
        self.sessions_journal.close()
        self.window.deleteLater()


async def open_desktop(text: str, services: DataServices, folder: Path) -> OpenDesktop:
    """The configuration started as ``usd-desktop`` starts one (usd_desktop/app.py): the desktop
    runner with the crash-safe session journal (a file in ``folder``), garbage collected on the GUI
    thread, the light theme; the real main window shown (offscreen)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    gc_guard.install(app)
    journal = SessionJournal(folder / "sessions.bench.db")
    runner = DesktopRunner(registry=Registry.discover(), journal=TraceJournal(), settings=MemorySettings(),
                           user={"username": "bench", "firstname": "Bench", "fullname": "Bench Agent"},
                           language="en", state_file=None, data=services, session_journal=journal)
    window = runner.build(loads_configuration(text, source_name="<screen-pop bench>"), "screen-pop bench")
    themes.apply(app, "light")
    window.resize(1440, 900)
    window.show()
    desktop = runner.desktop
    assert desktop is not None
    await desktop.start()
    cti = desktop.instance("CTI")
    tabs = desktop.instance("Session Tabs")
    assert isinstance(cti, CtiDesktopManager), cti
    assert isinstance(tabs, SessionTabsControl) and tabs.tabs_widget is not None, tabs
    return OpenDesktop(runner, desktop, window, cti, tabs, TabWatcher(tabs.tabs_widget.bar),
                       PopStamps(desktop), journal)


# ---------------------------------------------------------------------- the tab, as painted
@dataclass
class Shown:
    session_id: str
    text: str
    at: float  # perf_counter once the tab bar's paint with the name has finished
    current: bool


class TabWatcher(QObject):
    """Stamps the moment the session tab strip has *painted* a tab whose text is an awaited name.

    An event filter on the strip's QTabBar lets each paint event run (``bar.event``) and then reads
    the tabs it has just drawn: a tab whose text is awaited (and whose session was not reported
    before) resolves the waiter with the time after the paint. So the clock stops when the name is
    on the (offscreen) screen, not when the data or the tab text was set.
    """

    def __init__(self, bar: QTabBar) -> None:
        super().__init__()
        self.bar = bar
        self.waiting: dict[str, list[asyncio.Future[Shown]]] = {}
        self.reported: set[str] = set()
        self.on_shown: Callable[[Shown], None] | None = None  # any awaited tab (the load run)
        self.paints = 0
        bar.installEventFilter(self)

    def detach(self) -> None:
        self.bar.removeEventFilter(self)
        for waiters in self.waiting.values():
            for future in waiters:
                future.cancel()
        self.waiting.clear()

    def shown_text(self, name: str) -> str:
        """The tab text a session named ``name`` gets (elided as the strip does)."""
        return self.bar.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, MAX_NAME_WIDTH)

    def expect(self, name: str) -> asyncio.Future[Shown]:
        future: asyncio.Future[Shown] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(self.shown_text(name), []).append(future)
        return future

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.bar or event.type() != QEvent.Type.Paint or not self.waiting:
            return False
        self.bar.event(event)  # the paint itself, now; then what it drew
        done = time.perf_counter()
        self.paints += 1
        current = self.bar.currentIndex()
        for index in range(self.bar.count()):
            text, sid = self.bar.tabText(index), str(self.bar.tabData(index))
            waiters = self.waiting.get(text)
            if not waiters or sid in self.reported:
                continue
            self.reported.add(sid)
            future = waiters.pop(0)
            if not waiters:
                del self.waiting[text]
            shown = Shown(sid, text, done, index == current)
            if not future.done():
                future.set_result(shown)
            if self.on_shown is not None:
                self.on_shown(shown)
        return True  # painted above


# ---------------------------------------------------------------------- the trace of each pop
@dataclass
class PopSteps:
    """The ``cti_pop`` records of one call: step name -> ms since ``received`` (the trace's own
    ``duration_ms``), and the perf_counter when ``received`` was recorded."""

    received_at: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)


class PopStamps:
    """Collects every ``cti_pop`` trace record as it is written, by call id (``chain``)."""

    def __init__(self, desktop: Desktop) -> None:
        self.calls: dict[str, PopSteps] = {}
        self._dispose = desktop.dispatcher.journal.recorded.connect(self._recorded)

    def detach(self) -> None:
        self._dispose()

    def _recorded(self, record: TraceRecord) -> None:
        if record.kind != "cti_pop":
            return
        steps = self.calls.setdefault(record.chain or "", PopSteps())
        if record.name == "received":
            steps.received_at = time.perf_counter()
        steps.steps.setdefault(record.name, float(record.duration_ms or 0.0))


# ---------------------------------------------------------------------- the event loop's stalls
class StallMeter:
    """A callback due every ``interval`` s on the running (qasync) loop; each run notes how late it
    is. A stall is the lateness: how long the loop could not run anything else."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.late: list[float] = []
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self.worst = (0.0, 0.0)  # (due, ran) of the longest stall, perf_counter

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.late.clear()
        self.worst = (0.0, 0.0)
        self._due = loop.time() + self.interval
        self._handle = loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = max(0.0, now - self._due)
        if late > self.worst[1] - self.worst[0]:
            clock = time.perf_counter() - now  # the loop's clock is monotonic, like perf_counter
            self.worst = (self._due + clock, now + clock)
        self.late.append(late)
        self._due = now + self.interval
        self._handle = loop.call_at(self._due, self._tick)

    def stop(self) -> dict[str, float]:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        late = sorted(self.late) or [0.0]
        return {
            "max": late[-1] * 1e3,
            "p99": late[min(len(late) - 1, round(0.99 * (len(late) - 1)))] * 1e3,
            "median": statistics.median(late) * 1e3,
            "ticks": float(len(self.late)),
            "over_50": float(sum(1 for x in late if x > 0.05)),
            "worst_from": self.worst[0],
            "worst_to": self.worst[1],
        }


# ---------------------------------------------------------------------- synchronous durable writes
#: The durable stores the desktop writes on the event loop's thread, and their write methods: each
#: write is one SQLite transaction with ``synchronous=FULL`` (an fsync) before it returns.
DURABLE = {
    "drafts": ("usd_desktop.data.drafts:DraftStore", ("put", "delete")),
    "session journal": ("usd_desktop.core.session_journal:SessionJournal", ("write", "remove")),
}


class DurableWrites:
    """Times the crash-safe writes made on the event loop's thread: the drafts file (``DraftStore``,
    here the interaction recorder's drafts of each call's interaction row) and the session journal
    (``SessionJournal``, each open customer session as it changes)."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = {kind: [] for kind in DURABLE}
        self._undo: list[Callable[[], None]] = []

    def install(self) -> DurableWrites:
        import importlib
        import threading

        main = threading.main_thread()
        for kind, (where, methods) in DURABLE.items():
            module, _, name = where.partition(":")
            cls = getattr(importlib.import_module(module), name)
            spans = self.spans[kind]
            for method in methods:
                original = getattr(cls, method)

                def timed(self: Any, *args: Any, _original: Any = original,
                          _spans: list[tuple[float, float]] = spans, **kwargs: Any) -> Any:
                    if threading.current_thread() is not main:
                        return _original(self, *args, **kwargs)
                    start = time.perf_counter()
                    try:
                        return _original(self, *args, **kwargs)
                    finally:
                        _spans.append((start, time.perf_counter()))

                setattr(cls, method, timed)
                self._undo.append(functools.partial(setattr, cls, method, original))
        return self

    def uninstall(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()

    def _all(self, kind: str | None) -> list[tuple[float, float]]:
        return self.spans[kind] if kind else [s for spans in self.spans.values() for s in spans]

    def between(self, start: float, end: float, kind: str | None = None) -> tuple[int, float]:
        """(writes, ms) of the writes that began in [start, end]."""
        inside = [(a, b) for a, b in self._all(kind) if start <= a <= end]
        return len(inside), sum(b - a for a, b in inside) * 1e3

    def longest(self, start: float, end: float, kind: str | None = None) -> float:
        """ms of the longest write that began in [start, end]."""
        return max((b - a for a, b in self._all(kind) if start <= a <= end), default=0.0) * 1e3

    def overlap(self, start: float, end: float, kind: str | None = None) -> float:
        """ms of writing inside [start, end]."""
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self._all(kind)) * 1e3
