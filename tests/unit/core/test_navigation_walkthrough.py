"""The walkthrough configuration (walkthrough_rules.yaml): the decisions USD's walkthroughs describe.

1. An account opened from the search results starts a session (Create Session, target the Global
   Manager); the rules are evaluated again without that rule and route the page to the session's
   Account tab.
2. A tel: link is blocked (action None) and its action call would dial the number.
3. Search-engine pop-ups open outside unless the session asks to keep them inside.
4. Any other pop-up goes to the Web tab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from usd_desktop.config.lint import lint
from usd_desktop.config.loader import load_configuration
from usd_desktop.config.schema import Configuration, WindowNavigationRule
from usd_desktop.core.navigation import GLOBAL_MANAGER, Decision, Navigation, NavigationRules
from usd_desktop.core.replacement import render

CONFIG = Path(__file__).with_name("walkthrough_rules.yaml")
ACCOUNT_URL = "https://crm.test/main.aspx?etn=account&id={0A1B2C3D-0000-4000-8000-000000000001}&pagetype=entityrecord"
CONTACT_URL = "https://crm.test/main.aspx?etn=contact&id={0A1B2C3D-0000-4000-8000-000000000002}&pagetype=entityrecord"

SESSION_RULE = "Account from search starts a session"
ACCOUNT_RULE = "Account pages to the Account tab"


@pytest.fixture(scope="module")
def config() -> Configuration:
    return load_configuration(CONFIG)


@pytest.fixture(scope="module")
def engine(config: Configuration) -> NavigationRules[WindowNavigationRule]:
    return NavigationRules(config.window_navigation_rules,
                           scriptlets={s.name: s.script for s in config.scriptlets})


def data(**context: str) -> dict[str, Any]:
    session = {"$Context": dict(context)} if context else {}
    return {"session": session, "global": {}, "active": session, "event": {}}


def route(engine: NavigationRules[WindowNavigationRule], nav: Navigation,
          view: dict[str, Any] | None = None) -> list[Decision[WindowNavigationRule]]:
    """What the router does: decide; after a Create Session on the Global Manager, decide again
    without the rule that created the session (and so on, each such rule left out once)."""
    decisions = [engine.decide(nav, view)]
    skip: list[str] = []
    while (rule := decisions[-1].rule) is not None and rule.action == "create_session" \
            and rule.target_tab == GLOBAL_MANAGER:
        skip.append(rule.name)
        decisions.append(engine.decide(nav, view, skip=skip))
    return decisions


def test_the_configuration_is_valid_and_lints_clean(config: Configuration) -> None:
    assert lint(config) == []
    engine = NavigationRules(config.window_navigation_rules)
    assert [r.name for r in engine.rules] == [
        "Phone links dial", SESSION_RULE, ACCOUNT_RULE, "Search engines outside", "Any other pop-up to Web"]
    assert config.controls_by_name[GLOBAL_MANAGER].type == "GlobalManager"


def test_an_account_from_the_search_starts_a_session_then_goes_to_the_account_tab(
    engine: NavigationRules[WindowNavigationRule],
) -> None:
    nav = Navigation.of_url("Account Search", ACCOUNT_URL)
    first, second = route(engine, nav)
    assert first.rule is not None and first.rule.name == SESSION_RULE
    assert (first.action, first.rule.target_tab, first.rule.action_calls) == (
        "create_session", "Global Manager", ["Note the new session"])
    assert [c.rule for c in first.checks] == ["Phone links dial", SESSION_RULE]
    assert "the session is created, then the rules are evaluated again" in first.explain()

    assert second.rule is not None and second.rule.name == ACCOUNT_RULE
    assert (second.action, second.rule.target_tab, second.rule.show_tab) == ("route_window", "Account", "Account")
    assert [(c.rule, c.field) for c in second.checks] == [
        ("Phone links dial", "url"), (SESSION_RULE, "skip"), (ACCOUNT_RULE, "")]
    assert second.explain().splitlines()[-1] == (
        "→ Route Window, target tab Account, show tab Account, hide the navigation bar")


def test_without_the_skip_the_second_evaluation_would_loop(engine: NavigationRules[WindowNavigationRule]) -> None:
    nav = Navigation.of_url("Account Search", ACCOUNT_URL)
    again = engine.decide(nav)
    assert again.rule is not None and again.rule.name == SESSION_RULE


def test_an_account_page_from_inside_the_session_goes_straight_to_the_account_tab(
    engine: NavigationRules[WindowNavigationRule],
) -> None:
    [decision] = route(engine, Navigation.of_url("Web", ACCOUNT_URL, session_id="s-1"))
    assert decision.rule is not None and decision.rule.name == ACCOUNT_RULE
    assert [(c.rule, c.field) for c in decision.checks] == [
        ("Phone links dial", "url"), (SESSION_RULE, "from"), (ACCOUNT_RULE, "")]


@pytest.mark.parametrize("url", ["tel:+358401234567", "TEL:+40 21 123 4567", "tel:"])
def test_a_tel_link_is_blocked_and_dials(engine: NavigationRules[WindowNavigationRule],
                                         config: Configuration, url: str) -> None:
    nav = Navigation.of_url("Account", url)
    [decision] = route(engine, nav)
    assert decision.rule is not None and decision.rule.name == "Phone links dial"
    assert decision.action == "none" and decision.rule.action_calls == ["Dial the number"]
    assert [c.rule for c in decision.checks] == ["Phone links dial"]  # order 5: tried first
    assert decision.explain().splitlines()[-1] == (
        "→ None: the navigation is blocked; action calls: Dial the number")
    # The action call reads the number from the navigation's [[url]].
    dial = config.action_calls_by_name["Dial the number"]
    assert render(dial.data, {"event": nav.parameters()}) == f"DialNumber={url}"


def test_a_skype_link_is_not_a_phone_link(engine: NavigationRules[WindowNavigationRule]) -> None:
    [decision] = route(engine, Navigation.of_url("Account", "skype:echo123?call"))
    assert decision.rule is not None and decision.rule.name == "Any other pop-up to Web"


def test_search_engines_open_outside_unless_kept_inside(engine: NavigationRules[WindowNavigationRule]) -> None:
    nav = Navigation.of_url("Web", "https://www.Bing.com/search?q=usd")
    [outside] = route(engine, nav, data())
    assert outside.rule is not None and outside.action == "show_outside"
    assert outside.checks[-1].reason.endswith('condition true: "" != "yes"')
    [inside] = route(engine, nav, data(KeepInside="yes"))
    assert inside.rule is not None and inside.rule.name == "Any other pop-up to Web"
    assert inside.checks[-2].field == "condition"
    assert inside.checks[-2].reason == 'condition false: "yes" != "yes"'


@pytest.mark.parametrize(
    ("from_control", "url"),
    [("Account Search", CONTACT_URL), ("Account", "https://example.com/help"), ("", "about:blank")],
)
def test_any_other_popup_goes_to_the_web_tab(engine: NavigationRules[WindowNavigationRule],
                                             from_control: str, url: str) -> None:
    [decision] = route(engine, Navigation.of_url(from_control, url))
    assert decision.rule is not None and decision.rule.name == "Any other pop-up to Web"
    assert (decision.rule.target_tab, decision.rule.show_tab) == ("Web", "Web")
    assert len(decision.checks) == 5
    assert decision.explain().splitlines()[-1] == "→ Route Window, target tab Web, show tab Web"


@pytest.mark.parametrize("route_type", ["in_place", "on_load", "menu_chosen"])
def test_other_route_types_open_where_requested(engine: NavigationRules[WindowNavigationRule],
                                                route_type: str) -> None:
    [decision] = route(engine, Navigation.of_url("Account", ACCOUNT_URL, route_type))
    assert decision.rule is None and decision.action == "default"
    # from is checked before the route type (§5.3), so the search rule fails on its source.
    assert [c.field for c in decision.checks] == ["route_type", "from", "route_type", "route_type", "route_type"]
    assert decision.explain().splitlines()[-1] == "→ no rule matched: the page opens where it was requested"
