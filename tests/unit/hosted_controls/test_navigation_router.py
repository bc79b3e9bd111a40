"""Window navigation rules carried out (Qt-free): sessions created for pop-ups, pages routed to
tabs, the Global Manager re-evaluation, blocked links whose action calls run, Show Outside,
entity-search destinations, loops stopped, PopupRouted, and the trace the debugger shows."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from usd_desktop.core.navigation import Navigation
from usd_desktop.hosted_controls.base import ControlType, HostedControl
from usd_desktop.hosted_controls.catalog import GLOBAL_MANAGER
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.navigation_router import RoutedPage
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import make_desktop

MODULE = "usd_desktop_test_router_controls"
PAGE = ControlType(name="TestBrowser", factory=f"{MODULE}:Browser", events=frozenset({"PopupRouted"}))
OPAQUE = ControlType(name="TestOpaque", factory=f"{MODULE}:Opaque")


class Browser(HostedControl):
    control_type = PAGE

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pages: list[RoutedPage] = []

    def open_routed(self, page: RoutedPage) -> None:
        self.pages.append(page)


class Opaque(HostedControl):
    control_type = OPAQUE


CONFIG = """
name: Routing
options: {maxNumberOfSessions: 2}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Account Search, type: TestBrowser}
  - {name: Web, type: TestBrowser}
  - {name: Account, type: TestBrowser, is_global: false, is_dynamic: true}
  - {name: Contact, type: TestBrowser, is_global: false, is_dynamic: true}
  - {name: Blob, type: TestOpaque, is_global: false}
action_calls:
  - {name: Dial, control: Global Manager, action: CopyToContext, data: "dialled=[[url]]"}
  - {name: Routed, control: Global Manager, action: CopyToContext, data: "routed=[[url]]"}
window_navigation_rules:
  - {name: Account pop-up creates a session, order: 10, from_control: Account Search, entity: account,
     route_type: popup, action: create_session, target_tab: Global Manager}
  - {name: Account page into its tab, order: 20, entity: account, route_type: popup,
     action: route_window, target_tab: Account, show_tab: Account}
  - {name: Contact pop-up in a new session, order: 25, entity: contact, route_type: popup,
     action: create_session, target_tab: Contact}
  - {name: Phone links dial, order: 30, url: "tel:*", route_type: in_place, action: none, action_calls: [Dial]}
  - {name: Outside, order: 40, url: "*outside.test*", action: show_outside}
  - {name: To a blob, order: 45, url: "*blob.test*", action: route_window, target_tab: Blob}
  - {name: Web back to itself, order: 48, from_control: Web, url: "*self.test*", route_type: in_place,
     action: route_window, target_tab: Web}
  - {name: Catch-all, order: 1000, url: "*", route_type: popup, action: route_window, target_tab: Web,
     action_calls: [Routed]}
events:
  - {control: Account Search, name: PopupRouted, action_calls: [Routed]}
"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    module = types.ModuleType(MODULE)
    module.Browser = Browser  # type: ignore[attr-defined]
    module.Opaque = Opaque  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    yield Registry([GLOBAL_MANAGER, PAGE, OPAQUE])


@pytest.fixture
async def desktop(registry: Registry) -> Desktop:
    made = make_desktop(CONFIG, registry=registry)
    await made.start()
    return made


def _browser(desktop: Desktop, name: str, session: Any = None) -> Browser:
    control = desktop.instance(name, session)
    assert isinstance(control, Browser)
    return control


URL = "https://crm.test/main.aspx?etn=account&id={4F2A}"


async def test_a_search_pop_up_creates_an_account_session_and_routes_again(desktop: Desktop) -> None:
    glob = desktop.sessions.global_session
    outcome = await desktop.router.route(Navigation.of_url("Account Search", URL), glob)
    assert outcome.handled and not outcome.problems
    session = desktop.sessions.get(outcome.session_id)
    assert session is not None and desktop.sessions.active is session and session.entity == "account"
    assert session.store.section("$Context") == {"url": URL, "LogicalName": "account", "Id": "4F2A"}
    assert [d.rule.name for d in outcome.decisions] == [
        "Account pop-up creates a session", "Account page into its tab"]
    page = _browser(desktop, "Account", session).pages[-1]
    assert (page.url, page.entity, page.record_id, page.rule) == (URL, "account", "4F2A", "Account page into its tab")
    assert ("show_control", ("Account",)) in desktop.host.calls
    # the source raised PopupRouted, in its own session
    assert desktop.dispatcher.journal.find(kind="event", name="PopupRouted")[-1].session_id == glob.id
    assert glob.store.get("$Context", "routed") == URL
    record = desktop.dispatcher.journal.find(kind="navigation")[-1]
    assert record.name == "Account page into its tab" and record.session_id == glob.id
    assert "✓" in record.data and "Account pop-up creates a session" in record.data


