"""The repository interface that forms and searches use, and its SQL implementation (the default).

A partner may back :class:`Repository` with an external CRM; :class:`SqlRepository` keeps the
records in SQLite or PostgreSQL (:mod:`usd_desktop.data.engine`). Values are checked against the
entity metadata (:mod:`usd_desktop.data.metadata`): an unknown entity or field, a missing
required field or a value outside its option set raises :class:`DataError` naming them.

A configuration's custom fields and option values (:meth:`SqlRepository.configure`) need no
migration: custom values are kept in each record's JSON ``custom`` column and read, written and
searched like built-in fields (an update merges them into the stored ones in SQL).

A customer's ``phone`` (contact and account) is kept in the ``phones`` table, not in the customer's
row: :meth:`SqlRepository.get` returns the main phone's number as typed (the first mobile, else the
first phone of another kind: :func:`usd_desktop.data.search.main_phone_order`); :meth:`~SqlRepository.create`
with a ``phone`` adds a mobile phone row in the same transaction; :meth:`~SqlRepository.update` with
one changes the main phone's number (or adds a mobile phone when the customer has none). An empty
``phone`` (``None``, blank text) writes nothing: the customer's phones stay as they are (a phone is
removed as a ``phone`` record, with :meth:`~SqlRepository.delete`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self, runtime_checkable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from usd_desktop.config.schema_data import CustomField, OptionValues
from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.config.store.location import redact
from usd_desktop.data import engine as data_engine
from usd_desktop.data.errors import DataError
from usd_desktop.data.location import resolve_data_url
from usd_desktop.data.metadata import EntityMeta, build_entities, entity
from usd_desktop.data.models import CUSTOM, utcnow
from usd_desktop.data.phones import DEFAULT_REGION, normalise, normalise_or_raw
from usd_desktop.data.search import SearchResult, field_expression, main_phone_order, owner_key, statements
from usd_desktop.data.values import coerce, from_row, to_json

__all__ = ["CustomerMatch", "Repository", "SearchResult", "SqlRepository"]


@dataclass(frozen=True)
class CustomerMatch:
    """A customer found by a phone number: ``entity`` is ``account`` or ``contact``."""

    entity: str
    id: str
    name: str
    phone_id: str
    e164: str


@runtime_checkable
class Repository(Protocol):
    """What forms, searches and actions need from a source of service-desk records."""

    @property
    def entities(self) -> Mapping[str, EntityMeta]: ...

    def get(self, entity: str, id: str) -> dict[str, Any] | None: ...

    def search(
        self, search: EntitySearch, params: Mapping[str, Any] | None = None, *, page: int = 1
    ) -> SearchResult: ...

    def create(self, entity: str, values: Mapping[str, Any]) -> str: ...

    def update(self, entity: str, id: str, values: Mapping[str, Any]) -> None: ...

    def delete(self, entity: str, id: str) -> None: ...

    def find_customers_by_phone(self, number: str) -> list[CustomerMatch]: ...


class SqlRepository:
    """The records in an SQL database (SQLite by default, PostgreSQL central).

    ``url`` defaults to :func:`~usd_desktop.data.location.resolve_data_url`. The schema is created
    or upgraded when opened. ``default_region`` reads numbers written without a country code;
    ``extra_options[entity][field]`` adds option-set values (e.g. case statuses a configuration
    adds); :meth:`configure` adds a configuration's custom fields and option values to those.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        default_region: str = DEFAULT_REGION,
        extra_options: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
        upgrade: bool = True,
    ) -> None:
        self.url = resolve_data_url(url)
        self.default_region = default_region
        self._extra_options = _copy_options(extra_options or {})
        self._entities = build_entities(self._extra_options)
        self.engine = data_engine.connect(self.url, create=True)
        try:
            data_engine.prepare_schema(self.engine, self.url, upgrade=upgrade)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            self.engine.dispose()
            raise DataError(f"cannot reach the data database at {redact(self.url)}: {exc.orig}") from None
        except BaseException:
            self.engine.dispose()
            raise

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def entities(self) -> Mapping[str, EntityMeta]:
        return self._entities

    def configure(
        self, custom_fields: Sequence[CustomField], option_values: Sequence[OptionValues]
    ) -> list[str]:
        """Rebuild the entities with a configuration's custom fields and option values.

        Returns one message per record that cannot be applied (``custom_fields[2] "loyalty_tier":
        entity 'contactt' is unknown ...``); those records are skipped, the others applied. Each
        call starts again from the built-in fields and the ``extra_options`` given when opened.
        """
        problems: list[str] = []
        base = build_entities(self._extra_options)
        fields = _good_custom_fields(base, custom_fields, problems)
        extra = _copy_options(self._extra_options)
        for index, spec in enumerate(option_values):
            where = f"option_values[{index}] ({spec.entity}.{spec.field})"
            problem = _option_values_problem(base, spec)
            if problem:
                problems.append(f"{where}: {problem}")
                continue
            extra.setdefault(spec.entity, {}).setdefault(spec.field, []).extend(spec.values)
        self._entities = build_entities(extra, fields)
        return problems

    def write(self) -> sa.Connection:
        """A connection for writes (``with repo.write() as conn, conn.begin(): ...``)."""
        return data_engine.write_connection(self.engine)

    # ------------------------------------------------------------------ reads
    def get(self, entity_name: str, id: str) -> dict[str, Any] | None:
        """The record ``id`` with every field (a customer's ``phone``: its main phone), or ``None``."""
        meta = entity(entity_name, self._entities)
        elsewhere = [field_expression(meta, f.name).label(f.name) for f in meta.stored_fields]
        query = sa.select(meta.table, *elsewhere).where(meta.table.c.id == str(id))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else from_row(meta, dict(row))

    def search(
        self, search: EntitySearch, params: Mapping[str, Any] | None = None, *, page: int = 1
    ) -> SearchResult:
        """Run ``search`` with replacement parameters rendered against ``params``."""
        meta = entity(search.entity, self._entities)
        rows_sql, count_sql = statements(
            search, params or {}, self._entities, page=page, default_region=self.default_region
        )
        try:
            with self.engine.connect() as conn:
                rows = [from_row(meta, dict(row)) for row in conn.execute(rows_sql).mappings()]
                total = int(conn.execute(count_sql).scalar_one())
        except sa.exc.DataError as exc:  # e.g. a stored custom value that no longer casts to its type
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise DataError(f"search {search.name!r} of entity {meta.name!r} failed: {reason}") from None
        return SearchResult(rows, total)

    def find_customers_by_phone(self, number: str) -> list[CustomerMatch]:
        """The accounts and contacts with ``number`` (any formatting) among their phones."""
        e164 = normalise(number, self.default_region)
        if e164 is None:
            return []
        query = _caller_lookup(self._entities["phone"].table, self._entities["account"].table,
                               self._entities["contact"].table)
        found: dict[tuple[str, str], CustomerMatch] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query, {"e164": e164}):
                if row.contact_id is not None:
                    key = ("contact", str(row.contact_id))
                    name = row.full_name
                elif row.account_id is not None:
                    key = ("account", str(row.account_id))
                    name = row.name
                else:
                    continue
                found.setdefault(key, CustomerMatch(key[0], key[1], str(name or ""), str(row.id), e164))
        return list(found.values())

    # ------------------------------------------------------------------ writes
    def prepare(self, entity_name: str, values: Mapping[str, Any], *, new: bool) -> dict[str, Any]:
        """``values`` checked and typed for a new record (``new``) or an update.

        Custom-field values are gathered under ``custom`` as JSON-friendly values: for a new record
        the whole object (``None`` when empty), for an update the changes to merge into the stored
        object (a ``None`` value removes the field's value). Values of fields kept in another
        entity's records (a customer's ``phone``) stay under their names, checked: :meth:`create`
        and :meth:`update` write them there.
        """
        meta = entity(entity_name, self._entities)
        out: dict[str, Any] = {}
        for name, value in values.items():
            fmeta = meta.field(name)
            if fmeta.read_only and not (new and name == "id"):
                raise DataError(f"entity {meta.name!r}, field {name!r} ({fmeta.label}) cannot be written")
            out[name] = coerce(meta, fmeta, value)
        self._derive(meta, out, new=new)
        for name, fmeta in meta.fields.items():
            missing = out.get(name) is None and (new or name in out)
            if fmeta.required and missing:
                raise DataError(f"entity {meta.name!r}, field {name!r} ({fmeta.label}) is required")
        custom = {name: out.pop(name) for name in [n for n in out if meta.fields[n].custom]}
        if new:
            kept = {name: to_json(meta.fields[name], v) for name, v in custom.items() if v is not None}
            out[CUSTOM] = kept or None
        elif custom:
            out[CUSTOM] = {name: to_json(meta.fields[name], v) for name, v in custom.items()}
        return out

    def _derive(self, meta: EntityMeta, out: dict[str, Any], *, new: bool) -> None:
        if new:
            out.setdefault("id", str(uuid.uuid4()))
        if meta.name == "phone" and out.get("number") is not None:
            out["e164"] = normalise(out["number"], self.default_region)
        if meta.name == "contact" and new and not out.get("full_name"):
            name = " ".join(str(out[k]) for k in ("first_name", "last_name") if out.get(k))
            out["full_name"] = name or None
        if meta.name == "case" and new and not out.get("case_number"):
            out["case_number"] = "CAS-" + out["id"].replace("-", "")[:10].upper()
        if not new and "updated_at" in meta.fields:
            out.setdefault("updated_at", utcnow())

    def create(self, entity_name: str, values: Mapping[str, Any]) -> str:
        """Insert a record; returns its id (the one given in ``values`` or a new UUID).

        A customer's ``phone`` becomes a mobile phone row of it, in the same transaction.
        """
        meta = entity(entity_name, self._entities)
        row = self.prepare(entity_name, values, new=True)
        elsewhere = _split_stored(meta, row)
        with self._writing(meta, "create") as conn:
            conn.execute(sa.insert(meta.table).values(row))
            self._write_stored(conn, meta, str(row["id"]), elsewhere, new=True)
        return str(row["id"])

    def update(self, entity_name: str, id: str, values: Mapping[str, Any]) -> None:
        """Change the given fields of a record; :class:`DataError` when there is none with ``id``.

        A customer's ``phone`` changes the main phone's number (and E.164 form), or adds a mobile
        phone when the customer has none; an empty one changes nothing.
        """
        meta = entity(entity_name, self._entities)
        row = self.prepare(entity_name, values, new=False)
        elsewhere = _split_stored(meta, row)
        if not row and not elsewhere:
            return
        if CUSTOM in row:
            row[CUSTOM] = self._merged_custom(meta, row[CUSTOM])
        key = meta.table.c.id == str(id)
        with self._writing(meta, "update") as conn:
            if row:
                found = int(conn.execute(sa.update(meta.table).where(key).values(row)).rowcount or 0)
            else:  # only values kept elsewhere: the record must exist (locked while they are written)
                locked = sa.select(meta.table.c.id).where(key).with_for_update()
                found = int(conn.execute(locked).first() is not None)
            if found == 0:
                raise DataError(f"entity {meta.name!r} has no record {id!r} to update")
            self._write_stored(conn, meta, str(id), elsewhere, new=False)

    def delete(self, entity_name: str, id: str) -> None:
        """Delete a record (and what belongs only to it); :class:`DataError` when there is none."""
        meta = entity(entity_name, self._entities)
        statement = sa.delete(meta.table).where(meta.table.c.id == str(id))
        if self._run(meta, "delete", statement) == 0:
            raise DataError(f"entity {meta.name!r} has no record {id!r} to delete")

    def _merged_custom(self, meta: EntityMeta, changes: dict[str, Any]) -> sa.ColumnElement[Any]:
        """The stored custom values with ``changes`` merged in, in SQL (one statement, no race)."""
        column = meta.table.c[CUSTOM]
        patch = sa.literal(json.dumps(changes), sa.String())
        empty = sa.literal("{}", sa.String())
        if self.engine.dialect.name == "postgresql":
            stored = sa.func.coalesce(sa.cast(column, JSONB), sa.cast(empty, JSONB))
            merged = stored.op("||", return_type=JSONB)(sa.cast(patch, JSONB))
            return sa.cast(sa.func.jsonb_strip_nulls(merged, type_=JSONB), sa.JSON)
        # SQLite: an RFC 7396 merge patch, whose nulls remove keys
        return sa.func.json_patch(sa.func.coalesce(column, empty), patch)

    def _write_stored(
        self, conn: sa.Connection, meta: EntityMeta, id: str, values: Mapping[str, Any], *, new: bool
    ) -> None:
        """Write a customer's ``phone`` into its main phone row (a new mobile phone when it has none)."""
        for name, value in values.items():
            number = "" if value is None else str(value).strip()
            if not number:
                continue  # an empty value writes nothing: the customer's phones stay
            target = meta.fields[name].stored_in or "phone"  # the only such field: a customer's phone
            phones = self._entities[target].table
            key = owner_key(meta, phones)
            main = None
            if not new:
                query = (sa.select(phones.c.id).where(phones.c[key] == id)
                         .order_by(*main_phone_order(phones)).limit(1))
                main = conn.execute(query).scalar()
            if main is None:
                row = self.prepare(target, {key: id, "number": number, "kind": "mobile"}, new=True)
                conn.execute(sa.insert(phones).values(row))
            else:
                changes = self.prepare(target, {"number": number}, new=False)
                conn.execute(sa.update(phones).where(phones.c.id == main).values(changes))

    @contextlib.contextmanager
    def _writing(self, meta: EntityMeta, what: str) -> Iterator[sa.Connection]:
        """A write transaction; an integrity error becomes a :class:`DataError` naming ``what``."""
        try:
            with self.write() as conn, conn.begin():
                yield conn
        except sa.exc.IntegrityError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise DataError(f"cannot {what} the {meta.name} record: {reason}") from None

    def _run(self, meta: EntityMeta, what: str, statement: sa.Executable) -> int:
        with self._writing(meta, what) as conn:
            result = conn.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    def normalised_number(self, number: str) -> str:
        """How a number is stored for lookup (E.164 when valid, else its digits)."""
        return normalise_or_raw(number, self.default_region)


