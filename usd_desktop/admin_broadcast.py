"""``usd-admin broadcast``: broadcast messages to the agents' desktops from a script or a terminal.

* ``usd-admin broadcast send --title TEXT [--body TEXT] [--audience all|queue:NAME]
  [--severity info|warning|critical] [--expires-minutes 60] [--sender NAME] [--data URL]`` writes a
  ``broadcast`` record; every desktop with a Broadcasts control it is for announces it within its
  poll (see :mod:`usd_desktop.hosted_controls.broadcasts`). Prints the new id.
* ``usd-admin broadcast list [--data URL]`` prints the unexpired broadcasts, oldest first.
* ``usd-admin broadcast expire ID [--data URL]`` ends a broadcast now: it leaves every desktop's list.

Exit codes as for the other ``usd-admin`` commands: 0 done; 1 no such broadcast; 2 bad input (the
message names the option); 3 the database is unreachable.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated, NoReturn

import typer

from usd_desktop.admin_data import check_url, open_data
from usd_desktop.data.location import ENV_VAR, resolve_data_url
from usd_desktop.hosted_controls.broadcasts import BROADCAST, active_broadcasts, broadcast_values

BROADCAST_HELP = (
    "Broadcast messages to the agents (an outage notice, a front-end message): every desktop with "
    "a Broadcasts control shows each message once, until it expires."
)
LIST_HELP = "The unexpired broadcasts, oldest first (id, sent, severity, audience, title)."
SEND_HELP = (
    "Send a broadcast to all agents (--audience all) or to one queue's agents (--audience queue:NAME). "
    "--expires-minutes 0: it never expires.\n\n"
    f"The data database is --data, else ${ENV_VAR}, else the embedded SQLite file.\n\n"
    "Exit status: 0 sent, 2 bad input, 3 the database is unreachable."
)
DataOption = Annotated[
    str | None,
    typer.Option("--data", help=f"Data database URL (default: ${ENV_VAR}, else the embedded SQLite file)."),
]


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _url(data: str | None) -> str:
    url = resolve_data_url(data)
    check_url(url)
    return url


def _sender() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "supervisor"


def register(app: typer.Typer) -> None:
    """Add the ``broadcast`` command group to ``usd-admin``."""
    group = typer.Typer(help=BROADCAST_HELP, no_args_is_help=True)
    app.add_typer(group, name="broadcast")

    @group.command("send", help=SEND_HELP)
    def send(
        title: Annotated[str, typer.Option("--title", help="The headline (at most 200 characters).")],
        body: Annotated[str, typer.Option("--body", help="The message.")] = "",
        audience: Annotated[str, typer.Option("--audience", help="all, or queue:<queue name>.")] = "all",
        severity: Annotated[str, typer.Option("--severity", help="info, warning or critical.")] = "info",
        expires_minutes: Annotated[
            float, typer.Option("--expires-minutes", help="Minutes until it expires (0: never).")
        ] = 60.0,
        sender: Annotated[str | None, typer.Option("--sender", help="Who sends it (default: you).")] = None,
        data: DataOption = None,
    ) -> None:
        try:
            values = broadcast_values(sender=sender or _sender(), title=title, body=body, audience=audience,
                                      severity=severity, expires_minutes=expires_minutes)
        except ValueError as exc:
            _fail(2, str(exc))
        with open_data(_url(data)) as repo:
            new_id = repo.create(BROADCAST, values)
        typer.echo(new_id)

    @group.command("list", help=LIST_HELP)
    def list_(data: DataOption = None) -> None:
        with open_data(_url(data)) as repo:
            messages = active_broadcasts(repo, datetime.now(UTC), everyone=True)
        for m in messages:
            until = m.expires_at.isoformat(timespec="minutes") if m.expires_at else "never"
            typer.echo(f"{m.id}  {m.sent_at.isoformat(timespec='minutes')}  {m.severity:<8}  "
                       f"{m.audience}  {m.title}  (from {m.sender}, expires {until})")
        if not messages:
            typer.echo("no broadcasts", err=True)

    @group.command("expire", help="End a broadcast now: it leaves every desktop's list.")
    def expire(
        id: Annotated[str, typer.Argument(help="The broadcast (as send or list printed it).")],
        data: DataOption = None,
    ) -> None:
        with open_data(_url(data)) as repo:
            if repo.get(BROADCAST, id) is None:
                _fail(1, f"there is no broadcast {id!r}")
            repo.update(BROADCAST, id, {"expires_at": datetime.now(UTC)})
        typer.echo(f"expired {id}")
