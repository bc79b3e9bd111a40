"""Interaction History: one timeline across channels, newest first, filtered, refreshed on changes."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QTreeWidgetItem

from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.data.repository import SqlRepository
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.history import HistoryWidget, InteractionHistory
from usd_desktop.hosted_controls.records import publish_record
from usd_desktop.testing import make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: history-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: History
        type: InteractionHistory
        is_global: false
    """)

NOW = datetime.now(UTC).replace(microsecond=0)


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[tuple[Desktop, DataServices]]:
    data = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
    desktop = make_desktop(CONFIG, data=data)
    await desktop.start()
    try:
        yield desktop, data
    finally:
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        data.close()


def interaction(contact_id: str, channel: str, ago: timedelta, **extra: Any) -> dict[str, Any]:
    offered = NOW - ago
    return {
        "channel": channel, "direction": "inbound", "contact_id": contact_id, "queue": "support",
        "agent": "tracie", "offered_at": offered, "answered_at": offered + timedelta(seconds=20),
        "ended_at": offered + timedelta(seconds=20 + 185), "hold_seconds": 30, "disposition": "resolved",
        "first_contact_resolution": True, "transfers": 1, **extra,
    }


async def maria(data: DataServices) -> dict[str, str]:
    """A contact with a case, interactions on three channels (one linked to the case) and a note."""
    contact_id = await data.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
    other = await data.create("contact", {"first_name": "Ion", "last_name": "Ionescu"})
    case_id = await data.create("case", {"title": "Router keeps rebooting", "contact_id": contact_id,
                                         "created_at": NOW - timedelta(days=5)})
    ids = {"contact": contact_id, "case": case_id}
    ids["phone"] = await data.create("interaction", interaction(
        contact_id, "phone", timedelta(days=3), subject="Router reboots"))
    ids["email"] = await data.create("interaction", interaction(
        contact_id, "email", timedelta(days=2), subject="Logs attached"))
    ids["chat"] = await data.create("interaction", interaction(
        contact_id, "chat", timedelta(days=1), subject="Firmware question", case_id=case_id))
    ids["note"] = await data.create("note", {"contact_id": contact_id, "subject": "Prefers e-mail",
                                             "body": "Prefers e-mail.\nAfter 16:00.", "author": "tracie",
                                             "created_at": NOW - timedelta(hours=4)})
    await data.create("interaction", interaction(other, "sms", timedelta(hours=1), subject="Not Maria's"))
    return ids


def history(desktop: Desktop, session: Session) -> tuple[InteractionHistory, HistoryWidget]:
    control = desktop.resolve("History", session)
    assert isinstance(control, InteractionHistory)
    widget = control.widget()
    assert isinstance(widget, HistoryWidget)
    return control, widget


def rows(widget: HistoryWidget) -> list[tuple[str, str, str]]:
    """(channel/kind label, what, details) of every row under the day headings, top to bottom."""
    tree = widget.tree
    out = []
    for index in range(tree.topLevelItemCount()):
        day = tree.topLevelItem(index)
        assert day is not None
        for child in range(day.childCount()):
            item = day.child(child)
            out.append((item.text(1), item.text(2), item.text(3)))
    return out


def find_row(widget: HistoryWidget, what: str) -> QTreeWidgetItem:
    tree = widget.tree
    for index in range(tree.topLevelItemCount()):
        day = tree.topLevelItem(index)
        assert day is not None
        for child in range(day.childCount()):
            if day.child(child).text(2) == what:
                return day.child(child)
    raise AssertionError(f"no row {what!r}")


