"""``usd-admin rules``: try and list a configuration's window navigation rules.

* ``usd-admin rules test (PATH | --config NAME [--store URL]) --from CONTROL [--url URL]
  [--entity ENTITY] [--id ID] [--route-type TYPE] [--from-search NAME] [--param root.name=value ...]
  [--skip RULE ...] [--json]`` decides one navigation with
  :class:`usd_desktop.core.navigation.NavigationRules` and prints
  :meth:`~usd_desktop.core.navigation.Decision.explain` (or the JSON of ``to_dict``).
* ``usd-admin rules list (PATH | --config NAME [--store URL])`` prints the rules in evaluation order
  and a warning under each rule an earlier one shadows.

Exit codes as for the other ``usd-admin`` commands: 0 done (for ``test``: a decision was made,
whether a rule matched or not); 1 the store refused (as the store commands); 2 bad input (a path
that does not load, an unknown configuration, a bad ``--param``, both or neither of PATH and
``--config``); 3 the store is unreachable. A ``--from`` control the configuration does not have is
only a warning: rules may name controls that are loaded later.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from usd_desktop.admin_store import opened
from usd_desktop.config.lint_navigation import shadows
from usd_desktop.config.loader import ConfigLoadError, load_configuration
from usd_desktop.config.schema import Configuration, WindowNavigationRule
from usd_desktop.config.store import StoreError
from usd_desktop.core.context import DESKTOP_SECTIONS
from usd_desktop.core.navigation import Navigation, NavigationRules

RULES_HELP = (
    "Try and list the window navigation rules of a configuration: which rule routes a pop-up, an "
    "in-place navigation, a page load or a menu choice, and why."
)


class RouteType(enum.StrEnum):
    """The route types, as ``--route-type`` takes them."""

    popup = "popup"
    in_place = "in_place"
    on_load = "on_load"
    menu_chosen = "menu_chosen"


PathArg = Annotated[
    Path | None,
    typer.Argument(metavar="PATH",
                   help="A configuration file (.yaml) or a directory of them (or use --config)."),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option("--config", metavar="NAME",
                 help="Read this configuration from the store (its latest published version) "
                 "instead of PATH."),
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", metavar="URL",
                 help="Store URL for --config (default: USD_DESKTOP_STORE, the settings file, or "
                 "the embedded SQLite store)."),
]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _configuration(path: Path | None, name: str | None, store: str | None) -> Configuration:
    """The configuration at ``path`` or named ``name`` in the store, or exit 2 saying why."""
    if (path is None) == (name is None):
        _fail("give a configuration: a PATH or --config NAME (not both)")
    if path is not None:
        if store is not None:
            _fail("--store goes with --config NAME, not with a PATH")
        if not path.exists():
            _fail(f"{path}: no such file or directory")
        try:
            return load_configuration(path)
        except ConfigLoadError as exc:
            for issue in exc.errors:
                typer.echo(f"{issue} [{issue.severity} {issue.code}]", err=True)
            raise typer.Exit(2) from None
    assert name is not None
    with opened(store) as s:
        try:
            config, info = s.load(name)
        except StoreError as exc:
            draft = _draft_or_none(s, name)
            if draft is None:
                _fail(str(exc))
            _warn(f"{name} has no published version; trying the rules of its draft")
            return draft
        typer.echo(f"configuration {name} v{info.number}", err=True)
        return config


def _draft_or_none(store: Any, name: str) -> Configuration | None:
    try:
        draft: Configuration | None = store.draft(name)
    except StoreError:
        return None
    return draft


def _data(config: Configuration, params: Sequence[str]) -> dict[str, Any]:
    """The data view the conditions see: the configuration's options and settings in the global
    session, each ``--param root.name=value`` in the session (desktop-wide roots in the global one)."""
    session: dict[str, dict[str, str]] = {}
    global_: dict[str, dict[str, str]] = {
        "$Global": {key: str(value) for key, value in config.options.items()},
        "$Settings": {key: str(value) for key, value in config.user_settings.items()},
    }
    for item in params:
        key, sep, value = item.partition("=")
        root, dot, name = key.strip().partition(".")
        if not sep or not dot or not root or not name:
            _fail(f"--param wants root.name=value (e.g. $Context.callerid=+358401234567), not {item!r}")
        target = global_ if root in DESKTOP_SECTIONS else session
        target.setdefault(root, {})[name] = value
    return {"session": session, "global": global_, "active": session, "event": {}}


def _criteria(rule: WindowNavigationRule) -> str:
    parts = []
    for field in ("from_control", "from_search", "entity", "url"):
        value = getattr(rule, field)
        if value is not None:
            parts.append(f"{field}={value}")
    if rule.condition.strip():
        parts.append(f"condition={' '.join(rule.condition.split())}")
    return " ".join(parts) or "any load"


def _result(rule: WindowNavigationRule) -> str:
    if rule.cti is not None:
        return f"CTI rule for {rule.cti.initiating_activity} ({rule.cti.direction})"
    text: str = rule.action
    if rule.action in ("create_session", "route_window"):
        if rule.destination == "entity_search":
            text += f" entity_search={rule.entity_search}"
        else:
            text += f" target_tab={rule.target_tab or '(first entity search)'}"
        if rule.show_tab:
            text += f" show_tab={rule.show_tab}"
    if rule.action_calls:
        text += f" action_calls={', '.join(rule.action_calls)}"
    return text


def register(app: typer.Typer) -> None:
    """Add the ``rules`` command group to ``usd-admin``."""
    rules_app = typer.Typer(help=RULES_HELP, no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @rules_app.command("test")
    def test(
        path: PathArg = None,
        config_name: ConfigOpt = None,
        store: StoreOpt = None,
        from_: Annotated[
            str, typer.Option("--from", metavar="CONTROL", help="The hosted control the load comes from.")
        ] = "",
        url: Annotated[str, typer.Option("--url", help="The URL loaded.")] = "",
        entity: Annotated[
            str | None,
            typer.Option("--entity", help="The entity of the page (default: etn= of the URL)."),
        ] = None,
        record_id: Annotated[
            str | None, typer.Option("--id", help="The record id (default: id= of the URL).")
        ] = None,
        route_type: Annotated[
            RouteType, typer.Option("--route-type", help="The kind of load.")
        ] = RouteType.popup,
        from_search: Annotated[
            str | None,
            typer.Option("--from-search", help="The entity search whose load this is (on_load)."),
        ] = None,
        param: Annotated[
            list[str] | None,
            typer.Option("--param", metavar="ROOT.NAME=VALUE",
                         help="A value in the session data the conditions see (repeatable)."),
        ] = None,
        skip: Annotated[
            list[str] | None,
            typer.Option("--skip", metavar="RULE",
                         help="A rule left out (repeatable): the evaluation after a Global Manager "
                         "target leaves out the rule that created the session."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    ) -> None:
        """Which rule routes a navigation, and why (every rule tried, then the outcome)."""
        config = _configuration(path, config_name, store)
        if not from_.strip():
            _fail("--from CONTROL is required: the hosted control the load comes from")
        if from_ not in config.controls_by_name:
            _warn(f"{config.name} has no hosted control {from_!r} (rules may name controls loaded later)")
        if from_search is not None and from_search not in config.entity_searches_by_name:
            _warn(f"{config.name} has no entity search {from_search!r}")
        data = _data(config, param or [])
        navigation = Navigation.of_url(from_, url, route_type.value, from_search=from_search)
        if entity is not None or record_id is not None:
            navigation = Navigation(
                navigation.from_control,
                navigation.url,
                navigation.route_type,
                entity=(entity or None) if entity is not None else navigation.entity,
                record_id=(record_id or None) if record_id is not None else navigation.record_id,
                from_search=navigation.from_search,
            )
        scriptlets = {s.name: s.script for s in config.scriptlets}
        engine = NavigationRules(config.window_navigation_rules, scriptlets=scriptlets)
        for name in skip or []:
            if name not in config.navigation_rules_by_name:
                _warn(f"--skip {name!r}: {config.name} has no window navigation rule of that name")
        decision = engine.decide(navigation, data, skip=frozenset(skip or ()))
        if as_json:
            typer.echo(json.dumps(decision.to_dict(), indent=2, ensure_ascii=False))
        else:
            typer.echo(decision.explain())

    @rules_app.command("list")
    def list_(path: PathArg = None, config_name: ConfigOpt = None, store: StoreOpt = None) -> None:
        """The rules in evaluation order, with a warning under each one an earlier rule shadows."""
        config = _configuration(path, config_name, store)
        rules = config.window_navigation_rules
        ordered = [rule for _, rule in sorted(enumerate(rules), key=lambda i: (i[1].order, i[0]))]
        if not ordered:
            typer.echo(f"{config.name} has no window navigation rules")
            return
        width = max(len(str(rule.order)) for rule in ordered)
        for k, rule in enumerate(ordered):
            kind = "cti" if rule.cti is not None else rule.route_type
            typer.echo(
                f"{rule.order:>{width}}  {kind:<11} {rule.name}: {_criteria(rule)} → {_result(rule)}"
            )
            earlier = next((e for e in ordered[:k] if shadows(e, rule)), None)
            if earlier is not None:
                typer.echo(
                    f"{'':>{width}}  warning: unreachable: rule {earlier.name!r} (order "
                    f"{earlier.order}) always matches first"
                )
