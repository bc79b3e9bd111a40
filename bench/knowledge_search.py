"""Knowledge search on a large knowledge base, against a plain ``LIKE '%word%'`` scan.

Writes ``--articles`` demo articles (default 50,000: support how-tos in English, Finnish, Romanian
and Chinese from the demo data's article generator) into a fresh SQLite data database (``--data
URL`` for another one, PostgreSQL included), prints how long the first index takes
(``KnowledgeSearch.sync``), then the latency of ``KnowledgeSearch.search`` for kinds of queries an
agent types: exact words, misspellings, misheard words, prefixes while typing, Finnish and Romanian
words with and without their diacritics, Chinese. The baseline, measured in the same run on the
same queries, is a plain scan ``WHERE title LIKE '%query%' OR body LIKE '%query%'`` (``ILIKE`` on
PostgreSQL). Figures: p50 and p99 per kind, the ratio, and per query the best article found and how
many articles the scan matched (0 for a misspelling: what the ranking search is for).

    .venv/bin/python bench/knowledge_search.py [--articles 50000] [--repeat 15] [--data URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from usd_desktop.config.store.location import redact
from usd_desktop.data.demo import generate
from usd_desktop.data.knowledge import KnowledgeSearch
from usd_desktop.data.repository import SqlRepository

QUERIES: dict[str, tuple[str, ...]] = {
    "exact words": ("password", "router", "refund", "roaming charges", "delivery address"),
    "misspellings": ("pasword", "recieve", "delivry", "refnud", "invioce"),
    "misheard (phonetic)": ("fone bil", "rowter", "roming", "pas word reset"),
    "prefixes while typing": ("pass", "passw", "passwo", "rou", "rout", "refu"),
    "Finnish with diacritics": ("sähköposti", "käynnistä", "lähetämme", "häiriötiedotteet"),
    "Finnish without diacritics": ("sahkoposti", "kaynnista", "lahetamme", "hairiotiedotteet"),
    "Romanian with diacritics": ("parolă", "factură", "rambursări", "întârziere"),
    "Romanian without diacritics": ("parola", "factura", "rambursari", "intarziere"),
    "Chinese": ("密码", "路由器"),
}


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(samples: list[float]) -> tuple[float, float, float]:
    return (
        _percentile(samples, 0.5) * 1e3,
        _percentile(samples, 0.99) * 1e3,
        statistics.fmean(samples) * 1e3,
    )


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="usd-knowledge-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'knowledge.db'}"


def timed(func: Callable[[], object], repeat: int) -> list[float]:
    func()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per query (default 15)")
    parser.add_argument("--data", metavar="URL", help="a data database URL (default: a temporary SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with database(args.data) as url, SqlRepository(url) as repo:
        with repo.engine.connect() as conn:
            existing = int(conn.execute(sa.text("SELECT count(*) FROM knowledge_articles")).scalar_one())
        if existing:
            print(f"reusing {existing:,} articles in {redact(url)}")
        else:
            start = time.perf_counter()
            generate(repo, 0, args.seed, articles=args.articles)
            elapsed = time.perf_counter() - start
            print(f"{args.articles:,} articles written in {elapsed:.1f} s ({redact(url)})")
        search = KnowledgeSearch(repo)
        start = time.perf_counter()
        indexed = search.sync()
        print(f"first index: {indexed:,} articles in {time.perf_counter() - start:.1f} s")
        with repo.engine.connect() as conn:
            per_language = "SELECT language, count(*) FROM knowledge_articles GROUP BY language"
            languages = dict(conn.execute(sa.text(per_language)).all())
        print("articles per language: " + ", ".join(f"{k} {v:,}" for k, v in sorted(languages.items())))

        like = "ILIKE" if repo.engine.dialect.name == "postgresql" else "LIKE"
        scan = sa.text(f"SELECT id FROM knowledge_articles WHERE title {like} :p OR body {like} :p")

        def scan_for(query: str) -> Callable[[], int]:
            def run() -> int:
                with repo.engine.connect() as conn:
                    return len(conn.execute(scan, {"p": f"%{query}%"}).all())

            return run

        print(f"\nper query (search: best article; scan: articles matched), {args.repeat} timed runs each")
        results: dict[str, tuple[list[float], list[float]]] = {}
        for kind, queries in QUERIES.items():
            ours: list[float] = []
            base: list[float] = []
            for query in queries:
                ours += timed(lambda q=query: search.search(q), args.repeat)
                base += timed(scan_for(query), args.repeat)
                hits = search.search(query)
                best = f"{hits[0].title[:48]!r} ({len(hits)} shown)" if hits else "nothing"
                print(f"  {kind:<28}{query!r:<24}search: {best:<62} scan: {scan_for(query)():>6,}")
            results[kind] = (ours, base)

        print("\nmilliseconds per query")
        print(f"  {'':28}{'search p50':>11}{'p99':>8}{'LIKE p50':>10}{'p99':>8}{'p50 ratio':>11}")
        every_ours: list[float] = []
        every_base: list[float] = []
        for kind, (ours, base) in results.items():
            o, b = _ms(ours), _ms(base)
            every_ours += ours
            every_base += base
            print(f"  {kind:<28}{o[0]:>11.1f}{o[1]:>8.1f}{b[0]:>10.1f}{b[1]:>8.1f}{o[0] / b[0]:>10.2f}x")
        o, b = _ms(every_ours), _ms(every_base)
        print(f"  {'all queries':<28}{o[0]:>11.1f}{o[1]:>8.1f}{b[0]:>10.1f}{b[1]:>8.1f}{o[0] / b[0]:>10.2f}x")
        print(f"  mean: search {o[2]:.1f} ms, LIKE scan {b[2]:.1f} ms (ratio {o[2] / b[2]:.2f}x)")


if __name__ == "__main__":
    main()
