"""The migrations make exactly the tables the schema generates; revisions are checked at open."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import ConfigStore, StoreError, StoreNeedsUpgrade, StoreTooNew
from usd_desktop.config.store.engine import (
    alembic_config,
    alembic_head,
    connect,
    head_revision,
    known_revisions,
)
from usd_desktop.config.store.tables import MAPPING_TABLES, RECORD_TABLES, metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.url(cluster.new_database(migrated=False))


def _differences(url: str) -> list[Any]:
    engine = connect(url, create=False)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrated_database_matches_the_schema(empty_url: str) -> None:
    ConfigStore.open(empty_url).close()
    differences = _differences(empty_url)
    assert differences == [], (
        "the tables generated from usd_desktop.config.schema differ from what the migrations make: "
        "add a migration in usd_desktop/config/migrations/versions/ for:\n"
        + "\n".join(map(repr, differences))
    )


def test_every_list_field_of_the_schema_has_a_table() -> None:
    for name, info in Configuration.model_fields.items():
        text = str(info.annotation)
        if text.startswith("list["):
            assert f"cfg_{name}" in metadata.tables, name
            assert name in RECORD_TABLES
    assert set(MAPPING_TABLES) >= {"options", "user_settings", "resources"}
    assert [c.name for c in metadata.tables["cfg_resources"].columns][:4] == [
        "version_id",
        "language",
        "key",
        "text",
    ]


def test_our_head_constant_is_alembics_head() -> None:
    assert head_revision() == alembic_head()


def test_open_reports_the_head_revision(store: ConfigStore) -> None:
    assert store.schema_revision() == head_revision()
    assert {"0001", head_revision()} <= known_revisions()


def _set_revision(url: str, revision: str) -> None:
    engine = connect(url, create=False)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_a_store_from_a_newer_client_is_refused(store_url: str) -> None:
    ConfigStore.open(store_url).close()
    _set_revision(store_url, "9999_future")
    with pytest.raises(StoreTooNew) as info:
        ConfigStore.open(store_url, upgrade=True)
    message = str(info.value)
    assert "was upgraded by a newer usd_desktop (revision 9999_future)" in message
    assert f"this client knows up to {head_revision()} — upgrade usd_desktop" in message
    assert store_url.rsplit("/", maxsplit=1)[-1] in message


def test_an_older_store_is_upgraded_only_when_asked(empty_url: str, starter: Configuration) -> None:
    engine = connect(empty_url, create=True)
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.commit()
    engine.dispose()
    with pytest.raises(StoreNeedsUpgrade, match="usd-admin store upgrade"):
        ConfigStore.open(empty_url)
    with ConfigStore.open(empty_url, upgrade=True) as store:
        assert store.schema_revision() == head_revision()
        assert store.seed_starter(starter)
        assert store.load("Starter")[0] == starter
    assert _differences(empty_url) == []


def test_data_published_at_the_first_revision_survives_upgrades(empty_url: str) -> None:
    """A version published by a 0001 client keeps its content and hash after the upgrade."""
    engine = connect(empty_url, create=True)
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(
            sa.text(
                "INSERT INTO configurations (id, name, description, is_default, created_at, created_by) "
                "VALUES (1, 'Old', '', true, CURRENT_TIMESTAMP, 'old-client')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO configuration_versions (id, configuration_id, number, state, content_hash, "
                "created_at, created_by, message) VALUES (1, 1, 1, 'published', 'h', CURRENT_TIMESTAMP, 'x', '')"
            )
        )
        conn.execute(
            sa.text("INSERT INTO cfg_configuration (version_id, name, description) VALUES (1, 'Old', '')")
        )
        conn.execute(
            sa.text(
                "INSERT INTO cfg_hosted_controls (version_id, position, name, type, sort_order, is_global, "
                "is_dynamic, user_can_close, actions, settings) "
                "VALUES (1, 0, 'Global Manager', 'GlobalManager', 100, true, false, false, '[]', '{}')"
            )
        )
        conn.commit()
    engine.dispose()
    with ConfigStore.open(empty_url, upgrade=True) as store:
        config, info = store.load("Old")
        assert [c.name for c in config.hosted_controls] == ["Global Manager"]
        assert info.number == 1 and store.resolve("anyone") == ("Old", info)


def test_create_false_refuses_an_empty_database(empty_url: str) -> None:
    with pytest.raises(StoreError, match="no store at"):
        ConfigStore.open(empty_url, create=False)


def test_a_missing_sqlite_file_is_not_created_without_create(tmp_path: Any) -> None:
    path = tmp_path / "nope" / "store.db"
    with pytest.raises(StoreError, match="does not exist"):
        ConfigStore.open(f"sqlite:///{path}", create=False)
    assert not path.exists()


def test_tables_without_a_revision_are_not_touched(empty_url: str) -> None:
    engine = connect(empty_url, create=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE configurations (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(StoreError, match="no schema revision"):
        ConfigStore.open(empty_url)


def test_unsupported_urls_are_refused(tmp_path: Any) -> None:
    with pytest.raises(StoreError, match="SQLite or PostgreSQL"):
        ConfigStore.open("mysql://u@h/db")
    with pytest.raises(StoreError, match="psycopg"):
        ConfigStore.open("postgresql+pg8000://u@h/db")
    with pytest.raises(StoreError, match="not a store URL"):
        ConfigStore.open("::not a url::")
