"""Entity metadata: each entity's fields, labels, types, required flags and option sets.

Forms and searches stay generic by reading this instead of the models. It is made from the
tables (:mod:`usd_desktop.data.models`, :mod:`usd_desktop.data.models_work`): a column's type
gives the field type, ``nullable``/defaults the required flag, ``info`` the label and option set,
a foreign key the entity it looks up. A configuration may add values to an option set
(:func:`build_entities` with ``extra_options``), e.g. case statuses, and custom fields
(``custom_fields``): those are :class:`FieldMeta` with ``custom`` set, kept in the record's JSON
``custom`` column (:data:`~usd_desktop.data.models.CUSTOM`), which is no field itself.

A few built-in fields are no column of their entity's table either: they are kept in the records
of another entity (:attr:`FieldMeta.stored_in`, :data:`STORED_ELSEWHERE`). ``phone`` on a contact
or an account is the customer's main phone, a row of the ``phones`` table: the repository reads,
filters and writes it there (:func:`usd_desktop.data.search.field_expression`,
:meth:`usd_desktop.data.repository.SqlRepository.create`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from usd_desktop.data import models_work as work
from usd_desktop.data.errors import DataError
from usd_desktop.data.models import CUSTOM, Account, Address, Base, Contact, Email, Phone

if TYPE_CHECKING:
    from usd_desktop.config.schema_data import CustomField

FieldType = Literal["string", "text", "integer", "float", "boolean", "datetime", "date", "lookup"]

#: Logical entity name -> model (the declarative class).
MODELS: dict[str, type[Base]] = {
    "account": Account,
    "contact": Contact,
    "phone": Phone,
    "email": Email,
    "address": Address,
    "case": work.Case,
    "interaction": work.Interaction,
    "note": work.Note,
    "knowledge_article": work.KnowledgeArticle,
    "campaign": work.Campaign,
    "call_list_entry": work.CallListEntry,
    "survey_response": work.SurveyResponse,
    "agent_state_period": work.AgentStatePeriod,
    "broadcast": work.Broadcast,
}
#: Fields computed by the repository, never written by a caller.
READ_ONLY = {("phone", "e164")}
_TABLE_ENTITY = {model.__tablename__: name for name, model in MODELS.items()}


@dataclass(frozen=True)
class FieldMeta:
    name: str
    label: str
    type: FieldType
    required: bool = False
    options: tuple[str, ...] = ()
    max_length: int | None = None
    lookup: str | None = None  # the entity a lookup field refers to
    read_only: bool = False
    custom: bool = False  # a configuration's custom field, kept in the record's ``custom`` JSON
    #: The entity whose records keep the value (``"phone"``: the customer's main phone), for a
    #: built-in field that is no column of the entity's own table; ``None`` for a column.
    stored_in: str | None = None

    @property
    def is_column(self) -> bool:
        """Whether the value is a column of the entity's own table (not custom, not stored elsewhere)."""
        return not self.custom and self.stored_in is None


@dataclass(frozen=True)
class EntityMeta:
    name: str
    table: sa.Table
    primary_name: str
    fields: dict[str, FieldMeta] = field(default_factory=dict)

    def field(self, name: str) -> FieldMeta:
        """The field ``name``; :class:`DataError` naming the entity and field when it has none."""
        found = self.fields.get(name)
        if found is None:
            raise DataError(f"entity {self.name!r} has no field {name!r} (fields: {', '.join(self.fields)})")
        return found

    def column(self, name: str) -> sa.Column[object]:
        """The table column of the built-in field ``name`` (a custom field or a field stored in
        another entity's records has none: see :func:`usd_desktop.data.search.field_expression`)."""
        found = self.field(name)
        if found.custom:
            raise DataError(f"entity {self.name!r}, field {name!r} is a custom field: it has no column")
        if found.stored_in is not None:
            where = f"entity {self.name!r}, field {name!r}"
            raise DataError(f"{where} is kept in the {found.stored_in} records: it has no column")
        return self.table.c[name]

    @property
    def custom_fields(self) -> list[FieldMeta]:
        """The configuration's custom fields of the entity."""
        return [f for f in self.fields.values() if f.custom]

    @property
    def stored_fields(self) -> list[FieldMeta]:
        """The built-in fields kept in another entity's records (``phone`` of a customer)."""
        return [f for f in self.fields.values() if f.stored_in is not None]


def _field_type(column: sa.Column[object]) -> FieldType:
    if column.foreign_keys:
        return "lookup"
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return "boolean"
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, sa.Float | sa.Numeric):
        return "float"
    if isinstance(kind, sa.DateTime):
        return "datetime"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Text):
        return "text"
    return "string"


