"""The CTI variant of window navigation rules (usd-reference §5.4): what a call pops.

The CTI desktop manager hands a call (its activity, direction and data) to :func:`route_call`. The
CTI rules are tried by ``order``; a rule applies to the call when its initiating activity and
direction match, its ``from_control`` (if set) is the manager, and its condition holds (with
``[[cti.*]]`` the call's data). Its searches then run in order, with ``[[cti.*]]`` bound as query
parameters, and together count the matching records. The count selects the rule's decision:

* ``create_session_then_do_action``: a new customer session (its ``cti`` section the call data),
  then the outcome's and the rule's action calls in it;
* ``create_session_load_match_then_do_action`` (one match only): the same, about the match
  (``$Context`` ``LogicalName`` and ``Id``), which is loaded into the rule's target tab (or its
  entity search runs), then the action calls;
* ``do_action``: the action calls in the current session, which gets the call data;
* ``next_rule``: this rule gives up; the next CTI rule is tried.

Every call's decision is in the trace (kind ``navigation``) with each rule and search considered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from usd_desktop.config.schema_navigation import CtiSearch, WindowNavigationRule
from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.core.conditions import evaluate_condition
from usd_desktop.core.context import Session
from usd_desktop.core.dispatcher import Chain
from usd_desktop.core.errors import ActionError, SessionLimitReached
from usd_desktop.core.navigation import Decision, Navigation
from usd_desktop.core.trace import Outcome, TraceRecord
from usd_desktop.cti.calls import phone_of
from usd_desktop.data.errors import DataError
from usd_desktop.data.search import render_value

if TYPE_CHECKING:
    from usd_desktop.hosted_controls.desktop import Desktop

OUTCOMES = ("no_match", "single_match", "multiple_match")


@dataclass(frozen=True, slots=True)
class CtiCall:
    """A call to pop: ``data`` becomes ``[[cti.*]]`` (``ani``, ``dnis``, attached data...)."""

    data: Mapping[str, str]
    activity: str = "phonecall"
    direction: str = "inbound"
    from_control: str = ""
    #: The region a number without a country code is read in (the CTI manager's ``default_region``);
    #: empty: the data source's own.
    region: str = ""


@dataclass
class CtiOutcome:
    rule: str | None = None
    outcome: str = ""  # no_match, single_match, multiple_match
    decision: str = "none"  # the decision taken; "none": no CTI rule took the call
    matches: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    session_id: str = ""
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Told each step of the pop as it ends: ``step(name, detail)`` (the screen pop's trace).
    step: Callable[[str, str], None] = field(default=lambda name, detail: None, repr=False)


async def route_call(desktop: Desktop, call: CtiCall, *, chain: Chain | None = None,
                     step: Callable[[str, str], None] | None = None) -> CtiOutcome:
    """Pop ``call`` through the CTI rules; the outcome says which rule and decision took it.

    ``step(name, detail)`` is told as each step ends: ``searched`` (per rule whose searches ran),
    ``session created``, ``match loaded``, ``action calls run``.
    """
    result = CtiOutcome()
    if step is not None:
        result.step = step
    source = desktop.sessions.active
    result.lines.append(f"Call: {call.direction} {call.activity} from {call.data.get('ani', '?')} "
                        f"to {call.data.get('dnis', '?')}")
    try:
        for rule in desktop.router.rules.cti_rules():
            why = _not_for_call(rule, call)
            if why:
                result.lines.append(f"✗ {rule.name} (order {rule.order}): {why}")
                continue
            view = _view(desktop, source, call)
            condition = evaluate_condition(rule.condition, view, scriptlets=desktop.dispatcher.scriptlets)
            if not condition.run:
                result.lines.append(f"✗ {rule.name} (order {rule.order}): {condition.reason}")
                continue
            count, rows = await _search(desktop, rule, call, view, result)
            outcome = OUTCOMES[min(count, 2)]
            result.step("searched", f"{rule.name}: {count} match(es)")
            chosen = getattr(rule.cti, outcome)
            result.lines.append(f"{'✗' if chosen.decision == 'next_rule' else '✓'} {rule.name} "
                                f"(order {rule.order}): {count} match(es), {outcome}: {chosen.decision}")
            if chosen.decision == "next_rule":
                continue
            result.rule, result.outcome, result.decision = rule.name, outcome, chosen.decision
            result.count, result.matches = count, rows
            await _decide(desktop, rule, chosen.decision, list(chosen.action_calls), call, source, rows,
                          result, chain)
            break
        else:
            result.lines.append("→ no CTI rule took the call")
    except (ActionError, DataError) as exc:
        result.problems.append(str(exc))
    _trace(desktop, call, result, source)
    return result


def _not_for_call(rule: WindowNavigationRule, call: CtiCall) -> str:
    cti = rule.cti
    assert cti is not None
    if cti.initiating_activity.lower() != call.activity.lower():
        return f"activity: the call is a {call.activity}, the rule wants {cti.initiating_activity}"
    if cti.direction not in ("both", call.direction):
        return f"direction: the call is {call.direction}, the rule wants {cti.direction}"
    if rule.from_control and call.from_control and rule.from_control != call.from_control:
        return f"from: the call comes from {call.from_control}, the rule wants {rule.from_control}"
    return ""


def _view(desktop: Desktop, session: Session, call: CtiCall) -> dict[str, Any]:
    data = desktop.sessions.data_for(session, call.data)
    return {**data, "session": {**data["session"], "cti": dict(call.data)}}


async def _search(desktop: Desktop, rule: WindowNavigationRule, call: CtiCall, view: Mapping[str, Any],
                  result: CtiOutcome) -> tuple[int, list[dict[str, Any]]]:
    assert rule.cti is not None
    searches = sorted(
        (s for s in rule.cti.searches if s.direction in ("both", call.direction)),
        key=lambda s: s.order)
    if not searches:
        return 0, []
    services = desktop.data
    if services is None:
        raise ActionError(f"CTI rule {rule.name!r} has searches, and this desktop has no data source")
    count = 0
    rows: list[dict[str, Any]] = []
    for search in searches:
        by_phone = _phone_filter(search)
        if by_phone is not None:  # the indexed caller lookup: numbers in any form, E.164 inside
            number = render_value(by_phone, view)
            number = (phone_of(number, call.region) or number) if call.region else number
            matches = [m for m in await services.find_customers_by_phone(number) if m.entity == search.entity]
            found_rows = [{"id": m.id, "name": m.name, "e164": m.e164} for m in matches]
            total = len(found_rows)
        else:
            found = await services.search(_entity_search(search), view, announce=False)
            found_rows, total = list(found.rows), found.total
        count += total
        rows.extend({**row, "LogicalName": search.entity} for row in found_rows[:10])
        result.lines.append(f"    search {search.name} ({search.entity}): {total}")
    return count, rows


def _phone_filter(search: CtiSearch) -> str | None:
    """The value of a ``phone`` filter of a contact or account search (the caller lookup), if any:
    ``filters: [{field: phone, value: "[[cti.ani]]"}]`` finds the customers with that number in
    any form (national, international, E.164, a SIP URI's number) through the indexed phone table;
    a national number is read in the call's region (the CTI manager's ``default_region``)."""
    if search.entity not in ("contact", "account"):
        return None
    phone = [f for f in search.filters if f.field == "phone"]
    if len(phone) != 1 or len(search.filters) != 1 or phone[0].operator != "eq":
        return None
    return phone[0].value


def _entity_search(search: CtiSearch) -> EntitySearch:
    return EntitySearch.model_validate(search.model_dump(exclude={"order", "direction"}))


async def _decide(desktop: Desktop, rule: WindowNavigationRule, decision: str, calls: list[str],
                  call: CtiCall, source: Session, rows: list[dict[str, Any]], result: CtiOutcome,
                  chain: Chain | None) -> None:
    where = source
    match = rows[0] if rows and decision == "create_session_load_match_then_do_action" else None
    if decision.startswith("create_session"):
        context = {"ani": call.data.get("ani", ""), "dnis": call.data.get("dnis", "")}
        entity = ""
        if match is not None:
            entity = str(match["LogicalName"])
            context.update({"LogicalName": entity, "Id": str(match.get("id", ""))})
        try:
            where = await desktop.create_session(
                entity=entity, context={k: v for k, v in context.items() if v}, chain=chain)
        except SessionLimitReached as exc:
            result.problems.append(str(exc))
            return
        result.session_id = where.id
        result.step("session created", where.id)
    where.store.update("cti", call.data)
    if match is not None:
        await _load_match(desktop, rule, match, where, result, chain)
        result.step("match loaded", f"{match['LogicalName']} {match.get('id', '')}")
    names = [*calls, *rule.action_calls]
    for name in names:
        await desktop.dispatcher.run_action_call(name, session=where, event=call.data, chain=chain)
    if names:
        result.step("action calls run", ", ".join(names))
    created = f" in session {where.name}" if result.session_id else ""
    result.lines.append(f"→ {decision.replace('_', ' ')}{created}")


async def _load_match(desktop: Desktop, rule: WindowNavigationRule, match: Mapping[str, Any],
                      session: Session, result: CtiOutcome, chain: Chain | None) -> None:
    """The single match goes where the rule's Result says, as any routed record does, unless the
    session's own ``SessionNew`` action calls already opened it there (no second load)."""
    entity, ident = str(match["LogicalName"]), str(match.get("id", ""))
    shown = desktop.instance(rule.target_tab, session) if rule.target_tab else None
    showing = (getattr(shown, "entity", None), getattr(shown, "record_id", None)) if shown else None
    if showing == (entity, ident):
        result.lines.append(f"    the match is already open in {rule.target_tab}")
        return
    navigation = Navigation(desktop.global_manager_name() or "", "", "popup",
                            entity=entity, record_id=ident, session_id=session.id)
    loaded = await desktop.router.deliver(Decision(navigation, rule, ()), session, chain=chain)
    result.problems.extend(loaded.problems)


def _trace(desktop: Desktop, call: CtiCall, result: CtiOutcome, session: Session) -> None:
    journal = desktop.dispatcher.journal
    journal.record(TraceRecord(
        seq=journal.next_seq(), kind="navigation", name=result.rule or "(no CTI rule)",
        outcome=Outcome.FAILED if result.problems else (Outcome.RAN if result.rule else Outcome.SKIPPED),
        control=call.from_control, action=result.decision, session_id=session.id,
        data="\n".join(result.lines), reason="; ".join(result.problems) or result.outcome,
        result=result.session_id or None, parameters={f"cti.{k}": v for k, v in call.data.items()},
    ))
