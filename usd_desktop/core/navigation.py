"""Window navigation rules: which rule routes a window load (usd-reference §5, §5.3).

A :class:`Navigation` describes a window load: the hosted control it comes from, its URL, its route
type (a pop-up, an in-place navigation, a page or search load, a menu choice), the entity and record
of the page, and the entity search whose load it follows. :meth:`NavigationRules.decide` picks the
rule that routes it and returns a :class:`Decision` that says why, rule by rule, for the debugger
and ``usd-admin rules test``. What the rule then does (create a session, route to a tab, open
outside, block) is the router's work, not this module's.

The evaluation, as USD documents it and as §5.3 reconstructs it:

1. Rules are tried by ascending ``order``; ties keep list order. The first rule whose criteria all
   match and whose condition holds wins; later rules are not considered.
2. CTI rules (``cti`` set) are never matched here: they are tried only for CTI lookups. Rules named
   in ``skip`` are not matched either (the router passes the rule that just created a session when
   it evaluates again after a Global Manager target, so the same rule cannot fire twice in a loop).
3. ``from_control``, ``from_search``: unset matches any; else exact equality. ``route_type`` must be
   equal. ``entity``: unset matches any; else case-insensitive equality with the page's entity (a
   page that is not an entity page does not match a rule with an entity).
4. ``url``: unset or ``*`` matches any URL. A pattern with ``*`` is a wildcard over the whole URL
   (``*`` is any run of characters, nothing else is special); otherwise the URL must contain the
   text. Both ignore case.
5. ``condition`` is evaluated last, after replacement, with the bare parameters ``[[url]]``,
   ``[[entity]]``, ``[[id]]``, ``[[from]]``, ``[[routetype]]`` and ``[[fromsearch]]`` of the load
   added to the event data. False, a throw, or a missing parameter makes the rule not match ("an
   incorrect condition causes the rule to fail").
6. No rule matched: the page opens where it was requested (USD's observed default; §5.2.9).

Everything that does not depend on the load (lower-case values, compiled URL patterns, the order) is
computed once in :class:`NavigationRules`; a decision costs a few comparisons per rule tried, and
JavaScript runs only for a rule whose cheap criteria all matched.

This module is Qt-free and, like the rest of :mod:`usd_desktop.core`, does not import
:mod:`usd_desktop.config` (the layers contract): a rule is anything shaped like
:class:`usd_desktop.config.schema_navigation.WindowNavigationRule` (:class:`NavigationRule`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

from usd_desktop.core.conditions import ConditionResult, evaluate_condition

__all__ = [
    "GLOBAL_MANAGER",
    "ROUTE_TYPES",
    "Decision",
    "Navigation",
    "NavigationRule",
    "NavigationRules",
    "RuleCheck",
    "url_matches",
]

#: The route types a rule and a navigation have (USD RouteType: Popup, InPlace, OnLoad, MenuChosen).
ROUTE_TYPES = ("popup", "in_place", "on_load", "menu_chosen")

#: The usual name of the Global Manager; a Create Session rule targeting it means "create the
#: session, then evaluate the rules again" (only the wording of :meth:`Decision.explain` uses it).
GLOBAL_MANAGER = "Global Manager"

_ACTION_TITLES = {
    "create_session": "Create Session",
    "route_window": "Route Window",
    "show_outside": "Show Outside",
    "none": "None",
}


class NavigationRule(Protocol):
    """What the engine reads of a rule; :class:`~usd_desktop.config.schema_navigation.WindowNavigationRule`
    has it (read-only properties, so the frozen pydantic model fits)."""

    @property
    def name(self) -> str: ...
    @property
    def order(self) -> int: ...
    @property
    def from_control(self) -> str | None: ...
    @property
    def from_search(self) -> str | None: ...
    @property
    def entity(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def route_type(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def target_tab(self) -> str | None: ...
    @property
    def show_tab(self) -> str | None: ...
    @property
    def entity_search(self) -> str | None: ...
    @property
    def hide_command_bar(self) -> bool: ...
    @property
    def hide_navigation_bar(self) -> bool: ...
    @property
    def condition(self) -> str: ...
    @property
    def action_calls(self) -> Sequence[str]: ...
    @property
    def cti(self) -> object: ...


#: The rule type a :class:`NavigationRules` holds (``WindowNavigationRule`` in the desktop).
R = TypeVar("R", bound=NavigationRule)


# ------------------------------------------------------------------------------- the load
@dataclass(frozen=True, slots=True)
class Navigation:
    """A window load to route.

    ``from_control`` is the hosted control the load comes from (``""``: unknown); ``entity`` the
    logical name of the record page (``None``: not an entity page) and ``record_id`` its record;
    ``from_search`` the entity search whose load this is (for ``on_load`` rules); ``session_id`` is
    informative only (the debugger shows it).
    """

    from_control: str
    url: str = ""
    route_type: str = "popup"
    entity: str | None = None
    record_id: str | None = None
    from_search: str | None = None
    session_id: str = ""

    def __post_init__(self) -> None:
        if self.route_type not in ROUTE_TYPES:
            raise ValueError(
                f"route type {self.route_type!r} is not one of {', '.join(ROUTE_TYPES)}"
            )

    @classmethod
    def of_url(
        cls,
        from_control: str,
        url: str,
        route_type: str = "popup",
        *,
        from_search: str | None = None,
        session_id: str = "",
    ) -> Navigation:
        """A navigation whose entity and record id are read from the URL, as USD's CRM page URLs
        carry them: the query parameters ``etn=`` (entity) and ``id=`` (record id), keys
        case-insensitive, braces around the id removed. Without them the page is not an entity page.
        """
        entity, record_id = _entity_of_url(url)
        return cls(
            from_control,
            url,
            route_type,
            entity=entity,
            record_id=record_id,
            from_search=from_search,
            session_id=session_id,
        )

    def parameters(self) -> dict[str, str]:
        """The bare replacement parameters a rule's condition sees: ``url`` and ``routetype``
        always, ``from``, ``entity``, ``id`` and ``fromsearch`` when the load has them."""
        params = {"url": self.url, "routetype": self.route_type}
        if self.from_control:
            params["from"] = self.from_control
        if self.entity:
            params["entity"] = self.entity
        if self.record_id:
            params["id"] = self.record_id
        if self.from_search:
            params["fromsearch"] = self.from_search
        return params

    def describe(self) -> str:
        """One line: the route type, where from, where to, and the record."""
        source = f"from {self.from_control}" if self.from_control else "from an unknown control"
        text = f"{self.route_type} {source} to {self.url or '(no URL)'}"
        details = []
        if self.entity:
            details.append(f"entity {self.entity}")
        if self.record_id:
            details.append(f"record {self.record_id}")
        if self.from_search:
            details.append(f"after the search {self.from_search}")
        if self.session_id:
            details.append(f"session {self.session_id}")
        return f"{text} ({', '.join(details)})" if details else text


def _entity_of_url(url: str) -> tuple[str | None, str | None]:
    try:
        query = urlsplit(url).query
    except ValueError:  # e.g. an unbalanced IPv6 host: no entity to read
        return None, None
    entity: str | None = None
    record_id: str | None = None
    for key, value in parse_qsl(query, keep_blank_values=True):
        lowered = key.strip().lower()
        if lowered == "etn" and entity is None:
            entity = value.strip() or None
        elif lowered == "id" and record_id is None:
            record_id = value.strip().strip("{}").strip() or None
    return entity, record_id


def url_matches(pattern: str | None, url: str) -> bool:
    """Whether ``url`` matches a rule's ``url`` (point 4 of the module docstring)."""
    return _UrlPattern(pattern).match(url.lower())


