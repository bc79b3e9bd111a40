"""Demo data: realistic multilingual customers with phones, e-mails, addresses, cases, interactions,
notes and knowledge articles, made with Faker (fi_FI, ro_RO, zh_CN, en_US, en_GB and more).

Fast enough for benchmarks: names and places come from pools Faker fills once per locale, rows are
built in plain Python and inserted in batches (one ``executemany`` per table and batch). Phone
numbers are valid numbers of several countries (a region's example mobile number with random
subscriber digits), stored as typed in a few styles with their E.164 form. The same ``seed`` makes
the same data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
import sqlalchemy as sa
from faker import Faker

from usd_desktop.data import models_work as work
from usd_desktop.data.engine import write_connection
from usd_desktop.data.models import SEGMENTS, Account, Address, Contact, Email, Phone
from usd_desktop.data.repository import SqlRepository

#: Faker locale -> (phone region, language) of the customers made from it.
LOCALES = {
    "fi_FI": ("FI", "fi"),
    "ro_RO": ("RO", "ro"),
    "zh_CN": ("CN", "zh"),
    "en_US": ("US", "en"),
    "en_GB": ("GB", "en"),
    "sv_SE": ("SE", "sv"),
    "de_DE": ("DE", "de"),
}
POOL = 400
BATCH = 5000
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
CATEGORIES = ("billing", "technical", "delivery", "account", "complaint", "other")
DISPOSITIONS = ("resolved", "callback", "escalated", "information", "no_answer")


@dataclass
class DemoCounts:
    """How many records :func:`generate` made, per entity."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, entity: str, count: int) -> None:
        self.counts[entity] = self.counts.get(entity, 0) + count


@dataclass
class _Locale:
    region: str
    language: str
    first: list[str]
    last: list[str]
    cities: list[str]
    streets: list[str]
    postcodes: list[str]
    prefix: str  # country code
    national: str  # an example mobile number's national digits
    keep: int  # how many leading national digits stay


