"""The tantivy lexical engine: publishing generations, readers in other processes,
writes reflected after publish, the query language, engine snippets.

``corpus`` and ``raw`` are databases *without* the after-commit hook
(``index.lexical_sync``), to test what publishing itself does; the ``db``
fixture has it, like the web app (see test_lexical_in_step.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from paperwire.index.lexical_engine import published_searcher
from paperwire.index.lexical_tantivy import SCHEMA_NAME
from paperwire.index.publish_lexical import directory_name, publish_lexical_index
from paperwire.index.query import parse_query
from paperwire.index.search import lexical_search
from paperwire.records import PaperRecord, PaperVersion
from paperwire.settings import get_settings
from paperwire.store.generations import LEXICAL, IndexGeneration
from paperwire.store.db import open_database
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

FILLER = "We study a problem and present results on benchmarks with careful experiments"


def record(n: int, title: str, abstract: str = FILLER, *, authors=("Ann Filler",), cats=("physics.gen-ph",),
           day: datetime | None = None) -> PaperRecord:
    day = day or datetime(2020, 1, 1 + n % 28)
    return PaperRecord(title=title, abstract=abstract, arxiv_id=f"2001.{n:05d}", authors=list(authors),
                       categories=list(cats), submitted=day, versions=[PaperVersion(1, day)], source="test")


def add(db, *records: PaperRecord) -> None:
    with db.session() as session:
        upsert_papers(session, records)


def lex(db, q: str, **kw):
    return lexical_search(db, parse_query(q), **kw)


def uids(results) -> list[str]:
    return [hit.paper.uid for hit in results.hits]


@pytest.fixture
def raw(db_url):
    """The test's database with no after-commit publishing: only explicit publishes index."""
    database = open_database(db_url)
    yield database
    database.close()


@pytest.fixture
def corpus(raw):
    db = raw
    add(db, *[record(100 + i, f"Filler paper number {i} on ordinary topics") for i in range(12)])
    add(
        db,
        record(1, "Zebrafish regeneration atlas", cats=("q-bio.TO",), day=datetime(2021, 3, 5)),
        record(2, "A study of fins", "Regrowth in zebrafish is fast. " + FILLER, cats=("cs.LG", "q-bio.TO"),
               day=datetime(2023, 6, 1)),
        record(3, "Unrelated title", authors=("Zed Zebrafish",), cats=("math.OC",), day=datetime(2024, 2, 1)),
        record(4, "Neural network pruning", "A neural network is pruned. " + FILLER, cats=("cs.LG",),
               authors=("Jane Doe", "Li Wei"), day=datetime(2024, 7, 1)),
        record(5, "Networks of neural cells", "Network neural biology. " + FILLER, cats=("math-ph",),
               authors=("John Doe",), day=datetime(2022, 1, 1)),
        record(6, "Pruning survey", "A survey of neural network pruning. " + FILLER, cats=("cs.CV",),
               authors=("Jane Doe",), day=datetime(2019, 5, 5)),
    )
    assert publish_lexical_index(db).built
    return db


def _generations(db) -> list[IndexGeneration]:
    with db.session() as session:
        return list(session.scalars(select(IndexGeneration).where(IndexGeneration.kind == LEXICAL)
                                    .order_by(IndexGeneration.id)))


def test_nothing_matches_before_anything_is_published(raw):
    add(raw, record(1, "Zebrafish regeneration atlas"))
    with raw.session() as session:
        assert published_searcher(session) is None
    results = lex(raw, "zebrafish")
    assert results.hits == [] and results.total == 0  # no second engine to fall back on
    publish_lexical_index(raw)
    assert uids(lex(raw, "zebrafish")) == ["2001.00001"]


def test_publishing_is_idempotent_and_keeps_two_generations(corpus):
    data = get_settings().resolved_data_dir()
    first = _generations(corpus)
    assert [g.published for g in first] == [True] and (data / first[0].path / "meta.json").is_file()
    again = publish_lexical_index(corpus)
    assert not again.built and again.generation == first[0].id and again.papers == 18
    for n in (7, 8):
        add(corpus, record(n, f"Axolotl number {n}"))
        assert publish_lexical_index(corpus).built
    rows = _generations(corpus)
    assert len(rows) == 2 and rows[0].id > first[0].id
    assert not (data / first[0].path).exists()  # the oldest generation's directory is gone
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("lexical-")) == sorted(r.path for r in rows)


