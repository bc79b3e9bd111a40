"""Customer sessions from 1 to 50: memory per additional session, and the time to create one and
to switch between them, printed as a curve.

One process, offscreen, the real main window (panels, session tab strip, session overview) and
native session controls: a customer form with its sub-lists, notes, the interaction history and an
agent script, each session opened on a demo customer by the Global Manager's CreateSession (as a
screen pop does). Memory is the process's resident set (``/proc/self/statm``) after the session's
controls are shown and garbage is collected, per session, and as a share of the resident set of
the same desktop with no customer session (measured in the same run).

The time baseline, in the same run: plain Qt widgets standing in for the same controls (a form of
line edits, two tables, a text editor and a label per "session"), created and shown in a
QTabWidget, and switching its current page: the floor any Qt desktop pays.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.shell.main_window import MainWindow
from usd_desktop.testing import make_data_services, make_desktop

SESSIONS = int(os.environ.get("BENCH_SESSIONS", "50"))
POINTS = [n for n in (1, 2, 5, 10, 20, 30, 40, 50) if n <= SESSIONS]
CONFIG = """
name: sessions bench
options: {maxNumberOfSessions: 100}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Session Tabs, type: SessionTabs}
  - {name: Session Overview, type: SessionOverview}
  - {name: Customer, type: EntityForm, is_global: false, settings: {entity: contact}}
  - {name: Notes, type: Notes, is_global: false, panel: RightPanel}
  - {name: History, type: InteractionHistory, is_global: false, panel: RightPanel}
  - {name: Script, type: AgentScripting, is_global: false, panel: WorkflowPanel}
action_calls:
  - {name: Open, control: Customer, action: Open_CRM_Page, data: "LogicalName=contact\\nid=[[$Context.Id]]"}
  - {name: Notes, control: Notes, action: default}
  - {name: History, control: History, action: Refresh}
  - {name: Script, control: Script, action: StartScript}
events:
  - {control: Global Manager, name: SessionNew, action_calls: [Open, Notes, History, Script]}
session_lines:
  - {name: Name, type: session_name, display: "[[contact.full_name]]"}
  - {name: Segment, type: session_overview, display: "[[contact.segment]] customer"}
agent_scripts:
  - name: Greeting
    start_task: true
    script_text: "Hello [[contact.first_name]], how can I help?"
    answers:
      - {name: Billing, text: Billing, linked_task: Billing}
  - {name: Billing, script_text: "Let us look at your invoice."}
"""
PAGE = 4096
EMPTY_DESKTOP_MB = 0.0


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


async def until(predicate) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + 30
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("a session did not finish loading")
        await asyncio.sleep(0.001)


async def desktop_curve(folder: Path) -> dict[int, tuple[float, float, float]]:
    services = make_data_services(f"sqlite:///{folder / 'bench.db'}", drafts=str(folder / "drafts.db"),
                                  demo_customers=SESSIONS)
    contacts = [row["id"] for row in services.repository.search(
        _search(), {}).rows][:SESSIONS]
    desktop = make_desktop(CONFIG, data=services)
    window = MainWindow(desktop)
    window.resize(1440, 900)
    window.show()
    await desktop.start()
    await asyncio.sleep(0.05)
    base = rss_mb()
    global EMPTY_DESKTOP_MB
    EMPTY_DESKTOP_MB = base
    curve: dict[int, tuple[float, float, float]] = {}
    for n, contact in enumerate(contacts, start=1):
        start = time.perf_counter()
        session = await desktop.create_session(entity="contact", context={"Id": contact})
        form = desktop.instance("Customer", session)
        await until(lambda f=form, c=contact: isinstance(f, EntityForm) and f.record_id == c
                    and all(r.loads for r in f.related_lists()))
        QApplication.processEvents()
        created = time.perf_counter() - start
        if n in POINTS:
            switches = []
            sessions = desktop.sessions.customer_sessions
            for other in (sessions[i % len(sessions)] for i in range(min(2 * n, 40))):
                t = time.perf_counter()
                await desktop.switch_session(other)
                QApplication.processEvents()
                switches.append(time.perf_counter() - t)
            curve[n] = ((rss_mb() - base) / n, created, statistics.median(switches))
    window.close()
    await desktop.shutdown()
    services.close()
    return curve


def _search():  # type: ignore[no-untyped-def]
    from usd_desktop.config.schema_searches import EntitySearch

    return EntitySearch(name="all", entity="contact", max_count=SESSIONS)


def plain_page() -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    form = QFormLayout()
    for n in range(14):
        form.addRow(f"Field {n}", QLineEdit(f"value {n}"))
    layout.addLayout(form)
    for columns in (4, 6):
        table = QTableWidget(20, columns)
        layout.addWidget(table)
    layout.addWidget(QTextEdit("a note"))
    layout.addWidget(QLabel("Hello, how can I help?"))
    return page


def baseline_curve() -> dict[int, tuple[float, float, float]]:
    tabs = QTabWidget()
    tabs.resize(1440, 900)
    tabs.show()
    QApplication.processEvents()
    base = rss_mb()
    curve: dict[int, tuple[float, float, float]] = {}
    for n in range(1, SESSIONS + 1):
        start = time.perf_counter()
        tabs.setCurrentIndex(tabs.addTab(plain_page(), f"Session {n}"))
        QApplication.processEvents()
        created = time.perf_counter() - start
        if n in POINTS:
            switches = []
            for i in range(min(2 * n, 40)):
                t = time.perf_counter()
                tabs.setCurrentIndex(i % n)
                QApplication.processEvents()
                switches.append(time.perf_counter() - t)
            curve[n] = ((rss_mb() - base) / n, created, statistics.median(switches))
    tabs.close()
    tabs.deleteLater()
    return curve


async def main(folder: Path) -> None:
    ours = await desktop_curve(folder)
    plain = baseline_curve()
    print(f"customer sessions, 1 to {SESSIONS} (form + sub-lists, notes, history, agent script each); "
          f"the desktop without a customer session: {EMPTY_DESKTOP_MB:.0f} MB resident")
    print("sessions | MB per session (% of empty) | create ms (plain Qt) | switch ms (plain Qt) | "
          "create / switch vs plain")
    for n in POINTS:
        mem, create, switch = ours[n]
        _, pcreate, pswitch = plain[n]
        share = 100 * mem / EMPTY_DESKTOP_MB
        print(f"{n:8d} | {mem:6.2f} ({share:4.1f}%)              | "
              f"{create * 1e3:7.1f} ({pcreate * 1e3:6.1f})     "
              f"| {switch * 1e3:6.2f} ({pswitch * 1e3:5.2f})      | "
              f"{create / pcreate:.1f}x / {switch / max(pswitch, 1e-6):.1f}x")


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp, loop:
        os.environ.update({k: f"{tmp}/{k}" for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
        loop.run_until_complete(main(Path(tmp)))
