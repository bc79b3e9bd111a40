"""Custom fields and option values (the service-desk data an administrator shapes).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Versions published before this revision have neither: their new tables stay empty, which reads
back as empty lists, so their content and hash are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(none_as_null=True), nullable=False)


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
        "cfg_custom_fields",
        _text("entity"),
        _text("name"),
        _text("label"),
        sa.Column(
            "type",
            sa.Enum(
                "string", "text", "integer", "float", "boolean", "datetime", "date",
                name="type", native_enum=False, create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        _json("options"),
        sa.Column("max_length", sa.BigInteger(), nullable=True),
        _text("description"),
    )
    _records(
        "cfg_option_values",
        _text("entity"),
        _text("field"),
        _json("values"),
        _text("description"),
    )


def downgrade() -> None:
    for table in ("cfg_option_values", "cfg_custom_fields"):
        op.drop_table(table)
