"""Demo data: realistic multilingual customers with phones, e-mails, addresses, cases, interactions,
notes and knowledge articles, made with Faker (fi_FI, ro_RO, zh_CN, en_US, en_GB, sv_SE, de_DE).

Fast enough for a million customers: names, companies and places come from pools Faker fills once
per locale; every row is a plain tuple built with a few draws from one ``random.Random``; the rows
go in by batches through :mod:`usd_desktop.data.demo_load` (SQLite ``executemany`` with the load
tuned, PostgreSQL ``COPY``; the secondary indexes of empty tables built once at the end). Record
ids are time-ordered UUIDs (version 7) made from the customer's number, so every primary-key index
grows at its end.

Phone numbers are valid mobile numbers of the customer's country (mostly) or another one: a region's
example mobile number with random subscriber digits, stored as typed in a few international styles
with their E.164 form. Knowledge articles are support how-tos in English, Finnish, Romanian and
Chinese (:mod:`usd_desktop.data.demo_articles`). The same ``seed`` makes the same data. What the
KPIs read besides the interactions (survey answers, agent state periods, some unanswered calls) is
made by :mod:`usd_desktop.data.kpi_demo` from a random stream of its own.

Customers are numbered from the number of contacts already in the database, so running
:func:`generate` again adds new customers (case and account numbers stay unique).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import phonenumbers
import sqlalchemy as sa
from faker import Faker

from usd_desktop.data import models_work as work
from usd_desktop.data.demo_articles import make_articles
from usd_desktop.data.demo_load import BulkLoad, bulk_load
from usd_desktop.data.engine import write_connection
from usd_desktop.data.kpi_demo import COLUMNS as KPI_COLUMNS
from usd_desktop.data.kpi_demo import KpiDemo
from usd_desktop.data.models import SEGMENTS, Base
from usd_desktop.data.repository import SqlRepository

#: Faker locale -> (phone region, language, legal form added to a one-word company name).
LOCALES = {
    "fi_FI": ("FI", "fi", "Oy"),
    "ro_RO": ("RO", "ro", "SRL"),
    "zh_CN": ("CN", "zh", ""),
    "en_US": ("US", "en", "Inc."),
    "en_GB": ("GB", "en", "Ltd"),
    "sv_SE": ("SE", "sv", "AB"),
    "de_DE": ("DE", "de", "GmbH"),
}
POOL = 400
#: Customers per transaction.
BATCH = 10_000
#: Most knowledge articles made by default (``articles`` not given): a twentieth of the customers.
DEFAULT_MAX_ARTICLES = 5000
#: Where demo time starts: the first of the month 13 months ago, so that the ~14 months of demo history
#: end about now (cases due this week, recent interactions) on whatever day the demo is made. The
#: same seed gives the same data within a month.
_YEAR, _MONTH = divmod(datetime.now(UTC).year * 12 + datetime.now(UTC).month - 1 - 13, 12)
EPOCH = datetime(_YEAR, _MONTH + 1, 1, tzinfo=UTC)
#: How far demo time runs past :data:`EPOCH` (about 14 months).
SPAN_SECONDS = 36_000_000
_EPOCH_MS = int(EPOCH.timestamp() * 1000)
#: Subjects of interactions not linked to a case.
QUEUES_SUBJECT = ("Balance enquiry", "Opening hours", "Change of address", "Order status", "Product question",
                  "Callback request", "Payment confirmation")
CATEGORIES = ("billing", "technical", "delivery", "account", "complaint", "other")
CASE_TITLES = {
    "billing": ("Invoice higher than expected", "Refund not received", "Charged twice", "Roaming charges"),
    "technical": (
        "No internet connection",
        "Text messages not received",
        "Router keeps restarting",
        "No signal indoors",
    ),
    "delivery": ("Parcel has not arrived", "Wrong item delivered", "Change delivery address"),
    "account": ("Cannot sign in", "Change of address", "Password reset", "Number transfer"),
    "complaint": ("Complaint about waiting time", "Complaint about an invoice", "Unhappy with repair"),
    "other": ("General question", "Feedback", "Information request"),
}
DISPOSITIONS = ("resolved", "callback", "escalated", "information", "no_answer")
QUEUES = ("general", "billing", "support")
NOTES = (
    "Prefers e-mail.",
    "Call after 16:00.",
    "Speaks slowly, be patient.",
    "Asked for a Finnish-speaking agent.",
    "Has a hearing impairment: offer chat.",
    "VIP: handle with priority.",
)
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
_HEX = "0123456789abcdef"

#: Table -> the columns the demo rows fill, in their order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "knowledge_articles": ("id", "title", "body", "tags", "language", "created_at"),
    "accounts": ("id", "name", "account_number", "preferred_language", "segment", "website", "created_at"),
    "contacts": (
        "id",
        "first_name",
        "last_name",
        "full_name",
        "account_id",
        "preferred_language",
        "segment",
        "birth_date",
        "created_at",
    ),
    "phones": ("id", "contact_id", "number", "e164", "kind"),
    "emails": ("id", "contact_id", "address", "kind"),
    "addresses": ("id", "contact_id", "kind", "line1", "city", "postal_code", "country"),
    "cases": (
        *("id", "case_number", "title", "contact_id", "status", "priority", "category", "owner", "due_at"),
        *("escalation_level", "escalation_reason", "resolution", "created_at"),
        *(c for c in ("resolved_at", "closed_at") if c in work.Case.__table__.c),  # when the schema has them
    ),
    "interactions": (
        "id",
        "channel",
        "direction",
        "subject",
        "queue",
        "agent",
        "address",
        "contact_id",
        "case_id",
        "offered_at",
        "answered_at",
        "ended_at",
        "wrap_up_ended_at",
        "hold_seconds",
        "disposition",
        "first_contact_resolution",
        "transfers",
        "end_cause",
    ),
    "notes": ("id", "contact_id", "subject", "body", "author", "created_at"),
    **KPI_COLUMNS,
}
_LIFECYCLE = len(COLUMNS["cases"]) > 13
#: Table -> entity name in :class:`DemoCounts`.
ENTITIES = {
    "knowledge_articles": "knowledge_article",
    "accounts": "account",
    "contacts": "contact",
    "phones": "phone",
    "emails": "email",
    "addresses": "address",
    "cases": "case",
    "interactions": "interaction",
    "notes": "note",
    "survey_responses": "survey_response",
    "agent_state_periods": "agent_state_period",
}


@dataclass
class DemoCounts:
    """How many records :func:`generate` made, per entity."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, entity: str, count: int) -> None:
        self.counts[entity] = self.counts.get(entity, 0) + count