def test_new_papers_appear_after_publish(corpus):
    add(corpus, record(9, "Axolotl limb atlas"))
    assert uids(lex(corpus, "axolotl")) == []  # the published generation predates it
    publish_lexical_index(corpus)
    assert uids(lex(corpus, "axolotl")) == ["2001.00009"]


def test_hides_and_deletes_are_reflected_at_once_and_after_publish(corpus):
    with corpus.session() as session:
        session.execute(update(Paper).where(Paper.uid == "2001.00001").values(hidden=True))
        session.execute(delete(Paper).where(Paper.uid == "2001.00002"))
    before = lex(corpus, "zebrafish")
    assert uids(before) == ["2001.00003"] and before.total == 1
    report = publish_lexical_index(corpus)
    # The hide changed the fingerprint too; the delete needs a full build (the count differs).
    assert report.built and report.papers == 16 and not report.incremental
    assert uids(lex(corpus, "zebrafish")) == ["2001.00003"]
    with corpus.session() as session:
        session.execute(update(Paper).where(Paper.uid == "2001.00001").values(hidden=False))
    assert publish_lexical_index(corpus).built
    assert uids(lex(corpus, "zebrafish"))[0] == "2001.00001"


def test_title_beats_abstract_beats_author_and_stemming(corpus):
    assert uids(lex(corpus, "zebrafish")) == ["2001.00001", "2001.00002", "2001.00003"]
    # "networks" and "network" share a stem; the title match ranks first.
    assert set(uids(lex(corpus, "networks"))) == {"2001.00004", "2001.00005", "2001.00006"}


def test_phrases_exclusions_authors_filters(corpus):
    assert set(uids(lex(corpus, '"neural network"'))) == {"2001.00004", "2001.00006"}
    assert uids(lex(corpus, "pruning -survey")) == ["2001.00004"]
    assert set(uids(lex(corpus, 'author:"Jane Doe"'))) == {"2001.00004", "2001.00006"}
    assert uids(lex(corpus, "author:Doe cat:math-ph")) == ["2001.00005"]
    assert set(uids(lex(corpus, "cat:cs"))) == {"2001.00002", "2001.00004", "2001.00006"}
    assert uids(lex(corpus, "cat:cs.L")) == []
    assert uids(lex(corpus, "cat:math")) == ["2001.00003"]  # math.OC, not math-ph
    assert uids(lex(corpus, "neural after:2022 before:2024-07")) == ["2001.00005"]


def test_all_words_then_any_word(corpus):
    results = lex(corpus, "zebrafish pruning")
    assert results.matched == "any" and {"2001.00001", "2001.00004"} <= set(uids(results))
    assert lex(corpus, "zebrafish atlas").matched == "all"


def test_date_sort_filters_only_and_paging(corpus):
    assert uids(lex(corpus, "pruning", sort="date")) == ["2001.00004", "2001.00006"]
    browse = lex(corpus, "cat:q-bio")
    assert uids(browse) == ["2001.00002", "2001.00001"] and browse.total == 2
    assert all(hit.score == 0.0 for hit in browse.hits)
    everything = uids(lex(corpus, "ordinary", limit=50))
    pages = [uids(lex(corpus, "ordinary", limit=5, offset=o)) for o in range(0, 15, 5)]
    assert sum(pages, []) == everything and len(everything) == 12
    assert lex(corpus, "ordinary", limit=5, offset=10).total == 12


def test_ranking_is_exact_for_frequent_words(db):
    """No budget: the best BM25 match wins however old it is."""
    add(db, record(1, "Ordinary ordinary ordinary", day=datetime(2001, 1, 1)))
    add(db, *[record(100 + i, f"Paper {i}", "ordinary words " + FILLER) for i in range(30)])
    publish_lexical_index(db)
    results = lex(db, "ordinary", limit=3)
    assert uids(results)[0] == "2001.00001" and results.total == 31


