"""A version's content: a :class:`Configuration` written to and read from the ``cfg_*`` tables.

Generic over the schema: it walks :mod:`~usd_desktop.config.store.tables`, never naming a field.
Writing then reading gives an equal configuration, with lists and mappings in their order, so the
canonical YAML and its hash are the same too (:func:`content_hash`).

Values the databases cannot keep exactly are refused before anything is written
(:class:`~usd_desktop.config.store.errors.StoreError` naming the record and field): text with a
NUL character or an unpaired surrogate, whole numbers beyond 64 bits in typed columns, NaN and
infinities, and, inside free-form ``settings``, values that are not JSON (a YAML date, say).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticSerializationError

from usd_desktop.config.loader import dump_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.tables import (
    CONTENT_TABLES,
    MAPPING_TABLES,
    RECORD_TABLES,
    ROOT_COLUMNS,
    ROOT_TABLE,
    FieldColumn,
)

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def content_hash(config: Configuration) -> str:
    """sha256 (hex) of the canonical YAML of ``config``."""
    return hashlib.sha256(dump_configuration(config).encode("utf-8")).hexdigest()


def content_size(config: Configuration) -> int:
    """About how many bytes ``config`` holds (its JSON form; cheap even for large ones).

    0 when it has no JSON form (text that is not valid Unicode): :func:`content_rows` says why.
    """
    try:
        return len(config.__pydantic_serializer__.to_json(config))
    except PydanticSerializationError:
        return 0


# ---------------------------------------------------------------------- checks
def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character, which the store cannot keep"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired surrogate, which is not valid Unicode text"
    return None


def _check_value(value: Any, where: str, typed: bool) -> None:
    """Raise :class:`StoreError` when ``value`` cannot be stored exactly."""
    problem: str | None = None
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        problem = text_problem(value)
    elif isinstance(value, int):
        if typed and not _INT_MIN <= value <= _INT_MAX:
            problem = f"{value} does not fit in 64 bits"
    elif isinstance(value, float):
        if not math.isfinite(value):
            problem = f"{value} is not a finite number"
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]", False)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                problem = f"key {key!r} is not text"
                break
            _check_value(key, f"{where} key {key!r}", False)
            _check_value(item, f"{where}.{key}", False)
    else:
        kind = type(value).__name__
        problem = f"a {kind} value ({value!r:.40}) is not text, a number, true/false, a list or a mapping"
    if problem:
        raise StoreError(f"{where}: {problem}")


def _record_label(field: str, index: int, record: Mapping[str, Any]) -> str:
    name = record.get("name")
    return f"{field}[{index}]" + (f" {name!r}" if isinstance(name, str) else "")


# ---------------------------------------------------------------------- write
def _row(data: Mapping[str, Any], columns: Iterable[FieldColumn], where: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        value = data[column.name]
        _check_value(value, f"{where} field {column.name}", not column.json)
        row[column.name] = value
    return row


def content_rows(config: Configuration) -> dict[str, list[dict[str, Any]]]:
    """The rows (without ``version_id``) of every content table, by table name; checks values."""
    data = config.model_dump(mode="python")
    rows: dict[str, list[dict[str, Any]]] = {ROOT_TABLE.name: [_row(data, ROOT_COLUMNS, "configuration")]}
    for field, spec in RECORD_TABLES.items():
        out: list[dict[str, Any]] = []
        for i, record in enumerate(data[field]):
            row = _row(record, spec.columns, _record_label(field, i, record))
            row["position"] = i
            out.append(row)
        rows[spec.table.name] = out
    for field, mspec in MAPPING_TABLES.items():
        out = []
        if len(mspec.keys) == 1:
            items: Iterable[tuple[tuple[str, ...], Any]] = (((k,), v) for k, v in data[field].items())
        else:
            # a group without entries (a language with no texts yet) is kept as a row with key ""
            # (never a real key: names are not empty)
            items = (
                ((outer, k), v)
                for outer, inner in data[field].items()
                for k, v in (inner.items() if inner else [("", "")])
            )
        for i, (keys, value) in enumerate(items):
            where = f"{field} {'.'.join(keys)!r}"
            for key in keys:
                _check_value(key, where, True)
            _check_value(value, where, True)
            row = dict(zip(mspec.keys, keys, strict=True))
            row[mspec.value] = value
            row["position"] = i
            out.append(row)
        rows[mspec.table.name] = out
    return rows


def write_content(conn: sa.Connection, version_id: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Write ``rows`` (from :func:`content_rows`) as the content of ``version_id``, which has none."""
    for table in CONTENT_TABLES:
        batch = rows[table.name]
        if batch:
            for row in batch:
                row["version_id"] = version_id
            conn.execute(table.insert(), batch)


def delete_content(conn: sa.Connection, version_id: int) -> None:
    """Remove the content of ``version_id`` (only ever a draft's)."""
    for table in reversed(CONTENT_TABLES):
        conn.execute(table.delete().where(table.c.version_id == version_id))


def copy_content(conn: sa.Connection, source: int, target: int) -> None:
    """Copy the content of version ``source`` to version ``target``, inside the database."""
    for table in CONTENT_TABLES:
        names = [c.name for c in table.columns if c.name != "version_id"]
        select = sa.select(sa.literal(target, sa.Integer()), *(table.c[n] for n in names)).where(
            table.c.version_id == source
        )
        conn.execute(table.insert().from_select(["version_id", *names], select))


def rename_content(conn: sa.Connection, version_id: int, name: str) -> None:
    """Set the configuration name kept in a version's content (after a copy into a clone)."""
    conn.execute(ROOT_TABLE.update().where(ROOT_TABLE.c.version_id == version_id).values(name=name))


# ---------------------------------------------------------------------- read
def _ordered(conn: sa.Connection, table: sa.Table, version_id: int) -> list[sa.Row[Any]]:
    query = sa.select(table).where(table.c.version_id == version_id).order_by(table.c.position)
    return list(conn.execute(query))


def read_content(conn: sa.Connection, version_id: int) -> Configuration:
    """The configuration kept as the content of ``version_id``."""
    root = conn.execute(sa.select(ROOT_TABLE).where(ROOT_TABLE.c.version_id == version_id)).first()
    if root is None:
        raise StoreError(f"version {version_id} has no content")
    data: dict[str, Any] = {c.name: root._mapping[c.name] for c in ROOT_COLUMNS}
    for field, spec in RECORD_TABLES.items():
        names = [c.name for c in spec.columns]
        data[field] = [{n: row._mapping[n] for n in names} for row in _ordered(conn, spec.table, version_id)]
    for field, mspec in MAPPING_TABLES.items():
        mapping: dict[str, Any] = {}
        for row in _ordered(conn, mspec.table, version_id):
            values = row._mapping
            if len(mspec.keys) == 1:
                mapping[values[mspec.keys[0]]] = values[mspec.value]
            else:
                group = mapping.setdefault(values[mspec.keys[0]], {})
                if values[mspec.keys[1]] != "":
                    group[values[mspec.keys[1]]] = values[mspec.value]
        data[field] = mapping
    return Configuration.model_validate(data)
