"""Broadcast messages (Qt-free): a supervisor's message to every agent or to one queue's agents.

A broadcast is a ``broadcast`` record in the shared data database (every desktop of a contact centre
reads the same one): ``sender``, ``audience`` (``all`` or ``queue:<name>``), ``severity`` (``info``,
``warning``, ``critical``), ``title``, ``body``, ``sent_at`` and ``expires_at`` (empty: never).

The **Broadcasts** control sends and receives them.

* ``Broadcast`` (UII action): ``title=``, ``body=``, ``audience=`` (default ``all``), ``severity=``
  (default ``info``), ``expires_minutes=`` (default the ``expires_minutes`` setting, 60; 0: never)
  and ``sender=`` (default ``[[$User.username]]``). Returns the new broadcast's id.
  ``usd-admin broadcast send`` writes the same record from a script.
* Receiving: every ``poll_seconds`` (setting, default 5) the control reads the unexpired broadcasts
  for this agent through the data services' worker threads (never on the GUI thread), and at once
  when this desktop writes one (:attr:`DataServices.changed`). *For this agent*: audience ``all``,
  or a queue the agent is in: the ``queues`` setting (a list, or comma-separated text with
  replacement parameters), else the queues the CTI adapter logged the agent into, else every queue.
* Each broadcast new to this desktop is published as ``[[Broadcasts.title]]``, ``body``,
  ``severity``, ``sender``, ``id`` and ``sent_at`` (``count``: the messages shown now), raises
  ``BroadcastReceived`` (``title``, ``body``, ``severity``, ``sender``, ``id``) and is shown
  through the desktop host's non-modal message (``popup_severity``: the lowest severity that pops
  one up, default ``info``; ``none``: never). The ids seen are kept in the user's settings
  (``<control>.seen``), so a message is announced once per desktop, also across restarts.
* ``Dismiss`` (``id=``; none: every message) hides a message from this agent's list (kept in
  ``<control>.dismissed``). Expired messages leave the list by themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError, ReplacementError, UsdError
from usd_desktop.core.replacement import render
from usd_desktop.core.signals import Signal
from usd_desktop.data.errors import DataError
from usd_desktop.data.models_work import BROADCAST_SEVERITIES, Broadcast
from usd_desktop.data.values import to_utc
from usd_desktop.hosted_controls.base import HostedControl, uii_action
from usd_desktop.hosted_controls.catalog import BROADCASTS

if TYPE_CHECKING:
    from usd_desktop.config.schema import HostedControl as HostedControlDef
    from usd_desktop.core.context import Session
    from usd_desktop.core.dispatcher import CallContext
    from usd_desktop.data.services import RecordChange
    from usd_desktop.hosted_controls.base import ControlEnvironment

log = logging.getLogger(__name__)

BROADCAST = "broadcast"
EVENT = "BroadcastReceived"
ALL = "all"
QUEUE_PREFIX = "queue:"
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_EXPIRES_MINUTES = 60.0
#: The most ids kept in ``<control>.seen`` (the oldest go first; an expired id is dropped anyway).
MAX_REMEMBERED = 500


@dataclass(frozen=True)
class Message:
    """One broadcast as a desktop shows it."""

    id: str
    sender: str
    audience: str
    severity: str
    title: str
    body: str
    sent_at: datetime
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def parameters(self) -> dict[str, str]:
        """The values published and given to ``BroadcastReceived``."""
        return {"id": self.id, "title": self.title, "body": self.body, "severity": self.severity,
                "sender": self.sender, "audience": self.audience, "sent_at": self.sent_at.isoformat()}


# ---------------------------------------------------------------------- the records (blocking)
def parse_audience(text: str | None) -> str:
    """``all`` or ``queue:<name>`` from what an admin wrote (``All``, ``queue: billing``);
    :class:`ValueError` says what fits."""
    raw = (text or "").strip()
    if not raw or raw.casefold() == ALL:
        return ALL
    if raw.casefold().startswith(QUEUE_PREFIX):
        name = raw[len(QUEUE_PREFIX):].strip()
        if name and len(name) <= 100:
            return QUEUE_PREFIX + name
    raise ValueError(f"audience {raw!r}: write all or queue:<queue name>")


def parse_severity(text: str | None) -> str:
    severity = (text or "info").strip().casefold() or "info"
    if severity not in BROADCAST_SEVERITIES:
        raise ValueError(f"severity {text!r}: choose {', '.join(BROADCAST_SEVERITIES)}")
    return severity


def broadcast_values(
    *,
    sender: str,
    title: str,
    body: str = "",
    audience: str | None = ALL,
    severity: str | None = "info",
    expires_minutes: float | None = DEFAULT_EXPIRES_MINUTES,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The checked values of a new broadcast; :class:`ValueError` names the field that is wrong.
    ``expires_minutes`` 0 or ``None``: it never expires."""
    title = title.strip()
    if not title:
        raise ValueError("a broadcast needs a title")
    if len(title) > 200:
        raise ValueError(f"title: at most 200 characters, not {len(title)}")
    if expires_minutes is not None and expires_minutes < 0:
        raise ValueError(f"expires_minutes {expires_minutes:g}: 0 (never) or more")
    sent = to_utc(now or datetime.now(UTC))
    expires = sent + timedelta(minutes=expires_minutes) if expires_minutes else None
    return {"sender": (sender.strip() or "supervisor")[:100], "audience": parse_audience(audience),
            "severity": parse_severity(severity), "title": title, "body": body.strip(),
            "sent_at": sent, "expires_at": expires}


