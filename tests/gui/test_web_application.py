"""Standard Web Application: lazy Chromium, navigation, events, RunScript, monikers, crash recovery."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QUrl
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView

from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.qt.web_application import StandardWebApplication
from usd_desktop.hosted_controls.qt.web_page import script_result_text
from usd_desktop.testing import RecordingHost, make_desktop
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


@pytest.fixture
def pages() -> Path:
    return Path(__file__).parent / "pages"


def url_of(pages: Path, name: str) -> str:
    return QUrl.fromLocalFile(str(pages / name)).toString()


def config_yaml(pages: Path, *, home: str = "one.html", extra_settings: str = "") -> str:
    return textwrap.dedent(f"""\
        name: web-test
        options:
          HomePage: "{home}"
        hosted_controls:
          - name: GM
            type: GlobalManager
          - name: Web
            type: StandardWebApplication
            settings:
              url: "{pages.as_uri()}/[[$Global.HomePage]]"
              {extra_settings}
        action_calls:
          - name: Go Two
            control: Web
            action: Navigate
            data: "url={url_of(pages, 'two.html')}"
          - name: Title
            control: Web
            action: RunScript
            data: "document.title + ':' + (1 + 2) + ':' + window.IsUSD"
          - name: Remember Document
            control: GM
            action: CopyToContext
            data: "doc=[[url]]"
          - name: Remember Ready
            control: GM
            action: CopyToContext
            data: "ready=[[Web.title]]"
          - name: Remember X
            control: GM
            action: CopyToContext
            data: "x=[[x]]"
          - name: Remember Link
            control: GM
            action: CopyToContext
            data: "link=yes"
        events:
          - control: Web
            name: BrowserDocumentComplete
            action_calls: [Remember Document]
          - control: Web
            name: PageReady
            action_calls: [Remember Ready]
          - control: Web
            name: Hello
            action_calls: [Remember X]
        """)

async def until(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    return await _until(predicate, what, timeout)


@asynccontextmanager
async def running(yaml_text: str) -> AsyncIterator[Desktop]:
    desktop = make_desktop(yaml_text)
    await desktop.start()
    assert not desktop.problems, desktop.problems
    widgets: list[QObject] = []
    try:
        yield desktop
    finally:
        web = desktop.instance("Web")
        if isinstance(web, StandardWebApplication):
            widgets = [w for w in (web.view, web.page, web._widget) if w is not None]
        gone = [destroyed(w) for w in widgets]
        await desktop.shutdown()
        await deleted(gone)


async def deleted(gone: list[asyncio.Future[None]]) -> None:
    for _ in range(50):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        await asyncio.sleep(0.01)
        if all(f.done() for f in gone):
            return
    raise AssertionError("the web control's widgets were not deleted")


def destroyed(obj: QObject) -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(*_: Any) -> None:
        if not future.done():
            future.set_result(None)

    obj.destroyed.connect(done)
    return future




def web(desktop: Desktop) -> StandardWebApplication:
    control = desktop.instance("Web")
    assert isinstance(control, StandardWebApplication)
    return control


def ran(desktop: Desktop, name: str) -> list[Any]:
    return desktop.dispatcher.journal.find(name=name, outcome=Outcome.RAN)


def context(desktop: Desktop, key: str) -> str | None:
    return desktop.sessions.global_session.store.get("$Context", key)


async def loaded(desktop: Desktop, count: int) -> None:
    """Wait for the ``count``-th PageReady action call of the test configuration."""
    await until(lambda: len(ran(desktop, "Remember Ready")) >= count, f"PageReady #{count}")


async def test_view_is_created_only_when_first_shown(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages)) as desktop:
        control = web(desktop)
        assert control.view is None and control.page is None
        container = control.widget()
        assert container.findChildren(QWebEngineView) == []
        assert control.view is None
        container.resize(400, 300)
        container.show()
        assert control.view is None and control.is_loading  # created on the next loop turn
        await until(lambda: control.view is not None, "the view after the first show")
        assert isinstance(control.view, QWebEngineView)
        assert container.findChildren(QWebEngineView) == [control.view]
        await loaded(desktop, 1)  # the home page, with [[$Global.HomePage]] replaced
        assert context(desktop, "doc") == url_of(pages, "one.html")
        assert context(desktop, "ready") == "Page One"


async def test_navigate_raises_document_complete_then_page_ready(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages, extra_settings="zoom: 1.25")) as desktop:
        control = web(desktop)
        outcome = await desktop.dispatcher.run_action_call("Go Two")
        assert outcome.outcome is Outcome.RAN, outcome.reason
        assert control.view is not None  # an action needing the page creates it, not shown
        assert control.page is not None and control.page.zoomFactor() == 1.25
        await loaded(desktop, 1)
        two = url_of(pages, "two.html")
        journal = desktop.dispatcher.journal
        (complete,) = journal.find(kind="event", name="BrowserDocumentComplete", control="Web")
        (ready,) = journal.find(kind="event", name="PageReady", control="Web")
        assert complete.parameters == {"url": two} and ready.parameters == {"url": two}
        assert complete.seq < ran(desktop, "Remember Document")[0].seq < ready.seq
        assert context(desktop, "doc") == two
        assert context(desktop, "ready") == "Page Two"
        store = desktop.sessions.global_session.store
        assert store.get("Web", "url") == two and store.get("Web", "title") == "Page Two"


async def test_run_script_result_becomes_return_value(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages)) as desktop:
        # Navigate then RunScript at once: the script waits for the load in progress.
        await desktop.dispatcher.run_action_call("Go Two")
        outcome = await asyncio.wait_for(desktop.dispatcher.run_action_call("Title"), TIMEOUT)
        assert outcome.outcome is Outcome.RAN, outcome.reason
        assert outcome.result == "Page Two:3:true"
        store = desktop.sessions.global_session.store
        assert store.get("$Return", "Title") == "Page Two:3:true"
        run = desktop.dispatcher.run_action
        assert (await run("Web", "RunScript", "({a: [1, 2.5]})")).result == '{"a":[1,2.5]}'
        assert (await run("Web", "RunScript", "var n = 2;\nn * 21")).result == "42"
        assert (await run("Web", "RunScript", "n + 0.5")).result == "2.5"  # global scope kept
        assert (await run("Web", "RunScript", "undefined")).result is None
        thrown = await run("Web", "RunScript", "throw new Error('nope')")
        assert thrown.outcome is Outcome.FAILED and "nope" in thrown.reason


async def test_run_script_on_a_page_that_forbids_eval(
    qtbot: Any, pages: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="usd_desktop.hosted_controls.qt.web_application")
    async with running(config_yaml(pages)) as desktop:
        run = desktop.dispatcher.run_action
        await run("Web", "Navigate", f"url={url_of(pages, 'csp.html')}")
        outcome = await run("Web", "RunScript", "document.title + ':' + window.IsUSD")
        assert outcome.outcome is Outcome.RAN, outcome.reason
        assert outcome.result == "Strict:true"
        assert "forbids eval" in caplog.text


def test_script_results_read_like_usd() -> None:
    assert script_result_text(None) is None
    assert script_result_text(True) == "true"
    assert script_result_text(3.0) == "3"
    assert script_result_text(2.5) == "2.5"
    assert script_result_text("x") == "x"


async def test_go_back_forward_and_home(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages)) as desktop:
        run = desktop.dispatcher.run_action
        store = desktop.sessions.global_session.store
        one, two = url_of(pages, "one.html"), url_of(pages, "two.html")

        async def at(url: str, count: int) -> None:
            await loaded(desktop, count)
            assert store.get("Web", "url") == url

        assert (await run("Web", "GoHome")).outcome is Outcome.RAN
        await at(one, 1)
        await run("Web", "Navigate", two)  # the address on the first line
        await at(two, 2)
        assert (await run("Web", "GoBack")).outcome is Outcome.RAN
        await at(one, 3)
        assert (await run("Web", "GoForward")).outcome is Outcome.RAN
        await at(two, 4)
        await run("Web", "Refresh")
        await at(two, 5)
        await run("Web", "GoHome")
        await at(one, 6)


async def test_home_page_with_missing_parameter_is_not_loaded(qtbot: Any, pages: Path) -> None:
    yaml_text = config_yaml(pages).replace("[[$Global.HomePage]]", "[[$Context.nothing]]")
    async with running(yaml_text) as desktop:
        control = web(desktop)
        control.widget().show()
        await until(lambda: control.page is not None, "the page after the first show")
        await asyncio.sleep(0.3)
        assert ran(desktop, "Remember Ready") == []
        failed = await desktop.dispatcher.run_action("Web", "GoHome")
        assert failed.outcome is Outcome.FAILED


async def test_window_open_event_moniker_fires_configured_event(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages, home="event.html")) as desktop:
        web(desktop).widget().show()
        await until(lambda: ran(desktop, "Remember X"), "the Hello event's action call")
        assert context(desktop, "x") == "1"
        (hello,) = desktop.dispatcher.journal.find(kind="event", name="Hello")
        assert hello.control == "Web" and hello.parameters == {"x": "1"}
        await loaded(desktop, 1)  # the page itself stayed where it was
        assert desktop.sessions.global_session.store.get("Web", "title") == "Events"


async def test_window_open_of_an_ordinary_url_loads_in_this_control(
    qtbot: Any, pages: Path
) -> None:
    async with running(config_yaml(pages)) as desktop:
        run = desktop.dispatcher.run_action
        await run("Web", "GoHome")
        await loaded(desktop, 1)
        await run("Web", "RunScript", "window.open('two.html'); 1")
        await loaded(desktop, 2)
        assert desktop.sessions.global_session.store.get("Web", "title") == "Page Two"
        page = web(desktop).page
        assert page is not None and page.findChildren(QWebEnginePage) == []  # popup deleted


async def test_uii_and_actioncall_links(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages)) as desktop:
        run = desktop.dispatcher.run_action
        await run("Web", "GoHome")
        await loaded(desktop, 1)
        await run("Web", "RunScript", "document.getElementById('uii').click()")
        await until(lambda: context(desktop, "y") == "2", "the https://uii/ link's action")
        await run("Web", "RunScript", "document.getElementById('call').click()")
        await until(lambda: context(desktop, "link") == "yes", "the https://actioncall/ link")
        await run("Web", "RunScript", "location.href = 'https://uii/GM/CopyToContext?z%3D3'")
        await until(lambda: context(desktop, "z") == "3", "location.href to a moniker")
        await asyncio.sleep(0.2)
        assert len(ran(desktop, "Remember Ready")) == 1  # no navigation happened
        # Navigate to a moniker dispatches it too.
        await run("Web", "Navigate", "url=https://event/?EventName=Hello&x=9")
        await until(lambda: context(desktop, "x") == "9", "Navigate to an event moniker")


async def test_crashed_renderer_reloads_this_control(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages)) as desktop:
        control = web(desktop)
        await desktop.dispatcher.run_action_call("Go Two")
        await loaded(desktop, 1)
        page = control.page
        assert page is not None
        pid = page.renderProcessPid()
        assert pid > 0
        os.kill(pid, signal.SIGKILL)
        store = desktop.sessions.global_session.store
        await until(lambda: store.get("Web", "crashes") == "1", "[[Web.crashes]]")
        await loaded(desktop, 2)  # reloaded the last URL
        assert store.get("Web", "url") == url_of(pages, "two.html")
        assert control.page is not None and control.page.renderProcessPid() not in (0, pid)
        outcome = await desktop.dispatcher.run_action_call("Title")
        assert outcome.result == "Page Two:3:true"


async def test_close_deletes_the_view(qtbot: Any, pages: Path) -> None:
    async with running(config_yaml(pages)) as desktop:
        control = web(desktop)
        await desktop.dispatcher.run_action_call("Go Two")
        await loaded(desktop, 1)
        outcome = await desktop.dispatcher.run_action("Web", "Close")
        assert outcome.outcome is Outcome.RAN
        host = desktop.host
        assert isinstance(host, RecordingHost) and host.of("close_control") == [("Web",)]
        view = control.view
        assert view is not None
        gone = destroyed(view)
        desktop.close_control("Web")
        assert control.closed and control.view is None and control.page is None
        await deleted([gone])
