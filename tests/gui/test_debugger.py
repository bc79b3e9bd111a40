"""The Debugger: live trace table, data tree, Run tab, UII actions and clean disposal."""

from __future__ import annotations

import asyncio
import logging
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QItemSelectionModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from usd_desktop.core.navigation import Navigation
from usd_desktop.core.trace import Outcome, TraceRecord
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.debugger import DebuggerControl, DebuggerWidget
from usd_desktop.hosted_controls.qt.debugger_trace import (
    OUTCOME_TINTS,
    TraceTableModel,
    blend,
)
from usd_desktop.testing import make_desktop, until

TIMEOUT = 5.0

CONFIG = textwrap.dedent("""\
    name: debugger-test
    options:
      maxNumberOfSessions: 3
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Debugger
        type: Debugger
        is_global: true
    action_calls:
      - name: Copy Name
        control: Global Manager
        action: CopyToContext
        data: |
          name=Contoso
          sessions=[[$Global.maxNumberOfSessions]]
      - name: Never
        control: Global Manager
        action: CopyToContext
        data: x=1
        condition: "1 == 2"
      - name: Needs Account
        control: Global Manager
        action: CopyToContext
        data: account=[[account.name]]
      - name: Bad Action
        control: Global Manager
        action: NoSuchAction
      - name: Remember
        control: Global Manager
        action: CopyToContext
        data: remembered=[[$Context.name]]
    events:
      - control: Global Manager
        name: DesktopReady
        action_calls: [Copy Name]
    """)


@asynccontextmanager
async def running(yaml_text: str = CONFIG) -> AsyncIterator[Desktop]:
    desktop = make_desktop(yaml_text)
    await desktop.start()
    try:
        yield desktop
    finally:
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)




def debugger(desktop: Desktop) -> tuple[DebuggerControl, DebuggerWidget]:
    instance = desktop.resolve("Debugger", desktop.sessions.global_session)
    assert isinstance(instance, DebuggerControl)
    widget = instance.widget()
    assert isinstance(widget, DebuggerWidget)
    return instance, widget


def outcomes(widget: DebuggerWidget) -> list[tuple[str, str, str]]:
    """(kind, name, outcome) of every row the table's filter shows."""
    proxy = widget.trace.proxy
    rows = []
    for row in range(proxy.rowCount()):
        cells = [proxy.index(row, c).data() for c in (2, 3, 6)]
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def row_of(widget: DebuggerWidget, name: str) -> int:
    model = widget.trace.model
    for row in range(model.rowCount()):
        if model.record(row).name == name:
            return row
    raise AssertionError(f"no row {name}")


async def run_the_calls(desktop: Desktop, widget: DebuggerWidget) -> None:
    for name in ("Never", "Needs Account", "Bad Action"):
        await desktop.dispatcher.run_action_call(name)
    await until(lambda: widget.trace.model.rowCount() == 5, "five rows")


