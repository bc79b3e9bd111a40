"""Knowledge Search: results while typing (misspelt too), stale results ignored, copy into a note,
the index brought up to date in the background while the control stays usable."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtTest import QTest

from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.knowledge_search import (
    HTML_ROLE,
    KnowledgeSearchControl,
    KnowledgeWidget,
)
from usd_desktop.hosted_controls.qt.notes import NotesControl
from usd_desktop.hosted_controls.records import publish_record
from usd_desktop.testing import RecordingHost, make_data_services, make_desktop, until

CONFIG = textwrap.dedent("""\
    name: knowledge-test
    hosted_controls:
      - name: Global Manager
        type: GlobalManager
      - name: Knowledge
        type: KnowledgeSearch
        is_global: false
        settings:
          notes_control: Notes
      - name: Notes
        type: Notes
        is_global: false
      - name: Case Knowledge
        type: KnowledgeSearch
        is_global: false
        is_dynamic: true
        settings:
          query: "[[case.title]]"
          language: ro
          limit: 2
    """)

ARTICLES = [
    {"title": "Password reset for the customer portal", "language": "en", "tags": "account,portal",
     "body": "To reset a password, open the portal sign-in page.\n\nChoose Forgot password and follow "
             "the reset link sent by e-mail."},
    {"title": "Router keeps rebooting", "language": "en", "tags": "technical",
     "body": "Update the router firmware, then check the power supply."},
    {"title": "Resetarea parolei", "language": "ro", "tags": "cont",
     "body": "Pentru a reseta parola, deschideți portalul."},
    {"title": "A copy of an invoice", "language": "en", "tags": "billing",
     "body": "Invoices are in the portal under Billing."},
]


@pytest.fixture(autouse=True)
def _short_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KnowledgeSearchControl, "DEBOUNCE", 0.05)
    monkeypatch.setattr(NotesControl, "SAVE_DELAY", 0.1)


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[tuple[Desktop, DataServices, dict[str, str]]]:
    data = make_data_services(f"sqlite:///{tmp_path / 'data.db'}", drafts=str(tmp_path / "drafts.db"))
    ids = {}
    for article in ARTICLES:
        ids[article["title"]] = await data.create("knowledge_article", article)
    desktop = make_desktop(CONFIG, data=data)
    await desktop.start()
    try:
        yield desktop, data, ids
    finally:
        await desktop.shutdown()
        for _ in range(5):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            await asyncio.sleep(0)
        data.close()


def knowledge(desktop: Desktop, session: Session, name: str = "Knowledge") -> tuple[
    KnowledgeSearchControl, KnowledgeWidget
]:
    control = desktop.resolve(name, session)
    assert isinstance(control, KnowledgeSearchControl)
    widget = control.widget()
    assert isinstance(widget, KnowledgeWidget)
    widget.resize(900, 600)
    return control, widget


def titles(widget: KnowledgeWidget) -> list[str]:
    return [widget.results.item(i).text() for i in range(widget.results.count())]


def count_searches(monkeypatch: pytest.MonkeyPatch, data: DataServices) -> list[str]:
    queries: list[str] = []
    assert data.knowledge is not None
    real = data.knowledge.search

    def search(query: str, **kwargs: Any) -> Any:
        queries.append(query)
        return real(query, **kwargs)

    monkeypatch.setattr(data.knowledge, "search", search)
    return queries


async def test_results_while_typing_even_misspelt(qtbot: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(tmp_path) as (desktop, data, _ids):
        session = desktop.sessions.create("Caller")
        control, widget = knowledge(desktop, session)
        await until(lambda: control.indexing is None and not control.busy, "the first index")
        queries = count_searches(monkeypatch, data)
        QTest.keyClicks(widget.box, "pasword resett")
        await until(lambda: titles(widget), "results")
        assert titles(widget)[0] == "Password reset for the customer portal"
        assert queries == ["pasword resett"]  # one search after the pause, not one per key
        first = widget.results.item(0).data(HTML_ROLE)
        assert "font-weight:bold'>Password</span>" in first  # the matched words emphasised
        assert "EN · account, portal" in first
        assert widget.status.text().endswith("found")

        widget.results.setCurrentRow(0)  # opens the article
        await until(lambda: "Forgot password" in widget.article.toPlainText(), "the article")
        await until(lambda: desktop.dispatcher.journal.find(kind="event", name="ArticleSelected"), "the event")
        [event] = desktop.dispatcher.journal.find(kind="event", name="ArticleSelected")
        assert event.parameters["Title"] == "Password reset for the customer portal"

        outcome = await desktop.dispatcher.run_action("Knowledge", "Search", "query=rowter", session=session)
        assert outcome.outcome is Outcome.RAN and outcome.result == "1"  # misheard
        assert widget.box.text() == "rowter" and titles(widget) == ["Router keeps rebooting"]

        cleared = await desktop.dispatcher.run_action("Knowledge", "Clear", session=session)
        assert cleared.outcome is Outcome.RAN
        assert widget.box.text() == "" and titles(widget) == [] and widget.article.toPlainText() == ""


async def test_stale_results_are_ignored(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(tmp_path) as (desktop, data, _ids):
        session = desktop.sessions.create("Caller")
        control, widget = knowledge(desktop, session)
        await until(lambda: control.indexing is None and not control.busy, "the first index")
        assert data.knowledge is not None
        real = data.knowledge.search
        release = threading.Event()
        started = threading.Event()

        def slow_router(query: str, **kwargs: Any) -> Any:
            if "router" in query:
                started.set()
                release.wait(30)
            return real(query, **kwargs)

        monkeypatch.setattr(data.knowledge, "search", slow_router)
        try:
            slow = asyncio.ensure_future(desktop.dispatcher.run_action("Knowledge", "Search", "router",
                                                                       session=session))
            await until(started.is_set, "the slow search running")
            assert widget.box.text() == "router"
            widget.box.selectAll()
            QTest.keyClicks(widget.box, "invoice")  # typed while the slow one runs: newer
            await until(lambda: titles(widget) == ["A copy of an invoice"], "the newer results")
        finally:
            release.set()
        outcome = await slow
        assert outcome.result == "1"  # it found its article...
        assert titles(widget) == ["A copy of an invoice"]  # ...but the list keeps the newer results
        assert widget.box.text() == "invoice"


async def test_copy_to_note_lands_in_the_sessions_notes(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data, ids):
        contact_id = await data.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
        contact = await data.get("contact", contact_id)
        assert contact is not None
        session = desktop.sessions.create("Maria")
        publish_record(session, "contact", contact)
        _control, widget = knowledge(desktop, session)
        notes = desktop.resolve("Notes", session)
        assert isinstance(notes, NotesControl)
        await until(lambda: notes.attachment is not None, "the note attached to Maria")
        run = desktop.dispatcher.run_action

        article_id = ids["Password reset for the customer portal"]
        opened = await run("Knowledge", "OpenArticle", f"id={article_id}", session=session)
        assert opened.result == "Password reset for the customer portal"
        assert widget.copy_note_button.isEnabled()
        copied = await run("Knowledge", "CopyToNote", session=session)
        assert copied.outcome is Outcome.RAN and copied.result == "Notes"
        assert notes.text.startswith("Password reset for the customer portal\nTo reset a password")
        assert "Choose Forgot password" in notes.text
        await until(lambda: not notes.dirty, "the note saved")
        await until(lambda: desktop.dispatcher.journal.find(kind="event", name="ArticleCopied"), "the event")
        [event] = desktop.dispatcher.journal.find(kind="event", name="ArticleCopied")
        assert event.parameters == {"Id": article_id, "Title": "Password reset for the customer portal",
                                    "Target": "Notes"}

        host = desktop.host
        assert isinstance(host, RecordingHost)
        widget.copy_button.click()  # the reply text to the clipboard
        assert host.of("copy_to_clipboard")[-1] == (str(ARTICLES[0]["body"]),)

        # without a Notes control to go to, CopyToNote uses the clipboard
        _other, _ = knowledge(desktop, session, "Case Knowledge")
        went = await run("Case Knowledge", "CopyToNote", f"id={ids['Router keeps rebooting']}", session=session)
        assert went.result == "clipboard"
        assert host.of("copy_to_clipboard")[-1][0].startswith("Router keeps rebooting\n\nUpdate the router")


async def test_the_query_setting_searches_when_the_case_arrives(qtbot: Any, tmp_path: Path) -> None:
    async with running(tmp_path) as (desktop, data, _ids):
        session = desktop.sessions.create("Caller")
        _control, widget = knowledge(desktop, session, "Case Knowledge")
        assert widget.box.text() == ""  # no case yet
        case_id = await data.create("case", {"title": "Cum resetez parola?"})
        case = await data.get("case", case_id)
        assert case is not None
        publish_record(session, "case", case)
        await until(lambda: titles(widget), "results for the case title")
        assert widget.box.text() == "Cum resetez parola?"
        assert titles(widget) == ["Resetarea parolei"]  # language: ro


async def test_indexing_runs_in_the_background_and_the_control_stays_usable(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path) as (desktop, data, ids):
        knowledge_search = data.knowledge
        assert knowledge_search is not None
        real_sync = knowledge_search.sync
        release = threading.Event()

        def slow_sync(**kwargs: Any) -> int:
            if kwargs.get("stop") is not None:  # the background index, as after a bulk import: minutes
                release.wait(30)
            return real_sync(**kwargs)

        monkeypatch.setattr(knowledge_search, "sync", slow_sync)
        try:
            session = desktop.sessions.create("Caller")
            control, widget = knowledge(desktop, session)
            await until(lambda: widget.status.text() == "Indexing 4 articles…", "the indexing state")
            opened = await desktop.dispatcher.run_action(
                "Knowledge", "OpenArticle", f"id={ids['A copy of an invoice']}", session=session)
            assert opened.outcome is Outcome.RAN  # the control answers while the index is built
            assert "Invoices are in the portal" in widget.article.toPlainText()
            QTest.keyClicks(widget.box, "router")
            await until(lambda: titles(widget), "results while indexing")
            assert titles(widget) == ["Router keeps rebooting"]
            assert widget.status.text() == "Indexing 4 articles… · 1 article found so far"
            assert control.indexing == 4
        finally:
            release.set()
        await until(lambda: control.indexing is None, "the index done")
        await until(lambda: widget.status.text() == "1 article found", "the search run again")
        assert titles(widget) == ["Router keeps rebooting"]
