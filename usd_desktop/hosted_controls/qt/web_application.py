"""Standard Web Application: any web page, hosted in QtWebEngine (reference §2.2).

Settings (the hosted control's ``settings``):

* ``url``: the home page; may contain replacement parameters (``[[account.id]]``). Loaded when the
  control is first shown, and by ``GoHome``. A missing parameter means: no load (logged).
* ``zoom``: the page zoom factor (``1.0`` is 100 %).

The Chromium renderer is the desktop's memory budget (~275 MB for the first view, a few MB for each
further page), so :meth:`create_widget` returns an empty container; the view and its page are made
the first time the container is shown or an action needs the page.

Actions: ``Navigate`` (``url=`` or the first line; loads without the window navigation rules),
``Popup`` (the same data; the rules route it, see :mod:`.web_routing`), ``GoBack``, ``GoForward``,
``GoHome``, ``Refresh``, ``RunScript`` (the data is JavaScript run in the page; its result is the
action's ``$Return``; the script waits for a load in progress first), plus the common ones
(``Close``...).

Events: ``BrowserDocumentComplete`` and then ``PageReady`` (parameter ``url``) after each
main-frame load that succeeded; ``PopupRouted`` (``url``, raised by the router) when a rule took a
pop-up or navigation of this control. The control publishes ``[[Name.url]]``, ``[[Name.title]]``
and, once the renderer has died at least once, ``[[Name.crashes]]``.

Pages raise events and run actions through USD monikers (``window.open("https://event/?...")``,
links to ``https://uii/...`` and ``https://actioncall/...``); see :mod:`.web_page`. Their pop-ups and
in-place navigations go through the window navigation rules, the control can be a rule's target
tab, and its page is journaled for crash recovery: see :mod:`.web_routing`. A renderer that
crashes or is killed is replaced and the last URL reloaded, for this control alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QShowEvent
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext
from usd_desktop.core.errors import ActionError, MissingParameter, ReplacementError
from usd_desktop.core.replacement import render
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import STANDARD_WEB_APPLICATION
from usd_desktop.hosted_controls.qt.web_page import (
    CspBlocked,
    UsdWebPage,
    decode_script_result,
    is_moniker,
    script_result_text,
    wrap_script,
)
from usd_desktop.hosted_controls.qt.web_routing import RoutedWebControl, action_url

log = logging.getLogger(__name__)

#: Navigate's options that have no meaning here (no command or navigation bar, no frames yet).
IGNORED_NAVIGATE_KEYS = ("HideCommandBar", "HideNavigationBar", "Noscan", "Frame", "postdata",
                         "header")
#: How long RunScript waits for a load in progress before it runs anyway.
LOAD_WAIT_S = 30.0
#: Crash recovery gives up after this many renderer deaths within CRASH_WINDOW_S.
MAX_RELOADS = 3
CRASH_WINDOW_S = 60.0

_Status = QWebEnginePage.RenderProcessTerminationStatus


class _LazyContainer(QWidget):
    """The control's widget: empty until first shown, then it asks for the web view."""

    def __init__(self, on_first_show: Any) -> None:
        super().__init__()
        self._on_first_show = on_first_show
        self.pending = False
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._on_first_show is not None and not self.pending:
            # Create the view on the next turn of the event loop: the window paints (and the
            # desktop becomes ready) first; Chromium starts right after.
            self.pending = True
            QTimer.singleShot(0, self, self._first_show)

    def _first_show(self) -> None:
        callback, self._on_first_show = self._on_first_show, None
        self.pending = False
        if callback is not None:
            callback()


