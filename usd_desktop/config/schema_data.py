"""Service-desk data an administrator shapes without code: custom fields and option-set values.

A custom field adds a field to an entity (``contact``, ``case``...): forms show it, searches filter
and sort on it, ``CreateEntity``/``UpdateEntity`` write it, and it is readable as
``[[contact.loyalty_tier]]`` like a built-in field. Option values extend a built-in field's option
set, e.g. a case status ``waiting_for_customer`` beside ``open``, ``resolved``, ``closed`` and
``needs_follow_up``. Neither needs a database migration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from usd_desktop.config.schema_types import Identifier, _Model

CustomFieldType = Literal["string", "text", "integer", "float", "boolean", "datetime", "date"]


class CustomField(_Model):
    """A field added to an entity by the configuration."""

    entity: Identifier = Field(description="Logical name of the entity extended, e.g. `contact` or `case`.")
    name: Identifier = Field(
        description="Logical name of the new field, unique within the entity and not one of its "
        "built-in fields."
    )
    label: str = Field(default="", description="What forms and lists show; empty: the name.")
    type: CustomFieldType = Field(
        default="string",
        description="`string` (one line), `text` (several lines), `integer`, `float`, `boolean`, "
        "`datetime` (ISO 8601, stored in UTC) or `date`.",
    )
    required: bool = Field(default=False, description="A record cannot be saved without a value.")
    options: list[str] = Field(
        default_factory=list,
        description="The values allowed (an option set; forms show a drop-down); empty: any value.",
    )
    max_length: int | None = Field(
        default=None, ge=1, description="Most characters of a `string` or `text` value; unset: no limit."
    )
    description: str = Field(default="", description="Free text for administrators.")


class OptionValues(_Model):
    """Values added to the option set of a built-in field (e.g. case statuses)."""

    entity: Identifier = Field(description="Logical name of the entity, e.g. `case`.")
    field: Identifier = Field(description="Logical name of a field with an option set, e.g. `status`.")
    values: list[str] = Field(
        min_length=1, description="The values added; the built-in ones stay, in front."
    )
    description: str = Field(default="", description="Free text for administrators.")
