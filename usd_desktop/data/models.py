"""Declarative models of the service-desk records: customers (accounts, contacts) and their details.

Every record has a UUID string primary key (USD's GUIDs). A column's ``info`` carries what
:mod:`usd_desktop.data.metadata` shows to forms and searches: ``label``, ``options`` (an option
set) and ``primary_name`` (the field a list shows for the record). Work records (cases,
interactions, notes, knowledge, campaigns) are in :mod:`usd_desktop.data.models_work`.

A phone, e-mail or postal address belongs to an account or to a contact (one of the two keys is
set). Phones keep the number as typed and its E.164 form, indexed for caller lookup.

Every record also has a ``custom`` JSON column (:data:`CUSTOM`): the values of the custom fields a
configuration adds (:class:`usd_desktop.config.schema_data.CustomField`), keyed by field name. It is
not a field itself: the metadata shows each custom field instead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEGMENTS = ("consumer", "small_business", "enterprise", "public_sector", "vip")
PHONE_KINDS = ("mobile", "work", "home", "fax", "other")
EMAIL_KINDS = ("work", "personal", "other")
ADDRESS_KINDS = ("postal", "billing", "shipping", "visiting")
#: The column holding a record's custom-field values (a JSON object; NULL: none).
CUSTOM = "custom"


def new_id() -> str:
    """A new primary key: a UUID (USD's GUID) as text."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def info(label: str, *, options: tuple[str, ...] = (), primary_name: bool = False) -> dict[str, Any]:
    """The ``info`` of a column: what the entity metadata shows."""
    out: dict[str, Any] = {"label": label}
    if options:
        out["options"] = options
    if primary_name:
        out["primary_name"] = True
    return out


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def pk() -> Mapped[str]:
    return mapped_column(sa.String(36), primary_key=True, default=new_id, info=info("Id"))


def created() -> Mapped[datetime]:
    return mapped_column(sa.DateTime(timezone=True), default=utcnow, info=info("Created on"))


def custom_values() -> Mapped[dict[str, Any] | None]:
    """The record's custom-field values (see :data:`CUSTOM`)."""
    return mapped_column(CUSTOM, sa.JSON(none_as_null=True), nullable=True, info=info("Custom fields"))


def account_key(ondelete: str = "CASCADE") -> Mapped[str | None]:
    """The account a record belongs to (or ``None``)."""
    return mapped_column(sa.ForeignKey("accounts.id", ondelete=ondelete), index=True, info=info("Account"))


def contact_key(ondelete: str = "CASCADE") -> Mapped[str | None]:
    """The contact a record belongs to (or ``None``)."""
    return mapped_column(sa.ForeignKey("contacts.id", ondelete=ondelete), index=True, info=info("Contact"))


class Account(Base):
    """A customer organisation (USD/Dynamics ``account``)."""

    __tablename__ = "accounts"
    id: Mapped[str] = pk()
    name: Mapped[str] = mapped_column(sa.String(200), index=True, info=info("Name", primary_name=True))
    account_number: Mapped[str | None] = mapped_column(sa.String(40), index=True, info=info("Account number"))
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16), info=info("Preferred language"))
    segment: Mapped[str | None] = mapped_column(sa.String(40), info=info("Segment", options=SEGMENTS))
    website: Mapped[str | None] = mapped_column(sa.String(300), info=info("Website"))
    created_at: Mapped[datetime] = created()
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Contact(Base):
    """A customer person (USD/Dynamics ``contact``), perhaps of an account."""

    __tablename__ = "contacts"
    id: Mapped[str] = pk()
    first_name: Mapped[str | None] = mapped_column(sa.String(100), info=info("First name"))
    last_name: Mapped[str] = mapped_column(sa.String(100), index=True, info=info("Last name"))
    full_name: Mapped[str] = mapped_column(
        sa.String(200), index=True, info=info("Full name", primary_name=True)
    )
    account_id: Mapped[str | None] = account_key("SET NULL")
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16), info=info("Preferred language"))
    segment: Mapped[str | None] = mapped_column(sa.String(40), info=info("Segment", options=SEGMENTS))
    birth_date: Mapped[date | None] = mapped_column(sa.Date, info=info("Birth date"))
    created_at: Mapped[datetime] = created()
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Phone(Base):
    """A phone number of a customer, as typed and normalised to E.164 (indexed for caller lookup)."""

    __tablename__ = "phones"
    id: Mapped[str] = pk()
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    number: Mapped[str] = mapped_column(sa.String(64), info=info("Number", primary_name=True))
    e164: Mapped[str | None] = mapped_column(sa.String(20), index=True, info=info("E.164 number"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="mobile", info=info("Kind", options=PHONE_KINDS))
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Email(Base):
    """An e-mail address of a customer."""

    __tablename__ = "emails"
    id: Mapped[str] = pk()
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    address: Mapped[str] = mapped_column(sa.String(320), index=True, info=info("Address", primary_name=True))
    kind: Mapped[str] = mapped_column(sa.String(20), default="work", info=info("Kind", options=EMAIL_KINDS))
    custom: Mapped[dict[str, Any] | None] = custom_values()


class Address(Base):
    """A postal address of a customer."""

    __tablename__ = "addresses"
    id: Mapped[str] = pk()
    account_id: Mapped[str | None] = account_key()
    contact_id: Mapped[str | None] = contact_key()
    kind: Mapped[str] = mapped_column(
        sa.String(20), default="postal", info=info("Kind", options=ADDRESS_KINDS)
    )
    line1: Mapped[str] = mapped_column(sa.String(200), info=info("Street", primary_name=True))
    line2: Mapped[str | None] = mapped_column(sa.String(200), info=info("Street 2"))
    city: Mapped[str | None] = mapped_column(sa.String(100), info=info("City"))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20), info=info("Postal code"))
    region: Mapped[str | None] = mapped_column(sa.String(100), info=info("Region"))
    country: Mapped[str | None] = mapped_column(sa.String(2), info=info("Country (ISO 3166)"))
    custom: Mapped[dict[str, Any] | None] = custom_values()
