"""The store's SQL tables. The configuration tables are built from the pydantic schema.

One schema, defined once: every field of :class:`~usd_desktop.config.schema.Configuration` gets a
place here without this module naming it.

* a list of records (``hosted_controls``, ``action_calls``, ...) is a table ``cfg_<field>`` with
  ``version_id``, ``position`` (list order) and one column per model field: ``str``, ``int``,
  ``float``, ``bool``, ``Literal[...]`` (and those with ``| None``) become typed columns; lists,
  mappings and nested models become a JSON column;
* a mapping of text (``options``, ``user_settings``) is ``cfg_<field>(version_id, name, value)``;
  a mapping of mappings of text (``resources``) is ``cfg_resources(version_id, language, key,
  text)``; each keeps a ``position`` so the order as written survives;
* every other field of the configuration itself (``name``, ``description``) is a column of
  ``cfg_configuration``, one row per version.

The other tables hold configurations and their versions, people, assignments, per-user settings,
the audit log and the change feed. Migrations (``usd_desktop/config/migrations``) must produce
exactly this metadata; a test compares them.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.types import TypeEngine

from usd_desktop.config.schema import Configuration

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: Column names the store adds to every configuration table; no schema field may use them.
RESERVED_COLUMNS = frozenset({"version_id", "position"})

#: Column names of mapping-of-mapping fields (default: group, name, value).
_NESTED_MAPPING_COLUMNS = {"resources": ("language", "key", "text")}


def _utc_now_column(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False, **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable, **kw)


def _choice(name: str, values: tuple[str, ...]) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.Enum(*values, native_enum=False, create_constraint=True, name=name),
        nullable=False,
    )


# ---------------------------------------------------------------------- the fixed tables
configurations = sa.Table(
    "configurations",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    _text("name", unique=True),
    _text("description", server_default=""),
    sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
    _utc_now_column("created_at"),
    _text("created_by"),
)

configuration_versions = sa.Table(
    "configuration_versions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column(
        "configuration_id",
        sa.Integer(),
        sa.ForeignKey("configurations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # 0 for the draft (so the unique constraint allows one draft per configuration), 1, 2, ...
    # for published versions.
    sa.Column("number", sa.Integer(), nullable=False),
    _choice("state", ("draft", "published")),
    _text("content_hash"),
    _utc_now_column("created_at"),
    _text("created_by"),
    _utc_now_column("published_at", nullable=True),
    _text("published_by", nullable=True),
    _text("message", server_default=""),
    sa.UniqueConstraint("configuration_id", "number"),
)

users = sa.Table(
    "users",
    metadata,
    _text("name", primary_key=True),
    _text("display_name", server_default=""),
    _utc_now_column("created_at"),
)

roles = sa.Table(
    "roles",
    metadata,
    _text("name", primary_key=True),
    _text("description", server_default=""),
)

user_roles = sa.Table(
    "user_roles",
    metadata,
    sa.Column("user_name", sa.Text(), sa.ForeignKey("users.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_name", sa.Text(), sa.ForeignKey("roles.name", ondelete="CASCADE"), primary_key=True),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column(
        "kind",
        sa.Enum("user", "role", native_enum=False, create_constraint=True, name="kind"),
        primary_key=True,
    ),
    _text("principal", primary_key=True),
    sa.Column(
        "configuration_id",
        sa.Integer(),
        sa.ForeignKey("configurations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="100"),
)

user_settings = sa.Table(
    "user_settings",
    metadata,
    _text("user_name", primary_key=True),
    _text("name", primary_key=True),
    _text("value"),
    _utc_now_column("updated_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    _utc_now_column("at"),
    _text("actor"),
    _text("action"),
    _text("target"),
    sa.Column("details", sa.JSON(), nullable=False),
)

store_changes = sa.Table(
    "store_changes",
    metadata,
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
    _utc_now_column("at"),
    _text("kind"),
    _text("configuration"),
    sa.Column("version", sa.Integer(), nullable=True),
)


# ---------------------------------------------------------------------- the configuration tables
@dataclass(frozen=True, slots=True)
class FieldColumn:
    """One model field stored in one column; ``json`` when it holds a list, mapping or model."""

    name: str
    json: bool


@dataclass(frozen=True, slots=True)
class RecordTable:
    """``cfg_<field>``: the records of one list field of the configuration."""

    field: str
    model: type[BaseModel]
    table: sa.Table
    columns: tuple[FieldColumn, ...]


@dataclass(frozen=True, slots=True)
class MappingTable:
    """``cfg_<field>``: a mapping field; ``keys`` are one column (text map) or two (map of maps)."""

    field: str
    table: sa.Table
    keys: tuple[str, ...]
    value: str


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` and ``| None``, and whether ``None`` is allowed."""
    nullable = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(get_args(annotation))
            if len(args) != 1:
                return annotation, nullable
            annotation = args[0]
        else:
            return annotation, nullable


