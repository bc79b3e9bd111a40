"""Users, roles, assignments (user > role > default), $Settings, audit, change feed, first-run seed."""

from __future__ import annotations

import pytest

from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import Assignment, ConfigStore, StoreError

CONFIG = """
name: {name}
hosted_controls:
  - {{name: Global Manager, type: GlobalManager}}
"""


def publish(store: ConfigStore, name: str) -> int:
    store.import_configuration(loads_configuration(CONFIG.format(name=name)), actor="admin")
    return store.publish(name, actor="admin").number


def test_users_and_roles(store: ConfigStore) -> None:
    store.add_role("sales", description="Sales agents", actor="admin")
    store.add_role("vip", actor="admin")
    store.add_user("ann", display_name="Ann A.", roles=["sales"], actor="admin")
    store.add_user("ann", roles=["vip", "sales"], actor="admin")  # adds a role, keeps the name
    store.add_user("bob", actor="admin")
    users = {u.name: u for u in store.users()}
    assert users["ann"].display_name == "Ann A." and users["ann"].roles == ("sales", "vip")
    assert users["bob"].roles == ()
    assert [(r.name, r.description, r.members) for r in store.roles()] == [
        ("sales", "Sales agents", ("ann",)),
        ("vip", "", ("ann",)),
    ]
    with pytest.raises(StoreError, match="no role named 'nope'"):
        store.add_user("cid", roles=["nope"], actor="admin")
    with pytest.raises(StoreError, match="user name ' x'"):
        store.add_user(" x", actor="admin")
    assert "cid" not in {u.name for u in store.users()}


def test_user_beats_role_beats_default(store: ConfigStore) -> None:
    for name in ("Default", "Team", "Premium", "Personal"):
        publish(store, name)
    assert store.resolve("ann") is None
    with pytest.raises(StoreError, match="no published configuration applies to 'ann'"):
        store.load_for_user("ann")
    store.set_default("Default", actor="admin")
    assert store.resolve("ann") is not None and store.resolve("ann")[0] == "Default"  # type: ignore[index]
    store.add_role("team", actor="admin")
    store.add_role("premium", actor="admin")
    store.add_user("ann", roles=["team", "premium"], actor="admin")
    store.assign("Team", role="team", priority=50, actor="admin")
    store.assign("Premium", role="premium", priority=10, actor="admin")
    assert store.resolve("ann")[0] == "Premium"  # type: ignore[index]  # lowest priority wins
    store.assign("Premium", role="premium", priority=90, actor="admin")  # re-assigning replaces
    assert store.resolve("ann")[0] == "Team"  # type: ignore[index]
    store.assign("Personal", user="ann", actor="admin")
    name, info = store.resolve("ann")  # type: ignore[misc]
    assert (name, info.number, info.state) == ("Personal", 1, "published")
    config, loaded = store.load_for_user("ann")
    assert config.name == "Personal" and loaded == info
    assert store.resolve("stranger")[0] == "Default"  # type: ignore[index]  # not even a known user
    assert store.assignments() == [
        Assignment("user", "ann", "Personal", 100),
        Assignment("role", "team", "Team", 50),
        Assignment("role", "premium", "Premium", 90),
    ]
    store.unassign(user="ann", actor="admin")
    assert store.resolve("ann")[0] == "Team"  # type: ignore[index]


def test_only_published_configurations_apply(store: ConfigStore) -> None:
    publish(store, "Default")
    store.set_default("Default", actor="admin")
    store.import_configuration(loads_configuration(CONFIG.format(name="Draft only")), actor="admin")
    store.add_user("ann", actor="admin")
    store.assign("Draft only", user="ann", actor="admin")
    assert store.resolve("ann")[0] == "Default"  # type: ignore[index]
    store.publish("Draft only", actor="admin")
    assert store.resolve("ann")[0] == "Draft only"  # type: ignore[index]


