"""The case lifecycle: which status changes are allowed and what they record.

:func:`check` is called by :class:`~usd_desktop.data.services.DataServices` before every create or
update of any entity, whoever writes (a form, ``UpdateEntity``, a partner's control); for entities
other than ``case`` it returns the values unchanged. For a case it compares the write with the
stored case (values may be text from UII actions, e.g. ``"2"`` or ISO dates) and:

- **resolving** (to ``resolved``, or to ``closed`` from a state that is not ``resolved``) needs a
  resolution, given or stored; it sets ``resolved_at`` (and ``closed_at`` when closing) and makes a
  ``resolved`` (``closed``) step. Closing a resolved case sets ``closed_at``: ``closed``.
- **reopening** (from ``resolved`` or ``closed`` to ``open``, ``needs_follow_up`` or a status a
  configuration adds) clears ``resolved_at`` and ``closed_at`` and keeps the resolution text:
  ``reopened``.
- **follow-up** (to ``needs_follow_up``) needs a due date (``due_at``): ``follow_up``.
- **escalating** (raising ``escalation_level`` above the stored one) needs the escalation reason,
  the next steps and the time frame promised to the customer (``promised_by``); it sets
  ``escalated_at``: ``escalated``. Lowering the level needs nothing.

A write that does not change the status makes no status step. A status outside the option set is
left to the repository's check. A missing value raises :class:`DataError` naming the entity, the
record and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import ENTITIES
from usd_desktop.data.models import utcnow

TransitionKind = Literal["resolved", "closed", "reopened", "escalated", "follow_up"]

OPEN = "open"
RESOLVED = "resolved"
CLOSED = "closed"
NEEDS_FOLLOW_UP = "needs_follow_up"
#: Statuses in which a case is resolved (every other one is open-like).
DONE = (RESOLVED, CLOSED)
#: What escalating needs besides the higher level.
ESCALATION_NEEDS = ("escalation_reason", "next_steps", "promised_by")


@dataclass(frozen=True)
class Transition:
    """One lifecycle step a write made: ``case`` holds the case's fields after the write."""

    kind: TransitionKind
    case: Mapping[str, Any] = field(default_factory=dict)


def check(
    entity: str, before: Mapping[str, Any] | None, values: Mapping[str, Any], *, user: str = ""
) -> tuple[dict[str, Any], tuple[Transition, ...]]:
    """``values`` completed and checked for writing over ``before`` (``None``: a new record).

    Returns the values to write (with the lifecycle times added) and the steps the write makes,
    each with the case as it is after the write. ``user`` is who writes (the built-in rules do not
    depend on it). Raises :class:`DataError` when the write breaks a rule.
    """
    out = dict(values)
    if entity != "case":
        return out, ()
    stored = dict(before or {})
    record = _record(stored, out)
    kinds = _status_steps(stored, out, record, new=before is None)
    if _escalates(stored, out):
        for name in ESCALATION_NEEDS:
            if _blank(_current(stored, out, name)):
                raise _missing(name, "escalating the case needs it", record)
        out.setdefault("escalated_at", utcnow())
        kinds.append("escalated")
    after = {**stored, **out}
    return out, tuple(Transition(kind, after) for kind in kinds)


def _status_steps(
    stored: Mapping[str, Any], out: dict[str, Any], record: str, *, new: bool
) -> list[TransitionKind]:
    """The status steps of the write, with the times they set added to ``out``."""
    old = _status(stored.get("status")) if not new else OPEN
    target = _status(out["status"]) if "status" in out else old
    if not target or target == old:
        if target in DONE and "resolution" in out and _blank(out["resolution"]):
            raise _missing("resolution", f"a {target} case keeps its resolution", record)
        return []
    kinds: list[TransitionKind] = []
    now = utcnow()
    if old in DONE and target not in DONE:
        out.setdefault("resolved_at", None)
        out.setdefault("closed_at", None)
        kinds.append("reopened")
    if target == RESOLVED or (target == CLOSED and old != RESOLVED):
        if _blank(_current(stored, out, "resolution")):
            raise _missing("resolution", f"setting the status to {target!r} needs it", record)
        if target == RESOLVED:
            out.setdefault("resolved_at", now)
            out.setdefault("closed_at", None)
            kinds.append("resolved")
        else:  # resolved and closed at once
            out.setdefault("resolved_at", now)
            out.setdefault("closed_at", now)
            kinds.append("closed")
    elif target == CLOSED:  # closing a resolved case
        out.setdefault("closed_at", now)
        kinds.append("closed")
    elif target == NEEDS_FOLLOW_UP:
        if _blank(_current(stored, out, "due_at")):
            raise _missing("due_at", "a case that needs follow-up needs a due date", record)
        kinds.append("follow_up")
    return kinds


def _escalates(stored: Mapping[str, Any], out: Mapping[str, Any]) -> bool:
    if "escalation_level" not in out:
        return False
    level = _level(out["escalation_level"])
    if level is None:  # not a number: the repository's check names it
        return False
    return level > (_level(stored.get("escalation_level")) or 0)


def _status(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _level(value: Any) -> int | None:
    """An escalation level given as a number or as text (``"2"``); ``None`` when it is neither."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _current(stored: Mapping[str, Any], out: Mapping[str, Any], name: str) -> Any:
    """The value ``name`` has after the write: the one written, else the stored one."""
    return out[name] if name in out else stored.get(name)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _record(stored: Mapping[str, Any], out: Mapping[str, Any]) -> str:
    """How a message names the case: its number (or id), or a new record."""
    name = stored.get("case_number") or out.get("case_number") or stored.get("id") or out.get("id")
    return f"record {str(name)!r}" if name else "a new record"


def _missing(name: str, why: str, record: str) -> DataError:
    label = ENTITIES["case"].fields[name].label
    return DataError(f"entity 'case', field {name!r} ({label}) is required: {why} ({record})")


__all__ = ["Transition", "TransitionKind", "check"]
