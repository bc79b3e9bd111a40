"""Turning caller values (typed, or text from a search or USD's typed values) into column values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import EntityMeta, FieldMeta

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}


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
            return int(value) if isinstance(value, int) else int(str(value).strip())
        if kind == "float":
            return float(value)
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


def from_row(entity: EntityMeta, row: dict[str, Any]) -> dict[str, Any]:
    """A database row with datetimes made aware (UTC) on every backend."""
    for name, value in row.items():
        if isinstance(value, datetime) and entity.fields[name].type == "datetime":
            row[name] = to_utc(value)
    return row
