"""Fixtures of the data-layer tests: a data database on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from usd_desktop.data.repository import SqlRepository


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_data_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database (no tables), once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield str(request.getfixturevalue("sqlite_url"))
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = cluster.new_database(migrated=False)
    yield cluster.url(name)
    cluster.drop(name)


@pytest.fixture
def data_url(empty_data_url: str) -> str:
    """A database at the data schema's head revision (the migrations run by opening it)."""
    SqlRepository(empty_data_url).close()
    return empty_data_url


@pytest.fixture
def repo(data_url: str) -> Iterator[SqlRepository]:
    opened = SqlRepository(data_url, extra_options={"case": {"status": ["waiting_for_customer"]}})
    yield opened
    opened.close()
