"""EntityForm: open, new, save, validation, drafts, sub-lists and the case lifecycle buttons."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit

from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: entity-form-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Contact
        type: EntityForm
        is_global: false
        settings:
          entity: contact
          related:
            - title: Open cases
              entity: case
              field: contact_id
              columns: [case_number, title, status, due_at]
              filters: [{field: status, operator: ne, value: closed}]
              order_by: case_number
              open_in: Case
      - name: Case
        type: EntityForm
        is_global: false
        settings:
          entity: case
    action_calls:
      - name: Note Opened
        control: Global Manager
        action: CopyToContext
        data: opened=[[LogicalName]]:[[Id]]
      - name: Note Saved
        control: Global Manager
        action: CopyToContext
        data: saved=[[newId]]
      - name: Note Picked
        control: Global Manager
        action: CopyToContext
        data: picked=[[LogicalName]]:[[Id]]
      - name: Open Contact
        control: Contact
        action: Open_CRM_Page
        data: |
          LogicalName=contact
          id=[[$Context.contactid]]
    events:
      - {control: Contact, name: DataReady, action_calls: [Note Opened]}
      - {control: Case, name: Saved, action_calls: [Note Saved]}
      - {control: Contact, name: RecordSelected, action_calls: [Note Picked]}
    """)


@asynccontextmanager
async def running(tmp_path: Path, yaml_text: str = CONFIG, customers: int = 0
                  ) -> AsyncIterator[tuple[Desktop, DataServices]]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}", demo_customers=customers,
                                  drafts=str(tmp_path / "drafts.db"))
    desktop = make_desktop(yaml_text, data=services)
    await desktop.start()
    try:
        yield desktop, services
    finally:
        close_session_controls(desktop)
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        services.close()


def close_session_controls(desktop: Desktop) -> None:
    """Close every session's controls (as closing a session does) before the desktop shuts down."""
    for session in desktop.sessions.customer_sessions:
        for definition in desktop.config.hosted_controls:
            if not definition.is_global:
                desktop.close_control(definition.name, session)


async def run(desktop: Desktop, control: str, action: str, data: str, session: Session) -> Any:
    return await desktop.dispatcher.run_action(control, action, data, session=session)


def form_of(desktop: Desktop, name: str, session: Session) -> EntityForm:
    instance = desktop.instance(name, session)
    assert isinstance(instance, EntityForm)
    return instance


def shown(form: EntityForm, name: str) -> str:
    widget = form.editors[name].input
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    assert isinstance(widget, QComboBox)
    return widget.currentText()


async def count(services: DataServices, entity: str) -> int:
    result = await services.search(EntitySearch(name="all", entity=entity), announce=False)
    return result.total


async def ada(services: DataServices) -> str:
    return await services.create("contact", {"first_name": "Ada", "last_name": "Lovelace",
                                             "segment": "vip"})


