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

A customer's ``phone`` (a field kept in the ``phones`` table, :attr:`FieldMeta.stored_in
<usd_desktop.data.metadata.FieldMeta.stored_in>`) is returned and sorted as its *main phone*
(:func:`main_phone_order`: the first mobile, else the first phone of another kind, by id), a
correlated subquery on the phones' ``contact_id``/``account_id`` index. A filter on it matches a
customer when any of its phones matches (:func:`phone_condition`): ``eq``, ``ne`` and ``in`` compare
E.164 numbers (the value normalised in the repository's default region; a value that is no valid
number is compared with the numbers as typed), the text operators match the number as typed or its
E.164 form, ``null`` means no phone at all; ``ne`` matches the customers with no phone equal to the
value (a customer without phones too). ``lt``, ``le``, ``gt`` and ``ge`` are refused.
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
from usd_desktop.data.metadata import MODELS, EntityMeta, FieldMeta, entity
from usd_desktop.data.models import CUSTOM
from usd_desktop.data.phones import DEFAULT_REGION, normalise
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


def _stored_table(meta: EntityMeta, fmeta: FieldMeta) -> tuple[sa.Table, str]:
    """The table keeping field ``fmeta`` of ``meta`` and the name of its column referring to the record."""
    if fmeta.stored_in != "phone":  # pragma: no cover - the metadata declares only the phone
        raise DataError(f"entity {meta.name!r}, field {fmeta.name!r}: no SQL for {fmeta.stored_in!r} records")
    table = MODELS["phone"].__table__
    assert isinstance(table, sa.Table)
    return table, owner_key(meta, table)


def owner_key(meta: EntityMeta, table: sa.Table) -> str:
    """The column of ``table`` that refers to a record of ``meta`` (``contact_id`` of the phones)."""
    for column in table.columns:
        if any(key.target_fullname == f"{meta.table.name}.id" for key in column.foreign_keys):
            return column.name
    raise DataError(f"the {table.name} table has no key to entity {meta.name!r}")


def main_phone_order(phones: sa.FromClause) -> list[sa.ColumnElement[Any]]:
    """The order that puts a customer's main phone first: its first mobile, else its first phone of
    another kind (first by id, so the choice is stable while the phones stay)."""
    return [sa.case((phones.c.kind == "mobile", 0), else_=1), phones.c.id]


def main_phone(meta: EntityMeta, fmeta: FieldMeta) -> sa.ScalarSelect[Any]:
    """The number (as typed) of the main phone of each record of ``meta``, as a correlated subquery."""
    table, key = _stored_table(meta, fmeta)
    phones = table.alias(f"main_{fmeta.name}")
    return (
        sa.select(phones.c.number)
        .where(phones.c[key] == meta.table.c.id)
        .order_by(*main_phone_order(phones))
        .limit(1)
        .correlate(meta.table)
        .scalar_subquery()
    )


def field_expression(meta: EntityMeta, name: str) -> sa.ColumnElement[Any]:
    """The SQL expression of field ``name``: its column, a custom field's typed JSON value, or the
    main phone of a customer (:func:`main_phone`)."""
    fmeta = meta.field(name)
    if fmeta.stored_in is not None:
        return main_phone(meta, fmeta)
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


def _phone_equals(phones: sa.FromClause, text: str, region: str) -> sa.ColumnElement[bool]:
    """A phone equal to ``text``: the same E.164 number, or (``text`` is no valid number) the same
    number as typed."""
    e164 = normalise(text, region)
    if e164 is not None:
        return phones.c.e164 == e164
    return phones.c.number == text.strip()


def phone_condition(
    meta: EntityMeta, fmeta: FieldMeta, flt: SearchFilter, data: Mapping[str, Any], region: str
) -> sa.ColumnElement[bool]:
    """A filter on a customer's ``phone``: true when any of its phones matches (see the module).

    Written ``id IN (SELECT contact_id FROM phones WHERE ...)``: for ``eq`` the database starts from
    the phones' E.164 index rather than visiting every customer.
    """
    table, key = _stored_table(meta, fmeta)
    phones = table.alias(f"any_{fmeta.name}")
    owner = phones.c[key]

    def any_phone(*where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        return meta.table.c.id.in_(sa.select(owner).where(owner.is_not(None), *where))

    op = flt.operator
    if op in ("null", "not_null"):
        found = any_phone()
        return found if op == "not_null" else sa.not_(found)
    if op in ("like", "begins_with", "contains"):
        if op == "like":
            patterns = [render_pattern(flt.value, data)]
        else:
            text = render_value(flt.value, data)
            digits = ("+" if text.strip().startswith("+") else "") + "".join(c for c in text if c.isdigit())
            patterns = [escape_like(t) for t in dict.fromkeys([text, digits]) if t.strip("+")]
            patterns = [f"{p}%" if op == "begins_with" else f"%{p}%" for p in patterns] or ["%"]
        matches = [phones.c.number.ilike(patterns[0], escape=ESCAPE)]
        matches += [phones.c.e164.ilike(p, escape=ESCAPE) for p in patterns]
        return any_phone(sa.or_(*matches))
    text = render_value(flt.value, data)
    if op in ("eq", "ne"):
        found = any_phone(_phone_equals(phones, text, region))
        return found if op == "eq" else sa.not_(found)
    if op == "in":
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            return sa.false()
        return any_phone(sa.or_(*(_phone_equals(phones, item, region) for item in items)))
    raise DataError(
        f"entity {meta.name!r}, field {flt.field!r} ({fmeta.label}): {op} is not supported on phone "
        "numbers (use eq, ne, in, like, begins_with, contains, null or not_null)"
    )


def condition(
    meta: EntityMeta, flt: SearchFilter, data: Mapping[str, Any], *, default_region: str = DEFAULT_REGION
) -> sa.ColumnElement[bool]:
    """One filter as a SQL expression with bound values (``default_region`` reads phone numbers)."""
    fmeta = meta.field(flt.field)
    if fmeta.stored_in is not None:
        return phone_condition(meta, fmeta, flt, data, default_region)
    column = field_expression(meta, flt.field)
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
    default_region: str = DEFAULT_REGION,
) -> tuple[sa.Select[*tuple[Any, ...]], sa.Select[int]]:
    """The select of one page of rows and the select of the count of every match.

    ``default_region`` reads phone numbers written without a country code in a filter on ``phone``.
    """
    meta = entity(search.entity, entities)
    conditions = [condition(meta, flt, data, default_region=default_region) for flt in search.filters]
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