def _split_stored(meta: EntityMeta, row: dict[str, Any]) -> dict[str, Any]:
    """Take the values of fields kept in another entity's records (a customer's ``phone``) out of
    ``row``, which keeps the table's columns."""
    return {name: row.pop(name) for name in [n for n in row if n in meta.fields and meta.fields[n].stored_in]}


def _copy_options(options: Mapping[str, Mapping[str, Iterable[str]]]) -> dict[str, dict[str, list[str]]]:
    return {name: {field: list(values) for field, values in by.items()} for name, by in options.items()}


def _good_custom_fields(
    base: Mapping[str, EntityMeta], custom_fields: Sequence[CustomField], problems: list[str]
) -> list[CustomField]:
    """The custom fields that can be added; a message in ``problems`` for each other one."""
    good: list[CustomField] = []
    seen: dict[tuple[str, str], int] = {}
    for index, spec in enumerate(custom_fields):
        problem = _custom_field_problem(base, spec)
        first = seen.get((spec.entity, spec.name))
        if problem is None and first is not None:
            problem = (
                f"entity {spec.entity!r} already has a custom field {spec.name!r} (custom_fields[{first}])"
            )
        if problem is not None:
            problems.append(f'custom_fields[{index}] "{spec.name}": {problem}')
            continue
        seen[(spec.entity, spec.name)] = index
        good.append(spec)
    return good


