"""EntityForm and a customer's phone (kept in the phones table): shown, prefilled, saved and edited."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QLineEdit

from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.data.services import DataServices, RecordChange
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: entity-form-phone-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Customer
        type: EntityForm
        is_global: false
        settings:
          entity: contact
          related: []
    action_calls:
      - name: Note Saved
        control: Global Manager
        action: CopyToContext
        data: saved=[[newId]]
      - name: New customer from the caller
        control: Customer
        action: New_CRM_Page
        data: |
          LogicalName=contact
          phone=[[$Context.ani]]
    events:
      - {control: Customer, name: Saved, action_calls: [Note Saved]}
    """)


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[tuple[Desktop, DataServices]]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}", demo_customers=0,
                                  drafts=str(tmp_path / "drafts.db"))
    desktop = make_desktop(CONFIG, data=services)
    await desktop.start()
    try:
        yield desktop, services
    finally:
        for session in desktop.sessions.customer_sessions:
            desktop.close_control("Customer", session)
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        services.close()


async def run(desktop: Desktop, action: str, data: str, session: Session) -> Any:
    return await desktop.dispatcher.run_action("Customer", action, data, session=session)


def form_of(desktop: Desktop, session: Session) -> EntityForm:
    instance = desktop.instance("Customer", session)
    assert isinstance(instance, EntityForm)
    return instance


def phone_input(form: EntityForm) -> QLineEdit:
    widget = form.editors["phone"].input
    assert isinstance(widget, QLineEdit)
    return widget


async def phones(services: DataServices, owner: str) -> list[tuple[str, str | None, str]]:
    search = EntitySearch.model_validate({
        "name": "phones", "entity": "phone", "columns": ["number", "e164", "kind"],
        "filters": [{"field": "contact_id", "value": owner}],
    })
    result = await services.search(search, announce=False)
    return [(row["number"], row["e164"], row["kind"]) for row in result.rows]


async def test_the_contact_form_shows_the_phone(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await services.create("contact", {"last_name": "Lovelace", "phone": "+44 7700 900123"})
        session = desktop.sessions.create("S1")
        outcome = await run(desktop, "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        form = form_of(desktop, session)
        assert next(iter(form.editors)) == "full_name" and "phone" in form.editors
        assert form.editors["phone"].label.text() == "Phone"
        assert phone_input(form).text() == "+44 7700 900123" and not phone_input(form).isReadOnly()
        assert session.store.get("contact", "phone") == "+44 7700 900123"  # [[contact.phone]]


async def test_a_new_customer_prefilled_with_the_callers_number_saves_its_phone(
    qtbot: Any, tmp_path: Path
) -> None:
    async with running(tmp_path) as (desktop, services):
        changes: list[RecordChange] = []
        services.changed.connect(changes.append)
        session = desktop.sessions.create("S1")
        session.store.set("$Context", "ani", "+358401234567")
        outcome = await desktop.dispatcher.run_action_call("New customer from the caller", session=session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        form = form_of(desktop, session)
        assert form.is_new and phone_input(form).text() == "+358401234567"
        editor = form.editors["last_name"].input
        editor.setFocus()
        qtbot.keyClicks(editor, "Virtanen")
        saved = await run(desktop, "Save", "", session)
        assert saved.outcome == Outcome.RAN, saved.reason
        cid = str(saved.result)
        assert await phones(services, cid) == [("+358401234567", "+358401234567", "mobile")]
        record = await services.get("contact", cid) or {}
        assert record["phone"] == "+358401234567" and record["full_name"] == "Virtanen"
        assert form.record_id == cid and phone_input(form).text() == "+358401234567"
        await until(lambda: session.store.get("$Context", "saved") == cid, "Saved(newId)")
        assert [(c.kind, c.entity, c.values.get("phone")) for c in changes] == [
            ("created", "contact", "+358401234567")]
        matches = await services.find_customers_by_phone("+358 40 123 4567")
        assert [(m.entity, m.id) for m in matches] == [("contact", cid)]  # the next call finds them


async def test_editing_the_phone_updates_the_customers_phone_row(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await services.create("contact", {"last_name": "Hopper", "phone": "+1 202 555 0143"})
        session = desktop.sessions.create("S1")
        await run(desktop, "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        form = form_of(desktop, session)
        changes: list[RecordChange] = []
        services.changed.connect(changes.append)
        line = phone_input(form)
        line.setFocus()
        line.selectAll()
        qtbot.keyClicks(line, "+1 202 555 0199")
        assert form.dirty
        saved = await run(desktop, "Save", "", session)
        assert saved.outcome == Outcome.RAN, saved.reason
        assert await phones(services, cid) == [("+1 202 555 0199", "+12025550199", "mobile")]
        assert [(c.kind, dict(c.values)) for c in changes] == [("updated", {"phone": "+1 202 555 0199"})]
        assert not form.dirty and line.text() == "+1 202 555 0199"
        assert session.store.get("contact", "phone") == "+1 202 555 0199"
        # clearing the field saves nothing: the phone stays (it is removed as a phone record)
        line.selectAll()
        qtbot.keyClick(line, "\b")
        await run(desktop, "Save", "", session)
        assert await phones(services, cid) == [("+1 202 555 0199", "+12025550199", "mobile")]
        assert line.text() == "+1 202 555 0199" and not form.dirty  # the form shows the phone kept


async def test_a_new_account_takes_the_phone_too(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        session = desktop.sessions.create("S1")
        outcome = await run(desktop, "New_CRM_Page",
                            "LogicalName=account\nname=Contoso\nphone=+358 9 1234567", session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        form = form_of(desktop, session)
        assert phone_input(form).text() == "+358 9 1234567"
        saved = await run(desktop, "Save", "", session)
        assert saved.outcome == Outcome.RAN, saved.reason
        assert (await services.get("account", str(saved.result)) or {})["phone"] == "+358 9 1234567"
