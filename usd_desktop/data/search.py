"""Running a declarative entity search (:class:`~usd_desktop.config.schema_searches.EntitySearch`).

A search becomes SQLAlchemy expressions: every value is a bound parameter, never query text.
Filter values may hold replacement parameters, rendered with
:func:`usd_desktop.core.replacement.render` against the caller's data. For ``begins_with`` and
``contains`` the whole value is literal text (``%``, ``_`` and the escape character are escaped);
for ``like`` the value as written is the pattern, but whatever a replacement parameter puts in
is escaped, so a caller's data cannot widen the match. Text matching ignores case.

A custom field (kept in the record's JSON ``custom`` column) is filtered, sorted and returned
through :func:`field_expression`: the value extracted from the JSON and cast to the field's type
(numbers compare as numbers; on PostgreSQL datetimes and dates are cast to their types, on SQLite
they stay the ISO text they are kept as, which sorts the same).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.core import replacement
from usd_desktop.core.replacement import Token
from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import EntityMeta, entity
from usd_desktop.data.models import CUSTOM
from usd_desktop.data.values import coerce, iso_datetime

ESCAPE = "/"
_TEXT_TYPES = ("string", "text", "lookup")
_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


@dataclass(frozen=True)
class SearchResult:
    """One page of a search's rows (field name -> value) and the count of every matching record."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


class JsonTime(sa.types.TypeDecorator[Any]):
    """A custom datetime or date field's value: the SQL type on PostgreSQL, the ISO text on SQLite.

    Bound values are converted the same way, so a comparison is between like values on both.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            typed: TypeEngine[Any] = sa.DateTime(timezone=True) if self.kind == "datetime" else sa.Date()
            return dialect.type_descriptor(typed)
        return dialect.type_descriptor(sa.String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or not isinstance(value, date):
            return value
        if isinstance(value, datetime):
            return iso_datetime(value) if self.kind == "datetime" else value.date().isoformat()
        return value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, str):
            return value
        try:
            if self.kind == "datetime":
                return datetime.fromisoformat(value)
            return date.fromisoformat(value)
        except ValueError:
            return value


def field_expression(meta: EntityMeta, name: str) -> sa.ColumnElement[Any]:
    """The SQL expression of field ``name``: its column, or a custom field's typed JSON value."""
    fmeta = meta.field(name)
    if not fmeta.custom:
        return meta.table.c[name]
    value = meta.table.c[CUSTOM][name]
    kind = fmeta.type
    out: sa.ColumnElement[Any]
    if kind == "integer":
        out = sa.cast(value.as_string(), sa.BigInteger)
    elif kind == "float":
        out = value.as_float()
    elif kind == "boolean":
        out = value.as_boolean()
    elif kind in ("datetime", "date"):
        out = sa.cast(value.as_string(), JsonTime(kind))
    else:
        out = value.as_string()
    return out


def escape_like(text: str) -> str:
    """``text`` matched literally in a LIKE pattern with ``ESCAPE '/'``."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def render_value(template: str, data: Mapping[str, Any]) -> str:
    """The filter value with its replacement parameters rendered."""
    parsed = replacement.parse(template)
    return parsed.constant if parsed.constant is not None else replacement.render(template, data)


def render_pattern(template: str, data: Mapping[str, Any]) -> str:
    """A ``like`` pattern: the literal text as written, every rendered piece escaped."""
    parsed = replacement.parse(template)
    if parsed.constant is not None:
        return parsed.constant
    out: list[str] = []
    for part in parsed.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        source = part.text if isinstance(part, Token) else template[part.position : part.end]
        out.append(escape_like(replacement.render(source, data)))
    return "".join(out)


def condition(meta: EntityMeta, flt: SearchFilter, data: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    """One filter as a SQL expression with bound values."""
    column = field_expression(meta, flt.field)
    fmeta = meta.fields[flt.field]
    op = flt.operator
    if op == "null":
        return column.is_(None)
    if op == "not_null":
        return column.is_not(None)
    if op in ("like", "begins_with", "contains"):
        if fmeta.type not in _TEXT_TYPES:
            raise DataError(f"entity {meta.name!r}, field {flt.field!r}: {op} needs a text field")
        if op == "like":
            pattern = render_pattern(flt.value, data)
        else:
            literal = escape_like(render_value(flt.value, data))
            pattern = f"{literal}%" if op == "begins_with" else f"%{literal}%"
        return column.ilike(pattern, escape=ESCAPE)
    text = render_value(flt.value, data)
    if op == "in":
        items = [coerce(meta, fmeta, item.strip(), check=False) for item in text.split(",") if item.strip()]
        return column.in_(items)
    value = coerce(meta, fmeta, text, check=False)
    if value is None:  # pragma: no cover - text never coerces to None
        return column.is_(None)
    # a bound value of the field's type (a boolean too: SQLAlchemy compares bare True/False only with =)
    expression: sa.ColumnElement[bool] = _COMPARE[op](column, sa.literal(value, column.type))
    if op == "ne":  # SQL's NULL <> x is unknown; a record without the value is "not equal"
        return sa.or_(expression, column.is_(None))
    return expression


def statements(
    search: EntitySearch,
    data: Mapping[str, Any],
    entities: Mapping[str, EntityMeta],
    *,
    page: int = 1,
) -> tuple[sa.Select[*tuple[Any, ...]], sa.Select[int]]:
    """The select of one page of rows and the select of the count of every match."""
    meta = entity(search.entity, entities)
    conditions = [condition(meta, flt, data) for flt in search.filters]
    where: sa.ColumnElement[bool] | None = None
    if conditions:
        where = sa.and_(*conditions) if search.match == "all" else sa.or_(*conditions)
    names = list(dict.fromkeys(["id", *(search.columns or [meta.primary_name])]))
    columns = [field_expression(meta, name).label(name) for name in names]
    order = [
        field_expression(meta, key.field).desc() if key.descending else field_expression(meta, key.field)
        for key in search.order_by
    ]
    rows = sa.select(*columns).order_by(*order, meta.table.c.id)
    count = sa.select(sa.func.count()).select_from(meta.table)
    if where is not None:
        rows = rows.where(where)
        count = count.where(where)
    if page < 1:
        raise DataError(f"search {search.name!r}: page {page} (pages start at 1)")
    rows = rows.limit(search.max_count).offset((page - 1) * search.max_count)
    return rows, count
