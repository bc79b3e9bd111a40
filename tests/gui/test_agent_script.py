"""Agent Scripting: rendered texts that follow the data, answers, history, checklists, recovery."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QPalette, QTextDocumentFragment
from PySide6.QtWidgets import QPushButton

from usd_desktop.config.loader import load_configuration
from usd_desktop.core.context import Session
from usd_desktop.core.paths import resources_dir
from usd_desktop.core.trace import Outcome, TraceJournal
from usd_desktop.hosted_controls.desktop import Desktop, MemorySettings
from usd_desktop.hosted_controls.qt.agent_script import AgentScriptControl
from usd_desktop.hosted_controls.qt.agent_script_widget import CHECK, AgentScriptWidget
from usd_desktop.hosted_controls.records import publish_record
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import RecordingHost, make_data_services, make_desktop, until


def log_call(name: str, entry: str) -> str:
    """An action call appending ``entry`` to ``[[$Context.log]]`` (so the tests see the order)."""
    return textwrap.indent(textwrap.dedent(f"""\
        - name: {name}
          control: Global Manager
          action: CopyToContext
          data: "log=[[$Context.log]+]|{entry}"
        """), "  ")


CONFIG = textwrap.dedent("""\
    name: agent-script-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Agent Script
        type: AgentScripting
        is_global: false
    agent_scripts:
      - name: Greeting
        start_task: true
        category: Openings
        show_tab: Global Manager
        script_text: "Hello [[contact.first_name]], this is [[$User.firstname]]."
        instructions: "Check the caller is [[contact.full_name]]."
        action_calls: [Log greeting]
        answers:
          - {name: verify, text: "Verified [[contact.first_name]+]", linked_task: Reason, order: 2,
             action_calls: [Log verify]}
          - {name: hang up, text: Wrong number, linked_task: Goodbye, order: 1}
      - name: Reason
        script_text: Ask for the reason of the call.
        action_calls: [Log reason one, Log reason two]
        answers:
          - {name: a, text: Checked A}
          - {name: b, text: Checked B, action_calls: [Log b]}
      - name: Goodbye
        script_text: Goodbye.
        answers:
          - {name: broken, text: Broken, action_calls: [Broken call]}
          - {name: again, text: Start again, linked_task: Greeting}
      - name: Sales
        script_text: Sales line.
        action_calls: [Log sales]
        triggers:
          - {name: sales number, type: dnis, data: "+1 800 555-0100"}
    action_calls:
    """) + "".join([
        log_call("Log greeting", "greeting"),
        log_call("Log verify", "verify"),
        log_call("Log reason one", "reason1"),
        log_call("Log reason two", "reason2"),
        log_call("Log b", "b"),
        log_call("Log sales", "sales"),
        log_call("Log task", "task:[[task]]"),
        log_call("Log answer", "answer:[[task]]/[[answer]]"),
        log_call("Log all", "all:[[task]]/[[id]]"),
    ]) + textwrap.dedent("""\
      - name: Broken call
        control: Nowhere
        action: Anything
    events:
      - {control: Agent Script, name: TaskUpdated, action_calls: [Log task]}
      - {control: Agent Script, name: AnswerChosen, action_calls: [Log answer]}
      - {control: Agent Script, name: AllAnswersVisited, action_calls: [Log all]}
    """)

MENU_CONFIG = textwrap.dedent("""\
    name: agent-script-menu
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Agent Script
        type: AgentScripting
        is_global: false
    agent_scripts:
      - {name: Greeting, start_task: true, script_text: Hello.}
      - {name: Closing, start_task: true, script_text: "Anything else?"}
    action_calls:
    """) + log_call("Log task", "task:[[task]]") + textwrap.dedent("""\
    events:
      - {control: Agent Script, name: TaskUpdated, action_calls: [Log task]}
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


def open_script(desktop: Desktop, session: Session) -> tuple[AgentScriptControl, AgentScriptWidget]:
    control = desktop.resolve("Agent Script", session)
    assert isinstance(control, AgentScriptControl)
    widget = control.widget()
    assert isinstance(widget, AgentScriptWidget)
    return control, widget


def plain(label_html: str) -> str:
    return QTextDocumentFragment.fromHtml(label_html).toPlainText()


def log_of(session: Session) -> str:
    return session.store.get("$Context", "log") or ""


def buttons(widget: AgentScriptWidget) -> dict[str, QPushButton]:
    return {str(b.property("answer")): b for b in widget.answer_buttons()}


async def settled(control: AgentScriptControl) -> None:
    await until(lambda: control.idle, "the script's action calls to have run")


