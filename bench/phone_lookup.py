"""Screen-pop caller lookup on a large customer base, against a raw indexed SQL lookup.

Builds a data database of ``--customers`` demo customers (default 1,000,000; ``--reuse PATH`` keeps
the SQLite file and uses it again next time, ``--data URL`` runs on PostgreSQL) and prints the build
time. Then looks customers up by the caller's number as a screen pop does
(``SqlRepository.find_customers_by_phone``: normalise to E.164, then the indexed query joined to the
account and contact names) with numbers written as callers' numbers arrive: E.164, international
with spaces, national (read in the number's own region), with the ``00`` prefix; numbers that are
nobody's; and input that is no phone number at all. The baselines, measured in the same run, are
the indexed query on the E.164 number done straight through the driver (sqlite3 or psycopg): the
bare ``SELECT ... FROM phones WHERE e164 = ?`` and the same join the repository does. Figures: p50,
p99 and mean per lookup, and the ratios.

    .venv/bin/python bench/phone_lookup.py                      # 1,000,000 customers, temporary file
    .venv/bin/python bench/phone_lookup.py --customers 100000 --reuse /tmp/phones.db
    .venv/bin/python bench/phone_lookup.py --data postgresql+psycopg://usd@localhost/usd_bench
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers
import sqlalchemy as sa
from _common import database

from usd_desktop.config.store.location import engine_url, redact
from usd_desktop.data.demo import count_customers, generate
from usd_desktop.data.phones import normalise
from usd_desktop.data.repository import SqlRepository

RAW_PHONES = "SELECT id, contact_id, account_id FROM phones WHERE e164 = {p}"
RAW_JOINED = (
    "SELECT p.id, p.e164, p.account_id, p.contact_id, a.name, c.full_name FROM phones p"
    " LEFT OUTER JOIN accounts a ON a.id = p.account_id LEFT OUTER JOIN contacts c ON c.id = p.contact_id"
    " WHERE p.e164 = {p} ORDER BY p.id"
)


@dataclass(frozen=True)
class Lookup:
    kind: str
    typed: str  # what the screen pop gets
    region: str  # the default region it is read in
    e164: str | None  # what the raw lookup queries (None: not a number, nothing to query)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _figures(samples: list[float]) -> tuple[float, float, float]:
    """(p50, p99, mean) in microseconds."""
    return (
        _percentile(samples, 0.5) * 1e6,
        _percentile(samples, 0.99) * 1e6,
        statistics.fmean(samples) * 1e6,
    )



def build(url: str, customers: int, seed: int) -> None:
    with SqlRepository(url) as repo:
        existing = count_customers(repo)
        if existing:
            print(f"reusing {redact(url)}: {existing:,} accounts and contacts (not rebuilt)")
            return
        print(f"building {customers:,} customers in {redact(url)} ...", flush=True)
        start = time.perf_counter()
        counts = generate(repo, customers, seed, articles=0).counts
        elapsed = time.perf_counter() - start
    rows = sum(counts.values())
    print(f"build: {elapsed:.1f} s for {rows:,} rows ({rows / elapsed:,.0f} rows/s):")
    print("  " + ", ".join(f"{entity} {count:,}" for entity, count in counts.items() if count))


def sample(url: str, count: int, seed: int) -> list[Lookup]:
    """``count`` lookups: about 4/6 hits in four formats, 1/6 valid numbers of nobody, 1/6 not numbers."""
    rng = random.Random(seed)
    engine = sa.create_engine(engine_url(url))
    with engine.connect() as conn:
        some = "SELECT e164 FROM phones WHERE e164 IS NOT NULL ORDER BY random() LIMIT :n"  # both dialects
        picked = [str(row[0]) for row in conn.execute(sa.text(some), {"n": count})]
        known = set(picked)
        lookups: list[Lookup] = []
        for index, e164 in enumerate(picked):
            number = phonenumbers.parse(e164)
            region = phonenumbers.region_code_for_number(number)
            style = index % 6
            if style == 0:
                lookups.append(Lookup("hit, E.164", e164, "US", e164))
            elif style == 1:
                typed = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
                lookups.append(Lookup("hit, international with spaces", typed, "US", e164))
            elif style == 2:
                typed = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
                lookups.append(Lookup("hit, national", typed, region, e164))
            elif style == 3:
                typed = "00" + phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                ).lstrip("+")
                lookups.append(Lookup("hit, 00 prefix", typed, "US", e164))
            elif style == 4:
                miss = _nobodys(conn, e164, rng, known)
                lookups.append(Lookup("miss, valid number of nobody", miss, "US", miss))
            else:
                junk = rng.choice(("12345", "anonymous", "+1 (000) 000-0000", "0", "sip:agent@pbx"))
                lookups.append(Lookup("not a number", junk, "US", None))
    engine.dispose()
    rng.shuffle(lookups)
    return lookups


def _nobodys(conn: sa.Connection, e164: str, rng: random.Random, known: set[str]) -> str:
    """A valid number of the same country that no customer has."""
    while True:
        candidate = e164[:-4] + f"{rng.randrange(10_000):04d}"
        if candidate in known or not phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            continue
        found = conn.execute(sa.text("SELECT 1 FROM phones WHERE e164 = :e"), {"e": candidate}).first()
        if found is None:
            return candidate


def raw_lookup(url: str, sql: str) -> tuple[Callable[[str], list[Any]], Callable[[], None], str]:
    """(lookup, close, plan) straight through the driver for ``sql`` (``{p}``: the parameter)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(parsed.database))
        query = sql.format(p="?")
        plan = " / ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + query, ("+1",)))
        return (lambda e: conn.execute(query, (e,)).fetchall()), conn.close, plan
    import psycopg

    full = engine_url(url)
    pg = psycopg.connect(
        host=full.host or "localhost",
        port=full.port or 5432,
        user=full.username,
        password=full.password,
        dbname=full.database,
        autocommit=True,
    )
    query = sql.format(p="%s")
    plan = " / ".join(str(r[0]).strip() for r in pg.execute("EXPLAIN " + query, ("+1",)))

    def lookup(e164: str) -> list[Any]:
        return pg.execute(query, (e164,), prepare=True).fetchall()

    return lookup, pg.close, plan


