"""The repository interface that forms and searches use, and its SQL implementation (the default).

A partner may back :class:`Repository` with an external CRM; :class:`SqlRepository` keeps the
records in SQLite or PostgreSQL (:mod:`usd_desktop.data.engine`). Values are checked against the
entity metadata (:mod:`usd_desktop.data.metadata`): an unknown entity or field, a missing
required field or a value outside its option set raises :class:`DataError` naming them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Self, runtime_checkable

import sqlalchemy as sa

from usd_desktop.config.schema_searches import EntitySearch
from usd_desktop.config.store.location import redact
from usd_desktop.data import engine as data_engine
from usd_desktop.data.errors import DataError
from usd_desktop.data.location import resolve_data_url
from usd_desktop.data.metadata import EntityMeta, build_entities, entity
from usd_desktop.data.models import utcnow
from usd_desktop.data.phones import DEFAULT_REGION, normalise, normalise_or_raw
from usd_desktop.data.search import SearchResult, statements
from usd_desktop.data.values import coerce, from_row

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
    adds).
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
        self._entities = build_entities(extra_options)
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

    def write(self) -> sa.Connection:
        """A connection for writes (``with repo.write() as conn, conn.begin(): ...``)."""
        return data_engine.write_connection(self.engine)

    # ------------------------------------------------------------------ reads
    def get(self, entity_name: str, id: str) -> dict[str, Any] | None:
        meta = entity(entity_name, self._entities)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(meta.table).where(meta.table.c.id == str(id))).mappings().first()
        return None if row is None else from_row(meta, dict(row))

    def search(
        self, search: EntitySearch, params: Mapping[str, Any] | None = None, *, page: int = 1
    ) -> SearchResult:
        """Run ``search`` with replacement parameters rendered against ``params``."""
        meta = entity(search.entity, self._entities)
        rows_sql, count_sql = statements(search, params or {}, self._entities, page=page)
        with self.engine.connect() as conn:
            rows = [from_row(meta, dict(row)) for row in conn.execute(rows_sql).mappings()]
            total = int(conn.execute(count_sql).scalar_one())
        return SearchResult(rows, total)

    def find_customers_by_phone(self, number: str) -> list[CustomerMatch]:
        """The accounts and contacts with ``number`` (any formatting) among their phones."""
        e164 = normalise(number, self.default_region)
        if e164 is None:
            return []
        phones = self._entities["phone"].table
        accounts = self._entities["account"].table
        contacts = self._entities["contact"].table
        query = (
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
            .where(phones.c.e164 == e164)
            .order_by(phones.c.id)
        )
        found: dict[tuple[str, str], CustomerMatch] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
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
        """``values`` checked and typed for a new record (``new``) or an update."""
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
        """Insert a record; returns its id (the one given in ``values`` or a new UUID)."""
        meta = entity(entity_name, self._entities)
        row = self.prepare(entity_name, values, new=True)
        self._run(meta, "create", sa.insert(meta.table).values(row))
        return str(row["id"])

    def update(self, entity_name: str, id: str, values: Mapping[str, Any]) -> None:
        """Change the given fields of a record; :class:`DataError` when there is none with ``id``."""
        meta = entity(entity_name, self._entities)
        row = self.prepare(entity_name, values, new=False)
        if not row:
            return
        statement = sa.update(meta.table).where(meta.table.c.id == str(id)).values(row)
        if self._run(meta, "update", statement) == 0:
            raise DataError(f"entity {meta.name!r} has no record {id!r} to update")

    def delete(self, entity_name: str, id: str) -> None:
        """Delete a record (and what belongs only to it); :class:`DataError` when there is none."""
        meta = entity(entity_name, self._entities)
        statement = sa.delete(meta.table).where(meta.table.c.id == str(id))
        if self._run(meta, "delete", statement) == 0:
            raise DataError(f"entity {meta.name!r} has no record {id!r} to delete")

    def _run(self, meta: EntityMeta, what: str, statement: sa.Executable) -> int:
        try:
            with self.write() as conn, conn.begin():
                result = conn.execute(statement)
        except sa.exc.IntegrityError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise DataError(f"cannot {what} the {meta.name} record: {reason}") from None
        return int(getattr(result, "rowcount", 0) or 0)

    def normalised_number(self, number: str) -> str:
        """How a number is stored for lookup (E.164 when valid, else its digits)."""
        return normalise_or_raw(number, self.default_region)
