"""Entity searches, window navigation rules, session lines and agent scripts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Versions published before this revision have none of these records: their new tables stay empty,
which reads back as empty lists, so their content and hash are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _json(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(none_as_null=True), nullable=nullable)


def _flag(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _number(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _choice(name: str, *values: str) -> sa.Column[Any]:
    return sa.Column(
        name, sa.Enum(*values, name=name, native_enum=False, create_constraint=True), nullable=False
    )


def _records(table: str, *columns: sa.Column[Any]) -> None:
    op.create_table(
        table,
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["configuration_versions.id"],
            name=op.f(f"fk_{table}_version_id_configuration_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "position", name=op.f(f"pk_{table}")),
    )


def upgrade() -> None:
    _records(
        "cfg_entity_searches",
        _text("name"),
        _text("entity"),
        _json("filters"),
        _choice("match", "all", "any"),
        _json("columns"),
        _number("max_count"),
        _json("order_by"),
        _text("description"),
    )
    _records(
        "cfg_window_navigation_rules",
        _text("name"),
        _number("order"),
        _text("from_control", nullable=True),
        _text("from_search", nullable=True),
        _text("entity", nullable=True),
        _text("url", nullable=True),
        _choice("route_type", "popup", "in_place", "on_load", "menu_chosen"),
        _choice("action", "create_session", "route_window", "show_outside", "none"),
        _choice("destination", "tab", "entity_search"),
        _text("target_tab", nullable=True),
        _text("show_tab", nullable=True),
        _text("entity_search", nullable=True),
        _flag("hide_command_bar"),
        _flag("hide_navigation_bar"),
        _text("condition"),
        _json("action_calls"),
        _json("cti", nullable=True),
    )
    _records(
        "cfg_session_lines",
        _text("name"),
        _number("order"),
        _choice("type", "session_name", "session_overview"),
        _text("entity", nullable=True),
        _text("display"),
        _text("description"),
    )
    _records(
        "cfg_agent_scripts",
        _text("name"),
        _flag("start_task"),
        _text("show_tab", nullable=True),
        _text("category"),
        _text("script_text"),
        _text("instructions"),
        _json("action_calls"),
        _json("answers"),
        _json("triggers"),
    )


def downgrade() -> None:
    for table in (
        "cfg_agent_scripts",
        "cfg_session_lines",
        "cfg_window_navigation_rules",
        "cfg_entity_searches",
    ):
        op.drop_table(table)
