"""Knowledge search on SQLite and PostgreSQL: exact, misspelt and misheard words, typing, injection."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from usd_desktop.data.knowledge import KnowledgeSearch, normalise, phonetic_key
from usd_desktop.data.repository import SqlRepository

ARTICLES = [
    (
        "Reset a password",
        "Open the login page and choose Forgot password to reset it.",
        "account,login",
        "en",
    ),
    ("Restart the router", "Unplug the router for ten seconds, then plug it back in.", "network,wifi", "en"),
    ("Reset the router to factory settings", "Hold the reset button for 30 seconds.", "network", "en"),
    ("Invoice and billing", "Invoices are sent on the first day of each month.", "billing", "en"),
    ("Salasanan vaihtaminen", "Vaihda salasana kirjautumissivulla. Älä jaa salasanaa.", "tili", "fi"),
    ("Schimbarea parolei", "Introduceți parola nouă de două ori și salvați.", "cont,parolă", "ro"),
    ("重置密码", "在登录页面点击忘记密码。然后按照说明操作。", "账户", "zh"),
]


@pytest.fixture
def articles(repo: SqlRepository) -> dict[str, str]:
    ids = {}
    for title, body, tags, language in ARTICLES:
        ids[title] = repo.create(
            "knowledge_article", {"title": title, "body": body, "tags": tags, "language": language}
        )
    return ids


@pytest.fixture
def knowledge(repo: SqlRepository, articles: dict[str, str]) -> KnowledgeSearch:
    return KnowledgeSearch(repo)


def titles(knowledge: KnowledgeSearch, query: str, language: str | None = None) -> list[str]:
    return [hit.title for hit in knowledge.search(query, language=language)]


def test_normalising_and_keys() -> None:
    assert normalise("Parolă") == "parola"
    assert normalise("ÄLÄ") == "ala"
    assert phonetic_key("rowter") == phonetic_key("router")
    assert phonetic_key("pasword") == phonetic_key("password")
    assert phonetic_key("salsana") == phonetic_key("salasana")
    assert phonetic_key("密码") == "密码"


def test_exact_words_rank_first(knowledge: KnowledgeSearch, articles: dict[str, str]) -> None:
    hits = knowledge.search("reset router")
    assert hits[0].title == "Reset the router to factory settings"
    assert hits[0].id == articles[hits[0].title]
    assert {"reset", "router"} <= set(hits[0].matched)
    assert hits[0].score > hits[-1].score
    assert titles(knowledge, "invoice")[0] == "Invoice and billing"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pasword reset", "Reset a password"),
        ("rowter restart", "Restart the router"),
        ("salsana", "Salasanan vaihtaminen"),
        ("salasana", "Salasanan vaihtaminen"),
        ("parola", "Schimbarea parolei"),
        ("parolă", "Schimbarea parolei"),
        ("invoyce", "Invoice and billing"),
    ],
)
def test_misspelt_and_misheard_words_still_find_the_article(
    knowledge: KnowledgeSearch, query: str, expected: str
) -> None:
    assert titles(knowledge, query)[0] == expected


def test_exact_match_beats_a_phonetic_one(knowledge: KnowledgeSearch) -> None:
    hits = knowledge.search("password ")
    assert hits[0].title == "Reset a password"
    assert "password" in hits[0].matched


def test_prefix_while_typing(knowledge: KnowledgeSearch) -> None:
    assert titles(knowledge, "pass")[0] == "Reset a password"
    assert titles(knowledge, "rout")[0] in {"Restart the router", "Reset the router to factory settings"}
    assert titles(knowledge, "bill")[0] == "Invoice and billing"


def test_cjk_substring(knowledge: KnowledgeSearch) -> None:
    assert titles(knowledge, "密码") == ["重置密码"]
    assert titles(knowledge, "登录") == ["重置密码"]


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", "'; DROP TABLE knowledge_articles; --", "%", "_", "pass*", 'reset" OR "x', "", " "],
)
def test_query_syntax_in_the_input_is_just_text(
    knowledge: KnowledgeSearch, repo: SqlRepository, query: str
) -> None:
    hits = knowledge.search(query)
    assert isinstance(hits, list)
    if query in ("%", "_", '"', "*", "NEAR(", "", " "):
        assert hits == [] or query == "NEAR("
    with repo.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM knowledge_articles")).scalar()
    assert count == len(ARTICLES)


def test_editing_an_article_reindexes_it(
    knowledge: KnowledgeSearch, repo: SqlRepository, articles: dict[str, str]
) -> None:
    id_ = articles["Invoice and billing"]
    assert knowledge.search("modem") == []
    repo.update(
        "knowledge_article", id_, {"title": "Modem lights", "body": "A blinking light means trouble."}
    )
    hits = knowledge.search("modem")
    assert [h.id for h in hits] == [id_]
    assert not any(h.id == id_ for h in knowledge.search("invoice "))
    new = repo.create("knowledge_article", {"title": "Firmware upgrade", "body": "Upgrade it.", "tags": ""})
    assert knowledge.search("firmware")[0].id == new
    repo.delete("knowledge_article", new)
    assert knowledge.search("firmware") == []


def test_language_filter(knowledge: KnowledgeSearch) -> None:
    assert titles(knowledge, "salasana", language="fi") == ["Salasanan vaihtaminen"]
    assert titles(knowledge, "salasana", language="ro") == []
    assert all(h != "Salasanan vaihtaminen" for h in titles(knowledge, "password reset", language="en"))


def test_query_from_a_replacement_parameter(knowledge: KnowledgeSearch) -> None:
    data = {"session": {"case": {"title": "cannot reset pasword"}}}
    hits = knowledge.search_template("[[case.title]]", data)
    assert hits[0].title == "Reset a password"
    assert hits[0].snippet


def test_reindex_rebuilds_everything(knowledge: KnowledgeSearch, repo: SqlRepository) -> None:
    assert knowledge.reindex() == len(ARTICLES)
    assert titles(knowledge, "rowter")[0] in {"Restart the router", "Reset the router to factory settings"}
    with repo.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM knowledge_docs")).scalar() == len(ARTICLES)


def test_limit_and_snippet(knowledge: KnowledgeSearch, repo: SqlRepository) -> None:
    long_body = "Intro text. " * 40 + "The gateway needs a reboot after the update. " + "More. " * 40
    repo.create("knowledge_article", {"title": "Gateway", "body": long_body, "tags": ""})
    hit = knowledge.search("gateway reboot")[0]
    assert hit.title == "Gateway"
    assert "reboot" in hit.snippet and len(hit.snippet) <= 170
    assert len(knowledge.search("the", limit=2)) == 2
