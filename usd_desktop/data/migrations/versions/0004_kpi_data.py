"""What the contact-centre KPIs (:mod:`usd_desktop.data.kpi`) need besides the interactions.

Interactions gain ``end_cause``, how the call ended (``abandoned``: the caller gave up while it rang
or queued; ``missed``: offered to the agent and not answered; ``transferred``, ``normal``, ...), and
an index on (``agent``, ``offered_at``) for the per-agent figures of a period. New tables:
``survey_responses`` (customers' survey answers, for CSAT) and ``agent_state_periods`` (the agents'
states over time, for occupancy).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Written out: it does not import the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("interactions", sa.Column("end_cause", sa.String(length=40), nullable=True))
    op.create_index(
        op.f("ix_interactions_agent_offered_at"), "interactions", ["agent", "offered_at"], unique=False
    )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("interaction_id", sa.String(length=36), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("contact_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("scale_max", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("custom", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_survey_responses_interaction_id_interactions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_survey_responses_case_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_survey_responses_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    for column in ("interaction_id", "case_id", "contact_id", "sent_at"):
        op.create_index(op.f(f"ix_survey_responses_{column}"), "survey_responses", [column], unique=False)

    op.create_table(
        "agent_state_periods",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("custom", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_periods")),
    )
    op.create_index(
        op.f("ix_agent_state_periods_agent_started_at"),
        "agent_state_periods",
        ["agent", "started_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_agent_state_periods_started_at"), "agent_state_periods", ["started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("agent_state_periods")
    op.drop_table("survey_responses")
    op.drop_index(op.f("ix_interactions_agent_offered_at"), table_name="interactions")
    op.drop_column("interactions", "end_cause")
