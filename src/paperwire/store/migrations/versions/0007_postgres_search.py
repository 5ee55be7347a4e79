"""PostgreSQL search: a weighted tsvector with a GIN index, and pgvector.

No-op on SQLite (FTS5 and the usearch file serve it there, see 0002).

Lexical: ``papers.search_vector`` is a *generated* column, so every write
path (ORM, executemany, COPY) indexes rows without triggers: title weight A,
abstract B, authors C, parsed with the ``simple`` configuration (no
stemming, no stopwords — like SQLite's ``unicode61``). ``paperwire_fold``
lower-cases, removes accents and turns every run of non-alphanumerics into a
space, so the document lexemes are exactly what
:func:`paperwire.index.query.terms` makes of query text (``graph-based`` →
``graph`` ``based``; ``Gödel`` → ``godel``).

Vectors: ``paper_vectors(paper_id, model, embedding vector)`` holds one
pgvector per (paper, model) — a derived copy of ``embeddings.vector`` (the
source of truth on every backend). The column has no fixed dimension
because it depends on the model; each model gets a *partial* HNSW index on
``(embedding::vector(DIM)) vector_cosine_ops WHERE model = '…'``. This
revision creates the one for the default ``paperwire-static-v1`` (256-d);
:class:`paperwire.index.vectors.PgVectorIndex` creates others on first use.

Revision ID: 0007_postgres_search
Revises: 0001_catalogue
"""
import unicodedata

from alembic import op

revision = "0007_postgres_search"
down_revision = "0001_catalogue"
branch_labels = None
depends_on = None

DEFAULT_MODEL = "paperwire-static-v1"
DEFAULT_DIM = 256


def _accent_map() -> tuple[str, str]:
    """(from, to) for ``translate``: accented letters → their base letter."""
    src, dst = [], []
    for cp in range(0xC0, 0x2000):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)).lower()
        if len(base) == 1 and base != ch.lower() and base.isalnum():
            src.append(ch)
            dst.append(base)
    return "".join(src), "".join(dst)


def fold_function_sql() -> str:
    src, dst = _accent_map()
    return (
        "CREATE OR REPLACE FUNCTION paperwire_fold(t text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fold$ "
        # translate() costs O(text x map): only pay it for the rare non-ASCII text.
        "SELECT regexp_replace(CASE WHEN t ~ '[^[:ascii:]]' "
        f"THEN translate(lower(t), '{src}', '{dst}') ELSE lower(t) END, '[^[:alnum:]]+', ' ', 'g') $fold$"
    )


SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(paperwire_fold(title), '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(paperwire_fold(abstract), '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(paperwire_fold(authors_text), '')), 'C')"
)


def hnsw_index_sql(name: str, model: str, dim: int) -> str:
    """A partial HNSW index for one model (``model`` must be SQL-quoted safe)."""
    quoted = model.replace("'", "''")
    return (
        f'CREATE INDEX IF NOT EXISTS "{name}" ON paper_vectors USING hnsw '
        f"((embedding::vector({int(dim)})) vector_cosine_ops) WHERE model = '{quoted}'"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(fold_function_sql())
    op.execute(f"ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_papers_search ON papers USING gin (search_vector)")
    # Browsing and date-sorted results: newest first among visible papers (the
    # predicate is spelt like filter_conditions() so the planner can use it).
    op.execute("CREATE INDEX ix_papers_browse ON papers (submitted_at DESC NULLS LAST, id DESC) WHERE hidden IS false")
    op.execute(
        "CREATE TABLE paper_vectors ("
        " paper_id integer NOT NULL REFERENCES papers(id) ON DELETE CASCADE,"
        " model varchar(100) NOT NULL,"
        " embedding vector NOT NULL,"
        " PRIMARY KEY (paper_id, model))"
    )
    op.execute(hnsw_index_sql("ix_paper_vectors_hnsw_default", DEFAULT_MODEL, DEFAULT_DIM))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS paper_vectors")
    op.execute("DROP INDEX IF EXISTS ix_papers_browse")
    op.execute("DROP INDEX IF EXISTS ix_papers_search")
    op.execute("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP FUNCTION IF EXISTS paperwire_fold(text)")