def test_assignments_are_checked(store: ConfigStore) -> None:
    publish(store, "Default")
    with pytest.raises(StoreError, match="no user named 'ghost'"):
        store.assign("Default", user="ghost", actor="admin")
    store.add_user("ann", actor="admin")
    with pytest.raises(StoreError, match="no configuration named 'Nope'"):
        store.assign("Nope", user="ann", actor="admin")
    with pytest.raises(StoreError, match="exactly one of user or role"):
        store.assign("Default", user="ann", role="x", actor="admin")
    with pytest.raises(StoreError, match="has no assignment"):
        store.unassign(role="x", actor="admin")


def test_user_settings(store: ConfigStore) -> None:
    assert store.user_settings("ann") == {}
    store.save_user_setting("ann", "Theme", "dark")
    store.save_user_setting("ann", "Layout", "wide")
    store.save_user_setting("ann", "Theme", "light")
    store.save_user_setting("bob", "Theme", "dark")
    assert store.user_settings("ann") == {"Layout": "wide", "Theme": "light"}
    assert store.user_settings("bob") == {"Theme": "dark"}
    with pytest.raises(StoreError, match="NUL"):
        store.save_user_setting("ann", "Theme", "a\x00")


def test_audit_and_change_feed(store: ConfigStore) -> None:
    assert store.change_seq() == 0 and store.audit() == []
    publish(store, "Default")
    store.set_default("Default", actor="boss")
    store.add_user("ann", actor="boss")
    store.assign("Default", user="ann", actor="boss")
    store.import_configuration(
        loads_configuration(CONFIG.format(name="Default")).model_copy(update={"description": "v2"}),
        actor="boss",
    )
    store.publish("Default", actor="boss", message="second")
    store.rollback("Default", 1, actor="boss")
    entries = store.audit()
    assert [(e.actor, e.action, e.target) for e in reversed(entries)] == [
        ("admin", "import", "Default"),
        ("admin", "publish", "Default"),
        ("boss", "set_default", "Default"),
        ("boss", "add_user", "ann"),
        ("boss", "assign", "Default"),
        ("boss", "import", "Default"),
        ("boss", "publish", "Default"),
        ("boss", "rollback", "Default"),
    ]
    assert entries[1].details["message"] == "second" and entries[0].details["from_version"] == 1
    assert len(store.audit(limit=3)) == 3
    changes = store.changes_since(0)
    assert [(c.kind, c.configuration, c.version) for c in changes] == [
        ("publish", "Default", 1),
        ("set_default", "Default", None),
        ("users", "", None),
        ("assign", "Default", None),
        ("publish", "Default", 2),
        ("rollback", "Default", 3),
    ]
    assert store.change_seq() == changes[-1].seq
    assert store.changes_since(changes[-2].seq or 0) == changes[-1:]


def test_seed_starter_only_on_an_empty_store(store: ConfigStore, starter: Configuration) -> None:
    assert store.seed_starter(starter) is True
    assert store.seed_starter(starter) is False
    name, info = store.resolve("anyone")  # type: ignore[misc]
    assert (name, info.number, info.created_by) == ("Starter", 1, "usd-desktop")
    assert store.configurations()[0].is_default
    assert store.load_for_user("anyone")[0] == starter


def test_agents_starting_together_create_and_seed_the_store_once(
    store_url: str, starter: Configuration, request: pytest.FixtureRequest
) -> None:
    """Several desktops' first start on one empty store: one creates and seeds it, none fails."""
    from concurrent.futures import ThreadPoolExecutor

    if "postgresql" in store_url:  # an empty database, not one already migrated
        cluster = request.getfixturevalue("pg_cluster")
        store_url = cluster.url(cluster.new_database(migrated=False))

    def first_start(_: int) -> bool:
        with ConfigStore.open(store_url, create=True) as agent:
            return agent.seed_starter(starter)

    with ThreadPoolExecutor(max_workers=4) as pool:
        seeded = list(pool.map(first_start, range(4)))
    assert sorted(seeded) == [False, False, False, True]
    with ConfigStore.open(store_url) as store:
        assert [v.number for v in store.versions("Starter")] == [1]