def _locale(name: str, seed: int) -> _Locale:
    fake = Faker(name)
    fake.seed_instance(seed)
    region, language = LOCALES[name]
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    national = str(example.national_number)
    return _Locale(
        region,
        language,
        [fake.first_name() for _ in range(POOL)],
        [fake.last_name() for _ in range(POOL)],
        [fake.city() for _ in range(POOL // 4)],
        [fake.street_address() for _ in range(POOL)],
        [fake.postcode() for _ in range(POOL // 4)],
        str(example.country_code),
        national,
        max(3, len(national) - 6),
    )


def _phone(rng: random.Random, loc: _Locale) -> tuple[str, str]:
    """(as typed, E.164) of a random mobile number of the locale's country."""
    tail = "".join(rng.choice("0123456789") for _ in range(len(loc.national) - loc.keep))
    national = loc.national[: loc.keep] + tail
    e164 = f"+{loc.prefix}{national}"
    style = rng.randrange(3)
    if style == 0:
        typed = e164
    elif style == 1:
        typed = f"00{loc.prefix} {national[:3]} {national[3:]}"
    else:
        typed = f"+{loc.prefix} ({national[:2]}) {national[2:5]}-{national[5:]}"
    return typed, e164


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def generate(target: SqlRepository | sa.Engine, customers: int, seed: int = 0) -> DemoCounts:
    """Add ``customers`` demo contacts (one in ten with an account) and their records."""
    engine = target.engine if isinstance(target, SqlRepository) else target
    rng = random.Random(seed)
    locales = [_locale(name, seed) for name in LOCALES]
    counts = DemoCounts()
    articles = _articles(rng, max(5, customers // 20), seed)
    with write_connection(engine) as conn:
        with conn.begin():
            if conn.dialect.name == "sqlite":  # a large page cache keeps the random-key indexes in memory
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            _insert(conn, work.KnowledgeArticle, articles)
        counts.add("knowledge_article", len(articles))
        for start in range(0, customers, BATCH):
            tables = _customers(rng, locales, min(BATCH, customers - start), start)
            with conn.begin():
                for model, rows in tables:
                    _insert(conn, model, rows)
            for model, rows in tables:
                counts.add(_ENTITY[model.__tablename__], len(rows))
    return counts


def _sqlite_time(value: datetime | None) -> str | None:
    """``value`` as SQLAlchemy's SQLite DateTime stores it (naive UTC text)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert(conn: sa.Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in one executemany (on SQLite straight through the driver, for speed)."""
    if not rows:
        return
    table: sa.Table = model.__table__
    if conn.dialect.name != "sqlite":
        conn.execute(sa.insert(table), rows)
        return
    names = [column.name for column in table.columns]
    times = [name for name in names if isinstance(table.c[name].type, sa.DateTime)]
    for row in rows:
        for name in times:
            row[name] = _sqlite_time(row[name])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, [tuple(row[name] for name in names) for row in rows])


_ENTITY = {
    "accounts": "account",
    "contacts": "contact",
    "phones": "phone",
    "emails": "email",
    "addresses": "address",
    "cases": "case",
    "interactions": "interaction",
    "notes": "note",
}


def _articles(rng: random.Random, count: int, seed: int) -> list[dict[str, Any]]:
    fake = Faker(["en_US", "fi_FI", "ro_RO"])
    fake.seed_instance(seed)
    return [
        {
            "id": _uuid(rng),
            "title": fake.sentence(nb_words=6).rstrip("."),
            "body": fake.paragraph(nb_sentences=8),
            "tags": ",".join(rng.sample(CATEGORIES, 2)),
            "language": rng.choice(("en", "fi", "ro")),
            "created_at": EPOCH,
            "updated_at": None,
        }
        for _ in range(count)
    ]


def _customers(
    rng: random.Random, locales: list[_Locale], count: int, start: int
) -> list[tuple[Any, list[Any]]]:
    accounts: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    phones: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    interactions: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for number in range(start, start + count):
        loc = rng.choice(locales)
        first, last = rng.choice(loc.first), rng.choice(loc.last)
        full = f"{last}{first}" if loc.region == "CN" else f"{first} {last}"
        account_id = None
        if number % 10 == 0:
            account_id = _uuid(rng)
            accounts.append(
                {
                    "id": account_id,
                    "name": f"{last} {rng.choice(('Oy', 'SRL', 'Ltd', 'Inc', 'GmbH', 'AB'))}",
                    "account_number": f"ACC-{number:08d}",
                    "preferred_language": loc.language,
                    "segment": rng.choice(SEGMENTS),
                    "website": None,
                    "created_at": EPOCH,
                }
            )
        contact_id = _uuid(rng)
        contacts.append(
            {
                "id": contact_id,
                "first_name": first,
                "last_name": last,
                "full_name": full,
                "account_id": account_id,
                "preferred_language": loc.language,
                "segment": rng.choice(SEGMENTS),
                "birth_date": None,
                "created_at": EPOCH + timedelta(seconds=number),
            }
        )
        owner = {"account_id": None, "contact_id": contact_id}
        for kind in ("mobile", "work", "home")[: rng.randint(1, 3)]:
            phone_loc = loc if kind == "mobile" or rng.random() < 0.7 else rng.choice(locales)
            typed, e164 = _phone(rng, phone_loc)
            phones.append({"id": _uuid(rng), **owner, "number": typed, "e164": e164, "kind": kind})
        emails.append(
            {"id": _uuid(rng), **owner, "address": f"customer{number}@example.com", "kind": "personal"}
        )
        addresses.append(
            {
                "id": _uuid(rng),
                **owner,
                "kind": "postal",
                "line1": rng.choice(loc.streets),
                "line2": None,
                "city": rng.choice(loc.cities),
                "postal_code": rng.choice(loc.postcodes),
                "region": None,
                "country": loc.region,
            }
        )
        _work(rng, number, owner, cases, interactions, notes)
    return [
        (Account, accounts),
        (Contact, contacts),
        (Phone, phones),
        (Email, emails),
        (Address, addresses),
        (work.Case, cases),
        (work.Interaction, interactions),
        (work.Note, notes),
    ]


def _work(
    rng: random.Random,
    number: int,
    owner: dict[str, Any],
    cases: list[dict[str, Any]],
    interactions: list[dict[str, Any]],
    notes: list[dict[str, Any]],
) -> None:
    case_ids: list[str | None] = [None]
    for index in range(rng.randint(0, 2)):
        case_id = _uuid(rng)
        case_ids.append(case_id)
        status = rng.choice(work.CASE_STATUSES)
        opened = EPOCH + timedelta(minutes=rng.randrange(600_000))
        cases.append(
            {
                "id": case_id,
                "case_number": f"CAS-{number:08d}-{index}",
                "title": f"{rng.choice(CATEGORIES).title()} question",
                "description": None,
                **owner,
                "status": status,
                "priority": rng.choice(work.CASE_PRIORITIES),
                "category": rng.choice(CATEGORIES),
                "owner": f"agent{rng.randrange(50)}",
                "due_at": opened + timedelta(days=3),
                "escalation_level": 0,
                "escalation_reason": None,
                "resolution": "Answered" if status in ("resolved", "closed") else None,
                "created_at": opened,
                "updated_at": None,
            }
        )
    for _ in range(rng.randint(0, 3)):
        offered = EPOCH + timedelta(minutes=rng.randrange(600_000))
        answered = offered + timedelta(seconds=rng.randrange(5, 300))
        ended = answered + timedelta(seconds=rng.randrange(30, 1200))
        interactions.append(
            {
                "id": _uuid(rng),
                "channel": rng.choice(work.CHANNELS),
                "direction": rng.choice(work.DIRECTIONS),
                "subject": None,
                "queue": rng.choice(("general", "billing", "support")),
                "agent": f"agent{rng.randrange(50)}",
                "address": None,
                **owner,
                "case_id": rng.choice(case_ids),
                "offered_at": offered,
                "answered_at": answered,
                "ended_at": ended,
                "wrap_up_ended_at": ended + timedelta(seconds=rng.randrange(0, 120)),
                "hold_seconds": rng.randrange(0, 90),
                "disposition": rng.choice(DISPOSITIONS),
                "first_contact_resolution": rng.random() < 0.6,
                "transfers": rng.randrange(0, 3),
            }
        )
    if rng.random() < 0.5:
        notes.append(
            {
                "id": _uuid(rng),
                **owner,
                "case_id": None,
                "interaction_id": None,
                "subject": "Customer preference",
                "body": rng.choice(("Prefers e-mail.", "Call after 16:00.", "Speaks slowly, be patient.")),
                "author": f"agent{rng.randrange(50)}",
                "created_at": EPOCH,
                "updated_at": None,
            }
        )
