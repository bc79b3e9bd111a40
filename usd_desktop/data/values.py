"""Turning caller values (typed, or text from a search or USD's typed values) into column values.

Custom-field values are kept in a record's JSON ``custom`` column as JSON-friendly values
(:func:`to_json`: a datetime as ISO 8601 text in UTC with microseconds, so the text sorts like the
time; a date as ISO text) and read back typed like a built-in field's (:func:`from_json`).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import EntityMeta, FieldMeta
from usd_desktop.data.models import CUSTOM

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # a 64-bit integer, the widest both backends keep


def _bad(entity: EntityMeta, field: FieldMeta, value: Any, why: str) -> DataError:
    return DataError(f"entity {entity.name!r}, field {field.name!r} ({field.label}): {value!r} {why}")


def to_utc(value: datetime) -> datetime:
    """An aware datetime in UTC (a naive one is taken as UTC, as stored by SQLite)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def coerce(entity: EntityMeta, field: FieldMeta, value: Any, *, check: bool = True) -> Any:
    """``value`` as the field's Python type; ``check`` also enforces the option set and length.

    Raises :class:`DataError` naming the entity and the field when the value does not fit.
    """
    if value is None:
        return None
    kind = field.type
    try:
        if kind in ("string", "text", "lookup"):
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise _bad(entity, field, value, "is not text")
            text = str(value)
            if check and field.options and text not in field.options:
                raise _bad(entity, field, value, f"is not one of {', '.join(field.options)}")
            if check and field.max_length is not None and len(text) > field.max_length:
                raise _bad(entity, field, value, f"is longer than {field.max_length} characters")
            return text
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _TRUE or word in _FALSE:
                return word in _TRUE
            raise _bad(entity, field, value, "is not true or false")
        if kind == "integer":
            if isinstance(value, bool):
                raise _bad(entity, field, value, "is not a whole number")
            whole = int(value) if isinstance(value, int) else int(str(value).strip())
            if not _INT_MIN <= whole <= _INT_MAX:
                raise _bad(entity, field, value, "is out of range")
            return whole
        if kind == "float":
            number = float(value)
            if not math.isfinite(number):
                raise _bad(entity, field, value, "is not a finite number")
            return number
        if kind == "datetime":
            if isinstance(value, str):
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if not isinstance(value, datetime):
                raise _bad(entity, field, value, "is not a date and time")
            return to_utc(value)
        if kind == "date":
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, str):
                return date.fromisoformat(value.strip())
            if isinstance(value, date):
                return value
            raise _bad(entity, field, value, "is not a date")
    except (ValueError, TypeError, OverflowError):
        raise _bad(entity, field, value, f"is not a valid {kind}") from None
    raise _bad(entity, field, value, f"has the unsupported type {kind}")  # pragma: no cover


def iso_datetime(value: datetime) -> str:
    """``value`` as the ISO 8601 text a custom field keeps: UTC, with microseconds (sorts as text)."""
    return to_utc(value).isoformat(timespec="microseconds")


def to_json(field: FieldMeta, value: Any) -> Any:
    """A typed value (:func:`coerce`) as kept in the ``custom`` JSON."""
    if isinstance(value, datetime):
        return iso_datetime(value) if field.type == "datetime" else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_json(entity: EntityMeta, field: FieldMeta, value: Any) -> Any:
    """A value read from the ``custom`` JSON, typed like a built-in field's.

    A value that no longer fits the field (its type was changed in the configuration) is returned
    as stored rather than lost.
    """
    try:
        return coerce(entity, field, value, check=False)
    except DataError:
        return value


def from_row(entity: EntityMeta, row: dict[str, Any]) -> dict[str, Any]:
    """A database row with datetimes made aware (UTC) on every backend.

    A row read with the ``custom`` column has it replaced by the entity's custom fields, typed
    (``None`` for each one the record has no value for); values of fields no longer configured are
    left out.
    """
    if CUSTOM in row:
        stored = row.pop(CUSTOM)
        values = stored if isinstance(stored, dict) else {}
        for custom in entity.custom_fields:
            value = values.get(custom.name)
            row[custom.name] = None if value is None else from_json(entity, custom, value)
    for name, value in row.items():
        fmeta = entity.fields.get(name)
        if isinstance(value, datetime) and fmeta is not None and fmeta.type == "datetime":
            row[name] = to_utc(value)
    return row
