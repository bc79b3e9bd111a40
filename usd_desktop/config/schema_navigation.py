"""Window navigation rules and their CTI variant (usd-reference §5).

A rule matches a window load (a pop-up, an in-place navigation, a menu choice, a page or search
load) by where it comes from, its entity and its URL, and then routes it: to a tab, to a new
session, outside the desktop, or nowhere. Rules are tried by ``order`` (ties by position); the
first that matches and whose condition holds wins (§5.3).

A rule with ``cti`` set is a CTI rule (§5.4): it is tried only for CTI lookups. Its searches run in
order and together count the matching records; the count (none, one, several) selects a
:class:`MatchDecision`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from usd_desktop.config.schema_searches import SearchBase
from usd_desktop.config.schema_types import Identifier, Name, _Model

Direction = Literal["inbound", "outbound", "both"]
Decision = Literal[
    "create_session_then_do_action",
    "create_session_load_match_then_do_action",
    "do_action",
    "next_rule",
]


class CtiSearch(SearchBase):
    """A search of a CTI rule (USD CTI Search); its filter values usually read `[[cti.X]]`."""

    order: int = Field(
        default=0, description="Position among the rule's searches (ascending; ties keep list order)."
    )
    direction: Direction = Field(
        default="both", description="The calls it runs for: `inbound`, `outbound` or `both`."
    )


class MatchDecision(_Model):
    """What a CTI rule does for one outcome of its searches (no, one or several matches)."""

    decision: Decision = Field(
        default="next_rule",
        description="`create_session_then_do_action`; `create_session_load_match_then_do_action` "
        "(single match only: loads the match into the rule's tab or entity search); `do_action` "
        "(stays in the current session); `next_rule` (try the next CTI rule).",
    )
    action_calls: list[Name] = Field(
        default_factory=list,
        description="Names of the action calls run for this outcome (its Do Action part); the "
        "rule's own `action_calls` run too unless the decision is `next_rule`.",
    )


class CtiRule(_Model):
    """The CTI part of a window navigation rule: which activity it handles and what each search
    outcome does."""

    initiating_activity: Identifier = Field(
        default="phonecall",
        description="The activity entity the adapter sends, e.g. `phonecall`, `chat`, `email`; one per rule.",
    )
    direction: Direction = Field(
        default="both", description="The calls the rule handles: `inbound`, `outbound` or `both`."
    )
    searches: list[CtiSearch] = Field(
        default_factory=list,
        description="The searches, run by `order`; together they act as one search whose result "
        "count picks the decision.",
    )
    no_match: MatchDecision = Field(
        default_factory=MatchDecision, description="What to do when the searches find nothing."
    )
    single_match: MatchDecision = Field(
        default_factory=MatchDecision, description="What to do when they find exactly one record."
    )
    multiple_match: MatchDecision = Field(
        default_factory=MatchDecision, description="What to do when they find more than one record."
    )


class WindowNavigationRule(_Model):
    """A window navigation rule: where a window load is routed."""

    name: Name = Field(description="Unique name.")
    order: int = Field(
        default=0,
        description="Rules are tried by ascending order (ties keep list order); the first match wins.",
    )
    from_control: Name | None = Field(
        default=None,
        description="The hosted control the navigation comes from (USD From); unset: any. For a "
        "CTI rule, the CTI Desktop Manager.",
    )
    from_search: Name | None = Field(
        default=None, description="The entity search whose load triggers the rule (for `on_load` rules)."
    )
    entity: Identifier | None = Field(
        default=None, description="Logical name of the entity of the page loaded; unset: any."
    )
    url: str | None = Field(
        default=None,
        description="Text the URL must contain, for pages that are not entity pages (may be "
        "combined with `entity`); `*` or unset: any URL.",
    )
    route_type: Literal["popup", "in_place", "on_load", "menu_chosen"] = Field(
        default="popup",
        description="The kind of load matched: `popup` (a new window), `in_place` (navigation "
        "inside the frame), `on_load` (after a page or an entity search loaded), `menu_chosen` (a "
        "record's navigation menu).",
    )
    action: Literal["create_session", "route_window", "show_outside", "none"] = Field(
        default="route_window",
        description="`create_session` (a new customer session, then the page goes to the "
        "target tab), `route_window` (to another tab of the session), `show_outside` (an "
        "unmanaged window), `none` (block the navigation; the action calls still run).",
    )
    destination: Literal["tab", "entity_search"] = Field(
        default="tab", description="Route to a tab (`target_tab`) or to an entity search (`entity_search`)."
    )
    target_tab: Name | None = Field(
        default=None,
        description="The hosted control that receives the page (a dynamic one is created). The "
        "Global Manager with `create_session` means: create the session, then evaluate the rules "
        "again. Unset: the first entity search of the page's entity.",
    )
    show_tab: Name | None = Field(
        default=None, description="The hosted control whose tab is shown after routing."
    )
    entity_search: Name | None = Field(
        default=None, description="The entity search run, when `destination` is `entity_search`."
    )
    hide_command_bar: bool = Field(default=False, description="Hide the command bar of the routed page.")
    hide_navigation_bar: bool = Field(
        default=False, description="Hide the navigation bar of the routed page."
    )
    condition: str = Field(
        default="",
        description="JavaScript condition after replacement (`[[url]]` is the target URL); blank "
        "or true matches, false or an error skips the rule.",
    )
    action_calls: list[Name] = Field(
        default_factory=list,
        description="Names of the action calls run when the rule fires (for a CTI rule: when the "
        "decision is not `next_rule`).",
    )
    cti: CtiRule | None = Field(
        default=None,
        description="Makes this a CTI rule (USD CTI navigation rule), tried only for CTI lookups.",
    )