async def test_table_shows_existing_and_new_records_coloured_by_outcome(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        # DesktopReady and its action call happened before the widget existed
        assert outcomes(widget) == [("event", "DesktopReady", "fired"),
                                    ("action_call", "Copy Name", "ran")]
        await run_the_calls(desktop, widget)
        assert outcomes(widget)[2:] == [
            ("action_call", "Never", "skipped"),
            ("action_call", "Needs Account", "aborted"),
            ("action_call", "Bad Action", "failed"),
        ]
        model = widget.trace.model
        base = QApplication.palette().color(QApplication.palette().ColorRole.Base)

        def colour(name: str) -> QColor:
            value = model.index(row_of(widget, name), 0).data(Qt.ItemDataRole.BackgroundRole)
            assert isinstance(value, QColor)
            return value

        assert colour("Copy Name") == blend(OUTCOME_TINTS[Outcome.RAN], base)
        green, yellow, red = colour("Copy Name"), colour("Never"), colour("Needs Account")
        assert green.green() > green.red() and green.green() > green.blue()
        assert yellow.red() > yellow.blue() and yellow.green() > yellow.blue()
        assert red.red() > red.green() and red.red() > red.blue()
        assert colour("Bad Action") == red
        event = model.index(row_of(widget, "DesktopReady"), 3)
        assert event.data(Qt.ItemDataRole.BackgroundRole) is None
        assert event.data(Qt.ItemDataRole.FontRole).bold()
        reason = model.index(row_of(widget, "Needs Account"), 8).data()
        assert "Not all parameters in action call Needs Account are available" in reason


async def test_filters_details_copy_and_clear(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        await run_the_calls(desktop, widget)
        pane = widget.trace
        pane.filter_edit.setText("needs")
        assert [r[1] for r in outcomes(widget)] == ["Needs Account"]
        pane.filter_edit.setText("")
        pane.outcome_combo.setCurrentText("skipped")
        assert [r[1] for r in outcomes(widget)] == ["Never"]
        pane.outcome_combo.setCurrentText("Problems (aborted, failed)")
        assert [r[1] for r in outcomes(widget)] == ["Needs Account", "Bad Action"]

        pane.view.selectRow(0)  # Needs Account
        details = pane.details.toPlainText()
        assert "Needs Account" in details and "aborted" in details
        assert "[[account.name]] has no value" in details
        pane.view.selectionModel().select(
            pane.proxy.index(1, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
        text = pane.copy_selection()
        assert QApplication.clipboard().text() == text
        lines = text.splitlines()
        assert lines[0].startswith("Time\tSession\tKind\tName")
        assert len(lines) == 3 and "Needs Account" in lines[1] and "Bad Action" in lines[2]

        pane.outcome_combo.setCurrentText("All outcomes")
        outcome = await desktop.dispatcher.run_action("Debugger", "Clear")
        assert outcome.outcome is Outcome.RAN
        # the table was cleared; only the Clear action itself arrives after
        await until(lambda: pane.model.rowCount() == 1, "the Clear row")
        assert outcomes(widget) == [("action", "", "ran")]
        assert len(desktop.dispatcher.journal.records) >= 6  # the journal itself is untouched


async def test_details_show_parent_chain_resolved_data_and_result(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        pane = widget.trace
        pane.view.selectRow(1)  # Copy Name, child of DesktopReady
        details = pane.details.toPlainText()
        assert "Data (resolved):\nname=Contoso\nsessions=3" in details
        assert "Parent chain" in details and "event DesktopReady" in details


async def test_data_tree_shows_global_and_context_and_edits_write_back(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        pane = widget.data
        glob = desktop.sessions.global_session

        def value(root: str, name: str) -> Any:
            return pane.value_index(glob, root, name).data()

        assert value("$Global", "maxNumberOfSessions") == "3"
        assert value("$Context", "name") == "Contoso"
        await desktop.dispatcher.run_action(
            "Global Manager", "CopyToContext", "city=Paris"
        )
        await until(lambda: value("$Context", "city") == "Paris", "the new value in the tree")

        session = desktop.sessions.create("Caller")
        await until(lambda: pane.value_index(session, "$Session", "Name").data() == "Caller",
                    "the customer session")
        titles = [pane.proxy.index(r, 0).data() for r in range(pane.proxy.rowCount())]
        assert titles[0] == "Global"
        assert titles[1].startswith("Caller (") and titles[1].endswith("[active]")

        pane.filter_edit.setText("paris")
        assert value("$Context", "city") == "Paris"
        assert not pane.value_index(glob, "$Context", "name").isValid()  # filtered out
        pane.filter_edit.setText("")

        index = pane.value_index(glob, "$Context", "city")
        assert pane.proxy.setData(index, "Lyon")
        assert glob.store.get("$Context", "city") == "Lyon"  # like USD's Update button
        await until(lambda: value("$Context", "city") == "Lyon", "the refreshed tree")

        pane.view.setCurrentIndex(pane.value_index(glob, "$Context", "city"))
        assert pane.copy_selection() == "Lyon"
        assert QApplication.clipboard().text() == "Lyon"


async def test_run_tab_runs_configured_call_direct_action_and_javascript(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        run = widget.run
        journal = desktop.dispatcher.journal
        names = [run.call_combo.itemText(i) for i in range(run.call_combo.count())]
        assert names == sorted(desktop.dispatcher.action_calls, key=str.lower)

        run.call_combo.setCurrentText("Remember")
        run.run_call_button.click()
        await asyncio.gather(*run.tasks)
        assert len(journal.find(name="Remember", outcome=Outcome.RAN)) == 1
        assert desktop.sessions.global_session.store.get("$Context", "remembered") == "Contoso"
        assert "Remember: ran" in run.status.text()

        run.control_combo.setCurrentText("Global Manager")
        assert "CopyToContext" in run._action_names.stringList()
        assert "Close" in run._action_names.stringList()  # common actions too
        run.action_edit.setText("CopyToContext")
        run.data_edit.setPlainText("direct=[[$Context.name]]-[[$Debug]]")
        run.run_action_button.click()
        await asyncio.gather(*run.tasks)
        (direct,) = journal.find(kind="action", control="Global Manager", action="CopyToContext")
        assert direct.outcome is Outcome.RAN and direct.data == "direct=Contoso-true"
        assert desktop.sessions.global_session.store.get("$Context", "direct") == "Contoso-true"
        await until(lambda: widget.trace.model.by_seq(direct.seq) is not None, "the trace row")

        run.script_edit.setPlainText('"[[$Context.name]]".length + ([[$Debug]] ? 100 : 0)')
        run.evaluate_button.click()
        await asyncio.gather(*run.tasks)
        assert run.script_result.toPlainText() == "107"
        run.script_edit.setPlainText("[[nothing.here]]")
        run.evaluate_button.click()
        await asyncio.gather(*run.tasks)
        assert run.script_result.toPlainText().startswith("Error:")


async def test_test_scriptlet_returns_the_value_into_return(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        outcome = await desktop.dispatcher.run_action(
            "Debugger", "TestScriptlet", 'var a = "[[$Context.name]]";\na + "!" + (1 + 2)',
            name="T1",
        )
        assert outcome.outcome is Outcome.RAN, outcome.reason
        assert outcome.result == "Contoso!3"
        assert desktop.sessions.global_session.store.get("$Return", "T1") == "Contoso!3"
        assert widget.run.script_result.toPlainText() == "Contoso!3"

        broken = await desktop.dispatcher.run_action("Debugger", "TestScriptlet", "throw 1 +")
        assert broken.outcome is Outcome.FAILED and "TestScriptlet" in broken.reason


async def test_set_replacement_parameter_writes_into_the_right_session(qtbot: Any) -> None:
    async with running() as desktop:
        dispatcher = desktop.dispatcher
        glob = desktop.sessions.global_session
        session = desktop.sessions.create("Customer")
        assert desktop.sessions.active is session
        outcome = await dispatcher.run_action(
            "Debugger", "SetReplacementParameter", "appname=account\nparam=name\nvalue=Fabrikam"
        )
        assert outcome.outcome is Outcome.RAN, outcome.reason
        assert session.store.get("account", "name") == "Fabrikam"
        assert glob.store.get("account", "name") is None
        await dispatcher.run_action(
            "Debugger", "SetReplacementParameter",
            "appname=Agent\nparam=mood\nvalue=calm\nglobal=True",
        )
        assert glob.store.get("Agent", "mood") == "calm"
        assert session.store.get("Agent", "mood") is None
        bad = await dispatcher.run_action("Debugger", "SetReplacementParameter", "value=1")
        assert bad.outcome is Outcome.FAILED and "appname" in bad.reason


async def test_problems_tab_lists_load_problems(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        assert "No problems" in widget.problems.summary.text()
        desktop.problems.append("Broken: could not be loaded: ImportError: nope")
        widget.setCurrentWidget(widget.problems)
        assert "1 problem" in widget.problems.summary.text()
        assert "ImportError: nope" in widget.problems.text.toPlainText()


async def test_debug_output_shows_the_desktop_log(qtbot: Any) -> None:
    async with running() as desktop:
        _, widget = debugger(desktop)
        logging.getLogger("usd_desktop.somewhere").warning("something odd: %s", 42)
        await until(lambda: "something odd: 42" in widget.log.text.toPlainText(), "the log line")
        assert "WARNING" in widget.log.text.toPlainText()
        handlers = len(logging.getLogger("usd_desktop").handlers)
        desktop.close_control("Debugger")
        assert len(logging.getLogger("usd_desktop").handlers) == handlers - 1


async def test_closing_disposes_every_listener(qtbot: Any) -> None:
    async with running() as desktop:
        journal = desktop.dispatcher.journal
        sessions = desktop.sessions
        before = (len(journal.recorded), len(sessions.changed), len(sessions.active_changed))
        control, _ = debugger(desktop)
        assert len(journal.recorded) == before[0] + 1
        assert len(sessions.changed) == before[1] + 1
        desktop.close_control("Debugger")
        assert control.closed and not control.has_widget
        assert (len(journal.recorded), len(sessions.changed),
                len(sessions.active_changed)) == before
        await desktop.dispatcher.run_action_call("Remember")  # nothing listens any more


async def test_deleting_the_widget_also_disposes(qtbot: Any) -> None:
    async with running() as desktop:
        journal = desktop.dispatcher.journal
        before = (len(journal.recorded), len(desktop.sessions.changed))
        _, widget = debugger(desktop)
        gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        widget.destroyed.connect(lambda *_: gone.done() or gone.set_result(None))
        widget.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        await asyncio.wait_for(gone, TIMEOUT)
        assert (len(journal.recorded), len(desktop.sessions.changed)) == before
        await desktop.dispatcher.run_action_call("Remember")


def test_model_batches_and_keeps_at_most_capacity(qtbot: Any) -> None:
    model = TraceTableModel(capacity=100)
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))
    for seq in range(1, 3001):
        model.enqueue(TraceRecord(seq=seq, kind="action", name=f"n{seq}", outcome=Outcome.RAN))
    assert model.rowCount() == 0  # nothing until the event loop turns
    qtbot.waitUntil(lambda: model.rowCount() == 100)
    assert inserts == [(0, 99)]  # one batch
    assert model.record(0).seq == 2901 and model.record(99).seq == 3000
    assert model.by_seq(2900) is None and model.by_seq(2901) is not None
    model.extend([TraceRecord(seq=3001, kind="event", name="e", outcome=Outcome.FIRED)])
    assert model.rowCount() == 100 and model.record(0).seq == 2902


async def test_a_navigation_decision_shows_every_rule_considered() -> None:
    rules = CONFIG + textwrap.dedent("""\
        window_navigation_rules:
          - {name: Phone links, order: 1, url: "tel:*", route_type: in_place, action: none}
          - {name: Contact pages, order: 2, entity: contact, action: show_outside}
        """)
    async with running(rules) as desktop:
        _, widget = debugger(desktop)
        navigation = Navigation.of_url("Browser", "https://crm.test/main.aspx?etn=contact&id=7")
        outcome = await desktop.router.route(navigation, desktop.sessions.global_session)
        assert outcome.action == "show_outside"
        found = await desktop.dispatcher.run_action("Debugger", "FindTrace", "navigation")
        assert found.result == "Contact pages"
        assert [r[:2] for r in outcomes(widget)][-1] == ("navigation", "Contact pages")
        details = widget.trace.details.toPlainText()
        assert "Rules considered:" in details
        assert "✗ Phone links (order 1): route_type: the load is popup, the rule wants in_place" in details
        assert "✓ Contact pages (order 2)" in details and "Show Outside" in details
        missing = await desktop.dispatcher.run_action("Debugger", "FindTrace", "no such text at all")
        assert missing.result == "" and widget.trace.proxy.rowCount() == 0