class StandardWebApplication(RoutedWebControl):
    control_type = STANDARD_WEB_APPLICATION

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._container: _LazyContainer | None = None
        self._view: QWebEngineView | None = None
        self._page: UsdWebPage | None = None
        self._loading = False  # a load we started or the page reported has not finished yet
        self._load_waiters: list[asyncio.Future[None]] = []
        self._scripts: set[asyncio.Future[Any]] = set()
        self._last_url = ""
        self.crashes = 0
        self._crash_times: list[float] = []

    # ------------------------------------------------------------------ widget and page
    def create_widget(self) -> QWidget:
        self._container = _LazyContainer(self._first_shown)
        self._container.destroyed.connect(self._forget_widgets)
        return self._container

    @property
    def view(self) -> QWebEngineView | None:
        """The web view, or ``None`` while the control has not needed one yet."""
        return self._view

    @property
    def page(self) -> UsdWebPage | None:
        return self._page

    @property
    def is_loading(self) -> bool:
        """A page load is under way (the shell waits on it before a ``--screenshot``)."""
        return self._loading or (self._container is not None and self._container.pending)

    def _first_shown(self) -> None:
        if not self.closed and self._page is None:
            self._ensure_page()

    def _ensure_page(self, *, load_home: bool = True) -> UsdWebPage:
        if self.closed:
            raise ActionError(f"{self.name} is closed")
        if self._page is not None:
            return self._page
        self.widget()
        container = self._container
        assert container is not None
        self._view = QWebEngineView(container)
        self._view.setObjectName(f"{self.name}.view")
        container.box.addWidget(self._view)
        self._new_page()
        if load_home:
            if self._start_url:  # a restored page
                self._load(self._start_url)
            else:
                self._load_home(self.env.dispatcher.sessions.data_for(self.session))
        assert self._page is not None
        return self._page

    def _new_page(self) -> None:
        assert self._view is not None
        old = self._page
        page = UsdWebPage(QWebEngineProfile.defaultProfile(), self._view,
                          on_moniker=self._open_moniker, on_popup=self._open_popup,
                          on_navigation=self._accept_navigation)
        page.setObjectName(f"{self.name}.page")
        zoom = self._zoom()
        if zoom is not None:
            page.setZoomFactor(zoom)
        page.loadStarted.connect(self._on_load_started)
        page.loadFinished.connect(self._on_load_finished)
        page.urlChanged.connect(self._on_url_changed)
        page.titleChanged.connect(self._on_title_changed)
        page.renderProcessTerminated.connect(self._on_render_terminated)
        self._page = page
        self._view.setPage(page)
        if old is not None:
            old.deleteLater()

    def _forget_widgets(self, *_: Any) -> None:
        self._container = self._view = self._page = None
        self._widget = None

    def _zoom(self) -> float | None:
        raw = self.settings.get("zoom")
        if raw is None or str(raw).strip() == "":
            return None
        try:
            zoom = float(raw)
        except ValueError:
            log.error("%s: setting zoom=%r is not a number", self.name, raw)
            return None
        return zoom if zoom > 0 else None

    # ------------------------------------------------------------------ loading
    def _home_url(self, data: Mapping[str, Any]) -> str | None:
        raw = str(self.settings.get("url") or "").strip()
        if not raw:
            return None
        try:
            return render(raw, data, scriptlets=self.env.dispatcher.scriptlets).strip() or None
        except MissingParameter as exc:
            log.warning("%s: home page not loaded: %s", self.name, exc)
        except ReplacementError as exc:
            log.error("%s: home page url %r: %s", self.name, raw, exc)
        return None

    def _load_home(self, data: Mapping[str, Any]) -> bool:
        url = self._home_url(data)
        if url is None:
            return False
        self._load(url)
        return True

    def _load(self, url: str) -> None:
        if is_moniker(url):
            self._open_moniker(url)
            return
        page = self._ensure_page(load_home=False)
        qurl = QUrl.fromUserInput(url)
        self._loading = True
        self._last_url = qurl.toString()
        self._loading_itself(self._last_url)
        page.load(qurl)

    def _on_load_started(self) -> None:
        self._loading = True

    def _on_load_finished(self, ok: bool) -> None:
        page = self._page
        if page is None or page.isLoading():
            return  # a newer load superseded this one; wait for it
        self._loading = False
        self._wake_load_waiters()
        url = page.url().toString()
        if not ok:
            log.info("%s: load of %s failed", self.name, url or self._last_url)
            return
        self.publish({"url": url, "title": page.title()})
        self.env.spawn(self._document_complete(url), session=self.session)

    async def _document_complete(self, url: str) -> None:
        await self.raise_event_and_wait("BrowserDocumentComplete", {"url": url})
        await self.raise_event_and_wait("PageReady", {"url": url})

    def _on_url_changed(self, url: QUrl) -> None:
        text = url.toString()
        if text:
            self._last_url = text
            self.publish({"url": text})
            self._page_url_changed(text)

    def _on_title_changed(self, title: str) -> None:
        self.publish({"title": title})

    def _wake_load_waiters(self) -> None:
        waiters, self._load_waiters = self._load_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _until_loaded(self) -> None:
        if not self._loading:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._load_waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, LOAD_WAIT_S)
        except TimeoutError:
            log.warning("%s: the page is still loading after %.0f s; running the script anyway",
                        self.name, LOAD_WAIT_S)

    # ------------------------------------------------------------------ monikers
    def _open_moniker(self, url: str) -> None:
        if self.closed:
            return
        self.env.spawn(
            self.env.dispatcher.open_moniker(url, source=self.name, session=self.session,
                                             trusted=False),
            session=self.session,
        )

    # ------------------------------------------------------------------ crash recovery
    def _on_render_terminated(self, status: _Status, exit_code: int) -> None:
        if status == _Status.NormalTerminationStatus or self.closed:
            return
        self.crashes += 1
        self.publish({"crashes": self.crashes})
        self._fail_scripts(ActionError(f"{self.name}: the page's renderer died ({status.name})"))
        now = time.monotonic()
        self._crash_times = [t for t in self._crash_times if now - t < CRASH_WINDOW_S] + [now]
        if len(self._crash_times) > MAX_RELOADS:
            log.error("%s: renderer died %d times in %.0f s (%s, exit code %d); not reloading",
                      self.name, len(self._crash_times), CRASH_WINDOW_S, status.name, exit_code)
            self._loading = False
            self._wake_load_waiters()
            return
        log.warning("%s: renderer died (%s, exit code %d); reloading %s", self.name, status.name,
                    exit_code, self._last_url or "the home page")
        QTimer.singleShot(0, self._recover)

    def _recover(self) -> None:
        if self.closed or self._view is None:
            return
        if self._page is None:
            self._new_page()
        if self._last_url:
            self._load(self._last_url)
        else:
            self._load_home(self.env.dispatcher.sessions.data_for(self.session))

    # ------------------------------------------------------------------ scripts
    async def run_script(self, code: str) -> str | None:
        """Run ``code`` in the page once any load in progress has finished; its value as text.

        The value is the script's completion value (as ``eval`` gives it): objects and arrays come
        back as JSON, ``undefined`` and ``null`` as ``None``; a script that throws raises
        :class:`ActionError` with the JavaScript message. On a page whose Content-Security-Policy
        forbids ``eval`` the script runs as it is and only strings, numbers and booleans come back.
        """
        wrapped = decode_script_result(await self._run_js(wrap_script(code)))
        if isinstance(wrapped, CspBlocked):
            log.info("%s: the page forbids eval; running the script unwrapped", self.name)
            return script_result_text(await self._run_js(code))
        return wrapped

    async def _run_js(self, code: str) -> Any:
        page = self._ensure_page()
        await self._until_loaded()
        page = self._page or page
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(value: Any) -> None:
            if not future.done():
                future.set_result(value)

        self._scripts.add(future)
        future.add_done_callback(self._scripts.discard)
        page.runJavaScript(code, 0, done)
        return await future

    def _fail_scripts(self, error: Exception) -> None:
        for future in list(self._scripts):
            if not future.done():
                future.set_exception(error)

    # ------------------------------------------------------------------ UII actions
    @uii_action("Navigate")
    def navigate(self, data: ActionData, call: CallContext) -> None:
        for key in IGNORED_NAVIGATE_KEYS:
            data.take(key)
        self._load(action_url(data, "Navigate"))  # bypasses the window navigation rules

    @uii_action("GoHome")
    def go_home(self, data: ActionData, call: CallContext) -> None:
        if not str(self.settings.get("url") or "").strip():
            raise ActionError(f"{self.name} has no home page: set its url setting")
        if not self._load_home(call.data()):
            raise ActionError(f"{self.name}: the home page url could not be rendered")

    @uii_action("GoBack")
    def go_back(self, data: ActionData, call: CallContext) -> None:
        page = self._ensure_page()
        if page.history().canGoBack():
            self._loading = True
            page.triggerAction(QWebEnginePage.WebAction.Back)

    @uii_action("GoForward")
    def go_forward(self, data: ActionData, call: CallContext) -> None:
        page = self._ensure_page()
        if page.history().canGoForward():
            self._loading = True
            page.triggerAction(QWebEnginePage.WebAction.Forward)

    @uii_action("Refresh")
    def refresh(self, data: ActionData, call: CallContext) -> None:
        page = self._ensure_page()
        if page.url().isEmpty() or page.url().toString() == "about:blank":
            if self._last_url:
                self._load(self._last_url)
            return
        self._loading = True
        page.triggerAction(QWebEnginePage.WebAction.Reload)

    @uii_action("RunScript")
    async def run_script_action(self, data: ActionData, call: CallContext) -> str | None:
        code = data.remainder()
        if not code.strip():
            raise ActionError("RunScript needs JavaScript in its data")
        return await self.run_script(code)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        if self.closed:
            return
        self._fail_scripts(ActionError(f"{self.name} closed while a script was running"))
        for waiter in self._load_waiters:
            waiter.cancel()
        self._load_waiters = []
        page, view = self._page, self._view
        self._page = self._view = None
        if page is not None:
            page.deleteLater()
        if view is not None:
            view.deleteLater()
        super().close()
        self._container = None

