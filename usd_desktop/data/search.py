"""Running a declarative entity search (:class:`~usd_desktop.config.schema_searches.EntitySearch`).

A search becomes SQLAlchemy expressions: every value is a bound parameter, never query text.
Filter values may hold replacement parameters, rendered with
:func:`usd_desktop.core.replacement.render` against the caller's data. For ``begins_with`` and
``contains`` the whole value is literal text (``%``, ``_`` and the escape character are escaped);
for ``like`` the value as written is the pattern, but whatever a replacement parameter puts in
is escaped, so a caller's data cannot widen the match. Text matching ignores case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter
from usd_desktop.core import replacement
from usd_desktop.core.replacement import Token
from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import EntityMeta, entity
from usd_desktop.data.values import coerce

ESCAPE = "/"
_TEXT_TYPES = ("string", "text", "lookup")


@dataclass(frozen=True)
class SearchResult:
    """One page of a search's rows (field name -> value) and the count of every matching record."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


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
    column = meta.column(flt.field)
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
    comparisons: dict[str, sa.ColumnElement[bool]] = {
        "eq": column == value,
        "ne": column != value,
        "lt": column < value,
        "le": column <= value,
        "gt": column > value,
        "ge": column >= value,
    }
    expression = comparisons[op]
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
    columns = [meta.column(name) for name in names]
    order = [
        meta.column(key.field).desc() if key.descending else meta.column(key.field) for key in search.order_by
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
