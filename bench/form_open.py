"""Opening a customer who has 200 interactions: the entity form, its sub-lists and the history.

Measured in one process, offscreen, on a SQLite data file: the wall time from running
``Open_CRM_Page`` on the Customer form (through the dispatcher, as a screen pop does) until the
record is shown, its sub-lists (open cases, the 200 interactions) are filled, and the interaction
history timeline shows every item. The baseline, in the same run, is the raw SQL an application
needs at the least: the contact row, its cases and its interactions fetched with the sqlite3 module.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.hosted_controls.qt.history import InteractionHistory
from usd_desktop.testing import make_data_services, make_desktop

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
INTERACTIONS = 200
CONFIG = """
name: form bench
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - name: Customer
    type: EntityForm
    is_global: false
    settings:
      entity: contact
      related:
        - {title: Open cases, entity: case, field: contact_id, columns: [case_number, title, status, due_at]}
        - title: Interactions
          entity: interaction
          field: contact_id
          columns: [offered_at, channel, direction, subject, disposition, case_id]
          order_by: [{field: offered_at, descending: true}]
          max_count: 250
  - {name: History, type: InteractionHistory, is_global: false}
"""


async def build(services) -> str:  # type: ignore[no-untyped-def]
    contact = await services.create("contact", {"first_name": "Ioana", "last_name": "Popescu"})
    cases = [await services.create("case", {"title": f"Case {n}", "contact_id": contact}) for n in range(30)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {"channel": ("phone", "email", "chat", "sms", "web")[n % 5], "subject": f"Contact {n}",
         "contact_id": contact, "case_id": cases[n % 30], "offered_at": start + timedelta(hours=n)}
        for n in range(INTERACTIONS)
    ]
    for row in rows:
        services.repository.create("interaction", row)
    return contact


def raw_sql(path: Path, contact: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("SELECT * FROM contacts WHERE id = ?", (contact,)).fetchone()
        conn.execute("SELECT * FROM cases WHERE contact_id = ? AND status != 'closed'", (contact,)).fetchall()
        conn.execute("SELECT * FROM interactions WHERE contact_id = ? ORDER BY offered_at DESC",
                     (contact,)).fetchall()


async def until(predicate) -> None:  # type: ignore[no-untyped-def]
    while not predicate():
        await asyncio.sleep(0.001)


async def main(folder: Path) -> None:
    path = folder / "bench.db"
    services = make_data_services(f"sqlite:///{path}", drafts=str(folder / "drafts.db"))
    contact = await build(services)
    desktop = make_desktop(CONFIG, data=services)
    await desktop.start()
    samples: list[float] = []
    for _ in range(RUNS):
        session = desktop.sessions.create("bench")
        form = desktop.resolve("Customer", session)
        history = desktop.resolve("History", session)
        assert isinstance(form, EntityForm) and isinstance(history, InteractionHistory)
        form.widget().resize(1100, 700)
        history.widget().resize(900, 500)
        start = time.perf_counter()
        outcome = await desktop.dispatcher.run_action(
            "Customer", "Open_CRM_Page", f"LogicalName=contact\nid={contact}", session=session)
        assert outcome.result == contact, outcome.reason
        await until(lambda f=form: all(r.loads for r in f.related_lists()))
        await until(lambda h=history: not h.loading and len(h.items) >= INTERACTIONS)
        samples.append(time.perf_counter() - start)
        desktop.sessions.close(session)
        await asyncio.sleep(0)
    baseline = []
    for _ in range(RUNS):
        start = time.perf_counter()
        raw_sql(path, contact)
        baseline.append(time.perf_counter() - start)
    await desktop.shutdown()
    services.close()
    form_ms, raw_ms = statistics.median(samples) * 1000, statistics.median(baseline) * 1000
    print(f"customer with {INTERACTIONS} interactions, 30 cases; {RUNS} runs each")
    print(f"  form + sub-lists + history shown  median {form_ms:7.1f} ms  (min {min(samples) * 1000:.1f}, "
          f"max {max(samples) * 1000:.1f})")
    print(f"  raw SQL fetch of the same rows    median {raw_ms:7.1f} ms")
    print(f"  ratio {form_ms / raw_ms:.1f}x the raw fetch")


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp, loop:
        os.environ.update({k: f"{tmp}/{k}" for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
        loop.run_until_complete(main(Path(tmp)))