def test_snippets_come_from_the_engine_escaped(db):
    add(db, record(7, 'Breaking <script>alert("x")</script> zebrafish & co',
                   "Tags like <b>zebrafish</b> and regenerating fins. " + FILLER * 8))
    publish_lexical_index(db)
    hit = lex(db, "zebrafish regenerate").hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<mark>zebrafish</mark>" in hit.title_html and "&amp; co" in hit.title_html
    assert "<b>" not in hit.snippet_html and "&lt;b&gt;<mark>zebrafish</mark>&lt;/b&gt;" in hit.snippet_html
    assert "<mark>regenerating</mark>" in hit.snippet_html  # the stemmed form is marked too
    assert hit.snippet_html.endswith(" …")


def test_special_characters_never_raise(corpus):
    for q in ['AND', 'OR OR', 'NOT x', 'NEAR(a, b)', '"', 'a"b', '***', 'col:x', '{title}:x', '^start', '(((', "'",
              'x -', '-"', 'zebrafish AND', 'é ü 漢字', '\x00', 'cat:"', 'author:"""', 'title:zebrafish', 'id:1',
              '[1 TO 2]', 'zebra*', '+zebrafish', 'a' * 300]:
        lex(corpus, q)


def test_another_host_builds_its_copy_of_the_same_generation(corpus):
    row = _generations(corpus)[-1]
    shutil.rmtree(get_settings().resolved_data_dir() / row.path)
    from paperwire.index.lexical_tantivy import READERS

    READERS.clear()  # a fresh process on a host whose folder lacks the generation
    assert uids(lex(corpus, "zebrafish")) == []  # nothing on this host yet
    report = publish_lexical_index(corpus)
    assert report.built and report.generation == row.id and len(_generations(corpus)) == 1
    with corpus.session() as session:
        assert published_searcher(session) is not None


READER = """
import sys
from paperwire.index.query import parse_query
from paperwire.index.search import lexical_search
from paperwire.store.db import open_database
db = open_database()
for line in sys.stdin:
    print(",".join(h.paper.uid for h in lexical_search(db, parse_query(line.strip())).hits), flush=True)
"""


