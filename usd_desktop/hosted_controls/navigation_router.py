"""Applying window navigation rules: where a pop-up, an in-place navigation or a record goes.

:class:`NavigationRouter` asks :class:`~usd_desktop.core.navigation.NavigationRules` which rule
routes a load (``decide``, synchronous, so a web page can refuse an in-place navigation on the
spot) and then carries the rule out (``apply``):

* ``create_session``: a new customer session about the page's entity (``$Context`` gets
  ``LogicalName``, ``Id`` and ``url``), then the page goes to the rule's target tab in it. With the
  Global Manager as the target, the rules are evaluated again in the new session (the rule that
  created it excluded) to find the real tab. A refused session (the limit) keeps the pop for
  ``RedoScreenPop``.
* ``route_window``: to the target tab in the same session (a global source routes into the active
  customer session); a dynamic target control is created on demand.
* ``show_outside``: an unmanaged window outside the desktop.
* ``none``: blocked; only the rule's action calls run (a ``tel:`` link becomes a call).
* destination ``entity_search``, or no target tab: the Global Manager's ``DoSearch`` runs the rule's
  entity search (the first search of the page's entity when the rule names none).

Then the target's tab is shown (``show_tab``), the rule's action calls run with ``[[url]]``,
``[[entity]]`` and ``[[id]]``, and the source control raises ``PopupRouted(url)``. An in-place
navigation routed back into the control it came from (USD's pooling loop), a second session
created by the re-evaluation, or routing nested too deep, is stopped and reported. Every decision
(when the configuration has rules) is written to the trace journal (kind ``navigation``) with its
explanation, so the debugger shows each rule considered and why.
"""

from __future__ import annotations

import contextvars
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from usd_desktop.core.context import Session
from usd_desktop.core.dispatcher import Chain
from usd_desktop.core.errors import ActionError, SessionLimitReached
from usd_desktop.core.navigation import Decision, Navigation, NavigationRules
from usd_desktop.core.signals import Signal
from usd_desktop.core.trace import Outcome, TraceRecord

if TYPE_CHECKING:
    from usd_desktop.hosted_controls.desktop import Desktop

#: How many routings may nest (a routed page whose load is routed again...) before one is stopped.
MAX_ROUTE_DEPTH = 4
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("usd_route_depth", default=0)


@dataclass(frozen=True, slots=True)
class RoutedPage:
    """What a target control is asked to show."""

    url: str
    entity: str | None
    record_id: str | None
    route_type: str
    from_control: str
    rule: str
    hide_command_bar: bool = False
    hide_navigation_bar: bool = False
    values: dict[str, str] = field(default_factory=dict)  # New_CRM_Page's prefill


@runtime_checkable
class Routable(Protocol):
    """A control that can show a routed page (web controls load the URL, entity forms the record)."""

    def open_routed(self, page: RoutedPage) -> Any: ...


@dataclass
class RouteOutcome:
    """What became of one load: ``action`` is ``default`` when no rule took it (the caller opens
    it where it was requested), ``stopped`` when a loop was stopped."""

    navigation: Navigation
    decisions: list[Decision[Any]]
    action: str = "default"
    session_id: str = ""
    target: str | None = None
    problems: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def handled(self) -> bool:
        """True when a rule took the load (the caller must not open it itself)."""
        return self.action != "default"


