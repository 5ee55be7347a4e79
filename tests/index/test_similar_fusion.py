"""Similar papers fuse the dense and the TF-IDF neighbours; each half stands in for the other.

The TF-IDF neighbour index is derived state like the vector index: built by
the worker's publish step (or an import / the demo), never inside a request.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from paperwire.index import tfidf, vectors
from paperwire.index.publish import publish_vector_index
from paperwire.index.similar import expand, fuse, similar_ids, similar_papers
from paperwire.index.vectors import SemanticUnavailable, embed_all
from paperwire.rank.vector_matrix import clear_cache
from paperwire.settings import get_settings
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.embeddings import load_vectors
from paperwire.store.generations import LEXICAL, IndexGeneration
from paperwire.store.models import Paper
from paperwire.store.papers import get_paper
from paperwire.worker.jobs import scheduled_jobs


@pytest.fixture
def imported(db, kaggle_sample):
    import_items(db, read_path(kaggle_sample))
    vectors._CACHE.clear()
    tfidf.clear_cache()
    clear_cache()
    yield db
    vectors._CACHE.clear()
    tfidf.clear_cache()
    clear_cache()


def _id(db, uid: str) -> int:
    with db.session() as session:
        return get_paper(session, uid).id


def _tfidf_files() -> set[str]:
    return {p.name for p in get_settings().resolved_data_dir().glob("tfidf-*")}


def test_fuse_and_expand_weigh_both_halves():
    fused = fuse([(1, 0.9), (2, 0.5)], [(2, 0.8), (3, 0.6)], dense_weight=0.5)
    assert fused == pytest.approx({1: 0.45, 2: 0.65, 3: 0.3})
    ranked = expand({1: 1.0, 2: 0.4}, [{2: 1.0, 4: 1.0}, {4: 1.0}], weight=1.0, exclude=1)
    assert [pid for pid, _ in ranked] == [4, 2]  # 4 is close to both neighbours, so it rises
    assert [score for _, score in ranked] == pytest.approx([1.0, 0.9])


def test_nothing_published_is_unavailable_and_the_request_builds_nothing(imported):
    embed_all(imported)
    with pytest.raises(SemanticUnavailable, match="not been built yet"):
        similar_papers(imported, "0704.0001", limit=5)
    assert _tfidf_files() == set()
    with imported.session() as session:
        # The lexical index follows every write (index.lexical_sync); no similarity index was built.
        assert session.scalar(select(func.count()).select_from(IndexGeneration)
                              .where(IndexGeneration.kind != LEXICAL)) == 0


def test_fusion_returns_neighbours_from_both_halves(imported):
    embed_all(imported)
    publish_vector_index(imported)
    report = tfidf.publish_tfidf_index(imported)
    assert report.built and report.papers == 200
    pid = _id(imported, "0704.0001")
    index = vectors.semantic_index(imported)
    with imported.session() as session:
        vector = load_vectors(session, index.embedder.name, [pid])[pid]
    dense = [p for p, _ in index.nearest(vector, 21) if p != pid][:20]
    lexical = [p for p, _ in tfidf.tfidf_index(imported).neighbours(pid, 20)]
    top = [p for p, _ in similar_ids(imported, pid)[:10]]
    assert pid not in top and len(top) == 10
    assert set(top) & set(dense[:10]) and set(top) & set(lexical[:10])
    assert top != dense[:10] and top != lexical[:10], "the fusion is neither half alone"
    hits = similar_papers(imported, "0704.0001", limit=5)
    assert [h.paper.id for h in hits] == top[:5]


def test_without_a_vector_index_the_lexical_half_answers(imported):
    tfidf.publish_tfidf_index(imported)  # nothing embedded, no vector generation
    pid = _id(imported, "0704.0001")
    hits = similar_papers(imported, "0704.0001", limit=5)
    assert len(hits) == 5 and all(h.paper.id != pid for h in hits)
    lexical = {p for p, _ in tfidf.tfidf_index(imported).neighbours(pid, 50)}
    assert {h.paper.id for h in hits} <= lexical | {p for h in hits for p in [h.paper.id]}
    assert hits[0].paper.id in lexical


def test_without_a_tfidf_generation_the_dense_half_answers(imported):
    embed_all(imported)
    publish_vector_index(imported)
    assert len(similar_papers(imported, "0704.0001", limit=5)) == 5


def test_hidden_papers_are_left_out(imported):
    tfidf.publish_tfidf_index(imported)
    first = similar_papers(imported, "0704.0001", limit=3)
    with imported.session() as session:
        session.execute(update(Paper).where(Paper.id == first[0].paper.id).values(hidden=True))
    shown = [h.paper.id for h in similar_papers(imported, "0704.0001", limit=3)]
    assert first[0].paper.id not in shown and len(shown) == 3


def test_worker_publish_job_builds_the_tfidf_generation_once_and_follows_new_papers(imported, kaggle_sample, tmp_path):
    job = next(j for j in scheduled_jobs(get_settings()) if j.name == "index")
    first = job.run(imported)
    assert "TF-IDF neighbour index: generation" in first.detail and "built" in first.detail
    names = _tfidf_files()
    assert len(names) == 1
    again = job.run(imported)
    assert "TF-IDF neighbour index: generation" in again.detail and "is current" in again.detail
    assert _tfidf_files() == names
    extra = tmp_path / "one.csv"
    extra.write_text("id,title,abstract\n2501.00001,Gauge theory on the lattice,Lattice gauge theory simulations "
                     "of quantum chromodynamics.\n", encoding="utf-8")
    import_items(imported, read_path(extra))
    third = job.run(imported)
    assert "built" in third.detail.split("TF-IDF")[1]
    assert len(tfidf.tfidf_index(imported)) == 201


def test_a_text_vectorised_in_the_published_columns_matches_its_paper_row(imported):
    tfidf.publish_tfidf_index(imported)
    matrix = tfidf.tfidf_index(imported)
    with imported.session() as session:
        paper = get_paper(session, "0704.0001")
    from paperwire.index.embeddings import paper_text

    row = matrix.vectorize([paper_text(paper.title, paper.abstract)])
    own, _ = matrix.rows_of([paper.id])
    full = row.toarray()[0]
    kept = matrix.X[own].toarray()[0]
    assert float(full @ kept) / (float((kept @ kept) ** 0.5) or 1.0) > 0.95  # rows keep their MAX_TERMS heaviest
    assert matrix.vectorize(["zzzunknownword"]).nnz == 0