async def test_texts_render_with_placeholders_and_follow_the_context(qtbot: Any) -> None:
    async with running() as desktop:
        session = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, session)
        assert widget.title.text() == "Greeting"
        assert plain(widget.script.text()) == "Hello «contact.first_name», this is Tracie."
        placeholder = widget.palette().color(QPalette.ColorRole.PlaceholderText).name()
        assert placeholder in widget.script.text()  # the missing parameter stands out
        assert widget.instructions.text() == "Check the caller is «contact.full_name»."
        assert widget.instructions.font().italic()
        assert widget.instructions.foregroundRole() == QPalette.ColorRole.Link
        assert [b.text() for b in widget.answer_buttons()] == ["Wrong number", "Verified "]  # by order
        await settled(control)
        assert session.store.get("Agent Script", "Name") == "Greeting"
        assert session.store.get("Agent Script", "ScriptText") == "Hello , this is Tracie."
        assert session.store.get("Agent Script", "Category") == "Openings"

        session.store.replace_root("contact", {"first_name": "Maria", "full_name": "Maria Popescu"})
        await until(lambda: "Maria" in plain(widget.script.text()), "the name shown")
        assert plain(widget.script.text()) == "Hello Maria, this is Tracie."
        assert widget.instructions.text() == "Check the caller is Maria Popescu."
        assert buttons(widget)["verify"].text() == "Verified Maria"
        await until(lambda: session.store.get("Agent Script", "ScriptText") == "Hello Maria, this is Tracie.",
                    "the published text updated")

        other = desktop.sessions.create("Someone else")
        other.store.replace_root("contact", {"first_name": "Ion"})
        session.store.update("contact", {"full_name": "Maria P."})
        await until(lambda: "Maria P." in widget.instructions.text(), "this session's change")
        assert plain(widget.script.text()) == "Hello Maria, this is Tracie."  # not the other one's


async def test_a_global_script_follows_the_active_session(qtbot: Any) -> None:
    async with running(CONFIG.replace("    is_global: false\n", "")) as desktop:
        control = desktop.instance("Agent Script")
        assert isinstance(control, AgentScriptControl) and control.session.is_global
        widget = control.widget()
        assert isinstance(widget, AgentScriptWidget)
        await settled(control)
        assert log_of(desktop.sessions.global_session) == "|task:Greeting|greeting"
        maria = desktop.sessions.create("Maria")
        maria.store.replace_root("contact", {"first_name": "Maria", "full_name": "Maria Popescu"})
        ion = desktop.sessions.create("Ion")
        ion.store.replace_root("contact", {"first_name": "Ion", "full_name": "Ion Pop"})
        await until(lambda: "Ion" in plain(widget.script.text()), "the active session's customer")
        desktop.sessions.activate(maria)
        await until(lambda: "Maria" in plain(widget.script.text()), "the newly active session's customer")
        buttons(widget)["verify"].click()
        await settled(control)
        assert log_of(maria).startswith("|verify|answer:Greeting/verify|task:Reason")  # where the agent is
        assert log_of(ion) == ""


async def test_answers_run_their_calls_before_the_task_and_raise_events(qtbot: Any) -> None:
    async with running() as desktop:
        session = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, session)
        await settled(control)
        assert log_of(session) == "|task:Greeting|greeting"
        host = desktop.host
        assert isinstance(host, RecordingHost) and ("Global Manager",) in host.of("show_control")

        buttons(widget)["verify"].click()
        assert widget.title.text() == "Reason"  # the screen moves at once
        await settled(control)
        assert log_of(session) == ("|task:Greeting|greeting|verify|answer:Greeting/verify|task:Reason"
                                   "|reason1|reason2")
        assert session.store.get("Agent Script", "Name") == "Reason"
        ran = [r.name for r in desktop.dispatcher.journal.find(kind="action_call")
               if r.name in ("Log verify", "Log reason one", "Log reason two")]
        assert ran == ["Log verify", "Log reason one", "Log reason two"]

        start = len(log_of(session))
        buttons(widget)["a"].click()
        await settled(control)
        assert widget.title.text() == "Reason"  # no linked task: it stays
        assert buttons(widget)["a"].text() == f"{CHECK} Checked A"
        assert buttons(widget)["a"].property("visited") is True
        assert buttons(widget)["b"].property("visited") is False
        buttons(widget)["b"].click()
        await settled(control)
        buttons(widget)["a"].click()  # again: the checklist was complete already
        await settled(control)
        assert log_of(session)[start:] == ("|answer:Reason/a|b|answer:Reason/b|all:Reason/Reason"
                                           "|answer:Reason/a")
        visited = desktop.dispatcher.journal.find(kind="event", name="AllAnswersVisited")
        assert len(visited) == 1 and visited[0].parameters == {"task": "Reason", "id": "Reason"}
        assert control.state.visited == {"Greeting": ["verify"], "Reason": ["a", "b"]}


