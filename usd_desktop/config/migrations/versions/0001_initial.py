"""The first store: configurations, versions, people, assignments, audit, change feed, and the
content tables of hosted controls, action calls, events, toolbars, scriptlets, options, resources
and user-setting defaults.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Written out on purpose (never generated at run time): a migration is frozen history, so it does
not import the tables module, whose tables follow the schema of the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, nullable: bool = False, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable, **kw)


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(none_as_null=True), nullable=False)


def _position() -> sa.Column[Any]:
    return sa.Column("position", sa.Integer(), nullable=False)


def _content(table: str, *columns: Any, keys: Sequence[str] = ("position",)) -> None:
    """A table of version content: ``version_id`` (+ ``position`` for records) and ``columns``."""
    record = keys == ("position",)
    op.create_table(
        table,
        sa.Column("version_id", sa.Integer(), nullable=False),
        *([sa.Column("position", sa.Integer(), autoincrement=False, nullable=False)] if record else []),
        *columns,
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["configuration_versions.id"],
            name=op.f(f"fk_{table}_version_id_configuration_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", *keys, name=op.f(f"pk_{table}")),
    )


def upgrade() -> None:
    op.create_table(
        "configurations",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("name"),
        _text("description", server_default=""),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        _when("created_at"),
        _text("created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configurations")),
        sa.UniqueConstraint("name", name=op.f("uq_configurations_name")),
    )
    op.create_table(
        "configuration_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("draft", "published", name="state", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        _text("content_hash"),
        _when("created_at"),
        _text("created_by"),
        _when("published_at", nullable=True),
        _text("published_by", nullable=True),
        _text("message", server_default=""),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["configurations.id"],
            name=op.f("fk_configuration_versions_configuration_id_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configuration_versions")),
        sa.UniqueConstraint(
            "configuration_id", "number", name=op.f("uq_configuration_versions_configuration_id_number")
        ),
    )
    op.create_table(
        "users",
        _text("name"),
        _text("display_name", server_default=""),
        _when("created_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
    )
    op.create_table(
        "roles",
        _text("name"),
        _text("description", server_default=""),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_roles")),
    )
    op.create_table(
        "user_roles",
        _text("user_name"),
        _text("role_name"),
        sa.ForeignKeyConstraint(
            ["role_name"], ["roles.name"], name=op.f("fk_user_roles_role_name_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_name"], ["users.name"], name=op.f("fk_user_roles_user_name_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_name", "role_name", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "assignments",
        sa.Column(
            "kind",
            sa.Enum("user", "role", name="kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        _text("principal"),
        sa.Column("configuration_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="100", nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["configurations.id"],
            name=op.f("fk_assignments_configuration_id_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "principal", name=op.f("pk_assignments")),
    )
    op.create_table(
        "user_settings",
        _text("user_name"),
        _text("name"),
        _text("value"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("user_name", "name", name=op.f("pk_user_settings")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("at"),
        _text("actor"),
        _text("action"),
        _text("target"),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "store_changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        _when("at"),
        _text("kind"),
        _text("configuration"),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_store_changes")),
    )

    # ------------------------------------------------------------------ version content
    _content("cfg_configuration", _text("name"), _text("description"), keys=())
    _content(
        "cfg_hosted_controls",
        _text("name"),
        _text("type"),
        _text("display_name", nullable=True),
        sa.Column("sort_order", sa.BigInteger(), nullable=False),
        _text("panel", nullable=True),
        sa.Column("is_global", sa.Boolean(), nullable=False),
        sa.Column("is_dynamic", sa.Boolean(), nullable=False),
        sa.Column("user_can_close", sa.Boolean(), nullable=False),
        _json("actions"),
        _json("settings"),
    )
    _content(
        "cfg_action_calls",
        _text("name"),
        _text("control"),
        _text("action"),
        _text("data"),
        _text("condition"),
        sa.Column("order", sa.BigInteger(), nullable=False),
        _text("shortcut", nullable=True),
        _json("sub_action_calls"),
        _text("description"),
    )
    _content("cfg_events", _text("control"), _text("name"), _json("action_calls"))
    _content(
        "cfg_toolbars",
        _text("name"),
        _text("title"),
        _text("container"),
        sa.Column("order", sa.BigInteger(), nullable=False),
        _text("visible_condition"),
        _text("enable_condition"),
        _json("buttons"),
    )
    _content("cfg_scriptlets", _text("name"), _text("script"))
    _content("cfg_options", _text("name"), _text("value"), _position(), keys=("name",))
    _content("cfg_user_settings", _text("name"), _text("value"), _position(), keys=("name",))
    _content(
        "cfg_resources",
        _text("language"),
        _text("key"),
        _text("text"),
        _position(),
        keys=("language", "key"),
    )


def downgrade() -> None:
    for table in (
        "cfg_resources",
        "cfg_user_settings",
        "cfg_options",
        "cfg_scriptlets",
        "cfg_toolbars",
        "cfg_events",
        "cfg_action_calls",
        "cfg_hosted_controls",
        "cfg_configuration",
        "store_changes",
        "audit_log",
        "user_settings",
        "assignments",
        "user_roles",
        "roles",
        "users",
        "configuration_versions",
        "configurations",
    ):
        op.drop_table(table)
