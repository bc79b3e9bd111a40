"""Window navigation rules in the Standard Web Application, with real QtWebEngine pages served on
localhost: pop-ups that create sessions, in-place links routed or blocked, Navigate's bypass, the
default when no rule matches, and the page journaled for crash recovery."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWebEngineCore import QWebEnginePage

from usd_desktop.core.context import Session
from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.base import HostedControl
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.web_application import StandardWebApplication
from usd_desktop.testing import make_desktop
from usd_desktop.testing import until as _until

pytestmark = [
    pytest.mark.webengine,
    # Offscreen there is no OpenGL: Qt falls back from the GL RHI and Chromium from the GPU.
    pytest.mark.qt_log_ignore(
        r"^QRhiGles2: Failed to create",
        r"^Failed to create RHI for backend: OpenGL",
        r"^GPUInfo not initialized on GpuInfoUpdate",
        extend=True,
    ),
]

TIMEOUT = 15.0
TEL = "tel:+358401234567"

SEARCH_PAGE = """<!doctype html><html><head><title>Search</title></head>
<body style="margin:0">
<a id="tel" href="tel:+358401234567" style="display:block;width:300px;height:60px">Call</a>
<a id="mail" href="mailto:agent@example.com" style="display:block;width:300px;height:60px">Mail</a>
<a id="pop" href="/account?etn=account&amp;id=A1" target="_blank">Account A1 (new window)</a>
<a id="inplace" href="/account?etn=account&amp;id=B1">Account B1 (in place)</a>
<a id="plain" href="/plain" target="_blank">Plain (new window)</a>
</body></html>"""


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/search":
            body = SEARCH_PAGE
        elif parts.path == "/account":
            ident = parse_qs(parts.query).get("id", ["?"])[0]
            body = f"<!doctype html><title>Account {ident}</title><p>Account {ident}</p>"
        elif parts.path in ("/plain", "/news"):
            body = f"<!doctype html><title>{parts.path[1:].title()}</title><p>text</p>"
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """One localhost server for the module: ``/search``, ``/account?id=``, ``/plain``, ``/news``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def config_yaml(base: str) -> str:
    return textwrap.dedent(f"""\
        name: web-routing
        hosted_controls:
          - {{name: Global Manager, type: GlobalManager}}
          - name: Search
            type: StandardWebApplication
            settings: {{url: "{base}/search"}}
          - {{name: Account, type: StandardWebApplication, is_global: false, is_dynamic: true}}
          - {{name: Web, type: StandardWebApplication, is_global: false, is_dynamic: true}}
        action_calls:
          - {{name: Dial, control: Global Manager, action: CopyToContext, data: "dialled=[[url]]"}}
          - {{name: Routed, control: Global Manager, action: CopyToContext, data: "routed=[[url]]"}}
        events:
          - {{control: Search, name: PopupRouted, action_calls: [Routed]}}
        window_navigation_rules:
          - {{name: Account pop-up creates a session, order: 10, from_control: Search,
             entity: account, route_type: popup, action: create_session,
             target_tab: Global Manager}}
          - {{name: Account page into its tab, order: 20, entity: account, route_type: popup,
             action: route_window, target_tab: Account}}
          - {{name: Account link in a new session, order: 25, from_control: Search,
             entity: account, route_type: in_place, action: create_session, target_tab: Account,
             hide_navigation_bar: true}}
          - {{name: Phone links dial, order: 30, url: "tel:*", route_type: in_place, action: none,
             action_calls: [Dial]}}
          - {{name: Account pop-ups to Web, order: 1000, from_control: Account, url: "*",
             route_type: popup, action: route_window, target_tab: Web}}
        """)