async def test_history_back_and_actions(qtbot: Any) -> None:
    async with running() as desktop:
        session = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, session)
        assert not widget.back_button.isEnabled() and not widget.history.isEnabled()
        buttons(widget)["verify"].click()
        await settled(control)
        assert [widget.history.itemText(i) for i in range(widget.history.count())] == [
            "1. Greeting", "2. Reason"]
        assert widget.history.currentIndex() == 1 and widget.back_button.isEnabled()

        before = log_of(session)
        widget.history.setCurrentIndex(0)  # back to the greeting through the drop-down
        assert widget.title.text() == "Greeting" and control.state.history == []
        await settled(control)
        assert log_of(session) == before + "|task:Greeting"  # announced, its actions not run again
        assert buttons(widget)["verify"].text().startswith(CHECK)

        run = desktop.dispatcher.run_action
        went = await run("Agent Script", "GoToTask", "Goodbye", session=session)
        assert went.outcome is Outcome.RAN and went.result == "Goodbye"
        assert widget.title.text() == "Goodbye"
        widget.back_button.click()
        assert widget.title.text() == "Greeting"
        back = await run("Agent Script", "Back", session=session)
        assert back.result == "Greeting"  # nothing before: it stays
        bad = await run("Agent Script", "GoToTask", "task=Nowhere", session=session)
        assert bad.outcome is Outcome.FAILED and "'Nowhere'" in bad.reason
        by_dnis = await run("Agent Script", "GotoTaskByDnis", "dnis=18005550100", session=session)
        assert by_dnis.result == "Sales"
        await settled(control)
        assert log_of(session).endswith("|task:Sales|sales")


async def test_a_failing_action_call_is_reported_and_the_script_goes_on(qtbot: Any) -> None:
    async with running() as desktop:
        session = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, session)
        buttons(widget)["hang up"].click()
        buttons(widget)["broken"].click()
        await settled(control)
        failed = desktop.dispatcher.journal.find(kind="action_call", name="Broken call")
        assert failed and failed[-1].outcome is Outcome.FAILED
        assert "Broken call" in widget.status.text() and not widget.status.isHidden()
        buttons(widget)["again"].click()  # still usable; the status clears on the next move
        assert widget.title.text() == "Greeting" and widget.status.isHidden()
        await settled(control)
        assert log_of(session).endswith(
            "|answer:Goodbye/broken|answer:Goodbye/again|all:Goodbye/Goodbye|task:Greeting|greeting")


async def test_entry_by_call_data_and_start_script(qtbot: Any) -> None:
    async with running() as desktop:
        session = desktop.sessions.create("Caller")
        session.store.update("cti", {"DNIS": "+1 (800) 555-0100", "ani": "0700"})
        control, widget = open_script(desktop, session)
        assert control.current == "Sales" and widget.title.text() == "Sales"
        await settled(control)
        assert log_of(session) == "|task:Sales|sales"
        restarted = await desktop.dispatcher.run_action("Agent Script", "StartScript", "dnis=42",
                                                        session=session)
        assert restarted.result == "Greeting" and control.state.history == []
        started = await desktop.dispatcher.run_action("Agent Script", "StartScript", "task=Reason",
                                                      session=session)
        assert started.result == "Reason"
        await settled(control)
        assert log_of(session).endswith("|task:Greeting|greeting|task:Reason|reason1|reason2")


async def test_main_menu_lists_the_start_tasks(qtbot: Any) -> None:
    async with running(MENU_CONFIG) as desktop:
        session = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, session)
        assert control.current is None and widget.title.text() == "[Main Menu]"
        assert [b.text() for b in widget.answer_buttons()] == ["Greeting", "Closing"]
        assert not widget.main_menu_button.isHidden()
        await settled(control)
        assert session.store.get("Agent Script", "Name") == "[Main Menu]"
        buttons(widget)["Closing"].click()
        assert widget.title.text() == "Closing"
        widget.main_menu_button.click()
        assert widget.title.text() == "[Main Menu]"
        await settled(control)
        assert log_of(session) == "|task:[Main Menu]|task:Closing|task:[Main Menu]"
        assert [widget.history.itemText(i) for i in range(widget.history.count())] == [
            "1. [Main Menu]", "2. Closing", "3. [Main Menu]"]


