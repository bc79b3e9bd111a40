"""Declarative models of the work records: cases, interactions, notes, knowledge, outbound lists,
and what the contact-centre KPIs (:mod:`usd_desktop.data.kpi`) read besides the interactions: the
customers' survey answers and the agents' state periods.

A case or an interaction is for a customer (an account or a contact key). A case's ``status`` is
text checked against the option set (the built-in statuses plus any a configuration adds, see
:class:`usd_desktop.data.repository.SqlRepository`), so adding a status needs no migration. Its
lifecycle times (``escalated_at``, ``resolved_at``, ``closed_at``) are set by
:mod:`usd_desktop.data.lifecycle`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from usd_desktop.data.models import Base, account_key, contact_key, created, custom_values, info, pk, utcnow

CASE_STATUSES = ("open", "resolved", "closed", "needs_follow_up")
CASE_PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("phone", "email", "chat", "sms", "web")
DIRECTIONS = ("inbound", "outbound")
CAMPAIGN_STATUSES = ("draft", "active", "paused", "finished")
ENTRY_STATUSES = ("pending", "in_progress", "callback", "done", "failed", "do_not_call")
#: The usual values of :attr:`Interaction.end_cause` (the CTI's :attr:`~usd_desktop.cti.calls.Call.cause`);
#: a backend may report a word of its own, so the column takes any text.
END_CAUSES = (
    "normal",
    "abandoned",
    "missed",
    "rejected",
    "transferred",
    "busy",
    "failed",
    "lost",
    "conferenced",
)
SURVEY_KINDS = ("scale", "yes_no")
AGENT_STATES = ("available", "not_ready", "on_call", "wrap_up", "offline")


def when(label: str, *, index: bool = False) -> Mapped[datetime | None]:
    return mapped_column(sa.DateTime(timezone=True), index=index, info=info(label))


class Case(Base):
    """A case (ticket; USD/Dynamics ``incident``)."""

    __tablename__ = "cases"
    id: Mapped[str] = pk()
    case_number: Mapped[str] = mapped_column(sa.String(40), unique=True, info=info("Case number"))
    title: Mapped[str] = mapped_column(sa.String(300), info=info("Title", primary_name=True))
    description: Mapped[str | None] = mapped_column(sa.Text, info=info("Description"))
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    status: Mapped[str] = mapped_column(
        sa.String(40), default="open", index=True, info=info("Status", options=CASE_STATUSES)
    )
    priority: Mapped[str] = mapped_column(
        sa.String(20), default="normal", info=info("Priority", options=CASE_PRIORITIES)
    )
    category: Mapped[str | None] = mapped_column(sa.String(100), info=info("Category"))
    owner: Mapped[str | None] = mapped_column(sa.String(100), index=True, info=info("Owner"))
    due_at: Mapped[datetime | None] = when("Due", index=True)
    escalation_level: Mapped[int] = mapped_column(sa.Integer, default=0, info=info("Escalation level"))
    escalation_reason: Mapped[str | None] = mapped_column(sa.Text, info=info("Escalation reason"))
    resolution: Mapped[str | None] = mapped_column(sa.Text, info=info("Resolution"))
    next_steps: Mapped[str | None] = mapped_column(sa.Text, info=info("Next steps given to the customer"))
    promised_by: Mapped[datetime | None] = when("Time frame promised to the customer")
    escalated_at: Mapped[datetime | None] = when("Escalated on")
    resolved_at: Mapped[datetime | None] = when("Resolved on")
    closed_at: Mapped[datetime | None] = when("Closed on")
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime | None] = when("Updated on")
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Interaction(Base):
    """One contact with a customer on a channel, with its times and outcome."""

    __tablename__ = "interactions"
    #: an agent's own figures of a period (:mod:`usd_desktop.data.kpi` with an agent filter)
    __table_args__ = (sa.Index(None, "agent", "offered_at"),)
    id: Mapped[str] = pk()
    channel: Mapped[str] = mapped_column(sa.String(10), info=info("Channel", options=CHANNELS))
    direction: Mapped[str] = mapped_column(
        sa.String(10), default="inbound", info=info("Direction", options=DIRECTIONS)
    )
    subject: Mapped[str | None] = mapped_column(sa.String(300), info=info("Subject", primary_name=True))
    queue: Mapped[str | None] = mapped_column(sa.String(100), info=info("Queue"))
    agent: Mapped[str | None] = mapped_column(sa.String(100), info=info("Agent"))
    address: Mapped[str | None] = mapped_column(sa.String(320), info=info("Customer address (ANI, e-mail)"))
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    case_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True, info=info("Case")
    )
    offered_at: Mapped[datetime | None] = when("Offered", index=True)
    answered_at: Mapped[datetime | None] = when("Answered")
    ended_at: Mapped[datetime | None] = when("Ended")
    wrap_up_ended_at: Mapped[datetime | None] = when("Wrap-up ended")
    hold_seconds: Mapped[int] = mapped_column(sa.Integer, default=0, info=info("Hold (s)"))
    disposition: Mapped[str | None] = mapped_column(sa.String(100), info=info("Disposition"))
    first_contact_resolution: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, info=info("First-contact resolution")
    )
    transfers: Mapped[int] = mapped_column(sa.Integer, default=0, info=info("Transfers"))
    #: How the call ended (:data:`END_CAUSES`): ``abandoned`` (the caller gave up while it rang or
    #: queued), ``missed`` (offered to the agent, not answered, the caller did not give up), ...
    end_cause: Mapped[str | None] = mapped_column(sa.String(40), info=info("End cause"))
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Note(Base):
    """A note on a customer, a case or an interaction."""

    __tablename__ = "notes"
    id: Mapped[str] = pk()
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    case_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True, info=info("Case")
    )
    interaction_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("interactions.id", ondelete="CASCADE"), index=True, info=info("Interaction")
    )
    subject: Mapped[str | None] = mapped_column(sa.String(300), info=info("Subject", primary_name=True))
    body: Mapped[str] = mapped_column(sa.Text, default="", info=info("Text"))
    author: Mapped[str | None] = mapped_column(sa.String(100), info=info("Author"))
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime | None] = when("Updated on")
    custom: Mapped[dict[str, Any] | None] = custom_values()


class KnowledgeArticle(Base):
    """A knowledge-base article; ``tags`` is a comma-separated list."""

    __tablename__ = "knowledge_articles"
    id: Mapped[str] = pk()
    title: Mapped[str] = mapped_column(sa.String(300), info=info("Title", primary_name=True))
    body: Mapped[str] = mapped_column(sa.Text, default="", info=info("Body"))
    tags: Mapped[str] = mapped_column(sa.String(500), default="", info=info("Tags"))
    language: Mapped[str] = mapped_column(sa.String(16), default="en", index=True, info=info("Language"))
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime | None] = when("Updated on")
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Campaign(Base):
    """An outbound campaign; its call list is its entries."""

    __tablename__ = "campaigns"
    id: Mapped[str] = pk()
    name: Mapped[str] = mapped_column(sa.String(200), info=info("Name", primary_name=True))
    status: Mapped[str] = mapped_column(
        sa.String(20), default="draft", info=info("Status", options=CAMPAIGN_STATUSES)
    )
    starts_at: Mapped[datetime | None] = when("Starts")
    ends_at: Mapped[datetime | None] = when("Ends")
    max_attempts: Mapped[int] = mapped_column(sa.Integer, default=3, info=info("Most attempts"))
    custom: Mapped[dict[str, Any] | None] = custom_values()


class CallListEntry(Base):
    """A customer to call in a campaign, with the outcome so far."""

    __tablename__ = "call_list_entries"
    id: Mapped[str] = pk()
    campaign_id: Mapped[str] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True, info=info("Campaign")
    )
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    number: Mapped[str] = mapped_column(sa.String(64), info=info("Number", primary_name=True))
    status: Mapped[str] = mapped_column(
        sa.String(20), default="pending", index=True, info=info("Status", options=ENTRY_STATUSES)
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, info=info("Attempts"))
    callback_at: Mapped[datetime | None] = when("Call back at", index=True)
    last_result: Mapped[str | None] = mapped_column(sa.String(100), info=info("Last result"))
    custom: Mapped[dict[str, Any] | None] = custom_values()


class SurveyResponse(Base):
    """A customer's answer to a satisfaction survey about an interaction or a case.

    ``kind`` ``scale``: ``score`` is 1 to ``scale_max``; ``yes_no``: 1 (yes) or 0 (no). ``score``
    and ``answered_at`` are empty while the survey is sent and not answered.
    """

    __tablename__ = "survey_responses"
    id: Mapped[str] = pk()
    interaction_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("interactions.id", ondelete="SET NULL"), index=True, info=info("Interaction")
    )
    case_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True, info=info("Case")
    )
    contact_id: Mapped[str | None] = contact_key()
    channel: Mapped[str | None] = mapped_column(sa.String(10), info=info("Channel", options=CHANNELS))
    kind: Mapped[str] = mapped_column(
        sa.String(10), default="scale", info=info("Kind", options=SURVEY_KINDS, primary_name=True)
    )
    scale_max: Mapped[int] = mapped_column(sa.Integer, default=5, info=info("Highest score"))
    question: Mapped[str | None] = mapped_column(sa.String(300), info=info("Question"))
    score: Mapped[int | None] = mapped_column(sa.Integer, info=info("Score"))
    sent_at: Mapped[datetime | None] = when("Sent", index=True)
    answered_at: Mapped[datetime | None] = when("Answered")
    comment: Mapped[str | None] = mapped_column(sa.Text, info=info("Comment"))
    custom: Mapped[dict[str, Any] | None] = custom_values()


class AgentStatePeriod(Base):
    """A stretch of time an agent spent in one state (:data:`AGENT_STATES`); ``ended_at`` is empty
    while it lasts. ``reason``: the not-ready reason code (break, training, ...)."""

    __tablename__ = "agent_state_periods"
    __table_args__ = (sa.Index(None, "agent", "started_at"),)
    id: Mapped[str] = pk()
    agent: Mapped[str] = mapped_column(sa.String(100), info=info("Agent", primary_name=True))
    state: Mapped[str] = mapped_column(sa.String(20), info=info("State", options=AGENT_STATES))
    reason: Mapped[str | None] = mapped_column(sa.String(100), info=info("Reason"))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True, info=info("Started"))
    ended_at: Mapped[datetime | None] = when("Ended")
    custom: Mapped[dict[str, Any] | None] = custom_values()


BROADCAST_SEVERITIES = ("info", "warning", "critical")


class Broadcast(Base):
    """A supervisor's message to every agent (``audience`` ``all``) or to one queue's agents
    (``queue:<name>``): an outage notice, a help desk's front-end message. Each desktop shows it
    once, until ``expires_at`` (empty: it never expires); see
    :mod:`usd_desktop.hosted_controls.broadcasts`."""

    __tablename__ = "broadcasts"
    __table_args__ = (sa.Index(None, "audience", "sent_at"),)
    id: Mapped[str] = pk()
    sender: Mapped[str] = mapped_column(sa.String(100), info=info("Sender"))
    audience: Mapped[str] = mapped_column(sa.String(110), default="all", info=info("Audience"))
    severity: Mapped[str] = mapped_column(
        sa.String(10), default="info", info=info("Severity", options=BROADCAST_SEVERITIES)
    )
    title: Mapped[str] = mapped_column(sa.String(200), info=info("Title", primary_name=True))
    body: Mapped[str | None] = mapped_column(sa.Text, info=info("Body"))
    sent_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), index=True, default=utcnow, info=info("Sent")
    )
    expires_at: Mapped[datetime | None] = when("Expires", index=True)
    custom: Mapped[dict[str, Any] | None] = custom_values()
