"""Knowledge Search: the knowledge articles found while the agent types, and copied into a note.

A search box gives results while typing (:attr:`KnowledgeSearchControl.DEBOUNCE` after the last
keystroke; a newer query makes older results be ignored). Each result shows its title, a snippet
with the matched words emphasised, its language and tags; the article pane shows the whole article
with "Copy to note" and "Copy" (the text to the clipboard, for a reply). Misspelt and misheard words
find articles too (:mod:`usd_desktop.data.knowledge`). Every search runs in a worker thread.

The knowledge index is brought up to date in the background when the control is created
(``index_knowledge()``, in a worker thread), showing "Indexing N articles…"; the control stays
usable meanwhile (searches find what is indexed so far and run again when the index is done).

Settings: ``language`` (a replacement-parameter template; default ``[[$User.language]]``; blank or
``all`` searches every language), ``limit`` (10), ``notes_control`` (the Notes control that
``CopyToNote`` appends to) and ``query`` (a template searched for when the control is created, e.g.
``[[case.title]]``; run as soon as its parameters have values).

Actions: ``Search`` (``query=`` or the remainder; returns the number of articles found),
``Clear``, ``OpenArticle`` (``id=``; returns the title) and ``CopyToNote`` (``id=``, default the
open article: title and text appended with the Notes control's ``AppendText`` in the same session,
else copied to the clipboard; returns where it went). Events: ``ArticleSelected`` (``Id``,
``Title``) and ``ArticleCopied`` (``Id``, ``Title``, ``Target``: the Notes control or ``clipboard``).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QResizeEvent, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.core.context import ChangeSet, Session
from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext, Chain
from usd_desktop.core.errors import ActionError, ReplacementError
from usd_desktop.core.replacement import render
from usd_desktop.core.trace import Outcome
from usd_desktop.data.errors import DataError
from usd_desktop.data.knowledge import ArticleHit, normalise
from usd_desktop.data.services import DataServices
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import KNOWLEDGE_SEARCH
from usd_desktop.hosted_controls.qt.base import QtHostedControl

log = logging.getLogger(__name__)

RESULT_ROLE = Qt.ItemDataRole.UserRole + 1
HTML_ROLE = Qt.ItemDataRole.UserRole + 2
_WORD = re.compile(r"[^\W_]+")
_MARK = "<span style='background-color:#fff0a8; font-weight:bold'>{}</span>"
CLIPBOARD = "clipboard"


@dataclass(frozen=True)
class Result:
    """One found article as the list shows it."""

    id: str
    title: str
    snippet: str
    language: str
    tags: tuple[str, ...]
    matched: frozenset[str]
    score: float

    def html(self) -> str:
        meta = " · ".join(p for p in (self.language.upper(), ", ".join(self.tags)) if p)
        return (
            f"<div style='font-weight:bold; font-size:large'>{emphasise(self.title, self.matched)}</div>"
            f"<div style='color:#333'>{emphasise(self.snippet, self.matched)}</div>"
            + (f"<div style='color:#777; font-size:small'>{html.escape(meta)}</div>" if meta else "")
        )


def emphasise(text: str, matched: Iterable[str]) -> str:
    """``text`` as HTML with the words whose normalised form is in ``matched`` marked."""
    words = set(matched)
    out: list[str] = []
    pos = 0
    for m in _WORD.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        word = m.group(0)
        marked = bool(words) and normalise(word) in words
        out.append(_MARK.format(html.escape(word)) if marked else html.escape(word))
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def article_html(article: Mapping[str, Any], matched: Iterable[str]) -> str:
    """The whole article: title, language and tags, then the text in paragraphs."""
    title = str(article.get("title") or "")
    body = str(article.get("body") or "")
    tags = ", ".join(t.strip() for t in str(article.get("tags") or "").split(",") if t.strip())
    meta = " · ".join(p for p in (str(article.get("language") or "").upper(), tags) if p)
    words = set(matched)
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    text = "".join(
        "<p>" + "<br>".join(emphasise(line, words) for line in para.strip().splitlines()) + "</p>"
        for para in paragraphs
    )
    return (
        f"<h2 style='margin-bottom:2px'>{html.escape(title)}</h2>"
        + (f"<p style='color:#777; margin-top:0'>{html.escape(meta)}</p>" if meta else "")
        + (text or "<p style='color:#777'>(This article has no text.)</p>")
    )


class ResultDelegate(QStyledItemDelegate):
    """Paints a result's rich text (title, emphasised snippet, language and tags) across the row."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def _document(self, text: str, width: int) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(self._view.font())
        doc.setDocumentMargin(6)
        doc.setHtml(text)
        doc.setTextWidth(max(width, 80))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        rect = option.rect
        state = option.state
        painter.save()
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor("#dce8fb"))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor("#f2f6fc"))
        painter.setPen(QPen(QColor("#e2e2e2")))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        doc = self._document(str(index.data(HTML_ROLE) or ""), rect.width())
        painter.translate(rect.topLeft())
        painter.setClipRect(0, 0, rect.width(), rect.height())
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        width = self._view.viewport().width() or 300
        doc = self._document(str(index.data(HTML_ROLE) or ""), width)
        return QSize(width, int(doc.size().height()) + 1)