async def test_session_state_round_trip_runs_nothing(qtbot: Any) -> None:
    async with running() as desktop:
        first = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, first)
        changes: list[Any] = []
        desktop.control_state_changed.connect(changes.append)
        buttons(widget)["verify"].click()
        buttons(widget)["b"].click()
        await settled(control)
        assert changes.count(control) >= 2  # every move tells the journal
        saved = json.loads(json.dumps(control.session_state()))
        assert saved == {"script": {"current": "Reason", "history": ["Greeting"],
                                    "visited": {"Greeting": ["verify"], "Reason": ["b"]}}}

        second = desktop.sessions.create("Maria again")
        records = len(desktop.dispatcher.journal.find(kind="action_call"))
        fresh = desktop.resolve("Agent Script", second)
        assert isinstance(fresh, AgentScriptControl)
        fresh.restore_session_state(saved)  # as the journal does, right after creating it
        fresh_widget = fresh.widget()
        assert isinstance(fresh_widget, AgentScriptWidget)
        await settled(fresh)
        assert fresh.state == control.state and fresh.session_state() == saved
        assert fresh_widget.title.text() == "Reason"
        assert buttons(fresh_widget)["b"].text().startswith(CHECK)
        assert fresh_widget.back_button.isEnabled()
        assert log_of(second) == ""  # no action call, no event ran
        assert len(desktop.dispatcher.journal.find(kind="action_call")) == records
        assert second.store.get("Agent Script", "Name") == "Reason"

        fresh.restore_session_state({"script": {"current": "Gone", "history": ["Gone", "Greeting"]}})
        assert fresh.current is None and fresh.state.history == ["Greeting"]  # no longer configured
        fresh.restore_session_state({"script": "nonsense"})  # refused, logged; the state stays
        assert fresh.current is None


async def test_the_starter_scripts_resolve_and_escalate_cases(qtbot: Any, tmp_path: Path) -> None:
    data = make_data_services(f"sqlite:///{tmp_path / 'd.db'}", drafts=str(tmp_path / "drafts.db"))
    desktop = Desktop(load_configuration(resources_dir() / "starter"), host=RecordingHost(),
                      registry=Registry.discover(), journal=TraceJournal(), settings=MemorySettings(),
                      user={"firstname": "Tracie", "username": "tracie"}, data=data)
    try:  # not started: the starter's web pages are not needed here
        contact_id = await data.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
        case_id = await data.create("case", {"title": "Router keeps rebooting", "contact_id": contact_id})
        contact, case = await data.get("contact", contact_id), await data.get("case", case_id)
        assert contact is not None and case is not None
        session = desktop.sessions.create("Maria")
        control, widget = open_script(desktop, session)
        assert widget.title.text() == "Greeting"
        assert "Am I speaking with «contact.full_name»?" in plain(widget.script.text())
        publish_record(session, "contact", contact)
        await until(lambda: "Am I speaking with Maria Popescu?" in plain(widget.script.text()), "the name")
        assert buttons(widget)["customer"].text() == "Yes, it is Maria"

        publish_record(session, "case", case)
        control.go_to("Closing")
        buttons(widget)["resolved"].click()
        await settled(control)
        resolved = await data.get("case", case_id)
        assert resolved is not None and resolved["status"] == "resolved"
        assert resolved["resolution"] == "Confirmed resolved with the customer on the call."
        assert widget.title.text() == "Resolved" and not control.problem

        second = await data.create("case", {"title": "No signal", "contact_id": contact_id})
        run = desktop.dispatcher.run_action
        opened = await run("Case", "Open_CRM_Page", f"LogicalName=case\nid={second}", session=session)
        assert opened.outcome is Outcome.RAN
        control.go_to("Escalation details")
        buttons(widget)["escalate"].click()  # nothing filled in: the lifecycle refuses, the script says so
        await settled(control)
        assert widget.title.text() == "Escalation summary" and "Escalate the case" in control.problem
        assert "«case.next_steps»" in plain(widget.script.text())
        filled = await run("Case", "SetFieldValues", "escalation_reason=Hardware fault\n"
                           "next_steps=A technician visits\npromised_by=2030-05-01", session=session)
        assert filled.outcome is Outcome.RAN
        widget.back_button.click()
        buttons(widget)["escalate"].click()
        await settled(control)
        assert not control.problem
        escalated = await data.get("case", second)
        assert escalated is not None and escalated["escalation_level"] == 1
        await until(lambda: "The next steps: A technician visits." in plain(widget.script.text()),
                    "the escalation details read back")
        assert f"Your case number is {escalated['case_number']}." in plain(widget.script.text())
    finally:
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        data.close()