def measure(lookups: list[Lookup], url: str, rounds: int) -> None:
    regions = sorted({lk.region for lk in lookups})
    repos = {region: SqlRepository(url, default_region=region) for region in regions}
    raw_phones, close_phones, plan = raw_lookup(url, RAW_PHONES)
    raw_joined, close_joined, _ = raw_lookup(url, RAW_JOINED)
    numbers = [lk for lk in lookups if lk.e164 is not None]
    for lk in lookups[:200]:  # warm up: connections, statement caches, the index pages
        repos[lk.region].find_customers_by_phone(lk.typed)
    for lk in numbers[:200]:
        raw_phones(str(lk.e164))
        raw_joined(str(lk.e164))
    ours: dict[str, list[float]] = {}
    bare: list[float] = []
    joined: list[float] = []
    found = {"hit": 0, "miss": 0}
    clock = time.perf_counter
    for _ in range(rounds):
        for lk in lookups:
            repo = repos[lk.region]
            start = clock()
            matches = repo.find_customers_by_phone(lk.typed)
            ours.setdefault(lk.kind, []).append(clock() - start)
            if lk.kind.startswith("hit") and matches:
                found["hit"] += 1
            elif lk.kind.startswith("miss") and not matches:
                found["miss"] += 1
        for lk in numbers:
            e164 = str(lk.e164)
            start = clock()
            raw_phones(e164)
            bare.append(clock() - start)
            start = clock()
            raw_joined(e164)
            joined.append(clock() - start)
    normalising = []
    for lk in numbers:
        start = clock()
        normalise(lk.typed, lk.region)
        normalising.append(clock() - start)
    norm = _figures(normalising)
    for repo in repos.values():
        repo.close()
    close_phones()
    close_joined()

    hits = sum(len(v) for k, v in ours.items() if k.startswith("hit"))
    misses = sum(len(v) for k, v in ours.items() if k.startswith("miss"))
    print(f"\nquery plan (raw): {plan}")
    print(f"hits found: {found['hit']:,} of {hits:,}; misses found nobody: {found['miss']:,} of {misses:,}")
    print(f"\n{len(lookups):,} lookups x {rounds} rounds; microseconds per lookup")
    print(f"  {'':46}{'p50':>9}{'p99':>9}{'mean':>9}")
    for kind in sorted(ours):
        p50, p99, mean = _figures(ours[kind])
        print(f"  {'screen pop: ' + kind:<46}{p50:>9.0f}{p99:>9.0f}{mean:>9.0f}")
    numbers_only = [t for kind, samples in ours.items() if kind != "not a number" for t in samples]
    rows = [
        ("screen pop (find_customers_by_phone), numbers", _figures(numbers_only)),
        ("raw SQL, phones WHERE e164 = ?", _figures(bare)),
        ("raw SQL, same join as the repository", _figures(joined)),
    ]
    rows.insert(1, ("  of which normalise() to E.164", norm))
    print()
    for label, (p50, p99, mean) in rows:
        print(f"  {label:<46}{p50:>9.0f}{p99:>9.0f}{mean:>9.0f}")
    del rows[1]
    screen = rows[0][1]
    for label, base in rows[1:]:
        ratios = "".join(f"{ours_ / theirs:>8.1f}x" for ours_, theirs in zip(screen, base, strict=True))
        print(f"  {'ratio screen pop / ' + label.split(', ', 1)[1]:<46}{ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reuse", metavar="PATH", help="SQLite file to build once and use again")
    parser.add_argument("--data", metavar="URL", help="a PostgreSQL (or SQLite) data database URL")
    parser.add_argument("--lookups", type=int, default=3000, help="distinct lookups (default 3000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with database(args, "phones") as url:
        build(url, args.customers, args.seed)
        lookups = sample(url, args.lookups, args.seed)
        measure(lookups, url, args.rounds)


if __name__ == "__main__":
    main()
