"""EntityList: its own searches with bound parameters, paging, DoSearch announcements, choosing a row."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt

from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.data.metadata import ENTITIES
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.entity_form import EntityForm
from usd_desktop.hosted_controls.qt.entity_list import EntityList, display_text, page_text
from usd_desktop.hosted_controls.qt.entity_list_widget import EntityListWidget
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: entity-list-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Results
        type: EntityList
        is_global: false
        settings: {search: Cases by status, open_in: Case}
      - name: Everything
        type: EntityList
      - name: Customers
        type: EntityList
        is_global: false
        settings: {search: Contacts, auto_search: true}
      - name: Case
        type: EntityForm
        is_global: false
        settings: {entity: case}
      - name: Finder
        type: EntityList
        settings: {search: Find contacts, quick_find: query, placeholder: "Name…"}
    entity_searches:
      - name: Find contacts
        entity: contact
        match: any
        filters:
          - {field: full_name, operator: contains, value: "[[query]]"}
          - {field: last_name, operator: begins_with, value: "[[query]]"}
        columns: [full_name]
      - name: Cases by status
        entity: case
        filters: [{field: status, operator: eq, value: "[[status]]"}]
        columns: [case_number, title, status, contact_id, due_at]
        order_by: [{field: case_number}]
        max_count: 5
      - name: Contacts
        entity: contact
        columns: [full_name, segment, birth_date]
        order_by: [{field: full_name}]
    action_calls:
      - name: Find Wanted Cases
        control: Results
        action: Search
        data: status=[[$Context.wanted]]
      - name: Note Count
        control: Global Manager
        action: CopyToContext
        data: |
          count=[[Count]]
          searched=[[Name]]
      - name: Note Picked
        control: Global Manager
        action: CopyToContext
        data: picked=[[LogicalName]]:[[Id]]
      - name: Find Closed
        control: Global Manager
        action: DoSearch
        data: |
          name=Cases by status
          status=closed
      - name: Clear Lists
        control: Global Manager
        action: ClearEntityList
    events:
      - {control: Results, name: SearchCompleted, action_calls: [Note Count]}
      - {control: Results, name: RecordSelected, action_calls: [Note Picked]}
    """)


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[tuple[Desktop, DataServices, str]]:
    services = make_data_services(f"sqlite:///{tmp_path / 'd.db'}", drafts=str(tmp_path / "drafts.db"))
    cid = await services.create("contact", {"first_name": "Ada", "last_name": "Lovelace"})
    for number in range(12):
        await services.create("case", {"title": f"Open {number}", "case_number": f"CAS-{number:02d}",
                                       "contact_id": cid})
    for number in range(3):
        await services.create("case", {"title": f"Done {number}", "case_number": f"OLD-{number}",
                                       "status": "closed", "resolution": "Fixed"})
    desktop = make_desktop(CONFIG, data=services)
    await desktop.start()
    try:
        yield desktop, services, cid
    finally:
        for session in desktop.sessions.customer_sessions:
            for definition in desktop.config.hosted_controls:
                if not definition.is_global:
                    desktop.close_control(definition.name, session)
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        services.close()


def results(desktop: Desktop, name: str, session: Session) -> tuple[EntityList, EntityListWidget]:
    control = desktop.resolve(name, session)
    assert isinstance(control, EntityList)
    widget = control.widget()
    assert isinstance(widget, EntityListWidget)
    return control, widget


def column(widget: EntityListWidget, index: int) -> list[str]:
    model = widget.table.results
    return [model.index(row, index).data() for row in range(model.rowCount())]


async def test_search_binds_a_replacement_parameter_and_pages(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _services, _cid):
        session = desktop.sessions.create("S1")
        session.store.set("$Context", "wanted", "open")
        control, widget = results(desktop, "Results", session)
        outcome = await desktop.dispatcher.run_action_call("Find Wanted Cases", session=session)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        assert outcome.result == "12"
        assert column(widget, 0) == [f"CAS-{n:02d}" for n in range(5)]
        assert widget.pages.text() == "1\u20135 of 12"
        model = widget.table.results
        headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
        assert headers == ["Case number", "Title", "Status", "Contact", "Due"]
        assert set(column(widget, 2)) == {"Open"}
        await until(lambda: set(column(widget, 3)) == {"Ada Lovelace"}, "the contact's name")
        await until(lambda: session.store.get("$Context", "count") == "12", "SearchCompleted")
        assert session.store.get("$Context", "searched") == "Cases by status"
        assert not widget.previous.isEnabled() and widget.next.isEnabled()

        await desktop.dispatcher.run_action("Results", "NextPage", session=session)
        assert widget.pages.text() == "6\u201310 of 12"
        assert column(widget, 0)[0] == "CAS-05"
        qtbot.mouseClick(widget.next, Qt.MouseButton.LeftButton)  # the button pages too
        await until(lambda: widget.pages.text() == "11\u201312 of 12", "the last page")
        assert column(widget, 0) == ["CAS-10", "CAS-11"]
        assert not widget.next.isEnabled()
        await desktop.dispatcher.run_action("Results", "NextPage", session=session)  # stays
        assert control.page == 3
        await desktop.dispatcher.run_action("Results", "PreviousPage", session=session)
        assert widget.pages.text() == "6\u201310 of 12"
        # another value bound from the action's own data, and an explicit page
        outcome = await desktop.dispatcher.run_action("Results", "Search", "status=closed\npage=1",
                                                      session=session)
        assert outcome.result == "3" and column(widget, 1) == ["Done 0", "Done 1", "Done 2"]
        await desktop.dispatcher.run_action("Results", "Clear", session=session)
        assert widget.table.results.rowCount() == 0 and widget.pages.text() == ""