def default_articles(customers: int) -> int:
    """How many knowledge articles :func:`generate` makes when not told: a twentieth of the customers,
    at least 5 and at most :data:`DEFAULT_MAX_ARTICLES`."""
    return max(5, min(customers // 20, DEFAULT_MAX_ARTICLES))


def generate(
    target: SqlRepository | sa.Engine,
    customers: int,
    seed: int = 0,
    *,
    articles: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCounts:
    """Add ``customers`` demo contacts (one in ten with an account) and their records, and
    ``articles`` knowledge articles (default :func:`default_articles`).

    ``progress(done, customers)`` is called after each batch of customers is committed.
    """
    engine = target.engine if isinstance(target, SqlRepository) else target
    how_many = default_articles(customers) if articles is None else max(0, articles)
    counts = DemoCounts({entity: 0 for entity in ENTITIES.values()})
    tables = [t for t in COLUMNS if (t == "knowledge_articles" and how_many) or customers > 0]
    with bulk_load(engine, tables) as load:
        with load.conn.begin():
            start = int(load.conn.exec_driver_sql("SELECT count(*) FROM contacts").scalar_one())
        maker = _Maker(seed, start, load.time_suffix)
        jobs: list[tuple[int, Callable[[], dict[str, list[tuple[Any, ...]]]]]] = [
            (0, partial(maker.articles, min(BATCH, how_many - offset)))
            for offset in range(0, how_many, BATCH)
        ]
        jobs += [
            (
                min(offset + BATCH, customers),
                partial(maker.customers, start + offset, min(BATCH, customers - offset)),
            )
            for offset in range(0, customers, BATCH)
        ]
        # (making the next batch in a worker thread meanwhile was tried: it is slower, since the
        # executemany binding the rows and the worker fight over the GIL)
        for done, job in jobs:
            batch = job()
            _commit(load, batch)
            for table, rows in batch.items():
                counts.add(ENTITIES[table], len(rows))
            if done and progress is not None:
                progress(done, customers)
    return counts


def _commit(load: BulkLoad, batch: dict[str, list[tuple[Any, ...]]]) -> None:
    with load.conn.begin():
        for table, rows in batch.items():
            load.insert(table, COLUMNS[table], rows)


# ---------------------------------------------------------------------- pools


def _ascii(text: str) -> str:
    """``text`` as lower-case ASCII letters (diacritics dropped; other scripts give ``""``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if "a" <= c <= "z")


@dataclass
class _Locale:
    region: str
    language: str
    first: list[tuple[str, str]]  # (name, ASCII form for e-mail addresses)
    last: list[tuple[str, str]]
    companies: list[tuple[str, str | None]]  # (name, website)
    cities: list[str]
    streets: list[str]
    postcodes: list[str]
    prefix: str  # country code
    national: str  # an example mobile number's national digits
    keep: int  # how many leading national digits stay
    span: int  # 10 ** (random digits)


def _locale(name: str, seed: int) -> _Locale:
    fake = Faker(name)
    fake.seed_instance(seed)
    region, language, legal = LOCALES[name]
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    national = str(example.national_number)
    keep = max(3, len(national) - 6)
    companies: list[tuple[str, str | None]] = []
    for _ in range(POOL // 2):
        company = fake.company()
        if legal and " " not in company:
            company = f"{company} {legal}"
        slug = _ascii(company.split(" ")[0])
        companies.append((company, f"https://www.{slug}.example" if slug else None))
    return _Locale(
        region,
        language,
        [(n, _ascii(n)) for n in (fake.first_name() for _ in range(POOL))],
        [(n, _ascii(n)) for n in (fake.last_name() for _ in range(POOL))],
        companies,
        [fake.city() for _ in range(POOL // 4)],
        [fake.street_address() for _ in range(POOL)],
        [fake.postcode() for _ in range(POOL // 4)],
        str(example.country_code),
        national,
        keep,
        10 ** (len(national) - keep),
    )


class _Clock:
    """Timestamp text (``YYYY-MM-DD HH:MM:SS.ffffff`` + the database's zone suffix) of seconds since
    :data:`EPOCH`, from precomputed day and time-of-day strings."""

    def __init__(self, suffix: str) -> None:
        self.days: list[str] = []
        self.times = [
            f"{h:02d}:{m:02d}:{s:02d}.000000{suffix}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def at(self, seconds: int) -> str:
        day, rest = divmod(seconds, 86400)
        days = self.days
        if day >= len(days):
            start = len(days)
            days.extend(f"{(EPOCH + timedelta(days=d)).date()} " for d in range(start, day + 1000))
        return days[day] + self.times[rest]


# ---------------------------------------------------------------------- rows


class _Maker:
    """Makes the rows of a run: ``seed`` and the first customer number fix them all."""

    def __init__(self, seed: int, start: int, suffix: str) -> None:
        self.rng = random.Random(seed if start == 0 else f"{seed}/{start}")
        self.locales = [_locale(name, seed) for name in LOCALES]
        self.clock = _Clock(suffix)
        first_birthday = date(1940, 1, 1)
        self.birthdays = [str(first_birthday + timedelta(days=d)) for d in range(0, 24_000, 3)]
        self.agents = [f"agent{i}" for i in range(50)]
        self.kpi = KpiDemo(seed, start, self.clock.at, self.agents, SPAN_SECONDS)
        # cases, interactions and notes of the batch being made
        self._cases: list[tuple[Any, ...]] = []
        self._interactions: list[tuple[Any, ...]] = []
        self._notes: list[tuple[Any, ...]] = []

    def articles(self, count: int) -> dict[str, list[tuple[Any, ...]]]:
        at, rnd = self.clock.at, self.rng.random
        rows = [(*article, at(int(rnd() * SPAN_SECONDS))) for article in make_articles(self.rng, count)]
        return {"knowledge_articles": rows}

    def customers(self, first: int, count: int) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of customers ``first`` to ``first + count - 1``, per table."""
        rng, rnd, bits, at = self.rng, self.rng.random, self.rng.getrandbits, self.clock.at
        locales, birthdays = self.locales, self.birthdays
        accounts: list[tuple[Any, ...]] = []
        contacts: list[tuple[Any, ...]] = []
        phones: list[tuple[Any, ...]] = []
        emails: list[tuple[Any, ...]] = []
        addresses: list[tuple[Any, ...]] = []
        base = _EPOCH_MS >> 4
        for number in range(first, first + count):
            # ids: a UUIDv7 per record, its millisecond field (number * 16 + slot) ordered by number
            h = f"{base + number:011x}"
            head = f"{h[:8]}-{h[8:]}"
            r = bits(74)
            tail = f"-7{r >> 62:03x}-{0x8000 | (r >> 48) & 0x3FFF:04x}-{r & 0xFFFFFFFFFFFF:012x}"
            loc = locales[int(rnd() * 7)]
            first_name, first_ascii = loc.first[int(rnd() * POOL)]
            last_name, last_ascii = loc.last[int(rnd() * POOL)]
            full = f"{last_name}{first_name}" if loc.language == "zh" else f"{first_name} {last_name}"
            account_id = None
            if number % 10 == 0:
                account_id = head + "0" + tail
                company, website = loc.companies[int(rnd() * len(loc.companies))]
                accounts.append(
                    (
                        account_id,
                        company,
                        f"ACC-{number:08d}",
                        loc.language,
                        SEGMENTS[int(rnd() * 5)],
                        website,
                        at(number),
                    )
                )
            contact_id = head + "1" + tail
            birthday = birthdays[int(rnd() * len(birthdays))] if rnd() < 0.8 else None
            contacts.append(
                (
                    contact_id,
                    first_name,
                    last_name,
                    full,
                    account_id,
                    loc.language,
                    SEGMENTS[int(rnd() * 5)],
                    birthday,
                    at(number),
                )
            )
            e164s = []
            for slot, kind in enumerate(("mobile", "work", "home")[: 1 + int(rnd() * 3)]):
                ploc = loc if slot == 0 or rnd() < 0.7 else locales[int(rnd() * 7)]
                typed, e164 = _phone(rnd, ploc)
                e164s.append(e164)
                phones.append((head + _HEX[2 + slot] + tail, contact_id, typed, e164, kind))
            if number % 50 == 7 and number > first:
                # a household: the previous customer's number is this one's home phone too (a
                # caller with several matches); no random draw, so the other data stay as they were
                shared = phones[-len(e164s) - 1]
                phones.append((head + "d" + tail, contact_id, shared[2], shared[3], "home"))
            mailbox = (
                f"{first_ascii}.{last_ascii}{number}" if first_ascii and last_ascii else f"customer{number}"
            )
            email = f"{mailbox}@{MAIL_DOMAINS[number & 3]}"
            emails.append((head + "5" + tail, contact_id, email, "personal"))
            addresses.append(
                (
                    head + "6" + tail,
                    contact_id,
                    "postal",
                    loc.streets[int(rnd() * POOL)],
                    loc.cities[int(rnd() * len(loc.cities))],
                    loc.postcodes[int(rnd() * len(loc.postcodes))],
                    loc.region,
                )
            )
            self._work(rng, number, head, tail, contact_id, e164s[0], email)
        tables = {
            "accounts": accounts,
            "contacts": contacts,
            "phones": phones,
            "emails": emails,
            "addresses": addresses,
        }
        tables.update(self._done_work())
        return tables

    def _done_work(self) -> dict[str, list[tuple[Any, ...]]]:
        out = {"cases": self._cases, "interactions": self._interactions, "notes": self._notes}
        self._cases, self._interactions, self._notes = [], [], []
        out.update(self.kpi.done())  # after the interactions they refer to
        return out

    def _work(
        self, rng: random.Random, number: int, head: str, tail: str, contact_id: str, phone: str, email: str
    ) -> None:
        rnd, at, agents = rng.random, self.clock.at, self.agents
        case_ids: list[str | None] = [None]
        subjects: dict[str | None, str] = {}
        for index in range(int(rnd() * 3)):
            case_id = head + _HEX[7 + index] + tail
            case_ids.append(case_id)
            status = work.CASE_STATUSES[int(rnd() * 4)]
            category = CATEGORIES[int(rnd() * 6)]
            titles = CASE_TITLES[category]
            opened = int(rnd() * SPAN_SECONDS)
            if status == "needs_follow_up":  # follow-ups are recent: due in the last weeks or the days ahead
                opened = SPAN_SECONDS - int(rnd() * 1_500_000)
            escalated = rnd() < 0.1
            done = status in ("resolved", "closed")
            row: tuple[Any, ...] = (
                case_id,
                f"CAS-{number:08d}-{index}",
                subjects.setdefault(case_id, titles[int(rnd() * len(titles))]),
                contact_id,
                status,
                work.CASE_PRIORITIES[int(rnd() * 4)],
                category,
                agents[int(rnd() * 50)],
                at(opened + 259_200),
                1 if escalated else 0,
                "Customer asked for a supervisor" if escalated else None,
                "Answered" if done else None,
                at(opened),
            )
            if _LIFECYCLE:
                finished = at(opened + 3600 + int(rnd() * 400_000)) if done else None
                row += (finished, finished if status == "closed" else None)
            self._cases.append(row)
        for slot in range(int(rnd() * 4)):
            channel = work.CHANNELS[int(rnd() * 5)]
            offered = int(rnd() * SPAN_SECONDS)
            answered = offered + 5 + int(rnd() * 295)
            ended = answered + 30 + int(rnd() * 1170)
            address = phone if channel in ("phone", "sms") else email if channel == "email" else None
            linked = case_ids[int(rnd() * len(case_ids))]
            # drawn in the order the row's values always were, so the rows stay as they were
            direction = work.DIRECTIONS[int(rnd() * 2)]
            subject = subjects.get(linked) or QUEUES_SUBJECT[int(rnd() * len(QUEUES_SUBJECT))]
            queue = QUEUES[int(rnd() * 3)]
            agent = agents[int(rnd() * 50)]
            wrapped = ended + int(rnd() * 120)
            row = (
                *(head + _HEX[9 + slot] + tail, channel, direction, subject, queue, agent, address),
                *(contact_id, linked, at(offered), at(answered), at(ended), at(wrapped), int(rnd() * 90)),
                *(DISPOSITIONS[int(rnd() * 5)], rnd() < 0.6, int(rnd() * 3), "normal"),
            )
            self._interactions.append(row)
            self.kpi.handled(row, answered, ended, wrapped)
        unanswered = self.kpi.unanswered(head + "e" + tail, phone)
        if unanswered is not None:
            self._interactions.append(unanswered)
        if rnd() < 0.5:
            self._notes.append(
                (
                    head + "c" + tail,
                    contact_id,
                    "Customer preference",
                    NOTES[int(rnd() * len(NOTES))],
                    agents[int(rnd() * 50)],
                    at(number),
                )
            )


def _phone(rnd: Callable[[], float], loc: _Locale) -> tuple[str, str]:
    """(as typed, E.164) of a random mobile number of the locale's country."""
    width = len(loc.national) - loc.keep
    national = f"{loc.national[: loc.keep]}{int(rnd() * loc.span):0{width}d}"
    e164 = f"+{loc.prefix}{national}"
    style = int(rnd() * 3)
    if style == 0:
        return e164, e164
    if style == 1:
        return f"00{loc.prefix} {national[:3]} {national[3:]}", e164
    return f"+{loc.prefix} ({national[:2]}) {national[2:5]}-{national[5:]}", e164


#: The knowledge search's own tables (not models; see :mod:`usd_desktop.data.knowledge`).
KNOWLEDGE_INDEX = ("knowledge_terms", "knowledge_fts", "knowledge_docs", "knowledge_dirty")


def count_customers(target: SqlRepository | sa.Engine) -> int:
    """How many accounts and contacts the database holds."""
    engine = target.engine if isinstance(target, SqlRepository) else target
    with engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM contacts)"
            ).scalar_one()
        )


def empty_service_desk(target: SqlRepository | sa.Engine) -> None:
    """Delete every service-desk record: customers and their details, work records, campaigns,
    knowledge articles and the knowledge index (PostgreSQL ``TRUNCATE``; SQLite ``DELETE`` with the
    foreign keys left unchecked meanwhile, since every table referring to another is emptied too)."""
    engine = target.engine if isinstance(target, SqlRepository) else target
    with write_connection(engine) as conn:
        existing = set(sa.inspect(conn).get_table_names())
        tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
        tables += [t for t in KNOWLEDGE_INDEX if t in existing]
        conn.rollback()  # the inspection began a transaction
        if engine.dialect.name == "postgresql":
            with conn.begin():
                conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            return
        driver = conn.connection.driver_connection
        assert driver is not None
        checks = driver.execute("PRAGMA foreign_keys").fetchone()[0]
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                for table in tables:  # knowledge_dirty last: deleting articles queues them there
                    conn.exec_driver_sql(f"DELETE FROM {table}")
        finally:
            driver.execute(f"PRAGMA foreign_keys={int(checks)}")
