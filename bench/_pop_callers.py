"""The callers of bench/screen_pop.py: existing customers' numbers, picked with a seed, written as
callers' numbers arrive; and the baseline, the raw indexed lookup of the same numbers."""

from __future__ import annotations

import random
import sqlite3
import time
from dataclasses import dataclass
from urllib.parse import quote

import phonenumbers
import sqlalchemy as sa

from usd_desktop.config.store.location import engine_url

#: The one lookup a screen pop cannot do without: the caller's E.164 number to the contact's name,
#: joined as the repository does (phone_lookup.py's RAW_JOINED).
RAW_JOINED = (
    "SELECT p.id, p.e164, p.account_id, p.contact_id, a.name, c.full_name FROM phones p"
    " LEFT OUTER JOIN accounts a ON a.id = p.account_id LEFT OUTER JOIN contacts c ON c.id = p.contact_id"
    " WHERE p.e164 = {p} ORDER BY p.id"
)
#: How a caller's number arrives over HTTP (a URL parameter) and over SIP (the From URI's user part,
#: which cannot hold spaces). ``national`` is used for numbers of the data's default region only
#: (the repository reads a number without a country code in that region).
HTTP_FORMS = ("e164", "international", "national", "00 prefix")
SIP_FORMS = ("e164", "national", "00 prefix")


@dataclass(frozen=True)
class Caller:
    e164: str
    region: str
    name: str  # the contact's full name: what the session tab must show
    contact_id: str
    form: str = "e164"

    @property
    def typed(self) -> str:
        """The number as the caller's system sends it."""
        number = phonenumbers.parse(self.e164)
        if self.form == "international":
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if self.form == "national":
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if self.form == "00 prefix":
            return "00" + self.e164[1:]
        return self.e164

    @property
    def sip_user(self) -> str:
        """The number as a SIP URI's user part (digits, a leading +)."""
        return "".join(ch for ch in self.typed if ch.isdigit() or ch == "+")

    def http_path(self, dnis: str = "4355") -> str:
        """The listener's URL (USD's generic listener form); the leading + of ani unencoded, as
        softphones send it, everything else percent-encoded."""
        typed = self.typed
        lead = "+" if typed.startswith("+") else ""
        ani = lead + quote(typed[len(lead):], safe="")
        return f"/?ani={ani}&dnis={dnis}&type=phonecall&queue=Support"


def _unique_contact_phone(conn: sa.Connection, e164: str) -> tuple[str, str] | None:
    """(contact id, full name) when exactly one phone row has ``e164`` and it is a named contact's."""
    rows = conn.execute(sa.text("SELECT p.contact_id, c.full_name FROM phones p LEFT OUTER JOIN contacts c"
                                " ON c.id = p.contact_id WHERE p.e164 = :e"), {"e": e164}).all()
    if len(rows) != 1 or rows[0][0] is None or not str(rows[0][1] or "").strip():
        return None
    return str(rows[0][0]), str(rows[0][1])


def sample_callers(url: str, count: int, seed: int, region: str, forms: tuple[str, ...]) -> list[Caller]:
    """``count`` callers with numbers of existing contacts (one contact per number), in ``forms``
    by turns, picked at random with ``seed`` (SQLite: random row ids; PostgreSQL: a seeded
    ``ORDER BY random()``)."""
    rng = random.Random(seed)
    engine = sa.create_engine(engine_url(url))
    wanted_home = sum(1 for n in range(count) if forms[n % len(forms)] == "national")
    home: list[Caller] = []
    other: list[Caller] = []
    seen: set[str] = set()
    with engine.connect() as conn:
        for e164 in _candidates(conn, rng, seed):
            if len(other) >= count - wanted_home and len(home) >= wanted_home:
                break
            if e164 in seen:
                continue
            seen.add(e164)
            found = _unique_contact_phone(conn, e164)
            if found is None:
                continue
            number_region = phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
            caller = Caller(e164, number_region, found[1], found[0])
            if number_region == region and len(home) < wanted_home:
                home.append(caller)
            elif len(other) < count - wanted_home:
                other.append(caller)
    engine.dispose()
    if len(home) < wanted_home or len(other) < count - wanted_home:
        raise SystemExit(f"not enough customers with a phone of their own for {count} callers "
                         f"({len(home)} of {region}, {len(other)} others found)")
    callers = []
    for n in range(count):
        form = forms[n % len(forms)]
        base = home.pop() if form == "national" else other.pop()
        callers.append(Caller(base.e164, base.region, base.name, base.contact_id, form))
    rng.shuffle(callers)
    return callers


def _candidates(conn: sa.Connection, rng: random.Random, seed: int):  # type: ignore[no-untyped-def]
    if conn.dialect.name == "sqlite":
        top = int(conn.execute(sa.text("SELECT max(rowid) FROM phones")).scalar_one() or 0)
        while True:
            row = conn.execute(sa.text("SELECT e164 FROM phones WHERE rowid = :r AND e164 IS NOT NULL"),
                               {"r": rng.randint(1, top)}).first()
            if row is not None:
                yield str(row[0])
    else:
        conn.execute(sa.text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
        rows = conn.execute(sa.text("SELECT e164 FROM phones WHERE e164 IS NOT NULL ORDER BY random() "
                                    "LIMIT 20000")).all()
        yield from (str(r[0]) for r in rows)


def raw_lookups(url: str, numbers: list[str], rounds: int = 3) -> list[float]:
    """Seconds per raw lookup (sqlite3 or psycopg, the indexed join on the E.164 number) of each
    of ``numbers``, ``rounds`` times, after one warm-up round."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(parsed.database))
        query = RAW_JOINED.format(p="?")

        def lookup(e164: str) -> object:
            return conn.execute(query, (e164,)).fetchall()

        close = conn.close
    else:
        import psycopg

        full = engine_url(url)
        pg = psycopg.connect(host=full.host or "localhost", port=full.port or 5432, user=full.username,
                             password=full.password, dbname=full.database, autocommit=True)
        pg_query = RAW_JOINED.format(p="%s")

        def lookup(e164: str) -> object:
            return pg.execute(pg_query, (e164,), prepare=True).fetchall()

        close = pg.close
    for e164 in numbers:
        lookup(e164)
    samples = []
    for _ in range(rounds):
        for e164 in numbers:
            start = time.perf_counter()
            lookup(e164)
            samples.append(time.perf_counter() - start)
    close()
    return samples
