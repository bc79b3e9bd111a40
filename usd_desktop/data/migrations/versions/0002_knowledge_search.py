"""Knowledge search: the index tables, the full-text index and the triggers that queue edited articles.

``knowledge_dirty`` holds the ids of articles inserted, edited or deleted since the last search
(filled by triggers on ``knowledge_articles``, whoever writes it); ``knowledge_docs`` numbers the
indexed articles (PostgreSQL keeps their ``tsvector`` there, under a GIN index); ``knowledge_terms``
holds each article's normalised words and their Metaphone keys; on SQLite ``knowledge_fts`` is the
FTS5 index (``unicode61 remove_diacritics 2``). These tables are not models: the search writes them
with SQL (:mod:`usd_desktop.data.knowledge`), so the model-to-database test leaves them out.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE = [
    "CREATE TABLE knowledge_dirty (article_id VARCHAR(36) NOT NULL PRIMARY KEY)",
    "CREATE TABLE knowledge_docs (doc INTEGER NOT NULL PRIMARY KEY, article_id VARCHAR(36) NOT NULL UNIQUE,"
    " language VARCHAR(16) NOT NULL)",
    "CREATE TABLE knowledge_terms (doc INTEGER NOT NULL, term VARCHAR(64) NOT NULL COLLATE NOCASE,"
    " key VARCHAR(64) NOT NULL)",
    "CREATE INDEX ix_knowledge_terms_key ON knowledge_terms (key, doc)",
    "CREATE INDEX ix_knowledge_terms_term ON knowledge_terms (term, doc)",
    "CREATE INDEX ix_knowledge_terms_doc ON knowledge_terms (doc)",
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, tags, body,"
    " tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER knowledge_articles_ai AFTER INSERT ON knowledge_articles BEGIN"
    " INSERT OR IGNORE INTO knowledge_dirty (article_id) VALUES (new.id); END",
    "CREATE TRIGGER knowledge_articles_au AFTER UPDATE ON knowledge_articles BEGIN"
    " INSERT OR IGNORE INTO knowledge_dirty (article_id) VALUES (old.id);"
    " INSERT OR IGNORE INTO knowledge_dirty (article_id) VALUES (new.id); END",
    "CREATE TRIGGER knowledge_articles_ad AFTER DELETE ON knowledge_articles BEGIN"
    " INSERT OR IGNORE INTO knowledge_dirty (article_id) VALUES (old.id); END",
]

_POSTGRESQL = [
    "CREATE TABLE knowledge_dirty (article_id VARCHAR(36) NOT NULL PRIMARY KEY)",
    "CREATE TABLE knowledge_docs (doc SERIAL PRIMARY KEY, article_id VARCHAR(36) NOT NULL UNIQUE,"
    " language VARCHAR(16) NOT NULL, tsv TSVECTOR NOT NULL)",
    "CREATE INDEX ix_knowledge_docs_tsv ON knowledge_docs USING GIN (tsv)",
    "CREATE TABLE knowledge_terms (doc INTEGER NOT NULL, term VARCHAR(64) NOT NULL,"
    " key VARCHAR(64) NOT NULL)",
    "CREATE INDEX ix_knowledge_terms_key ON knowledge_terms (key, doc)",
    "CREATE INDEX ix_knowledge_terms_term ON knowledge_terms (term varchar_pattern_ops, doc)",
    "CREATE INDEX ix_knowledge_terms_doc ON knowledge_terms (doc)",
    """CREATE FUNCTION knowledge_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO knowledge_dirty (article_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO knowledge_dirty (article_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER knowledge_articles_dirty AFTER INSERT OR UPDATE OR DELETE ON knowledge_articles"
    " FOR EACH ROW EXECUTE FUNCTION knowledge_mark_dirty()",
]


def upgrade() -> None:
    statements = _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        op.execute(statement)
    op.execute("INSERT INTO knowledge_dirty (article_id) SELECT id FROM knowledge_articles")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER knowledge_articles_dirty ON knowledge_articles")
        op.execute("DROP FUNCTION knowledge_mark_dirty()")
    else:
        for name in ("ai", "au", "ad"):
            op.execute(f"DROP TRIGGER knowledge_articles_{name}")
        op.execute("DROP TABLE knowledge_fts")
    for table in ("knowledge_terms", "knowledge_docs", "knowledge_dirty"):
        op.execute(f"DROP TABLE {table}")
