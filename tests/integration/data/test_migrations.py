"""The data migrations make exactly the tables of the models; revisions are checked at open."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from usd_desktop.config.migrations import HEAD_REVISION as STORE_HEAD
from usd_desktop.config.store import ConfigStore
from usd_desktop.data import models_work  # noqa: F401  (registers the work tables)
from usd_desktop.data.engine import alembic_head, connect, current_revision, known_revisions
from usd_desktop.data.errors import DataError, DataTooNew
from usd_desktop.data.location import ENV_VAR, default_data_url, resolve_data_url
from usd_desktop.data.migrations import HEAD_REVISION, VERSION_TABLE
from usd_desktop.data.models import Base
from usd_desktop.data.repository import SqlRepository


def _differences(url: str) -> list[Any]:
    engine = connect(url, create=False)
    try:
        with engine.connect() as conn:
            opts = {
                "compare_type": True,
                "version_table": VERSION_TABLE,
                # only the data tables: the configuration store may share the database
                "include_name": lambda name, kind, _parent: kind != "table" or name in Base.metadata.tables,
            }
            context = MigrationContext.configure(conn, opts=opts)
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migrated_database_matches_the_models(data_url: str) -> None:
    differences = _differences(data_url)
    assert differences == [], "add a migration in usd_desktop/data/migrations/versions/ for:\n" + "\n".join(
        map(repr, differences)
    )


def test_head_revision_constant_is_alembics_head() -> None:
    assert alembic_head() == HEAD_REVISION
    assert HEAD_REVISION in known_revisions()


def test_opening_again_keeps_the_revision(data_url: str) -> None:
    with SqlRepository(data_url) as repo, repo.engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION


def test_a_newer_schema_is_refused(data_url: str) -> None:
    engine = connect(data_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(DataTooNew, match="9999"):
        SqlRepository(data_url)


def test_tables_without_a_revision_are_not_touched(empty_data_url: str) -> None:
    engine = connect(empty_data_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE accounts (id VARCHAR(36) PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(DataError, match="no data schema revision"):
        SqlRepository(empty_data_url)


def test_data_shares_a_database_with_the_configuration_store(empty_data_url: str) -> None:
    ConfigStore.open(empty_data_url).close()
    with SqlRepository(empty_data_url) as repo:
        repo.create("account", {"name": "Shared Oy"})
    ConfigStore.open(empty_data_url).close()  # the store's own alembic_version is untouched
    assert _differences(empty_data_url) == []
    engine = connect(empty_data_url)
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION
        store_revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert store_revision == STORE_HEAD


def test_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_data_url("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_data_url() == default_data_url()
    assert default_data_url().endswith("usd-desktop-data.db")
    monkeypatch.setenv(ENV_VAR, "postgresql+psycopg://u@h/db")
    assert resolve_data_url() == "postgresql+psycopg://u@h/db"
