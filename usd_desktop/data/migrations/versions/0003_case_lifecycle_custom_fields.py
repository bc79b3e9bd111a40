"""Case lifecycle fields and custom-field values.

Cases gain what the lifecycle (:mod:`usd_desktop.data.lifecycle`) records: ``next_steps`` and
``promised_by`` (what was told to the customer on escalation) and the times a case was escalated,
resolved and closed. Every entity table gains ``custom``, a JSON object of the values of the
custom fields a configuration adds (NULL: none), so adding a custom field needs no migration.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Written out: it does not import the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The entity tables (``metadata.MODELS``) as of this revision.
TABLES = (
    "accounts",
    "contacts",
    "phones",
    "emails",
    "addresses",
    "cases",
    "interactions",
    "notes",
    "knowledge_articles",
    "campaigns",
    "call_list_entries",
)
CASE_COLUMNS = (
    ("next_steps", sa.Text()),
    ("promised_by", sa.DateTime(timezone=True)),
    ("escalated_at", sa.DateTime(timezone=True)),
    ("resolved_at", sa.DateTime(timezone=True)),
    ("closed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, kind in CASE_COLUMNS:
        op.add_column("cases", sa.Column(name, kind, nullable=True))
    for table in TABLES:
        op.add_column(table, sa.Column("custom", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): no table copy, so the knowledge triggers stay
    for table in TABLES:
        op.drop_column(table, "custom")
    for name, _kind in reversed(CASE_COLUMNS):
        op.drop_column("cases", name)
