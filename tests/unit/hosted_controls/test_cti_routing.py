"""The CTI variant of navigation rules (usd-reference §5.4), Qt-free: a call's searches count the
matches, and the no / single / multiple match decisions create a session, load the match, act in
the current session, or pass the call to the next rule."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from usd_desktop.hosted_controls.base import ControlType, HostedControl
from usd_desktop.hosted_controls.catalog import GLOBAL_MANAGER
from usd_desktop.hosted_controls.cti_routing import CtiCall, route_call
from usd_desktop.hosted_controls.desktop import Desktop
from usd_desktop.hosted_controls.navigation_router import RoutedPage
from usd_desktop.hosted_controls.registry import Registry
from usd_desktop.testing import make_data_services, make_desktop

MODULE = "usd_desktop_test_cti_routing_controls"
FORM = ControlType(name="TestForm", factory=f"{MODULE}:Form")


class Form(HostedControl):
    control_type = FORM

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.opened: list[RoutedPage] = []

    def open_routed(self, page: RoutedPage) -> None:
        self.opened.append(page)


CONFIG = """
name: CTI rules
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Customer, type: TestForm, is_global: false}
action_calls:
  - {name: New customer form, control: Global Manager, action: CopyToContext, data: "todo=new customer for [[cti.ani]]"}
  - {name: Pick one, control: Global Manager, action: CopyToContext, data: "todo=pick one of [[$Context.n]+]"}
  - {name: Greet, control: Global Manager, action: CopyToContext, data: "greeted=[[cti.ani]]"}
window_navigation_rules:
  - name: Outbound calls
    order: 5
    cti: {initiating_activity: phonecall, direction: outbound,
          no_match: {decision: do_action, action_calls: [Greet]}}
  - name: Chats
    order: 6
    cti: {initiating_activity: chat, no_match: {decision: create_session_then_do_action}}
  - name: Inbound by surname
    order: 10
    target_tab: Customer
    show_tab: Customer
    action_calls: [Greet]
    cti:
      initiating_activity: phonecall
      direction: inbound
      searches:
        - name: By surname
          entity: contact
          filters: [{field: last_name, value: "[[cti.surname]+]"}]
      no_match: {decision: create_session_then_do_action, action_calls: [New customer form]}
      single_match: {decision: create_session_load_match_then_do_action}
      multiple_match: {decision: next_rule}
  - name: Several callers
    order: 20
    cti:
      initiating_activity: phonecall
      searches:
        - {name: Same surname, entity: contact, filters: [{field: last_name, value: "[[cti.surname]+]"}]}
      multiple_match: {decision: do_action, action_calls: [Pick one]}
"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    module = types.ModuleType(MODULE)
    module.Form = Form  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    yield Registry([GLOBAL_MANAGER, FORM])


@pytest.fixture
async def desktop(registry: Registry, tmp_path: Path) -> Iterator[Desktop]:
    services = make_data_services(f"sqlite:///{tmp_path / 'data.db'}")
    for first, last in [("Maria", "Popescu"), ("Ion", "Ionescu"), ("Ana", "Ionescu")]:
        services.repository.create("contact", {"first_name": first, "last_name": last})
    made = make_desktop(CONFIG, registry=registry, data=services)
    await made.start()
    yield made
    services.close()


def _call(surname: str, **extra: str) -> CtiCall:
    return CtiCall({"ani": "+40721000000", "dnis": "100", "surname": surname, **extra})


async def test_a_single_match_creates_a_session_and_loads_the_match(desktop: Desktop) -> None:
    outcome = await route_call(desktop, _call("Popescu"))
    assert (outcome.rule, outcome.outcome, outcome.count) == ("Inbound by surname", "single_match", 1)
    session = desktop.sessions.get(outcome.session_id)
    assert session is not None and desktop.sessions.active is session and session.entity == "contact"
    assert session.store.get("cti", "surname") == "Popescu" and session.store.get("$Context", "greeted") \
        == "+40721000000"
    form = desktop.instance("Customer", session)
    assert isinstance(form, Form) and form.opened[-1].record_id == outcome.matches[0]["id"]
    assert ("show_control", ("Customer",)) in desktop.host.calls
    record = desktop.dispatcher.journal.find(kind="navigation")[-1]
    assert record.name == "Inbound by surname" and "1 match(es), single_match" in record.data


async def test_no_match_creates_a_session_for_a_new_customer(desktop: Desktop) -> None:
    outcome = await route_call(desktop, _call("Nobody"))
    assert (outcome.outcome, outcome.decision) == ("no_match", "create_session_then_do_action")
    session = desktop.sessions.get(outcome.session_id)
    assert session is not None and session.store.get("$Context", "todo") == "new customer for +40721000000"


async def test_several_matches_go_to_the_next_rule_which_acts_in_the_current_session(desktop: Desktop) -> None:
    before = len(desktop.sessions.customer_sessions)
    outcome = await route_call(desktop, _call("Ionescu"))
    assert (outcome.rule, outcome.decision, outcome.count) == ("Several callers", "do_action", 2)
    assert len(desktop.sessions.customer_sessions) == before
    assert desktop.sessions.active.store.get("cti", "surname") == "Ionescu"
    assert len({m["id"] for m in outcome.matches}) == 2 and {m["LogicalName"] for m in outcome.matches} == {"contact"}
    lines = desktop.dispatcher.journal.find(kind="navigation")[-1].data
    assert "✗ Inbound by surname (order 10): 2 match(es), multiple_match: next_rule" in lines


async def test_activity_and_direction_select_the_rules(desktop: Desktop) -> None:
    outbound = await route_call(desktop, CtiCall({"ani": "+358401"}, direction="outbound"))
    assert outbound.rule == "Outbound calls" and outbound.session_id == ""
    assert desktop.sessions.active.store.get("$Context", "greeted") == "+358401"
    chat = await route_call(desktop, CtiCall({"ani": "web"}, activity="chat"))
    assert chat.rule == "Chats" and chat.session_id
    email = await route_call(desktop, CtiCall({"ani": "x"}, activity="email"))
    assert email.rule is None and email.decision == "none"


async def test_a_phone_filter_finds_the_caller_in_any_number_form(registry: Registry, tmp_path: Path) -> None:
    services = make_data_services(f"sqlite:///{tmp_path / 'phones.db'}")
    maria = services.repository.create("contact", {"first_name": "Maria", "last_name": "Popescu"})
    services.repository.create("phone", {"contact_id": maria, "number": "+40 721 555 010"})
    config = CONFIG.replace('filters: [{field: last_name, value: "[[cti.surname]+]"}]',
                            'filters: [{field: phone, value: "[[cti.ani]]"}]', 1)
    try:
        desktop = make_desktop(config, registry=registry, data=services)
        await desktop.start()
        outcome = await route_call(desktop, CtiCall({"ani": "0040721555010", "dnis": "100"}))
        assert (outcome.rule, outcome.outcome) == ("Inbound by surname", "single_match")
        assert outcome.matches[0]["id"] == maria
        unknown = await route_call(desktop, CtiCall({"ani": "+358401234567", "dnis": "100"}))
        assert unknown.outcome == "no_match"
    finally:
        services.close()
