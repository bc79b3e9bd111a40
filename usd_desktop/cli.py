"""``usd-desktop``: start the agent desktop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

cli = typer.Typer(add_completion=False, help="usd_desktop: the agent desktop.")


@cli.command()
def desktop(
    config: Annotated[
        Path | None,
        typer.Option(help="Configuration file or folder (default: the starter configuration)."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Configuration store URL (default: USD_DESKTOP_STORE, the store settings "
                     "file, else the embedded SQLite store)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help="Service-desk data URL (default: USD_DESKTOP_DATA, else the embedded SQLite "
                     "file, which gets a small demo set the first time)."),
    ] = None,
    demo_data: Annotated[
        bool, typer.Option(help="Fill a newly created embedded data file with demo customers.")
    ] = True,
    run_action_call: Annotated[
        list[str] | None,
        typer.Option("--run", help="Run this configured action call after DesktopReady (repeatable)."),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(help="Write every event and action call to FILE as JSON lines."),
    ] = None,
    user: Annotated[str | None, typer.Option(help="Sign in as this user.")] = None,
    theme: Annotated[str | None, typer.Option(help="light, dark or high-contrast.")] = None,
    language: Annotated[
        str | None,
        typer.Option(help="Language of $Resources, e.g. es or fr-CA (default: from LANG)."),
    ] = None,
    screenshot: Annotated[
        Path | None,
        typer.Option(help="Save a screenshot to FILE once the desktop is ready, then quit."),
    ] = None,
    quit_after_ready: Annotated[
        bool, typer.Option("--quit-after-ready", help="Quit right after DesktopReady.")
    ] = False,
    remember_state: Annotated[
        bool, typer.Option(help="Restore and save the window geometry and splitters.")
    ] = True,
    restore: Annotated[
        str,
        typer.Option(help="After a crash: ask whether to restore the customer sessions that were "
                     "open (ask), restore them (always) or start without them (never)."),
    ] = "ask",
) -> None:
    from usd_desktop.app import RESTORE_MODES, RunOptions, run

    if restore not in RESTORE_MODES:
        typer.echo(f"error: --restore {restore!r}: choose ask, always or never", err=True)
        raise typer.Exit(2)

    code = run(
        RunOptions(
            config=config, store=store, data=data, demo_data=demo_data,
            run_action_calls=tuple(run_action_call or ()), trace=trace, user=user, theme=theme,
            language=language,
            screenshot=screenshot,
            quit_after_ready=quit_after_ready, remember_state=remember_state,
            restore=restore,
        )
    )
    raise typer.Exit(code)


def main() -> int:
    cli()
    return 0