def _custom_field_problem(base: Mapping[str, EntityMeta], spec: CustomField) -> str | None:
    meta = base.get(spec.entity)
    if meta is None:
        return f"entity {spec.entity!r} is unknown (entities: {', '.join(base)})"
    where = f"entity {meta.name!r}, field {spec.name!r}"
    if spec.name == CUSTOM:
        return f"{where}: the name {CUSTOM!r} is reserved (the column keeping custom-field values)"
    builtin = meta.fields.get(spec.name)
    if builtin is not None:
        return f"{where} clashes with the built-in field {builtin.name!r} ({builtin.label})"
    text = spec.type in ("string", "text")
    if spec.options and not text:
        return f"{where}: options need a string or text field, not {spec.type}"
    if spec.max_length is not None and not text:
        return f"{where}: max_length needs a string or text field, not {spec.type}"
    if spec.max_length is not None:
        for option in spec.options:
            if len(option) > spec.max_length:
                return f"{where}: option {option!r} is longer than max_length {spec.max_length}"
    return None


def _option_values_problem(base: Mapping[str, EntityMeta], spec: OptionValues) -> str | None:
    meta = base.get(spec.entity)
    if meta is None:
        return f"entity {spec.entity!r} is unknown (entities: {', '.join(base)})"
    fmeta = meta.fields.get(spec.field)
    if fmeta is None:
        return f"entity {meta.name!r} has no field {spec.field!r} (fields: {', '.join(meta.fields)})"
    where = f"entity {meta.name!r}, field {spec.field!r} ({fmeta.label})"
    if not fmeta.options:
        return f"{where} has no option set: option values extend a built-in option set"
    for value in spec.values:
        if not value.strip():
            return f"{where}: an option value is empty"
        if fmeta.max_length is not None and len(value) > fmeta.max_length:
            return f"{where}: option value {value!r} is longer than {fmeta.max_length} characters"
    return None


@functools.lru_cache(maxsize=8)
def _caller_lookup(phones: sa.Table, accounts: sa.Table, contacts: sa.Table) -> sa.Select[Any]:
    """The screen pop's query, built once with a bound ``e164`` (building it cost more than running it)."""
    return (
        sa.select(
            phones.c.id,
            phones.c.e164,
            phones.c.account_id,
            phones.c.contact_id,
            accounts.c.name,
            contacts.c.full_name,
        )
        .select_from(phones)
        .outerjoin(accounts, accounts.c.id == phones.c.account_id)
        .outerjoin(contacts, contacts.c.id == phones.c.contact_id)
        .where(phones.c.e164 == sa.bindparam("e164"))
        .order_by(phones.c.id)
    )
