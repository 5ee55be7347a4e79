"""The vector index is derived state: built and published as generations, only loaded by readers.

A request never builds an index; until a generation is published, search
answers with word matches and says so; a new generation (new or re-embedded
vectors) reaches every reader and the in-memory matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from paperwire.index import vectors
from paperwire.index.embeddings import DEFAULT_EMBEDDER
from paperwire.index.publish import publish_vector_index
from paperwire.index.search import search
from paperwire.index.similar import similar_papers
from paperwire.index.vectors import SemanticIndex, SemanticUnavailable, embed_all
from paperwire.rank.vector_matrix import clear_cache, vector_matrix
from paperwire.records import PaperRecord
from paperwire.settings import get_settings
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.generations import VECTORS, IndexGeneration
from paperwire.store.papers import get_paper, upsert_papers
from tests.conftest import ON_POSTGRES


@pytest.fixture
def embedded(db, kaggle_sample):
    import_items(db, read_path(kaggle_sample))
    embed_all(db)
    vectors._CACHE.clear()
    clear_cache()
    yield db
    vectors._CACHE.clear()
    clear_cache()


def _files() -> set[str]:
    return {p.name for p in get_settings().resolved_data_dir().glob("vectors-*.usearch")}


def test_nothing_published_means_word_matches_with_a_notice_and_no_inline_build(embedded):
    results = search(embedded, "quantum field theory gauge", mode="hybrid", limit=5)
    assert results.mode == "lexical"
    assert any("not been built yet" in w for w in results.warnings)
    with pytest.raises(SemanticUnavailable):
        similar_papers(embedded, "0704.0001", limit=3)
    assert _files() == set()  # the request built nothing
    with embedded.session() as session:
        assert session.scalar(select(IndexGeneration.id).where(IndexGeneration.kind == VECTORS)) is None


def test_publish_builds_once_and_readers_load_the_generation(embedded):
    first = publish_vector_index(embedded)
    assert first.built and first.generation and first.vectors == 200
    again = publish_vector_index(embedded)
    assert not again.built and again.generation == first.generation
    results = search(embedded, "quantum field theory gauge", mode="hybrid", limit=5)
    assert results.mode == "hybrid" and results.hits
    assert len(similar_papers(embedded, "0704.0001", limit=3)) == 3
    if not ON_POSTGRES:
        assert _files() == {f"vectors-{DEFAULT_EMBEDDER}-g{first.generation}.usearch"}


def test_a_re_embedded_paper_reaches_readers_and_the_matrix_through_a_new_generation(embedded):
    reader = vectors.semantic_index(embedded)
    first = publish_vector_index(embedded)
    assert reader.refresh() == first.generation
    model = reader.embedder.name
    with embedded.session() as session:
        before = vector_matrix(session, model)
        paper = get_paper(session, "0704.0002")
        row = int(np.searchsorted(before.ids, paper.id))
        old_row = before.X[row].copy()
    text = "Dark matter halos and galaxy rotation curves in cosmological simulations."
    record = PaperRecord(title="Galaxy rotation curves", abstract=text, arxiv_id="0704.0002",
                         updated=paper.updated_at.replace(year=2030) if paper.updated_at else None, source="test")
    with embedded.session() as session:
        changed = upsert_papers(session, [record]).changed_ids
    assert changed
    assert embed_all(embedded).embedded == 1
    second = publish_vector_index(embedded)
    assert second.built and second.generation > first.generation and second.vectors == 200
    if not ON_POSTGRES:
        assert second.incremental
    # another process's reader (a fresh SemanticIndex) and this one both serve the new vector
    other = SemanticIndex(embedded, reader.embedder, reader.data_dir)
    for index in (reader, other):
        assert index.refresh() == second.generation
        assert index.nearest(index.query_vector("Galaxy rotation curves " + text), 1)[0][0] == paper.id
    with embedded.session() as session:
        from paperwire.rank import vector_matrix as vm

        vm.REFRESH_SECONDS, saved = 0.0, vm.REFRESH_SECONDS
        try:
            after = vector_matrix(session, model)
        finally:
            vm.REFRESH_SECONDS = saved
    assert after.generation == second.generation
    assert not np.allclose(after.X[int(np.searchsorted(after.ids, paper.id))], old_row)


@pytest.mark.skipif(ON_POSTGRES, reason="the index file is SQLite's")
def test_a_missing_generation_file_is_rebuilt_by_the_next_publish(embedded):
    first = publish_vector_index(embedded)
    (get_settings().resolved_data_dir() / f"vectors-{DEFAULT_EMBEDDER}-g{first.generation}.usearch").unlink()
    again = publish_vector_index(embedded)
    assert again.built and not again.incremental and again.vectors == 200
    assert _files() == {f"vectors-{DEFAULT_EMBEDDER}-g{again.generation}.usearch"}


@pytest.mark.skipif(ON_POSTGRES, reason="the index file is SQLite's")
def test_only_two_generations_stay_on_disk(embedded):
    generations = []
    for n in range(4):
        with embedded.session() as session:
            upsert_papers(session, [PaperRecord(title=f"A new paper number {n}", abstract="Fresh text.", source="test")])
        embed_all(embedded)
        generations.append(publish_vector_index(embedded).generation)
    assert _files() == {f"vectors-{DEFAULT_EMBEDDER}-g{g}.usearch" for g in generations[-2:]}
    with embedded.session() as session:
        assert set(session.scalars(select(IndexGeneration.id).where(IndexGeneration.kind == VECTORS))) == set(generations[-2:])
