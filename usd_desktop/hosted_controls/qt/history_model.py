"""The customer's timeline as data: the searches that read it and the items it shows (no widgets).

One declarative search per kind (interactions, cases, notes) reads a customer's records; for an
account, the records of its contacts are included (``contact_id in (...)``). The rows become
:class:`TimelineItem` objects, newest first: an interaction at its offer time, a case when it was
opened (and again when it was resolved or closed), a note when it was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from usd_desktop.config.schema_searches import EntitySearch, SearchFilter, SortKey
from usd_desktop.data.models_work import CHANNELS

KINDS = ("interaction", "case", "note")
CUSTOMERS = ("contact", "account")
#: Most records read per kind (the newest); the count of all of them is shown when there are more.
MAX_PER_KIND = 1000
#: Most contacts of an account whose records are included.
MAX_CONTACTS = 500

CHANNEL_LABELS = {"phone": "Phone", "email": "E-mail", "chat": "Chat", "sms": "SMS", "web": "Web"}
KIND_LABELS = {"interaction": "Interactions", "case": "Cases", "note": "Notes"}
DIRECTION_ARROWS = {"inbound": "↙ in", "outbound": "↗ out"}

INTERACTION_COLUMNS = [
    "channel", "direction", "subject", "queue", "agent", "address", "case_id", "contact_id", "account_id",
    "offered_at", "answered_at", "ended_at", "wrap_up_ended_at", "hold_seconds", "disposition",
    "first_contact_resolution", "transfers",
]
CASE_COLUMNS = ["case_number", "title", "status", "priority", "category", "owner", "contact_id", "account_id",
                "created_at", "updated_at", "resolved_at", "closed_at", "resolution"]
NOTE_COLUMNS = ["subject", "body", "author", "case_id", "interaction_id", "contact_id", "account_id",
                "created_at", "updated_at"]
_ORDER = {"interaction": "offered_at", "case": "created_at", "note": "created_at"}
_COLUMNS = {"interaction": INTERACTION_COLUMNS, "case": CASE_COLUMNS, "note": NOTE_COLUMNS}
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def contacts_search(account_id: str) -> EntitySearch:
    """The contacts of an account (their records belong to the account's timeline)."""
    return EntitySearch(name="contacts of the account", entity="contact",
                        filters=[SearchFilter(field="account_id", value=account_id)],
                        columns=["id"], max_count=MAX_CONTACTS)


def kind_search(kind: str, customer: str, customer_id: str, contact_ids: Sequence[str] = ()) -> EntitySearch:
    """The newest records of ``kind`` of a contact, or of an account and its contacts."""
    filters = [SearchFilter(field=f"{customer}_id", value=customer_id)]
    if customer == "account" and contact_ids:
        filters.append(SearchFilter(field="contact_id", operator="in", value=",".join(contact_ids)))
    return EntitySearch(
        name=f"timeline {kind}s", entity=kind, filters=filters, match="any",
        order_by=[SortKey(field=_ORDER[kind], descending=True)],
        columns=_COLUMNS[kind], max_count=MAX_PER_KIND,
    )


def cases_by_id_search(ids: Iterable[str]) -> EntitySearch:
    """The case numbers of cases linked from interactions but not the customer's own."""
    return EntitySearch(name="linked cases", entity="case",
                        filters=[SearchFilter(field="id", operator="in", value=",".join(ids))],
                        columns=["case_number"], max_count=MAX_PER_KIND)


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline."""

    kind: str  # interaction | case | note
    id: str
    when: datetime
    title: str
    summary: str  # the row's details, one line
    details: str  # everything, several lines (the details pane and the tooltip)
    channel: str = ""  # interactions only
    label: str = ""  # "Phone ↙ in", "Case opened", "Note"
    case_id: str = ""

    @property
    def day(self) -> date:
        return self.when.astimezone().date()


def when_of(row: Mapping[str, Any], *names: str) -> datetime:
    for name in names:
        value = row.get(name)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return _LONG_AGO


def clock(value: Any) -> str:
    return value.astimezone().strftime("%H:%M:%S") if isinstance(value, datetime) else ""


def stamp(value: Any) -> str:
    return value.astimezone().strftime("%d %b %Y %H:%M") if isinstance(value, datetime) else ""


def duration(seconds: float | None) -> str:
    """``3m 05s``, ``1h 02m``, ``42s``."""
    if seconds is None or seconds < 0:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _span(start: Any, end: Any) -> float | None:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return (end - start).total_seconds()
    return None


def interaction_item(row: Mapping[str, Any], case_numbers: Mapping[str, str]) -> TimelineItem:
    channel = str(row.get("channel") or "")
    direction = str(row.get("direction") or "")
    case_id = str(row.get("case_id") or "")
    case_number = case_numbers.get(case_id, "") if case_id else ""
    talk = _span(row.get("answered_at"), row.get("ended_at"))
    hold = int(row.get("hold_seconds") or 0)
    transfers = int(row.get("transfers") or 0)
    fcr = bool(row.get("first_contact_resolution"))
    subject = str(row.get("subject") or "") or f"{CHANNEL_LABELS.get(channel, channel)} {direction}".strip()
    summary_parts = [
        str(row.get("queue") or ""),
        str(row.get("agent") or ""),
        duration(talk),
        f"hold {duration(hold)}" if hold else "",
        str(row.get("disposition") or ""),
        "FCR" if fcr else "",
        f"{transfers} transfer{'s' if transfers != 1 else ''}" if transfers else "",
        case_number,
    ]
    wait = _span(row.get("offered_at"), row.get("answered_at"))
    wrap = _span(row.get("ended_at"), row.get("wrap_up_ended_at"))
    lines = [
        f"{CHANNEL_LABELS.get(channel, channel)} · {direction}"
        + (f" · {row['address']}" if row.get("address") else ""),
        f"Subject: {row.get('subject') or '—'}",
        f"Queue: {row.get('queue') or '—'}    Agent: {row.get('agent') or '—'}",
        f"Offered {stamp(row.get('offered_at')) or '—'}, answered {clock(row.get('answered_at')) or '—'}"
        f" (wait {duration(wait) or '—'}), ended {clock(row.get('ended_at')) or '—'}",
        f"Duration {duration(talk) or '—'}, hold {duration(hold)}, wrap-up {duration(wrap) or '—'}",
        f"Disposition: {row.get('disposition') or '—'}    First-contact resolution: {'yes' if fcr else 'no'}"
        f"    Transfers: {transfers}",
    ]
    if case_number:
        lines.append(f"Case: {case_number}")
    arrow = DIRECTION_ARROWS.get(direction, direction)
    return TimelineItem(
        kind="interaction", id=str(row["id"]), when=when_of(row, "offered_at", "answered_at", "ended_at"),
        title=subject, summary=" · ".join(p for p in summary_parts if p), details="\n".join(lines),
        channel=channel, label=f"{CHANNEL_LABELS.get(channel, channel or '?')} {arrow}".strip(),
        case_id=case_id,
    )


def case_items(row: Mapping[str, Any]) -> list[TimelineItem]:
    number = str(row.get("case_number") or "")
    status = str(row.get("status") or "")
    title = str(row.get("title") or "")
    lines = [
        f"Case {number}: {title}",
        f"Status: {status or '—'}    Priority: {row.get('priority') or '—'}"
        f"    Category: {row.get('category') or '—'}",
        f"Owner: {row.get('owner') or '—'}",
        f"Opened {stamp(row.get('created_at')) or '—'}"
        + (f", last changed {stamp(row.get('updated_at'))}" if row.get("updated_at") else ""),
    ]
    if row.get("resolution"):
        lines.append(f"Resolution: {row['resolution']}")
    details = "\n".join(lines)
    case_id = str(row["id"])
    items = [TimelineItem(
        kind="case", id=case_id, when=when_of(row, "created_at"), title=f"{number} {title}".strip(),
        summary=" · ".join(p for p in (f"status {status.replace('_', ' ')}" if status else "",
                                       str(row.get("priority") or ""),
                                       str(row.get("owner") or "")) if p),
        details=details, label="Case opened", case_id=case_id,
    )]
    if status in ("resolved", "closed"):
        # when the lifecycle recorded it (closed_at/resolved_at), else the last change
        field = next((f for f in (f"{status}_at", "resolved_at", "updated_at")
                      if isinstance(row.get(f), datetime)), None)
        if field is not None:
            items.append(TimelineItem(
                kind="case", id=case_id, when=when_of(row, field), title=f"{number} {title}".strip(),
                summary=str(row.get("resolution") or ""), details=details, label=f"Case {status}",
                case_id=case_id,
            ))
    return items


def note_item(row: Mapping[str, Any], case_numbers: Mapping[str, str]) -> TimelineItem:
    body = str(row.get("body") or "")
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    subject = str(row.get("subject") or first or "(empty note)")
    case_id = str(row.get("case_id") or "")
    rest = " ".join(body.split())
    if rest.startswith(subject.rstrip("…")):
        rest = rest[len(subject.rstrip("…")):].lstrip(" .,:;!?-—")
    summary = " · ".join(p for p in (str(row.get("author") or ""), case_numbers.get(case_id, ""),
                                     rest[:120] + ("…" if len(rest) > 120 else "")) if p)
    details = f"Note by {row.get('author') or '—'}, {stamp(row.get('created_at'))}\n\n{body}"
    return TimelineItem(kind="note", id=str(row["id"]), when=when_of(row, "created_at"), title=subject,
                        summary=summary, details=details, label="Note", case_id=case_id)


def build_items(
    interactions: Iterable[Mapping[str, Any]],
    cases: Iterable[Mapping[str, Any]],
    notes: Iterable[Mapping[str, Any]],
    case_numbers: Mapping[str, str],
) -> list[TimelineItem]:
    """Every item, newest first (ties: interactions, then cases, then notes)."""
    items = [interaction_item(row, case_numbers) for row in interactions]
    for row in cases:
        items.extend(case_items(row))
    items.extend(note_item(row, case_numbers) for row in notes)
    rank = {kind: i for i, kind in enumerate(KINDS)}
    items.sort(key=lambda item: (-item.when.timestamp(), rank[item.kind], item.id))
    return items


def matches(item: TimelineItem, channels: frozenset[str], kinds: frozenset[str]) -> bool:
    """Shown under the filter: its kind is chosen, and an interaction's channel too."""
    if item.kind not in kinds:
        return False
    return item.kind != "interaction" or item.channel in channels or item.channel not in CHANNELS


def day_label(day: date, today: date | None = None) -> str:
    today = today or datetime.now().astimezone().date()
    if day == today:
        return f"Today · {day:%a %d %b %Y}"
    if day == today - timedelta(days=1):
        return f"Yesterday · {day:%a %d %b %Y}"
    return f"{day:%a %d %b %Y}"


def parse_choice(text: str | None, allowed: Sequence[str], what: str) -> frozenset[str] | None:
    """``phone,email`` as a set; ``None`` when not given; ``all``/``*`` or blank means every one."""
    if text is None:
        return None
    words = {w.strip().lower() for w in text.replace(";", ",").split(",") if w.strip()}
    if not words or words & {"all", "*"}:
        return frozenset(allowed)
    aliases = {"e-mail": "email", "interactions": "interaction", "cases": "case", "notes": "note"}
    words = {aliases.get(w, w) for w in words}
    unknown = sorted(words - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed)})")
    return frozenset(words)
