"""bench/eval_all.py's vocabulary-mismatch queries: only the summary's words
the paper itself lacks (by the lexical index's stems), so BM25 cannot match
them and the measure is about meaning, not copied words."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def eval_all():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("eval_all", BENCH / "eval_all.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_unshared_words_drop_the_papers_stems_stopwords_numbers_and_repeats(eval_all):
    words = eval_all.unshared_words(
        "The paper introduces a novel benchmarking framework, improving robustness 3 times; the framework is new.",
        "A benchmark for robust models. We improve the robustness.", eval_all._stopwords())
    assert words == ["paper", "introduces", "novel", "framework", "times", "new"]


def test_mismatch_queries_share_no_stem_with_their_paper(eval_all):
    from paperwire.index.lexical_tantivy import ANALYZERS, STEMMED

    stem = ANALYZERS[STEMMED].analyze
    rows = [
        SimpleNamespace(id=1, arxiv_id=None, title="Sparse attention for long documents", abstract="We make attention sparse.",
                        ai_keywords='["sparse attention", "long context", "efficiency"]',
                        ai_summary="A method reduces quadratic cost, enabling efficient processing of lengthy texts "
                                   "with sparse attention."),
        SimpleNamespace(id=2, arxiv_id=None, title="Robots", abstract="Robots learn.", ai_keywords='["a", "b", "c"]',
                        ai_summary="Robots learn."),  # no unshared word: takes no part
    ]
    queries = eval_all.make_queries(rows, n_queries=2, seed=1)
    mismatch = [(pid, text) for kind, pid, text in queries if kind == "mismatch"]
    assert mismatch == [(1, "method reduces quadratic cost enabling efficient processing lengthy texts")]
    paper = set(stem(rows[0].title + " " + rows[0].abstract))
    assert not set(stem(mismatch[0][1])) & paper
    assert [kind for kind, pid, _ in queries if pid == 1][:2] == ["keywords", "paraphrase"]


def test_written_queries_share_no_title_word_and_reach_their_papers(eval_all):
    import json

    from paperwire.index.lexical_tantivy import ANALYZERS, STEMMED

    stem = ANALYZERS[STEMMED].analyze
    entries = json.loads(eval_all.WRITTEN.read_text(encoding="utf-8"))["queries"]
    assert len(entries) == 240 and len({e["arxiv_id"] for e in entries}) == 240
    stop = eval_all._stopwords()
    for entry in entries:
        shared = set(stem(entry["query"])) & set(stem(entry["title"])) - set(stem(" ".join(stop)))
        assert not shared, (entry["title"], entry["query"], shared)
    first = SimpleNamespace(id=7, arxiv_id=entries[0]["arxiv_id"], title=entries[0]["title"], abstract="",
                            ai_keywords=None, ai_summary=None)
    assert eval_all.make_queries([first], n_queries=1, seed=1) == [("written", 7, entries[0]["query"])]


REAL = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "hf-daily-papers"


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/corpus/hf-daily-papers")
def test_the_evaluation_database_is_searchable_by_words(eval_all, tmp_path, monkeypatch):
    """Imports do not publish the tantivy index: without its own publish, every lexical
    and hybrid-lexical MRR of the evaluation was 0 (lexical search found nothing)."""
    import shutil

    from paperwire.index.search import search
    from paperwire.store.models import Paper

    lists = tmp_path / "hf-daily-papers"
    lists.mkdir()
    shutil.copy(REAL / "2024-05-27.json", lists)
    monkeypatch.setattr(eval_all, "HF_DIR", lists)
    db = eval_all.hf_database(tmp_path / "hf")
    try:
        with db.session() as session:
            paper = session.query(Paper).order_by(Paper.id).first()
            pid, title = paper.id, paper.title
        assert pid in [h.paper.id for h in search(db, title, mode="lexical", limit=10).hits]
    finally:
        db.close()
    again = eval_all.hf_database(tmp_path / "hf")  # --reuse: the same folder, nothing imported twice
    try:
        assert pid in [h.paper.id for h in search(again, title, mode="lexical", limit=10).hits]
    finally:
        again.close()