async def test_a_customer_timeline_across_channels_newest_first(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        ids = await maria(data)
        session = desktop.sessions.create("Maria")
        control, widget = history(desktop, session)
        assert widget.header.text() == "No customer loaded"
        contact = await data.get("contact", ids["contact"])
        assert contact is not None
        publish_record(session, "contact", contact)  # loads by itself
        await until(lambda: len(control.items) == 5, "the timeline")
        assert [(i.kind, i.id) for i in control.items] == [
            ("note", ids["note"]), ("interaction", ids["chat"]), ("interaction", ids["email"]),
            ("interaction", ids["phone"]), ("case", ids["case"]),
        ]
        assert widget.header.text() == "History of Maria Popescu"
        assert widget.status.text() == "3 interactions, 1 case, 1 note"
        shown = rows(widget)
        assert [r[0] for r in shown] == ["Note", "Chat ↙ in", "E-mail ↙ in", "Phone ↙ in", "Case opened"]
        case = await data.get("case", ids["case"])
        assert case is not None
        chat = shown[1]
        assert chat[1] == "Firmware question"
        for part in ("support", "tracie", "3m 05s", "hold 30s", "resolved", "FCR", "1 transfer",
                     case["case_number"]):
            assert part in chat[2]
        assert shown[0][1] == "Prefers e-mail" and "After 16:00." in shown[0][2]
        assert widget.tree.topLevelItemCount() == len({i.day for i in control.items})  # grouped by day
        assert not any("Not Maria's" in r[1] for r in shown)

        # selecting a row shows all of it and raises ItemSelected
        chat_row = find_row(widget, "Firmware question")
        widget.tree.setCurrentItem(chat_row)
        assert "Offered" in widget.details.text() and case["case_number"] in widget.details.text()
        await until(lambda: desktop.dispatcher.journal.find(kind="event", name="ItemSelected"), "the event")
        [event] = desktop.dispatcher.journal.find(kind="event", name="ItemSelected")
        assert event.parameters == {"LogicalName": "interaction", "Id": ids["chat"], "CaseId": ids["case"]}


async def test_filter_by_channel_and_kind(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        ids = await maria(data)
        session = desktop.sessions.create("Maria")
        _control, widget = history(desktop, session)
        run = desktop.dispatcher.run_action
        loaded = await run("History", "Load", f"LogicalName=contact\nid={ids['contact']}", session=session)
        assert loaded.outcome is Outcome.RAN and loaded.result == "5"

        phone_email = await run("History", "Filter", "channels=phone,email", session=session)
        assert phone_email.result == "4"  # cases and notes have no channel: still shown
        assert [r[0] for r in rows(widget)] == ["Note", "E-mail ↙ in", "Phone ↙ in", "Case opened"]
        assert not widget.channel_chips["chat"].isChecked() and widget.channel_chips["phone"].isChecked()

        only_interactions = await run("History", "Filter", "kinds=interaction", session=session)
        assert only_interactions.result == "2"
        assert [r[0] for r in rows(widget)] == ["E-mail ↙ in", "Phone ↙ in"]

        widget.channel_chips["chat"].click()  # the chips filter too
        assert [r[0] for r in rows(widget)] == ["Chat ↙ in", "E-mail ↙ in", "Phone ↙ in"]

        everything = await run("History", "Filter", session=session)
        assert everything.result == "5" and len(rows(widget)) == 5

        bad = await run("History", "Filter", "channels=fax", session=session)
        assert bad.outcome is Outcome.FAILED and "unknown channel: fax" in bad.reason


async def test_refreshes_when_a_record_of_the_customer_is_written(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        ids = await maria(data)
        session = desktop.sessions.create("Maria")
        control, widget = history(desktop, session)
        await control.load("contact", ids["contact"])
        assert len(control.items) == 5
        await data.create("interaction", interaction(ids["contact"], "sms", timedelta(minutes=5),
                                                     subject="Thanks, works now"))
        await until(lambda: len(control.items) == 6, "the new interaction")
        assert rows(widget)[0][:2] == ("SMS ↙ in", "Thanks, works now")

        await data.update("case", ids["case"], {"status": "resolved", "resolution": "Firmware updated"})
        await until(lambda: any(i.label == "Case resolved" for i in control.items), "the resolution")
        assert rows(widget)[0][0] == "Case resolved" and "Firmware updated" in rows(widget)[0][2]


async def test_an_account_includes_its_contacts_and_many_interactions_load(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data):
        account_id = await data.create("account", {"name": "Contoso SRL"})
        contact_id = await data.create("contact", {"first_name": "Ana", "last_name": "Pop",
                                                   "account_id": account_id})
        repo = data.repository
        assert isinstance(repo, SqlRepository)
        table = repo.entities["interaction"].table
        many = [{**interaction(contact_id, ("phone", "email", "chat")[n % 3], timedelta(hours=n)),
                 "id": f"00000000-0000-4000-8000-{n:012d}", "subject": f"Call {n}", "account_id": None}
                for n in range(230)]
        many.append({**interaction(contact_id, "web", timedelta(hours=1000)), "contact_id": None,
                     "account_id": account_id, "id": "00000000-0000-4000-9000-000000000001",
                     "subject": "Account-level web form"})
        with repo.write() as conn, conn.begin():
            conn.execute(sa.insert(table), many)

        session = desktop.sessions.create("Contoso")
        account = await data.get("account", account_id)
        assert account is not None
        publish_record(session, "account", account)
        control, widget = history(desktop, session)
        await until(lambda: len(control.items) == 231, "the account's timeline")
        assert control.items[0].title == "Call 0" and control.items[-1].title == "Account-level web form"
        assert widget.status.text() == "231 interactions, 0 cases, 0 notes"
        assert len(rows(widget)) == 150  # a page at a time
        assert widget.more_button.isVisibleTo(widget) and widget.more_button.text() == "Show older (81 more)"
        widget.more_button.click()
        assert len(rows(widget)) == 231 and not widget.more_button.isVisibleTo(widget)
        assert rows(widget)[-1][1] == "Account-level web form"


async def test_load_without_a_customer_fails_clearly(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, _data):
        session = desktop.sessions.create("Nobody")
        history(desktop, session)
        outcome = await desktop.dispatcher.run_action("History", "Load", session=session)
        assert outcome.outcome is Outcome.FAILED and "contact or account in the session" in outcome.reason
        missing = await desktop.dispatcher.run_action("History", "Load", "LogicalName=contact\nid=nope",
                                                      session=session)
        assert missing.outcome is Outcome.FAILED and "no contact record 'nope'" in missing.reason
