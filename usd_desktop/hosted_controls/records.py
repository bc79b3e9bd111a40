"""Records as replacement parameters: one convention for every control and action (Qt-free).

A record loaded into a customer session becomes the root named after its entity, as in USD (the
last one loaded per entity wins): ``[[contact.full_name]]``, ``[[contact.id]]``, plus ``Id`` and
``LogicalName`` (``[[contact.Id]]``, ``[[contact.LogicalName]]``) as USD's pages publish them.
Values are text: datetimes in ISO 8601 (UTC), booleans ``true``/``false``, nothing for ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from usd_desktop.core.context import Session
from usd_desktop.core.datafield import (
    ActionData,
    DataFieldError,
    EntityReference,
    OptionSetValue,
    PartyList,
    parse_typed,
)
from usd_desktop.core.errors import ActionError
from usd_desktop.data.metadata import EntityMeta


def text(value: Any) -> str:
    """A field value as replacement-parameter text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def as_parameters(entity: str, record: Mapping[str, Any]) -> dict[str, str]:
    """``record`` as the text values of its entity's root (with ``Id`` and ``LogicalName``)."""
    values = {name: text(value) for name, value in record.items()}
    values["Id"] = text(record.get("id"))
    values["LogicalName"] = entity
    return values


def publish_record(session: Session, entity: str, record: Mapping[str, Any]) -> None:
    """Make ``record`` the session's current ``entity`` (``[[entity.field]]``)."""
    session.store.replace_root(entity, as_parameters(entity, record))


def typed_value(meta: EntityMeta, name: str, value: Any) -> Any:
    """A value from an action's Data (USD's typed values allowed) for field ``name`` of ``meta``.

    ``EntityReference("contact", id)`` gives the id (its entity must be the one the lookup refers
    to), ``OptionSetValue(n)`` the option ``n`` when it is one of the option set's values, else the
    n-th option counting from 0, ``Boolean(v)`` a boolean; text is passed on for the data layer to
    check. ``PartyList`` has no field to go to here.
    """
    fmeta = meta.field(name)
    if isinstance(value, EntityReference):
        if fmeta.lookup is not None and value.logical_name.casefold() != fmeta.lookup.casefold():
            raise ActionError(
                f"entity {meta.name!r}, field {name!r} ({fmeta.label}) refers to {fmeta.lookup}, "
                f"not {value.logical_name}"
            )
        return value.id
    if isinstance(value, OptionSetValue):
        options = fmeta.options
        if str(value.value) in options:
            return str(value.value)
        if 0 <= value.value < len(options):
            return options[value.value]
        raise ActionError(
            f"entity {meta.name!r}, field {name!r} ({fmeta.label}): OptionSetValue({value.value}) is "
            f"not one of {', '.join(options) or 'its values (it has no option set)'}"
        )
    if isinstance(value, PartyList):
        raise ActionError(f"entity {meta.name!r}, field {name!r}: a PartyList has no field to go to")
    return value


def field_values(meta: EntityMeta, data: ActionData) -> dict[str, Any]:
    """Every remaining ``field=value`` line of ``data`` as field values of ``meta``.

    Field names match without regard to case; an unknown one raises :class:`ActionError` naming the
    entity and the field.
    """
    by_fold = {name.casefold(): name for name in meta.fields}
    out: dict[str, Any] = {}
    for key, raw in data.items():
        name = by_fold.get(key.strip().casefold())
        if name is None:
            raise ActionError(
                f"entity {meta.name!r} has no field {key.strip()!r} (fields: {', '.join(meta.fields)})"
            )
        try:
            parsed = parse_typed(raw, key=key)
        except DataFieldError as exc:
            raise ActionError(str(exc)) from None
        out.setdefault(name, typed_value(meta, name, parsed))
    return out