#: Widths (px) from which results and article sit side by side.
WIDE = 640


class KnowledgeWidget(QWidget):
    """The search box and status over the results and the article pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.box = QLineEdit(self)
        self.box.setPlaceholderText("Search the knowledge base: type a few words…")
        self.box.setClearButtonEnabled(True)
        self.status = QLabel(self)
        self.status.setStyleSheet("color: #666;")
        layout.addWidget(self.box)
        layout.addWidget(self.status)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter = splitter
        self.results = QListWidget(splitter)
        self.results.setItemDelegate(ResultDelegate(self.results))
        self.results.setResizeMode(QListView.ResizeMode.Adjust)
        self.results.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setMouseTracking(True)
        self.results.setWordWrap(True)
        pane = QWidget(splitter)
        pane_layout = QVBoxLayout(pane)
        pane_layout.setContentsMargins(6, 0, 0, 0)
        self.article = QTextBrowser(pane)
        self.article.setOpenExternalLinks(False)
        self.article.setPlaceholderText("Choose an article to read it here.")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.copy_note_button = QPushButton("Copy to note", pane)
        self.copy_button = QPushButton("Copy", pane)
        self.copy_button.setToolTip("Copy the article's text to the clipboard, for a reply")
        buttons.addWidget(self.copy_note_button)
        buttons.addWidget(self.copy_button)
        pane_layout.addWidget(self.article, 1)
        pane_layout.addLayout(buttons)
        splitter.addWidget(self.results)
        splitter.addWidget(pane)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout.addWidget(splitter, 1)
        self.show_article(None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # side by side when there is room; in a narrow side panel the article goes under the results
        wanted = Qt.Orientation.Horizontal if event.size().width() >= WIDE else Qt.Orientation.Vertical
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
        super().resizeEvent(event)

    def show_article(self, article_html_text: str | None) -> None:
        if article_html_text is None:
            self.article.clear()
        else:
            self.article.setHtml(article_html_text)
        self.copy_note_button.setEnabled(article_html_text is not None)
        self.copy_button.setEnabled(article_html_text is not None)


class KnowledgeSearchControl(QtHostedControl):
    """Knowledge articles found while typing (see the module doc)."""

    control_type = KNOWLEDGE_SEARCH
    task_failure = "a knowledge search failed"
    #: Seconds after the last keystroke before the search runs.
    DEBOUNCE = 0.25

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.query = ""
        self.results: list[Result] = []
        self.article: dict[str, Any] | None = None
        self.indexing: int | None = None  # articles being indexed (-1: an unknown number)
        self.searching = False
        self.message = ""
        self._generation = 0
        self._timer: asyncio.TimerHandle | None = None
        self._typed: asyncio.Task[Any] | None = None
        self._index_task: asyncio.Task[Any] | None = None
        self._template_listener: Callable[[], None] = lambda: None
        services = self.env.data
        if services is not None and services.knowledge is not None:
            self._index_task = self.start_task(self._index(services))
        else:
            self.message = "Knowledge search needs the SQL data source."
        template = str(self.settings.get("query") or "").strip()
        if template and not self._run_template(template):
            self._template_listener = self.keep(self.env.dispatcher.sessions.changed.connect(
                lambda change: self._template_changed(change, template)))

    # ------------------------------------------------------------------ helpers


    def _services(self) -> DataServices:
        services = self.data_services()
        if services.knowledge is None:
            raise ActionError(f"{self.name}: knowledge search needs the SQL data source")
        return services

    def _raise(self, event: str, parameters: Mapping[str, Any]) -> None:
        if not self.closed:
            self.raise_event(event, parameters)

    def _render_setting(self, template: str) -> str:
        """A setting rendered against the session's parameters (blank when one is missing)."""
        dispatcher = self.env.dispatcher
        try:
            data = dispatcher.sessions.data_for(self.session)
            return render(template, data, scriptlets=dispatcher.scriptlets)
        except ReplacementError:
            return ""

    def language(self) -> str | None:
        """The language searched: the ``language`` setting, else ``[[$User.language]]``; ``None``: all."""
        setting = self.settings.get("language")
        template = str(setting) if setting is not None else "[[$User.language]+]"
        value = self._render_setting(template).strip()
        return None if not value or value.lower() in ("all", "any", "*") else value

    def limit(self) -> int:
        try:
            return max(1, int(str(self.settings.get("limit", 10))))
        except ValueError:
            return 10

    # ------------------------------------------------------------------ the query setting
    def _run_template(self, template: str) -> bool:
        """Search for the rendered ``query`` setting; ``False`` while its parameters have no value."""
        text = self._render_setting(template)
        if not text.strip():
            return False
        self._set_box(text)
        self.start_task(self.search(text))
        return True

    def _template_changed(self, change: ChangeSet, template: str) -> None:
        sessions = self.env.dispatcher.sessions
        if self.closed or change.session_id not in (self.session.id, sessions.global_session.id):
            return
        if self._run_template(template):
            self._template_listener()

    # ------------------------------------------------------------------ indexing
    async def _index(self, services: DataServices) -> None:
        """Index what waits (after a bulk import: minutes), in a worker thread, then search again."""
        try:
            pending = await services.call(services.knowledge_backlog)
        except (DataError, sa.exc.SQLAlchemyError):
            pending = -1
        if pending == 0:
            return
        self.indexing = pending
        self._update_status()
        try:
            count = await services.index_knowledge()
        except (DataError, sa.exc.SQLAlchemyError) as exc:  # searches still run on what is indexed
            log.error("%s: the knowledge index could not be updated: %s", self.name, exc)
            return
        finally:
            self.indexing = None
            self._update_status()
        log.info("%s: %d knowledge articles indexed", self.name, count)
        if self.query.strip() and not self.closed:  # results from the whole index now
            self.start_task(self.search(self.query))

    def _indexing_text(self) -> str:
        if self.indexing is None:
            return ""
        count = f"{self.indexing} " if self.indexing >= 0 else ""
        noun = "article" if self.indexing == 1 else "articles"
        return f"Indexing {count}{noun}…"

    # ------------------------------------------------------------------ searching
    def _on_text_edited(self, text: str) -> None:
        self.query = text
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_event_loop().call_later(self.DEBOUNCE, self._typed_pause)

    def _typed_pause(self) -> None:
        self._timer = None
        if self.closed:
            return
        if self._typed is not None and not self._typed.done():
            self._typed.cancel()  # its results would be stale anyway
        self._typed = self.start_task(self.search(self.query))

    async def search(self, query: str) -> int:
        """Search for ``query`` and show the results unless a newer query came; returns the hit count."""
        self._generation += 1
        generation = self._generation
        self.query = query
        if not query.strip():
            self._show_results([], generation)
            return 0
        services = self._services()
        self.searching = True
        self._update_status()
        try:  # while a big backlog is indexed, this searches what is indexed so far
            hits: list[ArticleHit] = await services.call(
                services.knowledge.search,  # type: ignore[union-attr]
                query, language=self.language(), limit=self.limit(),
            )
            meta = await self._article_meta(services, [hit.id for hit in hits]) if hits else {}
        except (DataError, sa.exc.SQLAlchemyError) as exc:
            if generation == self._generation:
                self.searching = False
                self.message = f"Search failed: {exc}"
                self._update_status()
            raise ActionError(f"{self.name}: the search failed: {exc}") from None
        finally:
            if generation == self._generation:
                self.searching = False
        results = [
            Result(hit.id, hit.title, hit.snippet, meta.get(hit.id, ("", ""))[0],
                   tuple(t.strip() for t in meta.get(hit.id, ("", ""))[1].split(",") if t.strip()),
                   frozenset(hit.matched), hit.score)
            for hit in hits
        ]
        self._show_results(results, generation)
        return len(results)

    @staticmethod
    async def _article_meta(services: DataServices, ids: list[str]) -> dict[str, tuple[str, str]]:
        """Language and tags of the found articles, in one query."""
        search = EntitySearch(name="found articles", entity="knowledge_article",
                              filters=[SearchFilter(field="id", operator="in", value=",".join(ids))],
                              columns=["language", "tags"], max_count=max(len(ids), 1))
        result = await services.search(search, announce=False)
        return {str(r["id"]): (str(r.get("language") or ""), str(r.get("tags") or "")) for r in result.rows}

    def _show_results(self, results: list[Result], generation: int) -> None:
        if generation != self._generation or self.closed:
            return  # a newer query has been typed: these results are stale
        self.results = results
        self.message = ""
        widget = self.knowledge_widget
        if widget is not None:
            widget.results.blockSignals(True)
            widget.results.clear()
            for result in results:
                item = QListWidgetItem(result.title)
                item.setData(RESULT_ROLE, result.id)
                item.setData(HTML_ROLE, result.html())
                item.setToolTip(result.title)
                widget.results.addItem(item)
            widget.results.blockSignals(False)
        self._update_status()

    def _update_status(self) -> None:
        widget = self.knowledge_widget
        if widget is None:
            return
        parts = [self._indexing_text()]
        if self.message:
            parts.append(self.message)
        elif self.searching:
            parts.append("Searching…")
        elif self.query.strip():
            count = len(self.results)
            found = f"{count} article{'s' if count != 1 else ''} found"
            parts.append((found if count else "No articles found") + (" so far" if self.indexing else ""))
        widget.status.setText(" · ".join(p for p in parts if p))

    # ------------------------------------------------------------------ articles
    async def open_article(self, id: str) -> dict[str, Any]:
        services = self.data_services()
        try:
            article = await services.get("knowledge_article", id)
        except DataError as exc:
            raise ActionError(f"{self.name}: the article {id!r} could not be read: {exc}") from None
        if article is None:
            raise ActionError(f"{self.name}: there is no knowledge article {id!r}")
        self.article = article
        widget = self.knowledge_widget
        if widget is not None:
            matched: set[str] = set()
            for result in self.results:
                if result.id == id:
                    matched = set(result.matched)
            widget.show_article(article_html(article, matched))
        self._raise("ArticleSelected", {"Id": id, "Title": article.get("title") or ""})
        return article

    def _current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        id = current.data(RESULT_ROLE)
        if id and (self.article is None or self.article.get("id") != id):
            self.start_task(self.open_article(str(id)))

    def _notes_target(self) -> tuple[str, Session] | None:
        """The Notes control to append to and the session it is in, if there is one."""
        name = str(self.settings.get("notes_control") or "").strip()
        if not name:
            return None
        definition = self.env.config.controls_by_name.get(name)
        if definition is None:
            log.warning("%s: notes_control %r is not a hosted control of this configuration", self.name, name)
            return None
        sessions = self.env.dispatcher.sessions
        if definition.is_global:
            return name, sessions.global_session
        session = self.session if not self.session.is_global else sessions.active
        return None if session.is_global else (name, session)

    async def copy_to_note(self, id: str | None = None, chain: Chain | None = None) -> str:
        """Append the article to the Notes control (else the clipboard); returns where it went."""
        article = self.article
        if id and (article is None or article.get("id") != id):
            article = await self.open_article(id)
        if article is None:
            raise ActionError(f"{self.name}: CopyToNote needs id= or an open article")
        title = str(article.get("title") or "")
        text = f"{title}\n\n{article.get('body') or ''}".strip()
        target = CLIPBOARD
        notes = self._notes_target()
        if notes is not None:
            outcome = await self.env.dispatcher.run_action(
                notes[0], "AppendText", text, session=notes[1], chain=chain, literal=True)
            if outcome.outcome is Outcome.RAN:
                target = notes[0]
            else:
                log.warning("%s: the article could not be added to %s (%s); copied to the clipboard",
                            self.name, notes[0], outcome.reason)
        if target == CLIPBOARD:
            self.env.host.copy_to_clipboard(text)
        self.message = f"Copied to {'the clipboard' if target == CLIPBOARD else target}"
        self._update_status()
        self._raise("ArticleCopied", {"Id": article.get("id") or "", "Title": title, "Target": target})
        return target

    def copy_text(self) -> None:
        """The open article's text to the clipboard (to paste into a reply)."""
        if self.article is not None:
            self.env.host.copy_to_clipboard(str(self.article.get("body") or ""))
            self.message = "Copied the text to the clipboard"
            self._update_status()

    def clear(self) -> None:
        self._generation += 1  # searches in flight are now stale
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.query = ""
        self.results = []
        self.article = None
        self.message = ""
        self.searching = False
        widget = self.knowledge_widget
        if widget is not None:
            widget.box.clear()
            widget.results.clear()
            widget.show_article(None)
        self._update_status()

    # ------------------------------------------------------------------ the widget
    def create_widget(self) -> QWidget:
        widget = KnowledgeWidget()
        widget.box.setText(self.query)
        widget.box.textEdited.connect(self._on_text_edited)
        widget.box.returnPressed.connect(self._typed_pause)
        widget.results.currentItemChanged.connect(self._current_changed)
        widget.copy_note_button.clicked.connect(lambda: self.start_task(self.copy_to_note()))
        widget.copy_button.clicked.connect(self.copy_text)
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        self._widget = widget
        self._show_results(self.results, self._generation)
        if self.article is not None:
            widget.show_article(article_html(self.article, ()))
        return widget

    def _widget_destroyed(self, widget: KnowledgeWidget) -> None:
        if self._widget is widget:
            self._widget = None

    @property
    def knowledge_widget(self) -> KnowledgeWidget | None:
        widget = self._widget
        return widget if isinstance(widget, KnowledgeWidget) else None

    def _set_box(self, text: str) -> None:
        self.query = text
        widget = self.knowledge_widget
        if widget is not None and widget.box.text() != text:
            widget.box.setText(text)  # setText does not emit textEdited: no second search

    # ------------------------------------------------------------------ UII actions
    @uii_action("Search")
    async def search_action(self, data: ActionData, call: CallContext) -> str:
        query = data.take("query")
        if query is None:
            query = data.remainder()
        query = " ".join(query.split())
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._set_box(query)
        return str(await self.search(query))

    @uii_action("Clear")
    def clear_action(self, data: ActionData, call: CallContext) -> None:
        self.clear()

    @uii_action("OpenArticle")
    async def open_article_action(self, data: ActionData, call: CallContext) -> str:
        id = (data.take("id") or data.positional(0) or "").strip()
        if not id:
            raise ActionError(f"{self.name}: OpenArticle needs id=<article id>")
        article = await self.open_article(id)
        return str(article.get("title") or "")

    @uii_action("CopyToNote")
    async def copy_to_note_action(self, data: ActionData, call: CallContext) -> str:
        id = (data.take("id") or data.positional(0) or "").strip() or None
        return await self.copy_to_note(id, chain=call.chain)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self.closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.cancel_tasks()
        super().close()