def column_type(annotation: Any, name: str) -> tuple[TypeEngine[Any] | None, bool]:
    """The SQL type of a field (``None``: store it as JSON) and whether it is nullable."""
    inner, nullable = _unwrap(annotation)
    if inner is bool:
        return sa.Boolean(create_constraint=False), nullable
    if inner is int:
        return sa.BigInteger(), nullable
    if inner is float:
        return sa.Float(precision=53), nullable
    if inner is str:
        return sa.Text(), nullable
    if get_origin(inner) is Literal:
        values = get_args(inner)
        if values and all(isinstance(v, str) for v in values):
            choices = tuple(str(v) for v in values)
            kind = sa.Enum(*choices, native_enum=False, create_constraint=True, name=name)
            return kind, nullable
    return None, nullable


def _is_text(annotation: Any) -> bool:
    inner, nullable = _unwrap(annotation)
    return inner is str and not nullable


def _mapping_value(annotation: Any) -> Any | None:
    """The value annotation of ``dict[K, V]``, else ``None``."""
    inner, nullable = _unwrap(annotation)
    if nullable or get_origin(inner) is not dict:
        return None
    key, value = get_args(inner)
    return value if _is_text(key) else None


def _record_model(annotation: Any) -> type[BaseModel] | None:
    inner, nullable = _unwrap(annotation)
    if nullable or get_origin(inner) is not list:
        return None
    (item,) = get_args(inner)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _version_fk(primary_key: bool = True) -> sa.Column[Any]:
    return sa.Column(
        "version_id",
        sa.Integer(),
        sa.ForeignKey("configuration_versions.id", ondelete="CASCADE"),
        primary_key=primary_key,
    )


def _field_columns(model: type[BaseModel], table: str) -> tuple[list[sa.Column[Any]], list[FieldColumn]]:
    columns: list[sa.Column[Any]] = []
    specs: list[FieldColumn] = []
    for name, info in model.model_fields.items():
        if name in RESERVED_COLUMNS:
            raise TypeError(f"{model.__name__}.{name}: the store reserves this column name in {table}")
        kind, nullable = column_type(info.annotation, name)
        if kind is None:
            columns.append(sa.Column(name, sa.JSON(none_as_null=True), nullable=nullable))
        else:
            columns.append(sa.Column(name, kind, nullable=nullable))
        specs.append(FieldColumn(name, kind is None))
    return columns, specs


def _build() -> tuple[sa.Table, tuple[FieldColumn, ...], dict[str, RecordTable], dict[str, MappingTable]]:
    records: dict[str, RecordTable] = {}
    mappings: dict[str, MappingTable] = {}
    root_columns: list[sa.Column[Any]] = []
    root_specs: list[FieldColumn] = []
    for name, info in Configuration.model_fields.items():
        table_name = f"cfg_{name}"
        model = _record_model(info.annotation)
        value = _mapping_value(info.annotation)
        if model is not None:
            columns, specs = _field_columns(model, table_name)
            table = sa.Table(
                table_name,
                metadata,
                _version_fk(),
                sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
                *columns,
            )
            records[name] = RecordTable(name, model, table, tuple(specs))
        elif value is not None and _is_text(value):
            table = sa.Table(
                table_name,
                metadata,
                _version_fk(),
                _text("name", primary_key=True),
                _text("value"),
                sa.Column("position", sa.Integer(), nullable=False),
            )
            mappings[name] = MappingTable(name, table, ("name",), "value")
        elif value is not None and _mapping_value(value) is not None and _is_text(_mapping_value(value)):
            outer, key, text = _NESTED_MAPPING_COLUMNS.get(name, ("group", "name", "value"))
            table = sa.Table(
                table_name,
                metadata,
                _version_fk(),
                _text(outer, primary_key=True),
                _text(key, primary_key=True),
                _text(text),
                sa.Column("position", sa.Integer(), nullable=False),
            )
            mappings[name] = MappingTable(name, table, (outer, key), text)
        else:
            if name in RESERVED_COLUMNS:
                raise TypeError(f"Configuration.{name}: the store reserves this column name")
            kind, nullable = column_type(info.annotation, name)
            column_kind: TypeEngine[Any] = sa.JSON(none_as_null=True) if kind is None else kind
            root_columns.append(sa.Column(name, column_kind, nullable=nullable))
            root_specs.append(FieldColumn(name, kind is None))
    root = sa.Table("cfg_configuration", metadata, _version_fk(), *root_columns)
    return root, tuple(root_specs), records, mappings


#: ``cfg_configuration``: the configuration's own fields (name, description, ...), one row per version.
#: ``ROOT_COLUMNS`` are its field columns; ``RECORD_TABLES`` and ``MAPPING_TABLES`` map a
#: configuration field to its table, in schema order.
ROOT_TABLE, ROOT_COLUMNS, RECORD_TABLES, MAPPING_TABLES = _build()

#: Every table holding the content of a version, in creation order.
CONTENT_TABLES: tuple[sa.Table, ...] = (
    ROOT_TABLE,
    *(t.table for t in RECORD_TABLES.values()),
    *(t.table for t in MAPPING_TABLES.values()),
)
