"""Configurations and their versions, as functions on an open connection (one transaction each).

A configuration has at most one *draft* (number 0) and any number of *published* versions
(1, 2, ...). Publishing turns the draft into the next version; nothing ever changes a published
version's rows again. Rolling back copies an old version's rows into a new published version;
cloning copies them into another configuration's draft. :mod:`.repository` runs these inside one
transaction and lints first (``check``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import audit, content
from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.models import ConfigurationInfo, VersionInfo
from usd_desktop.config.store.tables import ROOT_TABLE
from usd_desktop.config.store.tables import configuration_versions as versions_t
from usd_desktop.config.store.tables import configurations as configs_t

#: Lints a configuration and raises :class:`StoreError` on errors; the text says what was refused.
Check = Callable[[Configuration, str], None]
Rows = dict[str, list[dict[str, Any]]]


def info(name: str, row: Any) -> VersionInfo:
    return VersionInfo(
        configuration=name,
        number=row.number,
        state=row.state,
        content_hash=row.content_hash,
        created_at=audit.as_utc(row.created_at),
        created_by=row.created_by,
        published_at=audit.as_utc(row.published_at) if row.published_at else None,
        published_by=row.published_by,
        message=row.message,
    )


def revalidated(config: Configuration) -> Configuration:
    """``config`` checked again: ``model_copy(update=...)`` skips validation, the store does not."""
    try:
        return Configuration.model_validate(config.model_dump(mode="python", warnings=False))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)[:10]
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise StoreError(f"not a valid configuration: {problems}") from None


def _by_id(conn: sa.Connection, name: str, version_id: int) -> VersionInfo:
    return info(name, conn.execute(sa.select(versions_t).where(versions_t.c.id == version_id)).one())


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def config_row(conn: sa.Connection, name: str, *, lock: bool = False) -> Any:
    """The ``configurations`` row of ``name`` (locked for the transaction on PostgreSQL)."""
    query = sa.select(configs_t).where(configs_t.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise StoreError(f"no configuration named {name!r}")
    return row


def version_row(conn: sa.Connection, config_id: int, which: int | str) -> Any:
    """A version row: ``"draft"``, ``"latest"`` (published) or a published number; ``None`` if none."""
    query = sa.select(versions_t).where(versions_t.c.configuration_id == config_id)
    if which == "draft":
        query = query.where(versions_t.c.state == "draft")
    elif which == "latest":
        published = query.where(versions_t.c.state == "published")
        query = published.order_by(versions_t.c.number.desc()).limit(1)
    elif isinstance(which, int) and not isinstance(which, bool) and which > 0:
        query = query.where(versions_t.c.state == "published", versions_t.c.number == which)
    else:
        raise StoreError(f"not a version: {which!r} (a number from 1, or 'draft')")
    return conn.execute(query).first()


def require(conn: sa.Connection, name: str, which: int | str) -> tuple[Any, Any]:
    """The configuration row and the version row, or :class:`StoreError` saying which is missing."""
    config = config_row(conn, name)
    row = version_row(conn, config.id, which)
    if row is None:
        if which == "draft":
            raise StoreError(f"{name} has no draft")
        if which == "latest":
            raise StoreError(f"{name} has no published version")
        raise StoreError(f"{name} has no version {which}")
    return config, row


def _next_number(conn: sa.Connection, config_id: int) -> int:
    latest = conn.execute(
        sa.select(sa.func.max(versions_t.c.number)).where(versions_t.c.configuration_id == config_id)
    ).scalar()
    return int(latest or 0) + 1


def _create(conn: sa.Connection, name: str, description: str, actor: str) -> int:
    values = {"name": name, "description": description, "is_default": False}
    return _new_id(
        conn.execute(configs_t.insert().values(created_at=audit.now(), created_by=actor, **values))
    )


# ---------------------------------------------------------------------- writes
def import_draft(
    conn: sa.Connection, config: Configuration, rows: Rows, digest: str, actor: str, replace_draft: bool
) -> VersionInfo:
    """Write checked ``rows`` (of ``config``, whose YAML hash is ``digest``) as the draft."""
    name = config.name
    existing = conn.execute(sa.select(configs_t).where(configs_t.c.name == name).with_for_update()).first()
    # an existing configuration's description follows what is published
    config_id = _create(conn, name, config.description, actor) if existing is None else existing.id
    draft = version_row(conn, config_id, "draft")
    values = {"content_hash": digest, "created_at": audit.now(), "created_by": actor, "message": ""}
    if draft is not None:
        if not replace_draft:
            when = f"{audit.as_utc(draft.created_at):%Y-%m-%d %H:%M} UTC"
            raise StoreError(
                f"{name} already has a draft (imported by {draft.created_by} at {when}): "
                "publish it, delete it, or replace it"
            )
        content.delete_content(conn, draft.id)
        conn.execute(versions_t.update().where(versions_t.c.id == draft.id).values(**values))
        version_id = int(draft.id)
    else:
        insert = versions_t.insert().values(configuration_id=config_id, number=0, state="draft", **values)
        version_id = _new_id(conn.execute(insert))
    content.write_content(conn, version_id, rows)
    audit.record_audit(conn, actor=actor, action="import", target=name, details={"content_hash": digest})
    return _by_id(conn, name, version_id)


def publish(conn: sa.Connection, name: str, actor: str, message: str, check: Check) -> VersionInfo:
    config = config_row(conn, name, lock=True)
    draft = version_row(conn, config.id, "draft")
    if draft is None:
        raise StoreError(f"{name} has no draft to publish: import one first")
    body = content.read_content(conn, draft.id)
    check(body, f"publication of {name!r}")
    # The hash of the canonical YAML was taken when the draft was written (import, clone), and a
    # draft's rows change only with it; rows read back equal what was written (tested), so it is
    # not recomputed: dumping a large configuration's YAML costs more than all the rest.
    digest = draft.content_hash
    latest = version_row(conn, config.id, "latest")
    if latest is not None and latest.content_hash == digest:
        raise StoreError(f"nothing to publish: the draft of {name} is identical to version {latest.number}")
    number = _next_number(conn, config.id)
    published = {"state": "published", "number": number, "published_at": audit.now(), "published_by": actor}
    conn.execute(versions_t.update().where(versions_t.c.id == draft.id).values(message=message, **published))
    conn.execute(configs_t.update().where(configs_t.c.id == config.id).values(description=body.description))
    details = {"version": number, "content_hash": digest, "message": message}
    audit.record_audit(conn, actor=actor, action="publish", target=name, details=details)
    audit.record_change(conn, kind="publish", configuration=name, version=number)
    return _by_id(conn, name, draft.id)


def rollback(conn: sa.Connection, name: str, version: int, actor: str) -> VersionInfo:
    config = config_row(conn, name, lock=True)
    _, source = require(conn, name, version)
    latest = version_row(conn, config.id, "latest")
    if latest.content_hash == source.content_hash:
        raise StoreError(f"nothing to roll back: version {latest.number} of {name} already has that content")
    number = _next_number(conn, config.id)
    now = audit.now()
    new_id = _new_id(
        conn.execute(
            versions_t.insert().values(
                configuration_id=config.id,
                number=number,
                state="published",
                content_hash=source.content_hash,
                created_at=now,
                created_by=actor,
                published_at=now,
                published_by=actor,
                message=f"rollback to version {version}",
            )
        )
    )
    content.copy_content(conn, source.id, new_id)
    description = conn.execute(
        sa.select(ROOT_TABLE.c.description).where(ROOT_TABLE.c.version_id == source.id)
    ).scalar()
    conn.execute(configs_t.update().where(configs_t.c.id == config.id).values(description=description))
    details = {"version": number, "from_version": version, "content_hash": source.content_hash}
    audit.record_audit(conn, actor=actor, action="rollback", target=name, details=details)
    audit.record_change(conn, kind="rollback", configuration=name, version=number)
    return _by_id(conn, name, new_id)


def clone(conn: sa.Connection, name: str, new_name: str, actor: str) -> VersionInfo:
    source_config = config_row(conn, name)
    source = version_row(conn, source_config.id, "latest") or version_row(conn, source_config.id, "draft")
    if source is None:
        raise StoreError(f"{name} has nothing to clone: no published version and no draft")
    if conn.execute(sa.select(configs_t.c.id).where(configs_t.c.name == new_name)).first():
        raise StoreError(f"a configuration named {new_name!r} already exists")
    config_id = _create(conn, new_name, source_config.description, actor)
    version_id = _new_id(
        conn.execute(
            versions_t.insert().values(
                configuration_id=config_id,
                number=0,
                state="draft",
                content_hash="",
                created_at=audit.now(),
                created_by=actor,
                message=f"clone of {name} {f'version {source.number}' if source.number else 'draft'}",
            )
        )
    )
    content.copy_content(conn, source.id, version_id)
    content.rename_content(conn, version_id, new_name)
    digest = content.content_hash(content.read_content(conn, version_id))
    conn.execute(versions_t.update().where(versions_t.c.id == version_id).values(content_hash=digest))
    details = {"from": name, "from_version": source.number, "content_hash": digest}
    audit.record_audit(conn, actor=actor, action="clone", target=new_name, details=details)
    return _by_id(conn, new_name, version_id)


def delete_draft(conn: sa.Connection, name: str, actor: str) -> None:
    config, draft = require(conn, name, "draft")
    content.delete_content(conn, draft.id)
    conn.execute(versions_t.delete().where(versions_t.c.id == draft.id))
    details = {"content_hash": draft.content_hash}
    audit.record_audit(conn, actor=actor, action="delete_draft", target=config.name, details=details)


# ---------------------------------------------------------------------- reads
def list_versions(conn: sa.Connection, name: str) -> list[VersionInfo]:
    config = config_row(conn, name)
    rows = conn.execute(
        sa.select(versions_t)
        .where(versions_t.c.configuration_id == config.id)
        .order_by((versions_t.c.state == "draft").asc(), versions_t.c.number)
    )
    return [info(name, row) for row in rows]


def list_configurations(conn: sa.Connection) -> list[ConfigurationInfo]:
    latest_query = (
        sa.select(versions_t.c.configuration_id, sa.func.max(versions_t.c.number))
        .where(versions_t.c.state == "published")
        .group_by(versions_t.c.configuration_id)
    )
    latest: dict[int, int] = {config_id: number for config_id, number in conn.execute(latest_query)}
    drafts = set(
        conn.execute(sa.select(versions_t.c.configuration_id).where(versions_t.c.state == "draft")).scalars()
    )
    return [
        ConfigurationInfo(
            name=r.name,
            description=r.description,
            is_default=bool(r.is_default),
            created_at=audit.as_utc(r.created_at),
            created_by=r.created_by,
            latest=latest.get(r.id),
            has_draft=r.id in drafts,
        )
        for r in conn.execute(sa.select(configs_t).order_by(configs_t.c.name))
    ]


def resolve(conn: sa.Connection, candidates: list[int]) -> tuple[str, VersionInfo] | None:
    """The first of ``candidates`` (configuration ids) with a published version, and that version."""
    for config_id in candidates:
        row = version_row(conn, config_id, "latest")
        if row is not None:
            name = conn.execute(sa.select(configs_t.c.name).where(configs_t.c.id == config_id)).scalar_one()
            return name, info(name, row)
    return None