def test_a_second_process_switches_to_a_new_generation(corpus):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    reader = subprocess.Popen([sys.executable, "-c", READER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        def ask(q: str) -> str:
            reader.stdin.write(q + "\n")
            reader.stdin.flush()
            return reader.stdout.readline().strip()

        assert ask("zebrafish atlas") == "2001.00001"
        assert ask("axolotl") == ""
        add(corpus, record(9, "Axolotl limb atlas"))
        assert ask("axolotl") == ""  # not yet published
        publish_lexical_index(corpus)
        assert ask("axolotl") == "2001.00009"  # the reader opened the new generation
        from paperwire.index.lexical_sync import keep_in_step

        writer = keep_in_step(open_database(get_settings().database_url))  # a web process
        add(writer, record(10, "Axolotl tail atlas"))  # published right after its commit
        writer.close()
        assert sorted(ask("axolotl").split(",")) == ["2001.00009", "2001.00010"]
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert directory_name(1) == "lexical-g1"


def test_index_rebuild_publishes_a_new_generation_from_scratch(corpus, db_url):
    from typer.testing import CliRunner

    from paperwire.cli import app

    before = _generations(corpus)[-1].id
    result = CliRunner().invoke(app, ["index", "rebuild", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "18 papers indexed" in result.output
    assert _generations(corpus)[-1].id > before  # forced, although nothing changed


def test_worker_index_job_publishes_the_lexical_generation(raw):
    from paperwire.worker.jobs import _publish

    db = raw
    add(db, record(1, "Zebrafish regeneration atlas"))
    result = _publish(db)
    assert "lexical index: generation" in result.detail and "built and published" in result.detail
    assert "is current" in _publish(db).detail.split(";")[-1]


def test_a_lagging_host_searches_its_older_copy_then_extends_it(corpus):
    from paperwire.index.lexical_tantivy import READERS

    add(corpus, record(9, "Axolotl limb atlas"))
    assert publish_lexical_index(corpus).incremental
    newest = _generations(corpus)[-1]
    shutil.rmtree(get_settings().resolved_data_dir() / newest.path)  # this host lacks the newest one
    READERS.clear()
    assert uids(lex(corpus, "zebrafish"))[0] == "2001.00001"  # the generation before answers meanwhile
    assert uids(lex(corpus, "axolotl")) == []
    report = publish_lexical_index(corpus)
    assert report.built and report.incremental and report.generation == newest.id
    assert uids(lex(corpus, "axolotl")) == ["2001.00009"]


def test_neighbouring_query_words_rank_a_phrase_above_scattered_words(db):
    """A reader's keywords are often terms ("flow matching"): the paper with them side by side wins,
    though the other mentions "matching" more often; a dropped stopword keeps its gap."""
    add(db,
        record(1, "Image generation", "We train flow matching for images. The method works on hard benchmarks today."),
        record(2, "Image generation", "We train a flow for images. Matching works on hard benchmarks and matching helps."),
        record(3, "Prompting study", "A thought, a chain: examples and variants. " + FILLER),
        record(4, "Prompting study", "We prompt with chain of thought examples and variants. " + FILLER))
    publish_lexical_index(db)
    assert uids(lex(db, "flow matching"))[0] == "2001.00001"
    assert uids(lex(db, "chain of thought"))[0] == "2001.00004"
    assert uids(lex(db, "matching flow"))[0] == "2001.00002"  # order matters: no phrase, plain BM25


def test_a_new_schema_publishes_its_own_generation_and_retires_the_old_schemas(corpus):
    """After an upgrade that changes the index schema (tantivy-v1 -> v2 added the pairs of
    common words) only generations of the running schema are read; the first publish of
    it removes the older schema's rows and folders, which nothing reads any more."""
    data_dir = get_settings().resolved_data_dir()
    (data_dir / "lexical-g900").mkdir()
    with corpus.session() as session:
        session.add(IndexGeneration(id=900, kind=LEXICAL, model="tantivy-v0", marker="x", built_at=datetime(2020, 1, 1),
                                    published=True, path="lexical-g900", vectors=1))
    assert uids(lex(corpus, "zebrafish"))[0] == "2001.00001"  # the older schema's newer number is not read
    publish_lexical_index(corpus, force=True)
    with corpus.session() as session:
        models = set(session.scalars(select(IndexGeneration.model).where(IndexGeneration.kind == LEXICAL)))
    assert models == {SCHEMA_NAME} and not (data_dir / "lexical-g900").exists()
    assert uids(lex(corpus, "zebrafish"))[0] == "2001.00001"


def _generation_lookups(db) -> list[str]:
    """The statements that ask for the newest published lexical generation, as they run."""
    from sqlalchemy import event

    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if "index_generations" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    return seen


def test_a_search_page_looks_up_the_published_generation_once(db):
    """The page searches, then charts the matches: one lookup serves both (it was 18 % of a
    loaded page's time when each asked)."""
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    add(db, record(1, "Quantum annealing schedules"), record(2, "Quantum walks on graphs"))
    publish_lexical_index(db)
    with TestClient(create_app(db)) as client:
        client.get("/search", params={"q": "quantum", "mode": "lexical"})  # warm: app start-up reads
        seen = _generation_lookups(db)
        page = client.get("/search", params={"q": "quantum", "mode": "lexical"})
    assert page.status_code == 200 and "walks on graphs" in page.text and "Matches per" in page.text
    assert len(seen) == 1, seen


def test_a_session_that_goes_on_after_a_commit_sees_a_newer_generation(raw):
    add(raw, record(1, "Quantum annealing schedules"))
    publish_lexical_index(raw)
    with raw.sessionmaker() as session:  # a plain session: it may go on after a commit
        assert uids(lexical_search(raw, parse_query("walks"), session=session)) == []
        session.commit()
        add(raw, record(2, "Quantum walks on graphs"))
        publish_lexical_index(raw)
        assert uids(lexical_search(raw, parse_query("walks"), session=session)) == ["2001.00002"]
