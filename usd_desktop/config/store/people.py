"""Users, roles, assignments, which configuration a user gets, and per-user settings.

Functions on an open connection; :class:`~usd_desktop.config.store.repository.ConfigStore` runs
each inside one transaction. USD's rules (usd-reference §6.6): a user gets one configuration; an
assignment to a user wins over those to the user's roles; among roles the assignment with the
lowest ``priority`` wins (then the role name); everyone else gets the default configuration. The
first of these whose configuration has a published version applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from usd_desktop.config.store import audit
from usd_desktop.config.store.content import text_problem
from usd_desktop.config.store.errors import StoreError
from usd_desktop.config.store.models import Assignment, RoleInfo, UserInfo
from usd_desktop.config.store.tables import (
    assignments,
    configuration_versions,
    configurations,
    roles,
    user_roles,
    user_settings,
    users,
)


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name.strip() or name != name.strip() or "\n" in name:
        raise StoreError(
            f"{kind} name {name!r}: must be non-empty text on one line, without surrounding spaces"
        )
    problem = text_problem(name)
    if problem:
        raise StoreError(f"{kind} name {name!r}: {problem}")
    return name


def upsert(conn: sa.Connection, table: sa.Table, values: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert ``values`` or, when a row with the same ``keys`` exists, update it."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(values)
        update = {k: pg.excluded[k] for k in values if k not in keys}
        conn.execute(pg.on_conflict_do_update(index_elements=list(keys), set_=update))
    elif dialect == "sqlite":
        lite = sqlite.insert(table).values(values)
        update = {k: lite.excluded[k] for k in values if k not in keys}
        conn.execute(lite.on_conflict_do_update(index_elements=list(keys), set_=update))
    else:  # pragma: no cover - the store runs on these two only
        raise StoreError(f"unsupported database {dialect}")


def configuration_id(conn: sa.Connection, name: str) -> int:
    found = conn.execute(sa.select(configurations.c.id).where(configurations.c.name == name)).scalar()
    if found is None:
        raise StoreError(f"no configuration named {name!r}")
    return int(found)


# ---------------------------------------------------------------------- users and roles
def add_user(
    conn: sa.Connection, name: str, display_name: str, role_names: Sequence[str], actor: str
) -> None:
    check_name("user", name)
    wanted = list(dict.fromkeys(role_names))
    if wanted:
        known = set(conn.execute(sa.select(roles.c.name).where(roles.c.name.in_(wanted))).scalars())
        missing = [r for r in wanted if r not in known]
        if missing:
            raise StoreError(f"no role named {', '.join(map(repr, missing))}: add it first")
    existing = conn.execute(sa.select(users).where(users.c.name == name)).first()
    if existing is None:
        conn.execute(users.insert().values(name=name, display_name=display_name, created_at=audit.now()))
        action = "add_user"
    else:
        if display_name:
            conn.execute(users.update().where(users.c.name == name).values(display_name=display_name))
        action = "update_user"
    have = set(
        conn.execute(sa.select(user_roles.c.role_name).where(user_roles.c.user_name == name)).scalars()
    )
    new_roles = [r for r in wanted if r not in have]
    if new_roles:
        conn.execute(user_roles.insert(), [{"user_name": name, "role_name": r} for r in new_roles])
    details = {"display_name": display_name, "roles": wanted}
    audit.record_audit(conn, actor=actor, action=action, target=name, details=details)
    audit.record_change(conn, kind="users", configuration="")


def add_role(conn: sa.Connection, name: str, description: str, actor: str) -> None:
    check_name("role", name)
    upsert(conn, roles, {"name": name, "description": description}, ["name"])
    audit.record_audit(
        conn, actor=actor, action="add_role", target=name, details={"description": description}
    )


def list_users(conn: sa.Connection) -> list[UserInfo]:
    membership: dict[str, list[str]] = {}
    for user, role in conn.execute(sa.select(user_roles).order_by(user_roles.c.role_name)):
        membership.setdefault(user, []).append(role)
    rows = conn.execute(sa.select(users).order_by(users.c.name))
    return [
        UserInfo(r.name, r.display_name, audit.as_utc(r.created_at), tuple(membership.get(r.name, ())))
        for r in rows
    ]


def list_roles(conn: sa.Connection) -> list[RoleInfo]:
    members: dict[str, list[str]] = {}
    for user, role in conn.execute(sa.select(user_roles).order_by(user_roles.c.user_name)):
        members.setdefault(role, []).append(user)
    rows = conn.execute(sa.select(roles).order_by(roles.c.name))
    return [RoleInfo(r.name, r.description, tuple(members.get(r.name, ()))) for r in rows]


# ---------------------------------------------------------------------- assignments
def _principal(user: str | None, role: str | None) -> tuple[Literal["user", "role"], str]:
    if (user is None) == (role is None):
        raise StoreError("give exactly one of user or role")
    return ("user", user) if user is not None else ("role", str(role))


def assign(
    conn: sa.Connection,
    configuration: str,
    user: str | None,
    role: str | None,
    priority: int,
    actor: str,
) -> None:
    kind, principal = _principal(user, role)
    config_id = configuration_id(conn, configuration)
    table = users if kind == "user" else roles
    if conn.execute(sa.select(table.c.name).where(table.c.name == principal)).first() is None:
        raise StoreError(f"no {kind} named {principal!r}: add it first (`usd-admin {kind}s add`)")
    values = {"kind": kind, "principal": principal, "configuration_id": config_id, "priority": priority}
    upsert(conn, assignments, values, ["kind", "principal"])
    details = {"kind": kind, "principal": principal, "priority": priority}
    audit.record_audit(conn, actor=actor, action="assign", target=configuration, details=details)
    audit.record_change(conn, kind="assign", configuration=configuration)


def unassign(conn: sa.Connection, user: str | None, role: str | None, actor: str) -> None:
    kind, principal = _principal(user, role)
    where = sa.and_(assignments.c.kind == kind, assignments.c.principal == principal)
    config_id = conn.execute(sa.select(assignments.c.configuration_id).where(where)).scalar()
    if config_id is None:
        raise StoreError(f"{kind} {principal!r} has no assignment")
    name = str(
        conn.execute(sa.select(configurations.c.name).where(configurations.c.id == config_id)).scalar()
    )
    conn.execute(assignments.delete().where(where))
    details = {"kind": kind, "principal": principal}
    audit.record_audit(conn, actor=actor, action="unassign", target=name, details=details)
    audit.record_change(conn, kind="unassign", configuration=name)


def list_assignments(conn: sa.Connection) -> list[Assignment]:
    query = (
        sa.select(assignments, configurations.c.name)
        .join(configurations, configurations.c.id == assignments.c.configuration_id)
        .order_by(assignments.c.kind.desc(), assignments.c.priority, assignments.c.principal)
    )
    return [Assignment(r.kind, r.principal, r.name, r.priority) for r in conn.execute(query)]


def set_default(conn: sa.Connection, configuration: str, actor: str) -> None:
    config_id = configuration_id(conn, configuration)
    conn.execute(configurations.update().where(configurations.c.id != config_id).values(is_default=False))
    conn.execute(configurations.update().where(configurations.c.id == config_id).values(is_default=True))
    audit.record_audit(conn, actor=actor, action="set_default", target=configuration)
    audit.record_change(conn, kind="set_default", configuration=configuration)


def candidates(conn: sa.Connection, user: str) -> list[int]:
    """The configuration ids that may apply to ``user``, best first."""
    out: list[int] = []
    direct = conn.execute(
        sa.select(assignments.c.configuration_id).where(
            assignments.c.kind == "user", assignments.c.principal == user
        )
    ).scalar()
    if direct is not None:
        out.append(int(direct))
    by_role = conn.execute(
        sa.select(assignments.c.configuration_id)
        .join(user_roles, user_roles.c.role_name == assignments.c.principal)
        .where(assignments.c.kind == "role", user_roles.c.user_name == user)
        .order_by(assignments.c.priority, assignments.c.principal)
    ).scalars()
    out.extend(int(i) for i in by_role)
    default = conn.execute(sa.select(configurations.c.id).where(configurations.c.is_default)).scalar()
    if default is not None:
        out.append(int(default))
    return list(dict.fromkeys(out))


def latest_published_id(conn: sa.Connection, config_id: int) -> int | None:
    found = conn.execute(
        sa.select(configuration_versions.c.id)
        .where(
            configuration_versions.c.configuration_id == config_id,
            configuration_versions.c.state == "published",
        )
        .order_by(configuration_versions.c.number.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


# ---------------------------------------------------------------------- $Settings
def read_settings(conn: sa.Connection, user: str) -> dict[str, str]:
    rows = conn.execute(
        sa.select(user_settings.c.name, user_settings.c.value)
        .where(user_settings.c.user_name == user)
        .order_by(user_settings.c.name)
    )
    return {name: value for name, value in rows}


def save_setting(conn: sa.Connection, user: str, name: str, value: str) -> None:
    check_name("user", user)
    check_name("setting", name)
    problem = text_problem(value)
    if problem:
        raise StoreError(f"setting {name!r}: the value {problem}")
    values = {"user_name": user, "name": name, "value": value, "updated_at": audit.now()}
    upsert(conn, user_settings, values, ["user_name", "name"])