class _UrlPattern:
    """A rule's URL criterion, prepared once: any, a wildcard (compiled) or a substring."""

    __slots__ = ("any", "regex", "text")

    def __init__(self, pattern: str | None) -> None:
        self.text = (pattern or "").lower()
        self.any = not self.text or self.text == "*"
        self.regex: re.Pattern[str] | None = None
        if not self.any and "*" in self.text:
            body = ".*".join(re.escape(part) for part in self.text.split("*"))
            self.regex = re.compile(body, re.DOTALL)

    def match(self, lowered_url: str) -> bool:
        if self.any:
            return True
        if self.regex is not None:
            return self.regex.fullmatch(lowered_url) is not None
        return self.text in lowered_url


# ------------------------------------------------------------------------------- the outcome
@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule tried for a navigation: whether it matched, the field that decided (``""`` when it
    matched) and one human line saying why."""

    rule: str
    order: int
    matched: bool
    field: str
    reason: str

    def line(self) -> str:
        mark = "✓" if self.matched else "✗"
        return f"{mark} {self.rule} (order {self.order}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "order": self.order,
            "matched": self.matched,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Decision(Generic[R]):
    """The rule that routes a navigation (``None``: no rule matched, so the page opens where it was
    requested, USD's observed default) and every rule tried, in evaluation order, up to and
    including the match."""

    navigation: Navigation
    rule: R | None
    checks: tuple[RuleCheck, ...]

    @property
    def action(self) -> str:
        """The rule's action, or ``"default"`` when no rule matched."""
        return "default" if self.rule is None else self.rule.action

    def outcome(self) -> str:
        """One line: what the router does with the load."""
        rule = self.rule
        if rule is None:
            return "no rule matched: the page opens where it was requested"
        title = _ACTION_TITLES.get(rule.action, rule.action)
        parts: list[str] = []
        if rule.action == "none":
            parts.append("None: the navigation is blocked")
        elif rule.action == "show_outside":
            parts.append("Show Outside: the page opens in an unmanaged window")
        elif rule.destination == "entity_search":
            parts.append(f"{title}, entity search {rule.entity_search or '(none named)'}")
        elif rule.target_tab:
            parts.append(f"{title}, target tab {rule.target_tab}")
        else:
            entity = self.navigation.entity or "the page's entity"
            parts.append(f"{title}, no target tab: the first entity search of {entity}")
        if rule.show_tab and rule.action in ("create_session", "route_window"):
            parts.append(f"show tab {rule.show_tab}")
        if rule.hide_command_bar:
            parts.append("hide the command bar")
        if rule.hide_navigation_bar:
            parts.append("hide the navigation bar")
        text = ", ".join(parts)
        if (
            rule.action == "create_session"
            and rule.destination == "tab"
            and rule.target_tab == GLOBAL_MANAGER
        ):
            text += (
                " (the Global Manager as target: the session is created, then the rules are "
                f"evaluated again without {rule.name!r})"
            )
        if rule.action_calls:
            text += f"; action calls: {', '.join(rule.action_calls)}"
        return text

    def explain(self) -> str:
        """A header describing the navigation, one line per rule tried, then the outcome."""
        lines = [f"Navigation: {self.navigation.describe()}"]
        if not self.checks:
            lines.append("(no rules)")
        lines.extend(check.line() for check in self.checks)
        lines.append(f"→ {self.outcome()}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``navigation`` (its fields), ``rule`` (its name or ``None``), ``order``,
        ``action``, the routing fields of the rule (``None`` when no rule matched), ``outcome`` (the
        line :meth:`explain` ends with) and ``checks``."""
        nav = self.navigation
        rule = self.rule
        return {
            "navigation": {
                "from_control": nav.from_control,
                "url": nav.url,
                "route_type": nav.route_type,
                "entity": nav.entity,
                "record_id": nav.record_id,
                "from_search": nav.from_search,
                "session_id": nav.session_id,
            },
            "rule": None if rule is None else rule.name,
            "order": None if rule is None else rule.order,
            "action": self.action,
            "destination": None if rule is None else rule.destination,
            "target_tab": None if rule is None else rule.target_tab,
            "show_tab": None if rule is None else rule.show_tab,
            "entity_search": None if rule is None else rule.entity_search,
            "hide_command_bar": None if rule is None else rule.hide_command_bar,
            "hide_navigation_bar": None if rule is None else rule.hide_navigation_bar,
            "action_calls": [] if rule is None else list(rule.action_calls),
            "outcome": self.outcome(),
            "checks": [check.to_dict() for check in self.checks],
        }


# ------------------------------------------------------------------------------- the engine
class _Prepared(Generic[R]):
    """A rule with everything that does not depend on the load computed once."""

    __slots__ = (
        "condition",
        "cti_check",
        "entity",
        "from_control",
        "from_search",
        "is_cti",
        "name",
        "order",
        "route_checks",
        "route_type",
        "rule",
        "skip_check",
        "url",
        "url_label",
    )

    def __init__(self, rule: R) -> None:
        self.rule: R = rule
        self.name = rule.name
        self.order = rule.order
        self.is_cti = rule.cti is not None
        self.from_control = rule.from_control
        self.from_search = rule.from_search
        self.route_type = rule.route_type
        self.entity = rule.entity.lower() if rule.entity else None
        self.url = _UrlPattern(rule.url)
        self.url_label = rule.url or ""
        self.condition = rule.condition if rule.condition and rule.condition.strip() else None
        # The checks that do not depend on the load's URL, source or entity, made once (a RuleCheck
        # is immutable, so decisions share them).
        self.cti_check = RuleCheck(self.name, self.order, False, "cti", _CTI_REASON)
        self.skip_check = RuleCheck(self.name, self.order, False, "skip", _SKIP_REASON)
        self.route_checks = {
            route: RuleCheck(self.name, self.order, False, "route_type",
                             f"route_type: the load is {route}, the rule wants {self.route_type}")
            for route in ROUTE_TYPES
            if route != self.route_type
        }


class NavigationRules(Generic[R]):
    """The window navigation rules of a configuration, ready to decide loads.

    ``scriptlets`` (name to JavaScript) serve ``[[script.Name]]`` in conditions.
    """

    def __init__(
        self, rules: Sequence[R], *, scriptlets: Mapping[str, str] | None = None
    ) -> None:
        ordered = sorted(enumerate(rules), key=lambda item: (item[1].order, item[0]))
        self._all = tuple(_Prepared(rule) for _, rule in ordered)
        self._rules = tuple(p.rule for p in self._all if not p.is_cti)
        self._cti_rules = tuple(p.rule for p in self._all if p.is_cti)
        self._scriptlets = scriptlets

    @property
    def rules(self) -> tuple[R, ...]:
        """The rules :meth:`decide` may match (not the CTI ones), in evaluation order: ascending
        ``order``, ties in list order."""
        return self._rules

    def cti_rules(self) -> tuple[R, ...]:
        """The CTI rules (``cti`` set), in the same order; only CTI lookups try them."""
        return self._cti_rules

    def __len__(self) -> int:
        return len(self._all)

    def decide(
        self,
        navigation: Navigation,
        data: Mapping[str, Any] | None = None,
        *,
        skip: Collection[str] = (),
    ) -> Decision[R]:
        """The rule that routes ``navigation``, and why.

        Rules are tried by ascending order (ties in list order); the first whose criteria all match
        and whose condition holds wins, and the rules after it are not tried (nor listed in
        :attr:`Decision.checks`). CTI rules and the rules named in ``skip`` never match (the router
        passes, in ``skip``, the rule that just created a session before evaluating again after a
        Global Manager target, which stops loops). ``from_control`` and ``from_search`` match when
        unset or equal; ``route_type`` when equal; ``entity`` when unset or equal ignoring case;
        ``url`` when unset, ``*``, a wildcard pattern matching the whole URL, or text the URL
        contains (ignoring case). The condition is evaluated last, with ``data`` (the view of
        :meth:`usd_desktop.core.context.Sessions.data_for`; ``None``: empty) whose ``event`` gets
        the bare parameters of :meth:`Navigation.parameters`; ``data`` is not changed. A condition
        that is false, throws or misses a parameter makes the rule not match.
        """
        nav_from = navigation.from_control
        nav_search = navigation.from_search
        nav_route = navigation.route_type
        nav_entity = navigation.entity.lower() if navigation.entity else None
        nav_url = navigation.url.lower()
        skipped = skip if isinstance(skip, (set, frozenset)) else frozenset(skip)
        view: dict[str, Any] | None = None
        checks: list[RuleCheck] = []
        add = checks.append
        for p in self._all:
            if p.is_cti:
                add(p.cti_check)
                continue
            if skipped and p.name in skipped:
                add(p.skip_check)
                continue
            if p.from_control is not None and p.from_control != nav_from:
                add(RuleCheck(p.name, p.order, False, "from", _from_reason(nav_from, p.from_control)))
                continue
            if p.from_search is not None and p.from_search != nav_search:
                add(RuleCheck(p.name, p.order, False, "from_search",
                              _search_reason(nav_search, p.from_search)))
                continue
            if p.route_type != nav_route:
                add(p.route_checks[nav_route])
                continue
            if p.entity is not None and p.entity != nav_entity:
                add(RuleCheck(p.name, p.order, False, "entity",
                              _entity_reason(navigation.entity, p.rule.entity or "")))
                continue
            if not p.url.match(nav_url):
                verb = "does not match" if p.url.regex is not None else "does not contain"
                add(RuleCheck(p.name, p.order, False, "url",
                              f"url: {navigation.url or '(no URL)'} {verb} {p.url_label}"))
                continue
            rendered = ""
            if p.condition is not None:
                if view is None:
                    view = _view(data, navigation)
                result = evaluate_condition(p.condition, view, scriptlets=self._scriptlets)
                if not result.run:
                    add(RuleCheck(p.name, p.order, False, "condition", _condition_reason(result)))
                    continue
                rendered = result.rendered
            add(RuleCheck(p.name, p.order, True, "", _match_reason(p, navigation, rendered)))
            return Decision(navigation, p.rule, tuple(checks))
        return Decision(navigation, None, tuple(checks))


_CTI_REASON = "a CTI rule: tried only for CTI lookups"
_SKIP_REASON = "skip: left out of this evaluation (the rule that just created the session)"


def _view(data: Mapping[str, Any] | None, navigation: Navigation) -> dict[str, Any]:
    """The data view with the load's bare parameters added to ``event`` (a shallow copy)."""
    view: dict[str, Any] = dict(data) if data else {}
    event = view.get("event")
    merged: dict[str, Any] = dict(event) if event else {}
    merged.update(navigation.parameters())
    view["event"] = merged
    return view


def _from_reason(actual: str, wanted: str) -> str:
    if not actual:
        return f"from: the load's control is unknown, the rule wants {wanted}"
    return f"from: the load comes from {actual}, the rule wants {wanted}"


def _search_reason(actual: str | None, wanted: str) -> str:
    if not actual:
        return f"from_search: the load follows no entity search, the rule wants {wanted}"
    return f"from_search: the load follows the search {actual}, the rule wants {wanted}"


def _entity_reason(actual: str | None, wanted: str) -> str:
    if not actual:
        return f"entity: the page is not an entity page, the rule wants {wanted}"
    return f"entity: the page is a {actual} page, the rule wants {wanted}"


def _condition_reason(result: ConditionResult) -> str:
    if result.missing is not None:
        return f"condition: {result.reason}, so the rule fails"
    if result.reason == "condition false":
        return f"condition false: {result.rendered}"
    return result.reason


def _match_reason(p: _Prepared[Any], navigation: Navigation, rendered: str) -> str:
    parts: list[str] = []
    if p.from_control is not None:
        parts.append(f"from: {p.from_control}")
    if p.from_search is not None:
        parts.append(f"from_search: {p.from_search}")
    parts.append(f"route_type: {p.route_type}")
    if p.entity is not None:
        parts.append(f"entity: {navigation.entity}")
    if p.url.any:
        if p.url_label:
            parts.append(f"url: {p.url_label} (any URL)")
    else:
        verb = "matches" if p.url.regex is not None else "contains"
        parts.append(f"url: {navigation.url} {verb} {p.url_label}")
    if p.condition is not None:
        parts.append(f"condition true: {rendered}" if rendered.strip() else "condition true")
    return "; ".join(parts)
