"""Knowledge search: ranked full text plus phonetic and fuzzy matching, fast enough to run while typing.

Candidates come from indexes only, each source capped at :data:`CANDIDATES`:

* full text: SQLite FTS5 (``unicode61 remove_diacritics 2``, ranked by ``bm25`` with the title
  weighted over the tags over the body); PostgreSQL ``tsvector`` (``simple`` configuration, title
  weight A, tags B, body C) under a GIN index, ranked by ``ts_rank``. The last word of a query that
  does not end in a space is a prefix (results while typing).
* phonetic: every word of an article's title, tags and body (casefolded, diacritics stripped by
  NFKD) is kept in ``knowledge_terms`` with its Metaphone key (jellyfish), so a misheard or
  misspelt word (``rowter``, ``pasword``, ``salsana``, ``parola``) finds the article by its key.
* CJK (and any word with no Metaphone key): matched as a substring of title, tags and body with
  ``LIKE`` -- a scan, but CJK text has no word breaks for the other indexes to use.

The candidates are ranked in one score: words of the query found exactly (the last one as a
prefix) weigh most, so exact matches come first; then words found by their key, the full-text
rank and the rapidfuzz ``WRatio`` of the query against title and tags.

The query text is never query syntax: it is cut into words (letters and digits) and every word is
a bound parameter, quoted for FTS5. Articles written by anyone (the repository, the demo data,
another client) are queued by triggers in ``knowledge_dirty`` and indexed by the next search.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import jellyfish
import sqlalchemy as sa
from rapidfuzz import fuzz

from usd_desktop.core import replacement
from usd_desktop.data.engine import write_connection

#: How many candidates each source (full text, phonetic keys, substring) gives at most.
CANDIDATES = 200
#: How many matching term rows the phonetic source reads at most before ranking them.
SCAN = 20_000
#: How many articles indexed at once make the search refresh the database's statistics.
ANALYZE_AFTER = 1000
#: How many distinct words of one article are kept as phonetic terms at most.
MAX_TERMS = 400
#: Longest term kept (longer words are cut).
TERM_LENGTH = 64
#: Advisory lock key held on PostgreSQL while queued articles are indexed.
INDEX_LOCK = 0x55_53_44_4B  # "USDK"
#: Articles indexed per transaction.
CHUNK = 500
#: The most articles a search indexes itself before searching; a bigger backlog is the background's.
SEARCH_SYNC_LIMIT = CHUNK

_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SNIPPET = 160


class _HasEngine(Protocol):
    @property
    def engine(self) -> sa.Engine: ...


@dataclass(frozen=True)
class ArticleHit:
    """One found article: ``score`` is higher for better matches; ``matched`` the article's words found."""

    id: str
    title: str
    snippet: str
    score: float
    matched: list[str] = field(default_factory=list)


def normalise(word: str) -> str:
    """``word`` casefolded with its diacritics stripped (``Parolă`` -> ``parola``)."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The normalised words (letters and digits) of ``text``, in order."""
    return [normalise(w) for w in _WORD.findall(text)]


@lru_cache(maxsize=65536)
def phonetic_key(term: str) -> str:
    """The Metaphone key of a normalised word, or the word itself when it has none (digits, CJK)."""
    key = jellyfish.metaphone(term) if term.isascii() else ""
    return (key or term)[:TERM_LENGTH]


def _is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


@dataclass
class _Candidate:
    doc: int
    fts: float = 0.0
    exact: set[int] = field(default_factory=set)
    phonetic: set[int] = field(default_factory=set)
    substring: bool = False
    matched: dict[str, None] = field(default_factory=dict)