def _engine(repository: Any) -> sa.Engine:
    engine = getattr(repository, "engine", None)
    if engine is None:
        raise DataError("broadcasts need the SQL data source (a repository with an engine)")
    return engine  # type: ignore[no-any-return]


def active_broadcasts(
    repository: Any, now: datetime, queues: Collection[str] | None = None, *, everyone: bool = False
) -> list[Message]:
    """The unexpired broadcasts, oldest first, for an agent in ``queues`` (``None``: every queue;
    ``everyone``: whatever the audience, as a supervisor lists them)."""
    table = Broadcast.__table__
    assert isinstance(table, sa.Table)
    now = to_utc(now)
    query = sa.select(table).where(sa.or_(table.c.expires_at.is_(None), table.c.expires_at > now))
    if not everyone and queues is not None:
        audiences = [ALL, *(QUEUE_PREFIX + q for q in queues)]
        query = query.where(table.c.audience.in_(audiences))
    elif not everyone:
        query = query.where(sa.or_(table.c.audience == ALL, table.c.audience.like(QUEUE_PREFIX + "%")))
    query = query.order_by(table.c.sent_at, table.c.id)
    with _engine(repository).connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [_message(dict(row)) for row in rows if _sent(row["sent_at"]) is not None]


def _sent(value: Any) -> datetime | None:
    return to_utc(value) if isinstance(value, datetime) else None


def _message(row: Mapping[str, Any]) -> Message:
    sent = _sent(row["sent_at"])
    assert sent is not None
    return Message(id=str(row["id"]), sender=str(row["sender"] or ""), audience=str(row["audience"] or ALL),
                   severity=str(row["severity"] or "info"), title=str(row["title"] or ""),
                   body=str(row["body"] or ""), sent_at=sent, expires_at=_sent(row["expires_at"]))


