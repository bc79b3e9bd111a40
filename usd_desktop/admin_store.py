"""``usd-admin`` commands that work on the configuration store.

Exit codes (for scripts and CI pipelines): 0 done; 1 refused (validation errors, nothing to publish,
unknown configuration or version); 2 bad input (a file that does not load, a bad option); 3 the store
is unreachable or too new for this client. Output is plain text, one fact per line; ``--json`` where
a pipeline wants to parse it.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from usd_desktop.config.loader import dump_configuration
from usd_desktop.config.store import ConfigStore, StoreError
from usd_desktop.config.store.diff import format_diff
from usd_desktop.config.store.location import (
    redact,
    resolve_store_url,
    save_store_url,
    set_store_password,
    url_has_password,
)

T = TypeVar("T")
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Store URL (default: USD_DESKTOP_STORE, the settings file, or the "
                 "embedded SQLite store)."),
]
ActorOpt = Annotated[
    str | None, typer.Option("--as", help="Who is acting (for the audit trail; default: $USER).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("USER") or os.environ.get("USERNAME") or getpass.getuser()


@contextmanager
def opened(url: str | None, *, create: bool = False, upgrade: bool = False) -> Iterator[ConfigStore]:
    """Open the store or exit 3 with the reason; refusals inside exit 1."""
    if url_has_password(resolve_store_url(url)):
        typer.echo("warning: the store URL carries a password; keep it in the OS keyring instead "
                   "(`usd-admin store set-password`)", err=True)
    try:
        store = ConfigStore.open(resolve_store_url(url), create=create, upgrade=upgrade)
    except (StoreError, SQLAlchemyError, OSError) as exc:
        typer.echo(f"error: {str(exc).splitlines()[0] if str(exc) else exc}", err=True)
        raise typer.Exit(3) from None
    try:
        yield store
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        typer.echo(f"error: the store failed: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(3) from None
    finally:
        store.close()


def _emit(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
    else:
        for row in rows:
            typer.echo(line(row))


def _info(info: Any) -> dict[str, Any]:
    fields = ("configuration", "number", "state", "content_hash", "created_at", "created_by",
              "published_at", "published_by", "message")
    return {f: getattr(info, f, None) for f in fields}


def register(app: typer.Typer, load: Callable[[Path], Any]) -> None:
    """Add the store commands to ``usd-admin``; ``load`` loads a file or folder or exits 2."""
    store_app = typer.Typer(help="Create, upgrade and inspect the configuration store.",
                            no_args_is_help=True)
    app.add_typer(store_app, name="store")

    @store_app.command("init")
    def init(store: StoreOpt = None) -> None:
        """Create the store (or upgrade it to this client's schema)."""
        with opened(store, create=True, upgrade=True) as s:
            typer.echo(f"store ready: {s.url} (schema {s.schema_revision()})")

    @store_app.command("upgrade")
    def upgrade(store: StoreOpt = None) -> None:
        """Upgrade the store's schema to this client's."""
        with opened(store, upgrade=True) as s:
            typer.echo(f"store at schema {s.schema_revision()}: {s.url}")

    @store_app.command("status")
    def status(store: StoreOpt = None) -> None:
        """Where the store is, its schema revision and its configurations."""
        with opened(store) as s:
            typer.echo(f"url: {s.url}")
            typer.echo(f"schema: {s.schema_revision()}")
            for c in s.configurations():
                typer.echo(f"configuration: {c.name}{' (default)' if c.is_default else ''}")

    @store_app.command("use")
    def use(url: Annotated[str, typer.Argument(help="e.g. postgresql+psycopg://usd@db:5432/usd")]) -> None:
        """Remember URL as this user's store (for usd-admin and usd-desktop)."""
        if url_has_password(url):
            typer.echo("error: keep the password out of the URL; use `usd-admin store set-password`",
                       err=True)
            raise typer.Exit(2)
        path = save_store_url(url)
        typer.echo(f"store {redact(url)} remembered in {path}")

    @store_app.command("set-password")
    def password(
        store: StoreOpt = None,
        password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
    ) -> None:
        """Keep the store's password in the OS keyring (never in a file)."""
        try:
            set_store_password(resolve_store_url(store), password)
        except StoreError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(3) from None
        typer.echo("password stored in the OS keyring")

    @app.command("import")
    def import_(
        path: Annotated[Path, typer.Argument(help="A configuration file or folder.")],
        store: StoreOpt = None, actor: ActorOpt = None,
        publish: Annotated[bool, typer.Option("--publish", help="Publish it right away.")] = False,
        message: Annotated[str, typer.Option(help="Publication message.")] = "",
    ) -> None:
        """Import a configuration as the draft of its name (validated first)."""
        config = load(path)
        with opened(store) as s:
            draft = s.import_configuration(config, actor=_actor(actor))
            typer.echo(f"imported {config.name} as a draft ({draft.content_hash[:12]})")
            if publish:
                info = s.publish(config.name, actor=_actor(actor), message=message)
                typer.echo(f"published {info.configuration} v{info.number} ({info.content_hash[:12]})")

    @app.command("export")
    def export(
        name: str, store: StoreOpt = None,
        version: Annotated[str | None, typer.Option(help="A version number or 'draft'.")] = None,
        out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    ) -> None:
        """Print (or write) a configuration version as canonical YAML."""
        with opened(store) as s:
            if version == "draft":
                config = s.draft(name)
                if config is None:
                    raise StoreError(f"{name} has no draft")
            else:
                config, _ = s.load(name, int(version) if version else None)
            text = dump_configuration(config)
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}")

    @app.command()
    def publish(name: str, store: StoreOpt = None, actor: ActorOpt = None,
                message: Annotated[str, typer.Option(help="Publication message.")] = "") -> None:
        """Publish the draft of NAME as a new immutable version."""
        with opened(store) as s:
            info = s.publish(name, actor=_actor(actor), message=message)
            typer.echo(f"published {info.configuration} v{info.number} ({info.content_hash[:12]})")

    @app.command()
    def rollback(name: str, version: int, store: StoreOpt = None, actor: ActorOpt = None) -> None:
        """Publish again what version VERSION of NAME contained."""
        with opened(store) as s:
            info = s.rollback(name, version, actor=_actor(actor))
            typer.echo(f"published {info.configuration} v{info.number} = v{version}")

    @app.command()
    def diff(name: str, a: str, b: str, store: StoreOpt = None) -> None:
        """Differences between two versions of NAME (numbers, or 'draft'), per record and field."""
        def side(value: str) -> int | str:
            return value if value == "draft" else int(value)

        with opened(store) as s:
            changes = s.diff(name, side(a), side(b))
        typer.echo(format_diff(changes) if changes else "no differences")

    @app.command()
    def versions(name: str, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
        """The versions of NAME, oldest first."""
        with opened(store) as s:
            rows = [_info(v) for v in s.versions(name)]
        _emit(rows, as_json, lambda r: (
            f"v{r['number']} {r['state']} {str(r['content_hash'])[:12]} "
            f"{r['published_at'] or r['created_at']} {r['published_by'] or r['created_by']} "
            f"{r['message'] or ''}".rstrip()))

    @app.command("list")
    def list_(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
        """The configurations in the store."""
        with opened(store) as s:
            rows = [{"name": c.name, "default": c.is_default, "description": c.description}
                    for c in s.configurations()]
        _emit(rows, as_json, lambda r: f"{r['name']}{' (default)' if r['default'] else ''}")

    @app.command()
    def clone(name: str, new_name: str, store: StoreOpt = None, actor: ActorOpt = None) -> None:
        """Copy NAME into a new configuration's draft (users and assignments are not copied)."""
        with opened(store) as s:
            s.clone(name, new_name, actor=_actor(actor))
            typer.echo(f"cloned {name} into the draft of {new_name}")

    @app.command()
    def assign(
        configuration: str, store: StoreOpt = None, actor: ActorOpt = None,
        user: Annotated[str | None, typer.Option(help="Assign to this user.")] = None,
        role: Annotated[str | None, typer.Option(help="Assign to the members of this role.")] = None,
        priority: Annotated[int, typer.Option(help="With several roles, the lowest wins.")] = 100,
        default: Annotated[bool, typer.Option("--default", help="Everyone else's configuration.")] = False,
    ) -> None:
        """Assign CONFIGURATION to a user, a role, or everyone else (--default)."""
        if sum(bool(x) for x in (user, role, default)) != 1:
            typer.echo("error: give exactly one of --user, --role, --default", err=True)
            raise typer.Exit(2)
        with opened(store) as s:
            if default:
                s.set_default(configuration, actor=_actor(actor))
                typer.echo(f"{configuration} is the default configuration")
            else:
                s.assign(configuration, user=user, role=role, priority=priority, actor=_actor(actor))
                typer.echo(f"{configuration} assigned to {'user ' + user if user else 'role ' + str(role)}")

    @app.command()
    def resolve(user: str, store: StoreOpt = None) -> None:
        """Which configuration and version USER gets at login."""
        with opened(store) as s:
            found = s.resolve(user)
        if found is None:
            typer.echo(f"no published configuration applies to {user}", err=True)
            raise typer.Exit(1)
        name, info = found
        typer.echo(f"{user}: {name} v{info.number}")

    users_app = typer.Typer(help="Users of the desktop and their roles.", no_args_is_help=True)
    roles_app = typer.Typer(help="Roles (assignments to a role apply to its members).",
                            no_args_is_help=True)
    app.add_typer(users_app, name="users")
    app.add_typer(roles_app, name="roles")

    @users_app.command("add")
    def user_add(name: str, store: StoreOpt = None, actor: ActorOpt = None,
                 display_name: Annotated[str, typer.Option("--name")] = "",
                 role: Annotated[list[str] | None, typer.Option(help="A role (repeatable).")] = None,
                 ) -> None:
        """Add (or update) a user."""
        with opened(store) as s:
            s.add_user(name, display_name=display_name, roles=role or [], actor=_actor(actor))
            typer.echo(f"user {name}")

    @users_app.command("list")
    def user_list(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
        with opened(store) as s:
            rows = [{"name": u.name, "display_name": u.display_name, "roles": list(u.roles)}
                    for u in s.users()]
        _emit(rows, as_json, lambda r: f"{r['name']} {','.join(r['roles'])}".rstrip())

    @roles_app.command("add")
    def role_add(name: str, store: StoreOpt = None, actor: ActorOpt = None,
                 description: Annotated[str, typer.Option()] = "") -> None:
        """Add a role."""
        with opened(store) as s:
            s.add_role(name, description=description, actor=_actor(actor))
            typer.echo(f"role {name}")

    @roles_app.command("list")
    def role_list(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
        with opened(store) as s:
            rows = [{"name": r.name, "description": r.description} for r in s.roles()]
        _emit(rows, as_json, lambda r: r["name"])

    @app.command()
    def options(
        name: str, store: StoreOpt = None, actor: ActorOpt = None,
        set_: Annotated[list[str] | None, typer.Option("--set", help="NAME=VALUE (repeatable).")] = None,
        unset: Annotated[list[str] | None, typer.Option(help="An option to remove.")] = None,
    ) -> None:
        """Show the options ($Global) of NAME's draft, or change them (--set, --unset)."""
        with opened(store) as s:
            draft = s.draft(name)
            if draft is None:
                published, _ = s.load(name)
                draft = published
            values = dict(draft.options)
            if not set_ and not unset:
                for key, value in sorted(values.items()):
                    typer.echo(f"{key}={value}")
                return
            for item in set_ or []:
                key, sep, value = item.partition("=")
                if not sep or not key.strip():
                    typer.echo(f"error: --set wants NAME=VALUE, not {item!r}", err=True)
                    raise typer.Exit(2)
                values[key.strip()] = value
            for key in unset or []:
                values.pop(key, None)
            s.import_configuration(draft.model_copy(update={"options": values}), actor=_actor(actor))
            typer.echo(f"options of the draft of {name} updated; publish to apply")

    @app.command()
    def audit(store: StoreOpt = None, limit: int = 50, as_json: JsonOpt = False) -> None:
        """Who imported, published, rolled back or assigned what, and when (newest first)."""
        with opened(store) as s:
            rows = [{"at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
                     "details": e.details} for e in s.audit(limit)]
        _emit(rows, as_json, lambda r: f"{r['at']} {r['actor']} {r['action']} {r['target']}")