async def until(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    return await _until(predicate, what, timeout)


@asynccontextmanager
async def running(base: str) -> AsyncIterator[Desktop]:
    desktop = make_desktop(config_yaml(base))
    made: list[HostedControl] = []
    dispose = desktop.control_created.connect(made.append)
    await desktop.start()
    assert not desktop.problems, desktop.problems
    try:
        yield desktop
    finally:
        dispose()
        widgets: list[QObject] = []
        for control in made:
            if isinstance(control, StandardWebApplication):
                widgets.extend(w for w in (control.view, control.page, control._widget) if w)
        gone = [destroyed(w) for w in widgets]
        await desktop.shutdown()
        for _ in range(100):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            if all(f.done() for f in gone):
                break
            await asyncio.sleep(0.01)
        assert all(f.done() for f in gone), "the web controls' widgets were not deleted"


def destroyed(obj: QObject) -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(*_: Any) -> None:
        if not future.done():
            future.set_result(None)

    obj.destroyed.connect(done)
    return future


def web(desktop: Desktop, name: str, session: Session | None = None) -> StandardWebApplication:
    control = desktop.instance(name, session)
    assert isinstance(control, StandardWebApplication), f"no {name} control"
    return control


def page_ready(desktop: Desktop, control: str) -> list[Any]:
    return desktop.dispatcher.journal.find(kind="event", name="PageReady", control=control)


async def shows(desktop: Desktop, session: Session, control: str, title: str) -> StandardWebApplication:
    """Wait until ``control`` exists in ``session`` and its page ``title`` has finished loading."""
    await until(lambda: desktop.instance(control, session) is not None, f"{control} in the session")
    found = web(desktop, control, session)
    await until(lambda: session.store.get(control, "title") == title and not found.is_loading,
                f"{control} showing {title!r}")
    return found


async def search_page(desktop: Desktop, base: str) -> StandardWebApplication:
    """The Search control shown (its home page loaded)."""
    search = web(desktop, "Search")
    container = search.widget()
    container.resize(400, 300)
    container.show()
    glob = desktop.sessions.global_session
    await until(lambda: len(page_ready(desktop, "Search")) >= 1, "Search's home page")
    assert glob.store.get("Search", "url") == f"{base}/search"
    return search


async def click(desktop: Desktop, control: str, element: str) -> None:
    """Click an element of the page from a script (no user gesture)."""
    outcome = await desktop.dispatcher.run_action(
        control, "RunScript", f"document.getElementById('{element}').click()")
    assert outcome.outcome is Outcome.RAN, outcome.reason


def customer_sessions(desktop: Desktop) -> list[Session]:
    return list(desktop.sessions.customer_sessions)


async def test_pop_ups_of_accounts_create_sessions_and_load_in_account(
    qtbot: Any, base: str
) -> None:
    async with running(base) as desktop:
        await search_page(desktop, base)
        glob = desktop.sessions.global_session
        await click(desktop, "Search", "pop")  # a target=_blank link
        await until(lambda: len(customer_sessions(desktop)) == 1, "the first account session")
        (first,) = customer_sessions(desktop)
        assert first.entity == "account" and first.store.get("$Context", "Id") == "A1"
        account = await shows(desktop, first, "Account", "Account A1")
        assert first.store.get("Account", "url") == f"{base}/account?etn=account&id=A1"
        # the source page stayed where it was, and raised PopupRouted
        assert glob.store.get("Search", "url") == f"{base}/search"
        assert len(page_ready(desktop, "Search")) == 1
        await until(lambda: glob.store.get("$Context", "routed"), "Search's PopupRouted")
        assert glob.store.get("$Context", "routed") == f"{base}/account?etn=account&id=A1"
        (record,) = desktop.dispatcher.journal.find(kind="navigation")
        assert record.name == "Account page into its tab" and record.outcome is Outcome.RAN

        # window.open of another account: a second session
        await desktop.dispatcher.run_action(
            "Search", "RunScript", "window.open('/account?etn=account&id=A2'); 1")
        await until(lambda: len(customer_sessions(desktop)) == 2, "the second account session")
        second = next(s for s in customer_sessions(desktop) if s is not first)
        await shows(desktop, second, "Account", "Account A2")
        assert first.store.get("Account", "title") == "Account A1"  # untouched
        assert len(page_ready(desktop, "Search")) == 1

        # a pop-up from the Account page: the catch-all rule routes it to Web, same session
        page = account.page
        assert page is not None
        await desktop.dispatcher.run_action("Account", "RunScript", "window.open('/news'); 1",
                                            session=first)
        await shows(desktop, first, "Web", "News")
        assert first.store.get("Account", "title") == "Account A1"
        assert desktop.instance("Web", second) is None
        await until(lambda: page.findChildren(QWebEnginePage) == [], "the throwaway pop-up page gone")


async def test_in_place_link_matched_by_a_rule_is_routed_and_the_page_stays(
    qtbot: Any, base: str
) -> None:
    async with running(base) as desktop:
        search = await search_page(desktop, base)
        glob = desktop.sessions.global_session
        await click(desktop, "Search", "inplace")
        await until(lambda: len(customer_sessions(desktop)) == 1, "the session of the in-place link")
        (session,) = customer_sessions(desktop)
        await shows(desktop, session, "Account", "Account B1")
        assert glob.store.get("Search", "url") == f"{base}/search"
        assert len(page_ready(desktop, "Search")) == 1 and not search.is_loading
        (record,) = desktop.dispatcher.journal.find(kind="navigation")
        assert record.name == "Account link in a new session"
        assert record.parameters["routetype"] == "in_place"


async def test_tel_link_is_blocked_and_its_action_call_runs(qtbot: Any, base: str) -> None:
    async with running(base) as desktop:
        search = await search_page(desktop, base)
        glob = desktop.sessions.global_session
        view = search.view
        assert view is not None
        # Chromium hands an external scheme to Qt only for a navigation with a user gesture: a real
        # click on the link (a script's element.click() never reaches acceptNavigationRequest).
        proxy = await until(view.focusProxy, "the render widget")
        top = await desktop.dispatcher.run_action(
            "Search", "RunScript", "document.getElementById('tel').getBoundingClientRect().top")
        assert top.result == "0"
        QTest.mouseClick(proxy, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, QPoint(20, 20))
        await until(lambda: glob.store.get("$Context", "dialled"), "the Dial action call")
        assert glob.store.get("$Context", "dialled") == TEL
        (record,) = desktop.dispatcher.journal.find(kind="navigation")
        assert record.name == "Phone links dial" and record.action == "none"
        assert glob.store.get("Search", "url") == f"{base}/search"
        assert len(page_ready(desktop, "Search")) == 1
        assert customer_sessions(desktop) == []

        # no rule for mailto: the navigation goes ahead, to the system's handler; the page stays
        handler = _UrlCatcher()
        # (PySide takes the method name as str; its stub says bytes)
        QDesktopServices.setUrlHandler("mailto", handler, "open")  # type: ignore[arg-type]
        try:
            QTest.mouseClick(proxy, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             QPoint(20, 80))
            await until(lambda: handler.urls, "the mailto link handed to the system")
        finally:
            QDesktopServices.unsetUrlHandler("mailto")
        assert handler.urls == ["mailto:agent@example.com"]
        assert len(desktop.dispatcher.journal.find(kind="navigation")) == 1
        outcome = await desktop.dispatcher.run_action("Search", "RunScript", "document.title")
        assert outcome.result == "Search" and len(page_ready(desktop, "Search")) == 1


class _UrlCatcher(QObject):
    """Stands in for the system's handler of a URL scheme (QDesktopServices)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


async def test_navigate_bypasses_the_rules_and_popup_does_not(qtbot: Any, base: str) -> None:
    async with running(base) as desktop:
        await search_page(desktop, base)
        glob = desktop.sessions.global_session
        run = desktop.dispatcher.run_action
        account = f"{base}/account?etn=account&id=N1"
        assert (await run("Search", "Navigate", f"url={account}")).outcome is Outcome.RAN
        await until(lambda: glob.store.get("Search", "title") == "Account N1", "Navigate's page")
        assert customer_sessions(desktop) == []
        assert desktop.dispatcher.journal.find(kind="navigation") == []
        # what the page is asked about: only its own main-frame links, forms and scripts are routed
        search = web(desktop, "Search")
        kind = QWebEnginePage.NavigationType
        for not_routed in (kind.NavigationTypeTyped, kind.NavigationTypeReload,
                           kind.NavigationTypeBackForward, kind.NavigationTypeRedirect):
            assert search._accept_navigation(account, not_routed, True)
        assert search._accept_navigation(account, kind.NavigationTypeLinkClicked, False)  # a frame
        search._loading_itself(account)  # as every load the control starts does
        assert search._accept_navigation(account, kind.NavigationTypeLinkClicked, True)
        assert desktop.dispatcher.journal.find(kind="navigation") == []
        # the Popup action goes through the rules
        popped = await run("Search", "Popup", f"url={base}/account?etn=account&id=P1")
        assert popped.outcome is Outcome.RAN, popped.reason
        (session,) = customer_sessions(desktop)
        await shows(desktop, session, "Account", "Account P1")
        assert glob.store.get("Search", "title") == "Account N1"


async def test_a_pop_up_no_rule_takes_opens_in_its_control(qtbot: Any, base: str) -> None:
    async with running(base) as desktop:
        await search_page(desktop, base)
        glob = desktop.sessions.global_session
        await click(desktop, "Search", "plain")
        await until(lambda: glob.store.get("Search", "title") == "Plain", "the pop-up in Search")
        assert glob.store.get("Search", "url") == f"{base}/plain"
        assert customer_sessions(desktop) == []
        (record,) = desktop.dispatcher.journal.find(kind="navigation")
        assert record.name == "(no rule)" and record.outcome is Outcome.SKIPPED
        assert glob.store.get("$Context", "routed") is None  # no PopupRouted


async def test_session_state_round_trip(qtbot: Any, base: str) -> None:
    async with running(base) as desktop:
        changed: list[HostedControl] = []
        desktop.control_state_changed.connect(changed.append)
        first = await desktop.create_session(name="first")
        account = desktop.resolve("Account", first)
        assert isinstance(account, StandardWebApplication)
        assert account.session_state() is None  # no page yet
        url = f"{base}/account?etn=account&id=S1"
        await desktop.dispatcher.run_action("Account", "Navigate", f"url={url}", session=first)
        await shows(desktop, first, "Account", "Account S1")
        assert account.session_state() == {"url": url}
        assert account in changed
        # about:blank is not a page to journal
        await desktop.dispatcher.run_action("Account", "RunScript", "location.href = 'about:blank'",
                                            session=first)
        await until(lambda: account.page is not None and account.page.url().toString() ==
                    "about:blank", "about:blank")
        assert account.session_state() == {"url": url}

        # restored into a fresh session: loaded without the rules when the page is first needed
        second = await desktop.create_session(name="restored")
        restored = desktop.resolve("Account", second)
        assert isinstance(restored, StandardWebApplication)
        restored.restore_session_state({"url": url})
        assert restored.page is None and restored.session_state() == {"url": url}
        container = restored.widget()
        container.resize(400, 300)
        container.show()
        await shows(desktop, second, "Account", "Account S1")
        assert restored.session_state() == {"url": url}
        assert desktop.dispatcher.journal.find(kind="navigation") == []
        # with a page already there, a restore loads at once
        other = f"{base}/account?etn=account&id=S2"
        restored.restore_session_state({"url": other})
        await shows(desktop, second, "Account", "Account S2")
        assert restored.session_state() == {"url": other}
        restored.restore_session_state({"url": "https://event/?EventName=X"})  # ignored
        restored.restore_session_state({})
        assert restored.session_state() == {"url": other}