# ---------------------------------------------------------------------- the control
class Broadcasts(HostedControl):
    """Sends broadcasts and announces the ones for this agent (see the module)."""

    control_type = BROADCASTS

    def __init__(self, definition: HostedControlDef, env: ControlEnvironment, session: Session) -> None:
        super().__init__(definition, env, session)
        self.poll_seconds = _number(self.settings.get("poll_seconds"), DEFAULT_POLL_SECONDS, "poll_seconds",
                                    self.name)
        self.expires_minutes = _number(self.settings.get("expires_minutes"), DEFAULT_EXPIRES_MINUTES,
                                       "expires_minutes", self.name)
        popup = str(self.settings.get("popup_severity", "info")).strip().casefold()
        if popup != "none" and popup not in BROADCAST_SEVERITIES:
            raise ActionError(f"{self.name}: setting popup_severity={popup!r}: choose none or "
                              f"{', '.join(BROADCAST_SEVERITIES)}")
        self.popup_severity = popup
        #: The messages shown now (unexpired, not dismissed), oldest first; emitted when it changes.
        self.messages: list[Message] = []
        self.messages_changed: Signal[list[Message]] = Signal(f"{self.name}.messages_changed")
        self.problem = ""
        #: What "now" is for expiry (tests move it on).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._seen = self._remembered("seen")
        self._dismissed = self._remembered("dismissed")
        self._wake = asyncio.Event()
        self._polling = False
        services = env.data
        if services is None:
            self.problem = "no data source: broadcasts are neither sent nor received"
            log.warning("%s: %s", self.name, self.problem)
            return
        self.keep(services.changed.connect(self._on_changed))
        env.spawn(self._run(), session=session)

    # ------------------------------------------------------------------ sending
    @uii_action("Broadcast")
    async def broadcast(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        expires = data.take("expires_minutes")
        try:
            minutes = self.expires_minutes if expires is None or not expires.strip() else float(expires)
        except ValueError:
            raise ActionError(f"{self.name} Broadcast: expires_minutes={expires!r} is not a number") from None
        sender = data.take("sender") or self._user() or services.user
        try:
            values = broadcast_values(
                sender=sender, title=data.take("title") or "", body=data.take("body") or "",
                audience=data.take("audience"), severity=data.take("severity"), expires_minutes=minutes,
            )
        except ValueError as exc:
            raise ActionError(f"{self.name} Broadcast: {exc}") from None
        return await services.create(BROADCAST, values, session=call.session)

    # ------------------------------------------------------------------ dismissing
    @uii_action("Dismiss")
    def dismiss_action(self, data: ActionData, call: CallContext) -> str:
        wanted = data.take("id") or data.remainder().strip()
        ids = [wanted] if wanted else [m.id for m in self.messages]
        for id in ids:
            self.dismiss(id)
        return str(len(self.messages))

    def dismiss(self, id: str) -> None:
        """Hide the message ``id`` from this agent's list (remembered in the settings)."""
        if id not in self._dismissed:
            self._dismissed.append(id)
            self._remember("dismissed", self._dismissed)
        self._show([m for m in self.messages if m.id != id])

    # ------------------------------------------------------------------ receiving
    async def poll(self, now: datetime | None = None) -> list[Message]:
        """Read the broadcasts for this agent now; announce the new ones; returns those."""
        services = self.data_services()
        now = to_utc(now or self.clock())
        active = await services.call(active_broadcasts, services.repository, now, self.queues())
        if self.closed:
            return []
        new = [m for m in active if m.id not in self._seen]
        live = {m.id for m in active}
        if new:
            kept = [id for id in self._seen if id in live] + [m.id for m in new]
            self._seen = kept[-MAX_REMEMBERED:]
            self._remember("seen", self._seen)
        if any(id not in live for id in self._dismissed):
            self._dismissed = [id for id in self._dismissed if id in live]
            self._remember("dismissed", self._dismissed)
        self._show([m for m in active if m.id not in self._dismissed])
        for message in new:
            self._announce(message)
        return new

    def queues(self) -> list[str] | None:
        """The agent's queues: the ``queues`` setting, else the CTI adapter's, else ``None`` (all)."""
        setting = self.settings.get("queues")
        if setting:
            items = setting if isinstance(setting, list | tuple) else [setting]
            names = [q.strip() for item in items for q in self._render(str(item)).split(",")]
            if any(names):
                return [q for q in names if q]
        controls: Mapping[str, Any] = getattr(self.env, "global_controls", {}) or {}
        for control in controls.values():
            adapter = getattr(getattr(control, "manager", None), "adapter", None)
            found = getattr(adapter, "queues", None)
            if isinstance(found, list | tuple) and found:
                return [str(q) for q in found]
        return None

    def _announce(self, message: Message) -> None:
        params = message.parameters()
        self.publish({**params, "count": str(len(self.messages))})
        self.raise_event(EVENT, {k: params[k] for k in ("title", "body", "severity", "sender", "id")})
        if self._pops_up(message.severity):
            caption = f"{message.severity.capitalize()}: {message.title}" if message.severity != "info" else (
                message.title)
            try:
                self.env.host.display_message(message.body or message.title, caption)
            except UsdError as exc:  # the window is not there yet: the list still shows it
                log.warning("%s: %s", self.name, exc)

    def _pops_up(self, severity: str) -> bool:
        if self.popup_severity == "none":
            return False
        return BROADCAST_SEVERITIES.index(severity) >= BROADCAST_SEVERITIES.index(self.popup_severity) if (
            severity in BROADCAST_SEVERITIES) else True

    def _show(self, messages: list[Message]) -> None:
        if [m.id for m in messages] == [m.id for m in self.messages]:
            return
        self.messages = messages
        self.publish({"count": str(len(messages))})
        self.messages_changed.emit(list(messages))

    def _on_changed(self, change: RecordChange) -> None:
        if change.entity == BROADCAST and change.kind == "created":
            self._wake.set()

    async def _run(self) -> None:
        while not self.closed:
            try:
                await self.poll()
                self.problem = ""
            except (DataError, UsdError, OSError, sa.exc.SQLAlchemyError) as exc:
                if str(exc) != self.problem:
                    log.warning("%s: broadcasts could not be read: %s", self.name, exc)
                self.problem = str(exc)
            if self.closed:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def close(self) -> None:
        super().close()
        self._wake.set()  # the loop sees ``closed`` and ends

    # ------------------------------------------------------------------ helpers
    def _user(self) -> str:
        store = self.env.dispatcher.sessions.global_session.store
        return str(store.get("$User", "username") or "")

    def _render(self, template: str) -> str:
        dispatcher = self.env.dispatcher
        try:
            data = dispatcher.sessions.data_for(self.session)
            return render(template, data, scriptlets=dispatcher.scriptlets)
        except ReplacementError:
            return ""

    def _remembered(self, what: str) -> list[str]:
        raw = self.env.settings_store().load().get(f"{self.name}.{what}", "")
        try:
            ids = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [str(i) for i in ids] if isinstance(ids, list) else []

    def _remember(self, what: str, ids: Sequence[str]) -> None:
        try:
            self.env.settings_store().save(f"{self.name}.{what}", json.dumps(list(ids)))
        except OSError as exc:
            log.warning("%s: the %s broadcasts could not be remembered: %s", self.name, what, exc)


def _number(raw: Any, default: float, name: str, control: str) -> float:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ActionError(f"{control}: setting {name}={raw!r} is not a number") from None
    if value < 0 or (name == "poll_seconds" and value == 0):
        raise ActionError(f"{control}: setting {name}={raw!r} must be more than 0")
    return value


__all__ = ["ALL", "BROADCAST", "EVENT", "Broadcasts", "Message", "active_broadcasts", "broadcast_values",
           "parse_audience", "parse_severity"]
