"""Lint for window navigation rules (CTI rules included) and entity searches (usd-reference §5,
§6.3). Run by :func:`usd_desktop.config.lint.lint`; the codes are part of its ``CODES``.

A rule is *unreachable* (USD179) when an earlier rule (lower ``order``, ties by position) without a
condition matches every load it matches, following the evaluation of §5.3: the same route type,
and each of ``from_control``, ``from_search``, ``entity`` unset or equal, and a URL that is unset,
``*`` or part of the later rule's URL. A CTI rule shadows only CTI rules of the same initiating
activity and a covering direction, and only when none of its decisions is ``next_rule``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from usd_desktop.config.lint_common import ERROR, WARNING, Report, condition, reference, unique
from usd_desktop.config.schema import (
    Configuration,
    DataPath,
    SearchFilter,
    WindowNavigationRule,
)

#: code -> (severity, what it means).
NAVIGATION_CODES: dict[str, tuple[str, str]] = {
    "USD147": (WARNING, "more than 50 window navigation rules"),
    "USD171": (ERROR, "duplicate window navigation rule name"),
    "USD172": (ERROR, "duplicate CTI search name within a navigation rule"),
    "USD173": (ERROR, "navigation rule names an unknown hosted control (from_control, target_tab, show_tab)"),
    "USD174": (ERROR, "navigation rule names an unknown entity search (from_search, entity_search)"),
    "USD175": (ERROR, "navigation rule or CTI decision names an unknown action call"),
    "USD176": (ERROR, "destination entity_search without an entity_search"),
    "USD177": (ERROR, "on_load rule without from_search or from_control"),
    "USD178": (ERROR, "create_session_load_match_then_do_action outside single_match"),
    "USD179": (WARNING, "navigation rule is unreachable: an earlier rule always matches first"),
    "USD180": (WARNING, "in_place route_window rule routes a control to itself (USD loops and crashes)"),
    "USD181": (ERROR, "duplicate entity search name"),
}

#: USD's Best Practices Analyzer warns above this many rules (usd-reference §8.3).
MAX_NAVIGATION_RULES = 50
RULES = "window_navigation_rules"
_OUTCOMES = ("no_match", "single_match", "multiple_match")
_LOAD_MATCH = "create_session_load_match_then_do_action"


def lint_navigation(config: Configuration, report: Report) -> None:
    """Check the entity searches and the window navigation rules of ``config``."""
    unique(config.entity_searches, ("entity_searches",), "USD181", "entity search name", report)
    rules = config.window_navigation_rules
    unique(rules, (RULES,), "USD171", "window navigation rule name", report)
    if len(rules) > MAX_NAVIGATION_RULES:
        report(
            (RULES,),
            "USD147",
            f"{len(rules)} window navigation rules; USD's best-practice analyser warns above "
            f"{MAX_NAVIGATION_RULES} (merge rules with conditions, or use a Global Manager target)",
        )
    for i, rule in enumerate(rules):
        _rule(config, (RULES, i), rule, report)
    managers = {c.name for c in config.hosted_controls if c.type == "GlobalManager"}
    _unreachable(rules, report, managers)


def _rule(config: Configuration, path: DataPath, rule: WindowNavigationRule, report: Report) -> None:
    controls, searches = config.controls_by_name, config.entity_searches_by_name
    calls = config.action_calls_by_name
    for field in ("from_control", "target_tab", "show_tab"):
        reference((*path, field), getattr(rule, field), controls, "USD173", "hosted control", report)
    for field in ("from_search", "entity_search"):
        reference((*path, field), getattr(rule, field), searches, "USD174", "entity search", report)
    for j, name in enumerate(rule.action_calls):
        reference((*path, "action_calls", j), name, calls, "USD175", "action call", report)
    if rule.destination == "entity_search" and rule.entity_search is None:
        report((*path, "destination"), "USD176", "destination is entity_search but no entity_search is named")
    if rule.route_type == "on_load" and rule.from_search is None and rule.from_control is None:
        report(
            (*path, "route_type"),
            "USD177",
            "an on_load rule needs from_search or from_control (the search or page whose load it follows)",
        )
    condition((*path, "condition"), rule.condition, report)
    if (
        rule.route_type == "in_place"
        and rule.action == "route_window"
        and rule.target_tab is not None
        and rule.target_tab == rule.from_control
    ):
        report(
            (*path, "target_tab"),
            "USD180",
            f"an in-place navigation in {rule.target_tab!r} is routed back to {rule.target_tab!r}; "
            "USD loops on such rules and crashes: route to another tab or narrow the rule",
        )
    if rule.cti is not None:
        cti = (*path, "cti")
        unique(rule.cti.searches, (*cti, "searches"), "USD172", "CTI search name", report)
        for outcome in _OUTCOMES:
            decision = getattr(rule.cti, outcome)
            if decision.decision == _LOAD_MATCH and outcome != "single_match":
                report(
                    (*cti, outcome, "decision"),
                    "USD178",
                    f"{_LOAD_MATCH} needs exactly one match; for {outcome} use "
                    "create_session_then_do_action or do_action",
                )
            for j, name in enumerate(decision.action_calls):
                reference((*cti, outcome, "action_calls", j), name, calls, "USD175", "action call", report)


# ---------------------------------------------------------------------- unreachable rules
def _unreachable(rules: Sequence[WindowNavigationRule], report: Report, managers: set[str]) -> None:
    ordered = sorted(enumerate(rules), key=lambda item: (item[1].order, item[0]))
    for k, (index, rule) in enumerate(ordered):
        for _, earlier in ordered[:k]:
            if earlier.action == "create_session" and earlier.target_tab in managers:
                continue  # it creates a session and evaluates again without itself: later rules run
            if shadows(earlier, rule):
                report(
                    (RULES, index),
                    "USD179",
                    f"unreachable: rule {earlier.name!r} (order {earlier.order}) always matches first",
                )
                break


def shadows(first: WindowNavigationRule, later: WindowNavigationRule) -> bool:
    """Whether ``first``, tried before ``later``, matches every load that ``later`` matches."""
    if first.condition.strip() or first.route_type != later.route_type:
        return False
    for field in ("from_control", "from_search", "entity"):
        value = getattr(first, field)
        if value is not None and value != getattr(later, field):
            return False
    if not (not first.url or first.url == "*" or (later.url and first.url in later.url)):
        return False
    if first.cti is None or later.cti is None:
        return first.cti is None and later.cti is None
    return (
        first.cti.initiating_activity == later.cti.initiating_activity
        and first.cti.direction in ("both", later.cti.direction)
        and all(getattr(first.cti, outcome).decision != "next_rule" for outcome in _OUTCOMES)
    )


# ---------------------------------------------------------------------- texts
def navigation_texts(config: Configuration) -> Iterator[tuple[DataPath, str]]:
    """The texts that may hold replacement parameters: rule conditions and filter values."""
    for i, search in enumerate(config.entity_searches):
        yield from _filter_values(search.filters, ("entity_searches", i))
    for i, rule in enumerate(config.window_navigation_rules):
        yield (RULES, i, "condition"), rule.condition
        if rule.cti is not None:
            for j, cti_search in enumerate(rule.cti.searches):
                yield from _filter_values(cti_search.filters, (RULES, i, "cti", "searches", j))


def _filter_values(filters: Sequence[SearchFilter], path: DataPath) -> Iterator[tuple[DataPath, str]]:
    for k, search_filter in enumerate(filters):
        yield (*path, "filters", k, "value"), search_filter.value