async def test_do_search_results_reach_the_lists_that_show_them(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services, _cid):
        s1 = desktop.sessions.create("S1")
        s2 = desktop.sessions.create("S2")
        _, mine = results(desktop, "Results", s1)
        _, theirs = results(desktop, "Results", s2)
        _, everything = results(desktop, "Everything", desktop.sessions.global_session)
        search = desktop.config.entity_searches_by_name["Cases by status"]
        await services.search(search, desktop.sessions.data_for(s1, {"status": "closed"}), session=s1)
        assert column(mine, 1) == ["Done 0", "Done 1", "Done 2"]
        assert mine.pages.text() == "1\u20133 of 3"
        assert theirs.table.results.rowCount() == 0  # another session's search
        assert column(everything, 1) == ["Done 0", "Done 1", "Done 2"]  # a global list shows any

        contacts = desktop.config.entity_searches_by_name["Contacts"]
        await services.search(contacts, desktop.sessions.data_for(s1), session=s1)
        assert mine.table.results.rowCount() == 3  # not the search it shows
        assert column(everything, 0) == ["Ada Lovelace"]

        outcome = await desktop.dispatcher.run_action_call("Find Closed", session=s2)
        assert outcome.outcome == Outcome.RAN, outcome.reason
        assert column(theirs, 1) == ["Done 0", "Done 1", "Done 2"]
        await desktop.dispatcher.run_action_call("Clear Lists", session=s2)
        assert theirs.table.results.rowCount() == 0
        assert mine.table.results.rowCount() == 3


async def test_choosing_a_row_raises_record_selected_and_opens_it(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _services, _cid):
        session = desktop.sessions.create("S1")
        _, widget = results(desktop, "Results", session)
        await desktop.dispatcher.run_action("Results", "Search", "status=open", session=session)
        table = widget.table
        table.setCurrentIndex(table.results.index(1, 0))
        ident = table.results.record_id(1)
        qtbot.keyClick(table, Qt.Key.Key_Return)
        await until(lambda: session.store.get("$Context", "picked") == f"case:{ident}", "RecordSelected")
        await until(lambda: desktop.instance("Case", session) is not None, "the case form")
        form = desktop.instance("Case", session)
        assert isinstance(form, EntityForm)
        await until(lambda: form.record_id == ident, "the case opened")
        assert session.store.get("case", "case_number") == "CAS-01"


async def test_auto_search_fills_the_list_when_it_is_created(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _services, _cid):
        session = desktop.sessions.create("S1")
        control, widget = results(desktop, "Customers", session)
        await until(lambda: column(widget, 0) == ["Ada Lovelace"], "the automatic search")
        assert control.result is not None and control.result.total == 1


async def test_unknown_search_and_bad_page_are_named(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _services, _cid):
        session = desktop.sessions.create("S1")
        bad = await desktop.dispatcher.run_action("Results", "Search", "name=Nope", session=session)
        assert bad.outcome == Outcome.FAILED and "'Nope'" in bad.reason and "Cases by status" in bad.reason
        bad = await desktop.dispatcher.run_action("Results", "Search", "status=open\npage=two",
                                                  session=session)
        assert bad.outcome == Outcome.FAILED and "page='two'" in bad.reason
        bad = await desktop.dispatcher.run_action("Results", "NextPage", session=session)
        assert bad.outcome == Outcome.FAILED and "no search results" in bad.reason
        # a missing replacement parameter is named too, and the list says so
        bad = await desktop.dispatcher.run_action("Results", "Search", "", session=session)
        assert bad.outcome == Outcome.FAILED and "status" in bad.reason


def test_values_are_formatted_for_people(qtbot: Any) -> None:
    case = ENTITIES["case"].fields
    contact = ENTITIES["contact"].fields
    assert display_text(None, case["title"], {}) == ""
    assert display_text("needs_follow_up", case["status"], {}) == "Needs follow up"
    assert display_text(True, None, {}) == "\u2713" and display_text(False, None, {}) == ""
    assert display_text("c1", case["contact_id"], {("contact", "c1"): "Ada"}) == "Ada"
    assert display_text("c2", case["contact_id"], {}) == "c2"
    stamp = display_text(datetime(2025, 3, 4, 12, 30, tzinfo=UTC), case["due_at"], {})
    assert "25" in stamp and ":" in stamp and "T" not in stamp
    assert "1990" in display_text(date(1990, 7, 1), contact["birth_date"], {}) or "90" in display_text(
        date(1990, 7, 1), contact["birth_date"], {})
    assert page_text(1, 50, 50, 1234) == "1\u201350 of 1,234"
    assert page_text(3, 50, 4, 104) == "101\u2013104 of 104"
    assert page_text(1, 50, 0, 0) == "No records"


async def test_the_quick_find_box_searches_what_the_agent_types_literally(tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, services, _cid):
        await services.create("contact", {"first_name": "Grace", "last_name": "Hopper"})
        await services.create("contact", {"first_name": "[[$User", "last_name": "Brackets"})
        _finder, widget = results(desktop, "Finder", desktop.sessions.global_session)
        assert widget.find_box is not None and widget.find_box.placeholderText() == "Name…"
        widget.find_box.setText("hop")
        widget.find_box.returnPressed.emit()
        await until(lambda: column(widget, 0) == ["Grace Hopper"], "the quick find of 'hop'")
        # typed text is a value, never a replacement parameter: it matches itself
        widget.find_box.setText("[[$User")
        widget.find_box.returnPressed.emit()
        await until(lambda: column(widget, 0) == ["[[$User Brackets"], "the literal quick find")
        widget.find_box.setText("")
        widget.find_box.textEdited.emit("")  # typing, debounced
        await until(lambda: len(column(widget, 0)) == 3, "every contact for an empty find")
