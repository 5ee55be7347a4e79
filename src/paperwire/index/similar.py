"""Similar papers: nearest neighbours of a paper's own vector.

Raises :class:`~paperwire.index.vectors.SemanticUnavailable` when the paper
has no vector yet or no index is published; callers say so rather than
embedding inside a request.
"""

from __future__ import annotations

from html import escape

from sqlalchemy import select

from paperwire.index.results import SearchHit
from paperwire.index.vectors import SemanticUnavailable, semantic_index
from paperwire.store.db import Database
from paperwire.store.embeddings import load_vectors
from paperwire.store.models import Paper
from paperwire.store.papers import get_paper, papers_by_ids


class PaperNotFound(LookupError):
    pass


def similar_papers(db: Database, uid: str, *, limit: int = 10) -> list[SearchHit]:
    """The ``limit`` papers closest in meaning to ``uid`` (not the paper itself)."""
    index = semantic_index(db)
    with db.session() as session:
        paper = get_paper(session, uid)
        if paper is None:
            raise PaperNotFound(f"no paper with id {uid!r}")
        paper_id = paper.id
    with db.session() as session:
        vector = load_vectors(session, index.embedder.name, [paper_id]).get(paper_id)
    if limit <= 0:
        return []
    if vector is None:  # embedding is the worker's job, never a request's
        raise SemanticUnavailable("this paper has not been embedded yet; similar papers appear once it is")
    wanted = limit + 1
    while True:
        neighbours = [(pid, score) for pid, score in index.nearest(vector, wanted * 2) if pid != paper_id]
        with db.session() as session:
            hidden = set(session.scalars(select(Paper.id).where(Paper.id.in_([p for p, _ in neighbours]), Paper.hidden)))
            visible = [(pid, score) for pid, score in neighbours if pid not in hidden][:limit]
            papers = {p.id: p for p in papers_by_ids(session, [pid for pid, _ in visible])}
        if len(visible) >= limit or wanted * 2 >= len(index.vectors):
            break
        wanted *= 4
    return [
        SearchHit(paper=papers[pid], score=score, title_html=escape(papers[pid].title),
                  snippet_html=escape(_shorten(papers[pid].abstract)))
        for pid, score in visible
        if pid in papers
    ]


def _shorten(text: str, length: int = 300) -> str:
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …"
