"""The central configuration store (Qt-free): configurations, versions, people, settings, audit.

* :class:`ConfigStore` (:mod:`.repository`): import, publish, roll back, diff, clone, assign,
  resolve and load; one transaction per change;
* :mod:`.tables`: the SQL tables, generated from the pydantic schema; :mod:`.content` turns a
  configuration into rows and back;
* :mod:`.engine`: engines and schema revisions (alembic migrations in
  ``usd_desktop/config/migrations``); :mod:`.location`: the store URL and its keyring password;
* :mod:`.notify`: change notifications for running agents (PostgreSQL LISTEN/NOTIFY, SQLite
  polling); :mod:`.diff`: differences per record and field.
"""

from usd_desktop.config.store.audit import NOTIFY_CHANNEL
from usd_desktop.config.store.errors import StoreError, StoreNeedsUpgrade, StoreTooNew
from usd_desktop.config.store.models import (
    Assignment,
    AuditEntry,
    Change,
    ConfigurationInfo,
    RoleInfo,
    StoreChange,
    UserInfo,
    VersionInfo,
)
from usd_desktop.config.store.repository import ConfigStore

__all__ = [
    "NOTIFY_CHANNEL",
    "Assignment",
    "AuditEntry",
    "Change",
    "ConfigStore",
    "ConfigurationInfo",
    "RoleInfo",
    "StoreChange",
    "StoreError",
    "StoreNeedsUpgrade",
    "StoreTooNew",
    "UserInfo",
    "VersionInfo",
]
