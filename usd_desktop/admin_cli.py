"""``usd-admin``: configuration tooling for administrators.

* ``usd-admin validate PATH [--types builtin|none]`` prints every finding, one per line; exit
  status 1 when there is an error (loading or lint), 0 otherwise.
* ``usd-admin format PATH`` prints the canonical YAML.
* ``usd-admin schema`` prints the JSON Schema of a configuration (for editors).
* ``usd-admin reference`` prints the Markdown configuration reference.

Bad input (a missing path, an unloadable configuration for ``format``) prints a message and exits
with status 2, never a traceback.
"""

from __future__ import annotations

import enum
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer

from usd_desktop.config.lint import ControlType, ControlTypeInfo, lint
from usd_desktop.config.loader import (
    ConfigIssue,
    ConfigLoadError,
    dump_configuration,
    load_configuration,
)
from usd_desktop.config.reference import render_reference
from usd_desktop.config.schema import Configuration

HOSTED_CONTROLS_GROUP = "usd_desktop.hosted_controls"

app = typer.Typer(
    name="usd-admin",
    help="Validate, format and document usd_desktop configurations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class TypesSource(enum.StrEnum):
    """Where ``validate`` gets hosted-control type metadata from."""

    builtin = "builtin"
    none = "none"


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def load_control_types() -> tuple[dict[str, ControlTypeInfo], set[str]]:
    """Type metadata from the installed hosted-control plugins.

    Returns the types that loaded and the names of those that did not (a warning is printed for
    each; their controls are then not checked). An entry point resolves to an object with
    ``name``, ``actions``, ``events`` and ``singleton`` (and optionally ``all_actions``).
    """
    types: dict[str, ControlTypeInfo] = {}
    failed: set[str] = set()
    for entry in entry_points(group=HOSTED_CONTROLS_GROUP):
        try:
            obj = entry.load()
            # ``all_actions`` adds the actions every type accepts (Close, FireEvent...), if known.
            actions = getattr(obj, "all_actions", None) or obj.actions
            info = ControlType(
                actions=frozenset(actions),
                events=frozenset(obj.events),
                singleton=bool(obj.singleton),
            )
            name = str(getattr(obj, "name", entry.name))
        except Exception as exc:  # a broken plugin is reported and skipped
            _warn(f"hosted-control type {entry.name!r} ({entry.value}) could not be loaded: {exc}")
            failed.add(entry.name)
            continue
        types[name] = info
    return types, failed


def _print_issues(issues: list[ConfigIssue]) -> None:
    for issue in issues:
        typer.echo(f"{issue} [{issue.severity} {issue.code}]")


def _load(path: Path) -> Configuration:
    """Load or exit 2 with the problems printed (for commands other than ``validate``)."""
    try:
        return load_configuration(path)
    except ConfigLoadError as exc:
        for issue in exc.errors:
            typer.echo(f"{issue} [{issue.severity} {issue.code}]", err=True)
        raise typer.Exit(2) from None


PathArg = Annotated[Path, typer.Argument(help="A configuration file (.yaml) or a directory of them.")]


@app.command()
def validate(
    path: PathArg,
    types: Annotated[
        TypesSource,
        typer.Option(
            "--types",
            help="Check types and actions against the installed hosted-control types "
            "(builtin) or skip those checks (none).",
        ),
    ] = TypesSource.builtin,
) -> None:
    """Load a configuration and print every problem; exit 1 when there is an error."""
    if not path.exists():
        typer.echo(f"error: {path}: no such file or directory", err=True)
        raise typer.Exit(2)
    try:
        config = load_configuration(path)
    except ConfigLoadError as exc:
        _print_issues(exc.errors)
        raise typer.Exit(1) from None
    control_types: dict[str, ControlTypeInfo] | None = None
    unchecked: set[str] = set()
    if types is TypesSource.builtin:
        control_types, unchecked = load_control_types()
        if not control_types:
            why = "could be loaded" if unchecked else "are installed"
            _warn(f"no hosted-control types {why}; types and actions are not checked")
            control_types = None
    issues = lint(config, control_types, unchecked_types=unchecked)
    _print_issues(issues)
    errors = sum(issue.severity == "error" for issue in issues)
    warnings = len(issues) - errors
    typer.echo(f"{path}: {errors} error(s), {warnings} warning(s)", err=True)
    if errors:
        raise typer.Exit(1)


@app.command("format")
def format_(path: PathArg) -> None:
    """Print the configuration as canonical YAML (schema order, defaults left out)."""
    if not path.exists():
        typer.echo(f"error: {path}: no such file or directory", err=True)
        raise typer.Exit(2)
    typer.echo(dump_configuration(_load(path)), nl=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a configuration."""
    typer.echo(json.dumps(Configuration.model_json_schema(), indent=2))


@app.command()
def reference() -> None:
    """Print the Markdown configuration reference."""
    typer.echo(render_reference(), nl=False)


from usd_desktop import admin_store  # noqa: E402  (the store commands register on ``app``)

admin_store.register(app, _load)

from usd_desktop import admin_data  # noqa: E402  (``demo-data`` registers on ``app``)

admin_data.register(app)

from usd_desktop import admin_rules  # noqa: E402  (the ``rules`` group registers on ``app``)

admin_rules.register(app)

from usd_desktop import admin_staffing  # noqa: E402  (``staffing`` registers on ``app``)

admin_staffing.register(app)

from usd_desktop import admin_surveys  # noqa: E402  (the ``surveys`` group registers on ``app``)

admin_surveys.register(app)

from usd_desktop import admin_broadcast  # noqa: E402  (the ``broadcast`` group registers on ``app``)

admin_broadcast.register(app)

from usd_desktop import admin_kpi  # noqa: E402  (the ``kpi`` group registers on ``app``)

admin_kpi.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
