"""A survey keeps the question the customer was asked (``survey_responses.question``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Written out: it does not import the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("survey_responses", sa.Column("question", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("survey_responses", "question")  # ALTER TABLE ... DROP COLUMN (SQLite 3.35+)