async def test_open_shows_the_contact_publishes_it_and_raises_data_ready(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        session = desktop.sessions.create("S1")
        session.store.set("$Context", "contactid", cid)
        outcome = await desktop.dispatcher.run_action_call("Open Contact", session=session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        assert outcome.result == cid
        assert session.store.get("$Return", "Open Contact") == cid
        form = form_of(desktop, "Contact", session)
        assert shown(form, "full_name") == "Ada Lovelace"
        assert shown(form, "segment") == "Vip"
        assert form.editors["full_name"].label.text().startswith("Full name")
        assert "*" in form.editors["last_name"].label.text()  # required
        assert form.editors["created_at"].read_only
        assert session.store.get("contact", "full_name") == "Ada Lovelace"
        assert session.store.get("contact", "Id") == cid
        assert session.store.get("contact", "LogicalName") == "contact"
        await until(lambda: session.store.get("$Context", "opened") == f"contact:{cid}", "DataReady")
        widget = form.form()
        assert widget.title.text() == "Ada Lovelace"
        assert not form.dirty
        assert not widget.save.isEnabled()


async def test_new_prefilled_record_is_saved_and_raises_saved(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        session = desktop.sessions.create("S1")
        outcome = await run(desktop, "Case", "New_CRM_Page",
                            f'LogicalName=case\ncontact_id=EntityReference("contact", "{cid}")\n'
                            "title=Printer on fire\npriority=high", session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        form = form_of(desktop, "Case", session)
        assert form.is_new
        assert shown(form, "title") == "Printer on fire"
        assert shown(form, "priority") == "High"
        await until(lambda: shown(form, "contact_id") == "Ada Lovelace", "the lookup's name")
        assert form.form().title.text() == "New case"
        assert form.form().save.isEnabled()
        saved = await run(desktop, "Case", "Save", "", session)
        assert saved.outcome == Outcome.RAN, saved.reason
        new_id = saved.result
        record = await services.get("case", new_id)
        assert record is not None
        assert record["title"] == "Printer on fire"
        assert record["contact_id"] == cid
        assert record["priority"] == "high"
        assert form.record_id == new_id and not form.is_new
        assert session.store.get("case", "title") == "Printer on fire"
        await until(lambda: session.store.get("$Context", "saved") == new_id, "Saved(newId)")


async def test_a_missing_required_field_is_shown_and_nothing_is_written(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        session = desktop.sessions.create("S1")
        await run(desktop, "Contact", "New_CRM_Page", "LogicalName=contact\nfirst_name=Grace", session)
        form = form_of(desktop, "Contact", session)
        before = await count(services, "contact")
        outcome = await run(desktop, "Contact", "Save", "", session)
        assert outcome.outcome == Outcome.FAILED
        assert "last_name" in outcome.reason and "required" in outcome.reason
        editor = form.editors["last_name"]
        assert editor.error_text.startswith("Required")
        assert not editor.error.isHidden()
        assert "last_name" in form.form().notice.text()
        assert not form.form().notice.isHidden()
        assert await count(services, "contact") == before
        # typing into the field clears its error; then the save goes through
        editor.input.setFocus()
        qtbot.keyClicks(editor.input, "Hopper")
        assert editor.error_text == ""
        outcome = await run(desktop, "Contact", "Save", "", session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        assert await count(services, "contact") == before + 1
        record = await services.get("contact", outcome.result)
        assert record is not None and record["full_name"] == "Grace Hopper"


async def test_a_wrong_value_names_its_field(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _services):
        session = desktop.sessions.create("S1")
        await run(desktop, "Contact", "New_CRM_Page",
                  "LogicalName=contact\nlast_name=Turing\nbirth_date=not a date", session)
        form = form_of(desktop, "Contact", session)
        outcome = await run(desktop, "Contact", "Save", "", session)
        assert outcome.outcome == Outcome.FAILED
        assert "birth_date" in outcome.reason and "birth_date" in form.form().notice.text()
        assert "not a valid date" in form.editors["birth_date"].error_text


async def test_unsaved_edits_survive_closing_and_come_back_on_open(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        session = desktop.sessions.create("S1")
        await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        form = form_of(desktop, "Contact", session)
        key = f"form:Contact:contact:{cid}"
        editor = form.editors["first_name"]
        editor.input.setFocus()
        qtbot.keyClicks(editor.input, "line")
        assert form.dirty
        assert "Unsaved" in form.form().state.text()
        draft = await until(lambda: services.drafts.get(key), "the draft written while typing")
        assert draft.payload["values"] == {"first_name": "Adaline"}
        qtbot.keyClicks(editor.input, "!")
        desktop.close_control("Contact", session)  # closing keeps the latest edit at once
        draft = services.drafts.get(key)
        assert draft is not None and draft.payload["values"] == {"first_name": "Adaline!"}

        await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        again = form_of(desktop, "Contact", session)
        assert again is not form
        assert shown(again, "first_name") == "Adaline!"
        assert again.dirty
        assert "restored" in again.form().notice.text()
        assert (await services.get("contact", cid) or {})["first_name"] == "Ada"
        qtbot.mouseClick(again.form().save, Qt.MouseButton.LeftButton)  # the button runs Save
        await until(lambda: services.drafts.get(key) is None, "the draft dropped after saving")
        assert (await services.get("contact", cid) or {})["first_name"] == "Adaline!"
        assert not again.dirty


async def test_set_field_values_edits_without_saving(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        case = await services.create("case", {"title": "Billing", "contact_id": cid})
        session = desktop.sessions.create("S1")
        await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=case\nId={{{case}}}", session)
        form = form_of(desktop, "Case", session)
        outcome = await run(desktop, "Case", "SetFieldValues", "priority=urgent\ncategory=billing", session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        assert shown(form, "priority") == "Urgent" and form.dirty
        assert (await services.get("case", case) or {})["priority"] == "normal"
        assert services.drafts.get(f"form:Case:case:{case}") is not None
        await run(desktop, "Case", "Save", "", session)
        record = await services.get("case", case) or {}
        assert record["priority"] == "urgent" and record["category"] == "billing"
        bad = await run(desktop, "Case", "SetFieldValues", "colour=red", session)
        assert bad.outcome == Outcome.FAILED and "colour" in bad.reason


async def test_sub_list_shows_open_cases_and_opens_one_in_the_case_form(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        first = await services.create("case", {"title": "Broken router", "contact_id": cid,
                                               "case_number": "CAS-1"})
        await services.create("case", {"title": "Old one", "contact_id": cid, "case_number": "CAS-0",
                                       "status": "closed", "resolution": "Done"})
        session = desktop.sessions.create("S1")
        await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        form = form_of(desktop, "Contact", session)
        widget = form.form()
        widget.resize(1000, 700)
        widget.show()
        qtbot.waitExposed(widget)
        [cases] = form.related_lists()
        await until(lambda: cases.model.rowCount() == 1, "the open case")
        assert cases.model.headerData(1, Qt.Orientation.Horizontal) == "Title"
        assert cases.model.index(0, 1).data() == "Broken router"
        assert widget.tabs.tabText(0) == "Open cases (1)"
        table = cases.table
        rect = table.visualRect(cases.model.index(0, 1))
        # QTest's double click is only the second click: the first one comes before it
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        await until(lambda: session.store.get("$Context", "picked") == f"case:{first}", "RecordSelected")
        await until(lambda: desktop.instance("Case", session) is not None, "the case form")
        case_form = form_of(desktop, "Case", session)
        await until(lambda: case_form.record_id == first, "the case opened in the Case form")
        assert form.record_id == cid  # the contact form stays on the contact
        assert session.store.get("case", "title") == "Broken router"
        widget.hide()


async def test_sub_list_without_open_in_opens_in_the_same_form(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        case = await services.create("case", {"title": "Noisy line", "contact_id": cid})
        session = desktop.sessions.create("S1")
        await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        form = form_of(desktop, "Case", session)
        titles = [item.spec.title for item in form.related_lists()]
        assert titles == ["Open cases", "Interactions"]  # the defaults of a contact
        cases = form.related_lists()[0]
        await until(lambda: cases.model.rowCount() == 1, "the contact's case")
        table = cases.table
        table.setCurrentIndex(cases.model.index(0, 0))
        qtbot.keyClick(table, Qt.Key.Key_Return)
        await until(lambda: form.record_id == case, "the case opened in the same form")
        assert form.entity == "case"
        assert [item.spec.title for item in form.related_lists()] == ["Interactions", "Notes"]
        assert not form.form().case_buttons["ResolveCase"].isHidden()


async def test_sub_list_refreshes_when_a_case_is_created_elsewhere(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        cid = await ada(services)
        session = desktop.sessions.create("S1")
        await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=contact\nid={cid}", session)
        form = form_of(desktop, "Contact", session)
        [cases] = form.related_lists()
        await until(lambda: cases.loads >= 1, "the first load")
        assert cases.model.rowCount() == 0
        await services.create("case", {"title": "Made elsewhere", "contact_id": cid})
        await until(lambda: cases.model.rowCount() == 1, "the sub-list refreshed")
        assert form.form().tabs.tabText(0) == "Open cases (1)"
        listeners = len(services.changed)
        desktop.close_control("Contact", session)
        assert len(services.changed) == listeners - 1  # the listener is gone


async def test_resolve_needs_a_resolution_then_sets_the_status(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        case = await services.create("case", {"title": "Slow internet"})
        session = desktop.sessions.create("S1")
        await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=case\nid={case}", session)
        form = form_of(desktop, "Case", session)
        buttons = form.form().case_buttons
        assert not buttons["ResolveCase"].isHidden() and buttons["ResolveCase"].isEnabled()
        assert not buttons["ReopenCase"].isEnabled()
        failed = await run(desktop, "Case", "ResolveCase", "", session)  # the lifecycle refuses
        assert failed.outcome == Outcome.FAILED and "'resolution'" in failed.reason
        assert form.editors["resolution"].error_text.startswith("Required: setting the status")
        assert not form.form().notice.isHidden()
        assert (await services.get("case", case) or {})["status"] == "open"

        ran = await run(desktop, "Case", "ResolveCase", "resolution=Replaced the modem", session)
        assert ran.outcome == Outcome.RAN, ran.reason
        record = await services.get("case", case) or {}
        assert record["status"] == "resolved" and record["resolution"] == "Replaced the modem"
        assert shown(form, "status") == "Resolved"
        assert session.store.get("case", "status") == "resolved"
        assert buttons["ReopenCase"].isEnabled() and not buttons["ResolveCase"].isEnabled()
        assert form.editors["resolution"].error_text == ""

        await run(desktop, "Case", "ReopenCase", "", session)
        assert (await services.get("case", case) or {})["status"] == "open"
        failed = await run(desktop, "Case", "EscalateCase", "reason=Customer threatens to leave", session)
        assert failed.outcome == Outcome.FAILED and "'next_steps'" in failed.reason
        assert form.editors["next_steps"].error_text.startswith("Required")
        # what the agent types in the form counts, beside the action's data
        steps = form.editors["next_steps"]
        steps.input.setFocus()
        qtbot.keyClicks(steps.input, "Call back after the engineer's visit")
        escalated = await run(desktop, "Case", "EscalateCase",
                              "reason=Customer threatens to leave\npromised_by=2030-05-01T12:00:00+00:00",
                              session)
        assert escalated.outcome == Outcome.RAN, escalated.reason
        record = await services.get("case", case) or {}
        assert record["escalation_level"] == 1
        assert record["escalation_reason"] == "Customer threatens to leave"
        assert record["next_steps"] == "Call back after the engineer's visit"
        assert record["promised_by"].year == 2030
        assert not form.dirty
        await run(desktop, "Case", "CloseCase", "", session)
        assert (await services.get("case", case) or {})["status"] == "closed"
        assert form.form().case_buttons["CloseCase"].isEnabled() is False


async def test_a_data_layer_refusal_is_shown_on_the_field(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        case = await services.create("case", {"title": "Odd status"})
        session = desktop.sessions.create("S1")
        await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=case\nid={case}", session)
        form = form_of(desktop, "Case", session)
        await run(desktop, "Case", "SetFieldValues", "status=on_fire", session)
        outcome = await run(desktop, "Case", "Save", "", session)
        assert outcome.outcome == Outcome.FAILED and "status" in outcome.reason
        assert "on_fire" in form.editors["status"].error_text
        assert (await services.get("case", case) or {})["status"] == "open"


async def test_unknown_entity_field_and_id_are_named(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _services):
        session = desktop.sessions.create("S1")
        bad = await run(desktop, "Contact", "Open_CRM_Page", "LogicalName=starship\nid=1", session)
        assert bad.outcome == Outcome.FAILED and "'starship'" in bad.reason
        bad = await run(desktop, "Contact", "Open_CRM_Page", "LogicalName=contact\nid=nobody-here", session)
        assert bad.outcome == Outcome.FAILED
        assert "'nobody-here'" in bad.reason and "'contact'" in bad.reason
        bad = await run(desktop, "Contact", "New_CRM_Page", "LogicalName=contact\nshoe_size=42", session)
        assert bad.outcome == Outcome.FAILED and "'shoe_size'" in bad.reason
        bad = await run(desktop, "Contact", "Open_CRM_Page", "LogicalName=contact", session)
        assert bad.outcome == Outcome.FAILED and "id=" in bad.reason
        bad = await run(desktop, "Case", "ResolveCase", "resolution=x", session)
        assert bad.outcome == Outcome.FAILED and "needs a case open" in bad.reason


async def test_a_demo_contact_with_its_sub_lists(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path, customers=30) as (desktop, services):
        found = await services.search(
            EntitySearch(name="contacts", entity="contact", columns=["full_name"], max_count=50),
            announce=False)
        assert found.rows
        session = desktop.sessions.create("S1")
        for row in found.rows[:5]:
            outcome = await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=contact\nid={row['id']}",
                                session)
            assert outcome.outcome == Outcome.RAN, outcome.reason
            form = form_of(desktop, "Case", session)
            assert shown(form, "full_name") == row["full_name"]
            await until(lambda f=form: all(item.loads for item in f.related_lists()), "the sub-lists")


async def test_custom_fields_are_shown_and_saved_like_others(qtbot: Any, tmp_path: Path) -> None:
    config = CONFIG.replace("action_calls:", textwrap.dedent("""\
        custom_fields:
          - {entity: contact, name: loyalty_tier, label: Loyalty tier, options: [gold, silver]}
          - {entity: contact, name: callback_notes, label: Callback notes, type: text}
        action_calls:"""), 1)
    async with running(tmp_path, config) as (desktop, services):
        session = desktop.sessions.create("S1")
        outcome = await run(desktop, "Contact", "New_CRM_Page",
                            "LogicalName=contact\nlast_name=Curie\nloyalty_tier=gold", session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        form = form_of(desktop, "Contact", session)
        assert shown(form, "loyalty_tier") == "Gold"
        assert isinstance(form.editors["callback_notes"].input, QPlainTextEdit)
        saved = await run(desktop, "Contact", "Save", "", session)
        assert saved.outcome == Outcome.RAN, saved.reason
        record = await services.get("contact", saved.result) or {}
        assert record["loyalty_tier"] == "gold"
        assert session.store.get("contact", "loyalty_tier") == "gold"


async def test_a_change_made_elsewhere_shows_and_keeps_the_agents_edits(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        case = await services.create("case", {"title": "Flaky wifi"})
        session = desktop.sessions.create("S1")
        await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=case\nid={case}", session)
        form = form_of(desktop, "Case", session)
        editor = form.editors["category"]
        editor.input.setFocus()
        qtbot.keyClicks(editor.input, "network")
        await services.update("case", case, {"priority": "urgent"})  # e.g. UpdateEntity
        await until(lambda: shown(form, "priority") == "Urgent", "the new priority")
        assert shown(form, "category") == "network" and form.dirty
        assert "changed elsewhere" in form.form().notice.text()
        assert session.store.get("case", "priority") == "urgent"


async def test_records_opened_by_a_form_go_through_the_navigation_rules(tmp_path: Path) -> None:
    rules = CONFIG + textwrap.dedent("""\
        window_navigation_rules:
          - {name: Cases from the contact form, from_control: Contact, entity: case, route_type: popup,
             action: route_window, target_tab: Case, hide_command_bar: true, hide_navigation_bar: true}
        """)
    async with running(tmp_path, rules) as (desktop, services):
        contact = await services.create("contact", {"first_name": "Ana", "last_name": "Pop"})
        case = await services.create("case", {"title": "No signal", "contact_id": contact})
        session = desktop.sessions.create("Ana")
        await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=contact\nid={contact}", session)
        form = form_of(desktop, "Contact", session)
        assert form.record_id == contact  # no rule for contacts: it opens where it was asked
        routed = await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=case\nid={case}", session)
        assert routed.outcome.value == "ran", routed.reason
        assert form.record_id == contact and form_of(desktop, "Case", session).record_id == case
        decision = desktop.dispatcher.journal.find(kind="navigation")[-1]
        assert decision.name == "Cases from the contact form" and decision.result == "Case"
        widget = form_of(desktop, "Case", session).form()
        assert widget.hide_command_bar and widget.hide_navigation_bar  # the rule's choice, for this page
        assert widget.save.isHidden() and widget.tabs.isHidden()
        await run(desktop, "Case", "Open_CRM_Page", f"LogicalName=case\nid={case}", session)
        assert not widget.hide_command_bar and not widget.save.isHidden()  # an ordinary load shows them
        await run(desktop, "Contact", "New_CRM_Page", "LogicalName=case\ntitle=From the rule", session)
        new = form_of(desktop, "Case", session)
        assert new.record_id is None and shown(new, "title") == "From the rule"


async def test_the_form_comes_back_after_a_crash_on_its_record(tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services):
        contact = await services.create("contact", {"first_name": "Ana", "last_name": "Pop"})
        session = desktop.sessions.create("Ana")
        changed: list[object] = []
        desktop.control_state_changed.connect(changed.append)
        await run(desktop, "Contact", "Open_CRM_Page", f"LogicalName=contact\nid={contact}", session)
        form = form_of(desktop, "Contact", session)
        assert changed[-1] is form and form.session_state() == {"entity": "contact", "id": contact}
        other = desktop.sessions.create("Again")
        fresh = desktop.resolve("Contact", other)
        assert isinstance(fresh, EntityForm) and fresh.session_state() is None
        fresh.restore_session_state({"entity": "contact", "id": contact})
        await until(lambda: fresh.record_id == contact, "the restored record")
        assert not desktop.dispatcher.journal.find(kind="event", name="DataReady", session_id=other.id)