def _field(entity: str, column: sa.Column[object], extra: Iterable[str]) -> FieldMeta:
    data = column.info
    options = tuple(dict.fromkeys([*data.get("options", ()), *extra]))
    lookup = None
    for key in column.foreign_keys:
        lookup = _TABLE_ENTITY.get(key.column.table.name)
    required = not column.nullable and column.default is None and not column.primary_key
    length = getattr(column.type, "length", None)
    return FieldMeta(
        name=column.name,
        label=str(data.get("label", column.name)),
        type=_field_type(column),
        required=required,
        options=options,
        max_length=length if isinstance(length, int) else None,
        lookup=lookup,
        read_only=column.primary_key or (entity, column.name) in READ_ONLY,
    )


def _phone_field() -> FieldMeta:
    length = getattr(Phone.__table__.c["number"].type, "length", None)
    return FieldMeta(
        name="phone",
        label="Phone",
        type="string",
        max_length=length if isinstance(length, int) else None,
        stored_in="phone",
    )


#: Built-in fields that are no column of the entity's table, by entity (after the columns in order).
STORED_ELSEWHERE: dict[str, tuple[FieldMeta, ...]] = {
    "account": (_phone_field(),),
    "contact": (_phone_field(),),
}


def builtin_names(entity_name: str) -> set[str]:
    """The names a configuration's custom field of ``entity_name`` cannot take (its built-in fields)."""
    table = MODELS[entity_name].__table__
    return {*table.c.keys(), *(f.name for f in STORED_ELSEWHERE.get(entity_name, ()))}


def custom_field(spec: CustomField) -> FieldMeta:
    """The metadata of a configuration's custom field."""
    return FieldMeta(
        name=spec.name,
        label=spec.label or spec.name,
        type=spec.type,
        required=spec.required,
        options=tuple(dict.fromkeys(spec.options)),
        max_length=spec.max_length,
        custom=True,
    )


def build_entities(
    extra_options: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
    custom_fields: Iterable[CustomField] = (),
) -> dict[str, EntityMeta]:
    """The metadata of every entity.

    ``extra_options[entity][field]`` adds option-set values; ``custom_fields`` adds fields. An
    unknown entity or field, or a custom field named like a built-in one, raises :class:`DataError`
    (:meth:`usd_desktop.data.repository.SqlRepository.configure` reports and skips those instead).
    """
    extra = extra_options or {}
    for entity, by_field in extra.items():
        if entity not in MODELS:
            raise DataError(f"extra options for unknown entity {entity!r}")
        for name in by_field:
            if name not in MODELS[entity].__table__.c or name == CUSTOM:
                raise DataError(f"extra options for unknown field {name!r} of entity {entity!r}")
    added: dict[str, dict[str, FieldMeta]] = {}
    for spec in custom_fields:
        if spec.entity not in MODELS:
            raise DataError(f"custom field {spec.name!r} of unknown entity {spec.entity!r}")
        if spec.name in builtin_names(spec.entity):
            raise DataError(
                f"custom field {spec.name!r} of entity {spec.entity!r} clashes with a built-in field"
            )
        added.setdefault(spec.entity, {})[spec.name] = custom_field(spec)
    out: dict[str, EntityMeta] = {}
    for name, model in MODELS.items():
        table = model.__table__
        assert isinstance(table, sa.Table)
        options = extra.get(name, {})
        columns = [c for c in table.columns if c.name != CUSTOM]
        fields = {c.name: _field(name, c, options.get(c.name, ())) for c in columns}
        fields.update({f.name: f for f in STORED_ELSEWHERE.get(name, ())})
        fields.update(added.get(name, {}))
        primary = next((c.name for c in table.columns if c.info.get("primary_name")), "id")
        out[name] = EntityMeta(name, table, primary, fields)
    return out


ENTITIES: dict[str, EntityMeta] = build_entities()


def entity(name: str, entities: Mapping[str, EntityMeta] = ENTITIES) -> EntityMeta:
    """The entity ``name``; :class:`DataError` naming it when there is none."""
    found = entities.get(name)
    if found is None:
        raise DataError(f"unknown entity {name!r} (entities: {', '.join(entities)})")
    return found


__all__ = [
    "ENTITIES",
    "MODELS",
    "STORED_ELSEWHERE",
    "EntityMeta",
    "FieldMeta",
    "build_entities",
    "builtin_names",
    "custom_field",
    "entity",
]