class KnowledgeSearch:
    """Searches the knowledge articles of a data database (an :class:`SqlRepository` or an engine)."""

    def __init__(self, repo_or_engine: sa.Engine | _HasEngine) -> None:
        self.engine = repo_or_engine if isinstance(repo_or_engine, sa.Engine) else repo_or_engine.engine
        self.postgresql = self.engine.dialect.name == "postgresql"

    # -- indexing ------------------------------------------------------------------------------

    def reindex(self) -> int:
        """Queue every article and index them all again; returns how many articles are indexed."""
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(sa.text("DELETE FROM knowledge_dirty"))
            conn.execute(
                sa.text("INSERT INTO knowledge_dirty (article_id) SELECT id FROM knowledge_articles")
            )
        return self.sync()

    def sync(self, *, stop: threading.Event | None = None) -> int:
        """Index the articles queued since the last sync; returns how many were (re)indexed.

        Work goes in chunks of :data:`CHUNK` articles, each its own short transaction, so writers
        (notes, forms) never wait behind a bulk index, and a search sees each chunk as it lands.
        ``stop`` is checked between chunks (the desktop closing).
        """
        if not self.pending():  # nothing queued: no write lock taken
            return 0
        count = 0
        while True:
            if stop is not None and stop.is_set():
                break
            with write_connection(self.engine) as conn, conn.begin():
                if self.postgresql:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INDEX_LOCK)))
                ids = list(
                    conn.execute(
                        sa.text("SELECT article_id FROM knowledge_dirty ORDER BY article_id LIMIT :n"),
                        {"n": CHUNK},
                    ).scalars()
                )
                if not ids:
                    break
                count += self._index(conn, ids)
                batch: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
                conn.execute(
                    sa.text("DELETE FROM knowledge_dirty WHERE article_id IN :ids").bindparams(batch),
                    {"ids": ids},
                )
        if count >= ANALYZE_AFTER:  # fresh statistics after a bulk load, or the planner guesses badly
            with write_connection(self.engine) as conn, conn.begin():
                conn.execute(sa.text("ANALYZE knowledge_terms" if self.postgresql else "ANALYZE"))
        return count

    def pending(self) -> int:
        """How many articles wait to be indexed."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM knowledge_dirty")).scalar_one())

    def _index(self, conn: sa.Connection, ids: list[str]) -> int:
        batch: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
        old = sa.text("SELECT doc FROM knowledge_docs WHERE article_id IN :ids").bindparams(batch)
        docs = list(conn.execute(old, {"ids": ids}).scalars())
        if docs:
            gone: sa.BindParameter[list[int]] = sa.bindparam("docs", expanding=True)
            conn.execute(
                sa.text("DELETE FROM knowledge_terms WHERE doc IN :docs").bindparams(gone), {"docs": docs}
            )
            if not self.postgresql:
                conn.execute(
                    sa.text("DELETE FROM knowledge_fts WHERE rowid IN :docs").bindparams(gone), {"docs": docs}
                )
            conn.execute(
                sa.text("DELETE FROM knowledge_docs WHERE doc IN :docs").bindparams(gone), {"docs": docs}
            )
        rows = conn.execute(
            sa.text(
                "SELECT id, title, tags, body, language FROM knowledge_articles WHERE id IN :ids"
            ).bindparams(batch),
            {"ids": ids},
        ).all()
        values = [
            {"id": i, "title": t or "", "tags": g or "", "body": b or "", "language": lang or ""}
            for i, t, g, b, lang in rows
        ]
        if not values:
            return 0
        if self.postgresql:  # the normalised words, so that accents do not matter to the full text
            for v in values:
                v.update({f"{k}_words": " ".join(words(v[k])) for k in ("title", "tags", "body")})
        if self.postgresql:
            insert = (
                "INSERT INTO knowledge_docs (article_id, language, tsv) VALUES (:id, :language,"
                " setweight(to_tsvector('simple', :title_words), 'A')"
                " || setweight(to_tsvector('simple', :tags_words), 'B')"
                " || setweight(to_tsvector('simple', :body_words), 'C'))"
            )
        else:
            insert = "INSERT INTO knowledge_docs (article_id, language) VALUES (:id, :language)"
        conn.execute(sa.text(insert), values)
        numbers: dict[str, int] = {
            str(a): int(d)
            for a, d in conn.execute(
                sa.text("SELECT article_id, doc FROM knowledge_docs WHERE article_id IN :ids").bindparams(
                    batch
                ),
                {"ids": [v["id"] for v in values]},
            )
        }
        for v in values:
            v["doc"] = numbers[v["id"]]
        if not self.postgresql:
            conn.execute(
                sa.text(
                    "INSERT INTO knowledge_fts (rowid, title, tags, body) VALUES (:doc, :title, :tags, :body)"
                ),
                values,
            )
        terms: list[dict[str, Any]] = []
        for v in values:
            seen = dict.fromkeys(w[:TERM_LENGTH] for w in words(f"{v['title']} {v['tags']} {v['body']}"))
            terms.extend({"doc": v["doc"], "term": t, "key": phonetic_key(t)} for t in list(seen)[:MAX_TERMS])
        if terms:
            conn.execute(
                sa.text("INSERT INTO knowledge_terms (doc, term, key) VALUES (:doc, :term, :key)"), terms
            )
        return len(rows)

    # -- searching -----------------------------------------------------------------------------

    def search_template(
        self, template: str, data: Mapping[str, Any], *, language: str | None = None, limit: int = 10
    ) -> list[ArticleHit]:
        """Search for ``template`` rendered with its replacement parameters against ``data``."""
        return self.search(replacement.render(template, data), language=language, limit=limit)

    def search(self, query: str, *, language: str | None = None, limit: int = 10) -> list[ArticleHit]:
        """The best ``limit`` articles for ``query`` (in ``language`` when given), best first."""
        tokens = list(dict.fromkeys(t[:TERM_LENGTH] for t in words(query)))
        if not tokens or limit <= 0:
            return []
        if 0 < self.pending() <= SEARCH_SYNC_LIMIT:  # a bigger backlog is the background's to index
            self.sync()
        prefix = tokens[-1] if not query[-1:].isspace() else None
        keys = {t: phonetic_key(t) for t in tokens}
        found: dict[int, _Candidate] = {}

        def candidate(doc: int) -> _Candidate:
            return found.setdefault(doc, _Candidate(doc))

        with self.engine.connect() as conn:
            for doc, rank in self._full_text(conn, tokens, prefix, language):
                candidate(doc).fts = rank
            for doc in self._by_terms(conn, tokens, prefix, keys, language):
                candidate(doc)
            cjk = [t for t in tokens if _is_cjk(t)]
            if cjk:
                for doc in self._by_substring(conn, cjk, language):
                    candidate(doc).substring = True
            if not found:
                return []
            self._mark_terms(conn, found, tokens, prefix, keys)
            articles = self._articles(conn, list(found))
        best = max((c.fts for c in found.values()), default=0.0) or 1.0
        text = " ".join(tokens)
        ranked: list[tuple[float, str, str, str, list[str]]] = []
        for doc, cand in found.items():
            if doc not in articles:
                continue
            id_, title, tags, body = articles[doc]
            exact = len(cand.exact) / len(tokens)
            phonetic = len(cand.phonetic | cand.exact) / len(tokens)
            fuzzy = fuzz.WRatio(text, " ".join(words(f"{title} {tags}"))) / 100.0
            score = 4.0 * exact + 1.5 * phonetic + cand.fts / best + fuzzy + (2.0 if cand.substring else 0.0)
            matched = list(cand.matched) or list(cjk if cand.substring else [])
            ranked.append((round(score, 4), title, id_, body, matched))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        return [ArticleHit(i, t, _snippet(b, m), sc, m) for sc, t, i, b, m in ranked[:limit]]

    def _full_text(
        self, conn: sa.Connection, tokens: list[str], prefix: str | None, language: str | None
    ) -> list[tuple[int, float]]:
        plain = [t for t in tokens if not _is_cjk(t)]
        if not plain:
            return []
        params: dict[str, Any] = {"limit": CANDIDATES, "language": language}
        where_language = "" if language is None else " AND d.language = :language"
        if self.postgresql:
            # every token is letters and digits only, so the tsquery text has no operators of its own
            params["q"] = " | ".join(f"{t}:*" if t == prefix else t for t in plain)
            sql = (
                "SELECT d.doc, ts_rank(d.tsv, q) AS rank FROM knowledge_docs d,"
                " to_tsquery('simple', :q) q WHERE d.tsv @@ q"
                + where_language
                + " ORDER BY rank DESC LIMIT :limit"
            )
        else:
            params["q"] = " OR ".join(
                '"' + t.replace('"', '""') + '"' + (" *" if t == prefix else "") for t in plain
            )
            sql = (
                "SELECT f.rowid, -bm25(knowledge_fts, 10.0, 5.0, 1.0) AS rank FROM knowledge_fts f"
                " JOIN knowledge_docs d ON d.doc = f.rowid WHERE knowledge_fts MATCH :q"
                + where_language
                + " ORDER BY bm25(knowledge_fts, 10.0, 5.0, 1.0) LIMIT :limit"
            )
        return [(int(doc), float(rank)) for doc, rank in conn.execute(sa.text(sql), params)]

    def _by_terms(
        self,
        conn: sa.Connection,
        tokens: list[str],
        prefix: str | None,
        keys: Mapping[str, str],
        language: str | None,
    ) -> list[int]:
        params: dict[str, Any] = {
            "keys": sorted(set(keys.values())),
            "limit": CANDIDATES,
            "language": language,
        }
        match = "t.key IN :keys"
        if prefix is not None and len(prefix) >= 2:
            match += " OR t.term LIKE :prefix"
            params["prefix"] = prefix + "%"  # letters and digits only: nothing to escape
        join = (
            "" if language is None else " JOIN knowledge_docs d ON d.doc = t.doc AND d.language = :language"
        )
        # the rows scanned are capped too, so a word found in every article stays cheap
        sql = (
            "SELECT s.doc FROM (SELECT t.doc, t.key, CASE WHEN t.term IN :terms THEN 1 ELSE 0 END AS exact"
            " FROM knowledge_terms t" + join + " WHERE " + match + " LIMIT :scan) s GROUP BY s.doc"
            " ORDER BY count(DISTINCT s.key) DESC, max(s.exact) DESC, s.doc LIMIT :limit"
        )
        params.update(scan=SCAN, terms=list(tokens))
        statement = sa.text(sql).bindparams(
            sa.bindparam("keys", expanding=True), sa.bindparam("terms", expanding=True)
        )
        return [int(doc) for doc in conn.execute(statement, params).scalars()]

    def _by_substring(self, conn: sa.Connection, cjk: list[str], language: str | None) -> list[int]:
        params: dict[str, Any] = {"limit": CANDIDATES, "language": language}
        clauses = []
        for i, token in enumerate(cjk):
            params[f"p{i}"] = "%" + token + "%"  # CJK letters only: nothing to escape
            clauses.append(f"(a.title LIKE :p{i} OR a.tags LIKE :p{i} OR a.body LIKE :p{i})")
        where_language = "" if language is None else " AND d.language = :language"
        sql = (
            "SELECT d.doc FROM knowledge_articles a JOIN knowledge_docs d ON d.article_id = a.id WHERE "
            + " AND ".join(clauses)
            + where_language
            + " LIMIT :limit"
        )
        return [int(doc) for doc in conn.execute(sa.text(sql), params).scalars()]

    def _mark_terms(
        self,
        conn: sa.Connection,
        found: dict[int, _Candidate],
        tokens: list[str],
        prefix: str | None,
        keys: Mapping[str, str],
    ) -> None:
        sql = sa.text(
            "SELECT doc, term, key FROM knowledge_terms"
            " WHERE doc IN :docs AND (key IN :keys OR term IN :terms"
            + (" OR term LIKE :prefix" if prefix else "")
            + ")"
        ).bindparams(
            sa.bindparam("docs", expanding=True),
            sa.bindparam("keys", expanding=True),
            sa.bindparam("terms", expanding=True),
        )
        params: dict[str, Any] = {"docs": list(found), "keys": sorted(set(keys.values())), "terms": tokens}
        if prefix:
            params["prefix"] = prefix + "%"
        for doc, term, key in conn.execute(sql, params):
            cand = found[int(doc)]
            for i, token in enumerate(tokens):
                if term == token or (token == prefix and term.startswith(token)):
                    cand.exact.add(i)
                    cand.matched[term] = None
                elif key == keys[token] and not _is_cjk(token):
                    cand.phonetic.add(i)
                    cand.matched[term] = None

    def _articles(self, conn: sa.Connection, docs: Iterable[int]) -> dict[int, tuple[str, str, str, str]]:
        sql = sa.text(
            "SELECT d.doc, a.id, a.title, a.tags, a.body FROM knowledge_docs d"
            " JOIN knowledge_articles a ON a.id = d.article_id WHERE d.doc IN :docs"
        ).bindparams(sa.bindparam("docs", expanding=True))
        return {
            int(doc): (str(id_), title or "", tags or "", body or "")
            for doc, id_, title, tags, body in conn.execute(sql, {"docs": list(docs)})
        }


def _snippet(body: str, matched: list[str]) -> str:
    """Up to :data:`_SNIPPET` characters of ``body`` around the first matched word."""
    flat = " ".join(body.split())
    if len(flat) <= _SNIPPET:
        return flat
    folded = normalise(flat)
    at = min((i for i in (folded.find(m) for m in matched) if i >= 0), default=0)
    # NFKD may lengthen the text; positions are close enough for a snippet window
    start = max(0, min(at - _SNIPPET // 4, len(flat) - _SNIPPET))
    text = flat[start : start + _SNIPPET]
    return ("…" if start else "") + text + ("…" if start + _SNIPPET < len(flat) else "")