async def test_a_blocked_tel_link_runs_its_action_calls_only(desktop: Desktop) -> None:
    session = await desktop.create_session()
    nav = Navigation.of_url("Web", "tel:+358401234567", "in_place")
    decision = desktop.router.decide(nav, session)  # synchronous: a page can refuse at once
    assert decision.rule is not None and decision.action == "none"
    outcome = await desktop.router.apply(decision, session)
    assert outcome.handled and outcome.action == "none"
    assert session.store.get("$Context", "dialled") == "tel:+358401234567"
    assert _browser(desktop, "Web").pages == []


async def test_the_catch_all_routes_other_pop_ups_and_unmatched_loads_default(desktop: Desktop) -> None:
    session = await desktop.create_session()
    outcome = await desktop.router.route(Navigation.of_url("Account", "https://news.test/a"), session)
    assert outcome.decisions[-1].rule.name == "Catch-all" and outcome.target == "Web"
    assert _browser(desktop, "Web").pages[-1].url == "https://news.test/a"
    assert session.store.get("$Context", "routed") == "https://news.test/a"
    in_place = await desktop.router.route(Navigation.of_url("Web", "https://news.test/b", "in_place"), session)
    assert not in_place.handled and in_place.action == "default"
    assert desktop.dispatcher.journal.find(kind="navigation")[-1].name == "(no rule)"


async def test_show_outside(desktop: Desktop) -> None:
    outcome = await desktop.router.route(Navigation.of_url("Web", "https://outside.test/x"),
                                         desktop.sessions.global_session)
    assert outcome.action == "show_outside" and ("show_outside", ("https://outside.test/x",)) in desktop.host.calls


async def test_a_route_back_to_its_source_is_stopped_and_reported(desktop: Desktop) -> None:
    outcome = await desktop.router.route(Navigation.of_url("Web", "https://self.test/", "in_place"),
                                         desktop.sessions.global_session)
    assert outcome.action == "stopped" and "back to Web" in outcome.problems[0]
    assert desktop.dispatcher.journal.find(kind="navigation")[-1].outcome.value == "failed"
    # a pop-up that a rule sends back into its own control simply opens there
    popup = await desktop.router.route(Navigation.of_url("Web", "https://news.test/"),
                                       desktop.sessions.global_session)
    assert popup.target == "Web" and not popup.problems
    assert _browser(desktop, "Web").pages[-1].url == "https://news.test/"


async def test_a_target_that_cannot_show_pages_is_reported(desktop: Desktop) -> None:
    session = await desktop.create_session()
    outcome = await desktop.router.route(Navigation.of_url("Web", "https://blob.test/"), session)
    assert outcome.problems and "cannot show a routed page" in outcome.problems[0]


async def test_the_session_limit_keeps_the_pop_for_redo(desktop: Desktop) -> None:
    glob = desktop.sessions.global_session
    for n in range(2):
        await desktop.create_session(name=f"busy {n}")
    url = "https://crm.test/main.aspx?etn=contact&id=77"
    outcome = await desktop.router.route(Navigation.of_url("Web", url), glob)
    assert outcome.problems and "maxNumberOfSessions" in outcome.problems[0]
    assert desktop.pending_pop is not None
    await desktop.close_session(desktop.sessions.customer_sessions[0])
    assert await desktop.redo_screen_pop()
    session = desktop.sessions.active
    assert session.entity == "contact" and _browser(desktop, "Contact", session).pages[-1].record_id == "77"


async def test_open_crm_page_goes_through_the_rules(registry: Registry, tmp_path: Any) -> None:
    from usd_desktop.testing import make_data_services

    services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
    try:
        desktop = make_desktop(CONFIG, registry=registry, data=services)
        await desktop.start()
        session = await desktop.create_session()
        outcome = await desktop.dispatcher.run_action("Global Manager", "Open_CRM_Page",
                                                      "LogicalName=account\nId=42", session=session)
        assert outcome.outcome.value == "ran", outcome.reason
        page = _browser(desktop, "Account", session).pages[-1]
        assert (page.entity, page.record_id, page.from_control) == ("account", "42", "Global Manager")
    finally:
        services.close()


async def test_an_on_load_rule_chains_the_first_match_of_a_search(registry: Registry, tmp_path: Any) -> None:
    from usd_desktop.testing import make_data_services

    services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
    account = services.repository.create("account", {"name": "Contoso"})
    config = CONFIG.replace("window_navigation_rules:\n", """entity_searches:
  - {name: Accounts, entity: account, filters: [{field: name, value: "[[q]]"}]}
window_navigation_rules:
  - {name: After the account search, order: 1, from_search: Accounts, route_type: on_load,
     action: route_window, target_tab: Account}
""", 1)
    try:
        desktop = make_desktop(config, registry=registry, data=services)
        await desktop.start()
        session = await desktop.create_session()
        found = await desktop.dispatcher.run_action("Global Manager", "DoSearch", "name=Accounts\nq=Contoso",
                                                    session=session)
        assert found.result == "1", found.reason
        page = _browser(desktop, "Account", session).pages[-1]
        assert (page.route_type, page.entity, page.record_id) == ("on_load", "account", account)
        none = await desktop.dispatcher.run_action("Global Manager", "DoSearch", "name=Accounts\nq=Nobody",
                                                   session=session)
        assert none.result == "0" and len(_browser(desktop, "Account", session).pages) == 1
    finally:
        services.close()
