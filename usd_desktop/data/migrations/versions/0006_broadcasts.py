"""Broadcast messages: a supervisor's message to every agent or to one queue's agents (``broadcasts``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14

Written out: it does not import the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sender", sa.String(length=100), nullable=False),
        sa.Column("audience", sa.String(length=110), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("custom", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index(op.f("ix_broadcasts_sent_at"), "broadcasts", ["sent_at"], unique=False)
    op.create_index(op.f("ix_broadcasts_expires_at"), "broadcasts", ["expires_at"], unique=False)
    op.create_index(
        op.f("ix_broadcasts_audience_sent_at"), "broadcasts", ["audience", "sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_broadcasts_audience_sent_at"), table_name="broadcasts")
    op.drop_index(op.f("ix_broadcasts_expires_at"), table_name="broadcasts")
    op.drop_index(op.f("ix_broadcasts_sent_at"), table_name="broadcasts")
    op.drop_table("broadcasts")
