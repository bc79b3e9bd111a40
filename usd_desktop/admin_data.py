"""``usd-admin demo-data``: fill the service-desk data database with realistic demo data.

The data database is the desktop's (``--data``, else ``USD_DESKTOP_DATA``, else the embedded SQLite
file); a PostgreSQL URL carries no password, which comes from the OS keyring as for the store. A
database that already has customers is left alone unless ``--replace`` (empty every service-desk
table first) or ``--append`` (add after the existing customers) says otherwise. After the articles
are written the knowledge index is built, so the desktop's first search does not have to.

Exit codes as for the other ``usd-admin`` commands: 0 done; 1 the data could not be written;
2 bad input (a bad option, not a data database URL, customers already there without ``--replace``
or ``--append``); 3 the database is unreachable or too new for this client.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer

from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.location import parse_url, redact, url_has_password
from usd_desktop.data.demo import count_customers, empty_service_desk, generate
from usd_desktop.data.errors import DataError
from usd_desktop.data.knowledge import KnowledgeSearch
from usd_desktop.data.location import ENV_VAR, resolve_data_url
from usd_desktop.data.repository import SqlRepository

#: The order the created records are listed in.
ENTITY_ORDER = (
    "account",
    "contact",
    "phone",
    "email",
    "address",
    "case",
    "interaction",
    "note",
    "knowledge_article",
)

DEMO_HELP = (
    "Create realistic demo data: multilingual customers (Finnish, Romanian, Chinese, English, Swedish "
    "and German names), valid phone numbers of several countries, e-mails, addresses, cases, "
    "interactions, notes and knowledge articles. The same --seed makes the same data.\n\n"
    f"The data database is --data, else ${ENV_VAR}, else the embedded SQLite file. When it already has "
    "customers, nothing is written unless --replace (first delete every service-desk record: customers "
    "and their details, cases, interactions, notes, campaigns, knowledge articles and the knowledge "
    "index) or --append (add new customers after the existing ones, numbered on from them).\n\n"
    "Prints the records created per entity and the time taken, then builds the knowledge index.\n\n"
    "Exit status: 0 done, 1 the data could not be written, 2 bad input or customers already there, "
    "3 the database is unreachable or too new for this client."
)


def _fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def check_url(url: str) -> None:
    """Exit 2 unless ``url`` is an SQLite or PostgreSQL (psycopg) URL."""
    try:
        parsed = parse_url(url)
    except StoreError:
        _fail(2, f"not a database URL: {redact(url)!r}")
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.get_driver_name() not in ("psycopg", "psycopg_async"):
        _fail(2, f"{redact(url)}: use the psycopg driver (postgresql+psycopg://user@host:port/db)")
    if backend not in ("sqlite", "postgresql"):
        _fail(2, f"{redact(url)}: the data database is SQLite or PostgreSQL, not {backend}")


def open_data(url: str) -> SqlRepository:
    """The data database at ``url`` (created or upgraded to this client's schema), or exit 3."""
    try:
        return SqlRepository(url)
    except DataError as exc:
        _fail(3, str(exc))
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _fail(3, f"cannot open the data database at {redact(url)}: {reason}")


def _progress(done: int, total: int) -> None:
    typer.echo(f"\r  {done:,} / {total:,} customers", nl=False, err=True)
    if done == total:
        typer.echo("", err=True)


def register(app: typer.Typer) -> None:
    """Add ``demo-data`` to ``usd-admin``."""

    @app.command("demo-data", help=DEMO_HELP)
    def demo_data(
        customers: Annotated[int, typer.Option("--customers", min=0, help="How many customers to create.")],
        data: Annotated[
            str | None,
            typer.Option(
                "--data",
                help=f"Data database URL (default: ${ENV_VAR}, else the embedded SQLite file), e.g. "
                "postgresql+psycopg://usd@db:5432/usd_data.",
            ),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="The same seed makes the same data.")] = 0,
        articles: Annotated[
            int | None,
            typer.Option(
                "--articles",
                min=0,
                help="How many knowledge articles (default: one per 20 customers, 5 to 5,000).",
            ),
        ] = None,
        replace: Annotated[
            bool, typer.Option("--replace", help="Delete every service-desk record first.")
        ] = False,
        append: Annotated[bool, typer.Option("--append", help="Add to the customers already there.")] = False,
    ) -> None:
        if replace and append:
            _fail(2, "give --replace or --append, not both")
        url = resolve_data_url(data)
        check_url(url)
        if url_has_password(url):
            typer.echo(
                "warning: the data URL carries a password; keep it in the OS keyring instead "
                "(`usd-admin store set-password --store URL`)",
                err=True,
            )
        with open_data(url) as repo:
            typer.echo(f"data database: {redact(url)}")
            try:
                run(repo, customers, seed=seed, articles=articles, replace=replace, append=append)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                _fail(3, f"the data database at {redact(url)} failed: {str(exc.orig or exc).strip()}")
            except (sa.exc.SQLAlchemyError, DataError) as exc:
                _fail(1, f"the demo data could not be written: {str(exc).splitlines()[0]}")


def run(
    repo: SqlRepository, customers: int, *, seed: int, articles: int | None, replace: bool, append: bool
) -> None:
    """The ``demo-data`` command on an open data database (see :data:`DEMO_HELP`)."""
    existing = count_customers(repo)
    if existing and not (replace or append):
        _fail(
            2,
            f"the data database at {redact(repo.url)} already has {existing:,} customers: "
            "--replace deletes every service-desk record first, --append adds to them",
        )
    started = time.perf_counter()
    if replace:
        empty_service_desk(repo)
        typer.echo(
            f"emptied the service-desk tables ({existing:,} customers deleted) in "
            f"{time.perf_counter() - started:.1f} s"
        )
    begun = time.perf_counter()
    progress = _progress if sys.stderr.isatty() and customers else None
    counts = generate(repo, customers, seed, articles=articles, progress=progress).counts
    typer.echo(f"created in {time.perf_counter() - begun:.1f} s:")
    for entity in sorted(counts, key=lambda e: ENTITY_ORDER.index(e) if e in ENTITY_ORDER else 99):
        typer.echo(f"  {entity:<18}{counts[entity]:>12,}")
    if counts.get("knowledge_article"):
        indexing = time.perf_counter()
        typer.echo("building the knowledge index...")
        indexed = KnowledgeSearch(repo).sync()
        typer.echo(
            f"knowledge index built: {indexed:,} articles indexed in {time.perf_counter() - indexing:.1f} s"
        )
    typer.echo(f"done in {time.perf_counter() - started:.1f} s")