class NavigationRouter:
    """The desktop's window navigation: decisions, their application, their trace."""

    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self.rules = NavigationRules(desktop.config.window_navigation_rules,
                                     scriptlets=desktop.dispatcher.scriptlets)
        self.routed: Signal[RouteOutcome] = Signal("navigation.routed")

    # ------------------------------------------------------------------ decide
    def decide(
        self, navigation: Navigation, session: Session, *, skip: tuple[str, ...] = ()
    ) -> Decision[Any]:
        data = self.desktop.sessions.data_for(session)
        return self.rules.decide(navigation, data, skip=skip)

    async def route(self, navigation: Navigation, session: Session, *, chain: Chain | None = None,
                    values: dict[str, str] | None = None) -> RouteOutcome:
        return await self.apply(self.decide(navigation, session), session, chain=chain, values=values)

    # ------------------------------------------------------------------ apply
    async def apply(self, decision: Decision[Any], session: Session, *, chain: Chain | None = None,
                    values: dict[str, str] | None = None) -> RouteOutcome:
        outcome = RouteOutcome(decision.navigation, [decision], session_id=session.id,
                               values=dict(values or {}))
        depth = _depth.get()
        token = _depth.set(depth + 1)
        try:
            if depth >= MAX_ROUTE_DEPTH:
                outcome.action = "stopped"
                outcome.problems.append(
                    f"stopped: routing nested {depth} levels deep ({decision.navigation.describe()})")
            elif decision.rule is not None:
                await self._carry_out(decision, session, outcome, chain)
        except ActionError as exc:
            outcome.problems.append(str(exc))
        finally:
            _depth.reset(token)
            if self.rules.rules:  # with no rule at all there is nothing to explain
                self._trace(outcome, session)
            self.routed.emit(outcome)
        return outcome

    async def _carry_out(self, decision: Decision[Any], session: Session, outcome: RouteOutcome,
                         chain: Chain | None) -> None:
        rule, nav = decision.rule, decision.navigation
        assert rule is not None
        outcome.action = rule.action
        where = session
        if rule.action == "none":
            pass
        elif rule.action == "show_outside":
            self.desktop.host.show_outside(nav.url)
        elif rule.action == "create_session":
            created = await self._create_session(decision, session, outcome, chain)
            if created is None:
                return
            where = created
            manager = self.desktop.global_manager_name()
            if rule.target_tab and rule.target_tab == manager:
                again = self.decide(nav, created, skip=(rule.name,))
                outcome.decisions.append(again)
                if again.rule is None:
                    outcome.problems.append(
                        f"rule {rule.name!r} created a session for the Global Manager to route, and no "
                        "rule routes the page in it")
                elif again.rule.action == "create_session":
                    outcome.problems.append(
                        f"stopped: rule {again.rule.name!r} would create another session for the page "
                        f"rule {rule.name!r} just created one for")
                    outcome.action = "stopped"
                else:
                    await self._carry_out_in(again, created, session, outcome, chain)
                    await self._run_rule_calls(rule, created, nav, chain)  # the first rule fired too
                    return
            else:
                await self._deliver(decision, created, outcome, chain)
        else:  # route_window
            where = self._route_session(session)
            await self._deliver(decision, where, outcome, chain)
        await self._finish(decision, where, session, outcome, chain)

    async def _carry_out_in(self, decision: Decision[Any], session: Session, source: Session,
                            outcome: RouteOutcome, chain: Chain | None) -> None:
        """The re-evaluated rule's work inside the session just created."""
        rule = decision.rule
        assert rule is not None
        if rule.action == "route_window":
            await self._deliver(decision, session, outcome, chain)
        elif rule.action == "show_outside":
            self.desktop.host.show_outside(decision.navigation.url)
        await self._finish(decision, session, source, outcome, chain)

    async def _create_session(self, decision: Decision[Any], source: Session, outcome: RouteOutcome,
                              chain: Chain | None) -> Session | None:
        rule, nav = decision.rule, decision.navigation
        assert rule is not None
        entity = nav.entity or rule.entity or ""
        context = {"url": nav.url} if nav.url else {}
        if entity:
            context["LogicalName"] = entity
        if nav.record_id:
            context["Id"] = nav.record_id

        async def redo() -> Any:
            return await self.apply(self.decide(nav, source), source, values=outcome.values)

        try:
            created = await self.desktop.create_session(entity=entity, context=context, chain=chain,
                                                        redo=redo)
        except SessionLimitReached as exc:
            outcome.problems.append(str(exc))
            return None
        outcome.session_id = created.id
        return created

    def _route_session(self, session: Session) -> Session:
        if session.is_global:
            active = self.desktop.sessions.active
            return active
        return session

    async def deliver(self, decision: Decision[Any], session: Session, *,
                      chain: Chain | None = None) -> RouteOutcome:
        """Put the decided page in ``session``: the rule's target tab (a dynamic one created), or
        its entity search; then its Show Tab. No session is created and no action call runs (the
        CTI rules use it to load a match into the session they created)."""
        outcome = RouteOutcome(decision.navigation, [decision], session_id=session.id)
        rule = decision.rule
        assert rule is not None
        outcome.action = rule.action
        try:
            await self._deliver(decision, session, outcome, chain)
        except ActionError as exc:
            outcome.problems.append(str(exc))
        if rule.show_tab and not outcome.problems:
            self.desktop.host.show_control(rule.show_tab)
        return outcome

    async def _deliver(self, decision: Decision[Any], session: Session, outcome: RouteOutcome,
                       chain: Chain | None) -> None:
        rule, nav = decision.rule, decision.navigation
        assert rule is not None
        outcome.session_id = session.id
        if rule.destination == "entity_search" or not rule.target_tab:
            await self._search(decision, session, outcome, chain)
            return
        target = rule.target_tab
        if target == nav.from_control and session.id == (nav.session_id or session.id) and \
                nav.route_type == "in_place" and rule.action == "route_window":
            outcome.action = "stopped"
            outcome.problems.append(
                f"stopped: rule {rule.name!r} routes the page from {target} back to {target}")
            return
        control = self.desktop.resolve(target, session)
        outcome.target = target
        if not isinstance(control, Routable):
            raise ActionError(f"rule {rule.name!r}: the target tab {target} "
                              f"({control.control_type.name}) cannot show a routed page")
        page = RoutedPage(nav.url, nav.entity, nav.record_id, nav.route_type, nav.from_control,
                          rule.name, rule.hide_command_bar, rule.hide_navigation_bar,
                          dict(outcome.values))
        result = control.open_routed(page)
        if inspect.isawaitable(result):
            await result

    async def _search(self, decision: Decision[Any], session: Session, outcome: RouteOutcome,
                      chain: Chain | None) -> None:
        rule, nav = decision.rule, decision.navigation
        assert rule is not None
        search = rule.entity_search
        if not search and nav.entity:
            search = next((s.name for s in self.desktop.config.entity_searches
                           if s.entity.lower() == nav.entity.lower()), None)
        manager = self.desktop.global_manager_name()
        if not search or not manager:
            raise ActionError(f"rule {rule.name!r} has no target tab and no entity search to run "
                              f"for {nav.entity or 'the page'}")
        lines = [f"name={search}"] + [f"{k}={v}" for k, v in nav.parameters().items()]
        done = await self.desktop.dispatcher.run_action(
            manager, "DoSearch", "\n".join(lines), session=session, chain=chain, literal=True,
            name=f"rule {rule.name}")
        if done.outcome is not Outcome.RAN:
            raise ActionError(f"rule {rule.name!r}: DoSearch {search}: {done.reason}")
        outcome.target = search

    async def _finish(self, decision: Decision[Any], where: Session, source: Session,
                      outcome: RouteOutcome, chain: Chain | None) -> None:
        rule, nav = decision.rule, decision.navigation
        assert rule is not None
        if rule.show_tab and outcome.action != "stopped":
            if where is not self.desktop.sessions.active and not where.is_global:
                await self.desktop.switch_session(where, chain=chain)
            self.desktop.host.show_control(rule.show_tab)
        await self._run_rule_calls(rule, where, nav, chain)
        if nav.from_control and rule.action != "none" and outcome.action != "stopped" and \
                self.desktop.definition(nav.from_control) is not None:
            await self.desktop.dispatcher.fire_event(
                nav.from_control, "PopupRouted", {"url": nav.url}, session=source, chain=chain)

    async def _run_rule_calls(self, rule: Any, where: Session, nav: Navigation, chain: Chain | None) -> None:
        for name in rule.action_calls:
            await self.desktop.dispatcher.run_action_call(
                name, session=where, event=nav.parameters(), chain=chain)

    # ------------------------------------------------------------------ trace
    def _trace(self, outcome: RouteOutcome, session: Session) -> None:
        journal = self.desktop.dispatcher.journal
        final = outcome.decisions[-1]
        rule = final.rule
        if outcome.problems:
            result = Outcome.FAILED
        elif rule is None:
            result = Outcome.SKIPPED
        else:
            result = Outcome.RAN
        nav = outcome.navigation
        journal.record(TraceRecord(
            seq=journal.next_seq(),
            kind="navigation",
            name=rule.name if rule is not None else "(no rule)",
            outcome=result,
            control=nav.from_control,
            action=outcome.action,
            session_id=session.id,
            data="\n\n".join(d.explain() for d in outcome.decisions),
            reason="; ".join(outcome.problems) or final.outcome(),
            result=outcome.target,
            parameters={k: v for k, v in nav.parameters().items()},
        ))
