"""Engine, sessions and schema migration.

``open_database`` is the one entry point: it creates the engine (SQLite in WAL
mode with sane pragmas), runs Alembic migrations up to the newest revision and
returns a :class:`Database` holding a session factory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import time

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from paperwire.store import json_columns
from paperwire.store.bulk_indexes import restore_indexes

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


#: Same JSON on every backend and in ``store.paper_rows`` (which writes rows below the ORM).
_JSON = {"json_serializer": json_columns.dumps, "json_deserializer": json_columns.loads}


@dataclass(frozen=True)
class PoolLimits:
    """How many connections an engine keeps and opens, and how long a checkout waits."""

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0

    def engine_options(self, url: str) -> dict:
        if url in ("sqlite://", "sqlite:///:memory:"):
            return {}  # one shared in-memory connection: no queue to size
        return {"pool_size": self.size, "max_overflow": self.overflow, "pool_timeout": self.timeout}


def make_engine(url: str, *, immediate_writes: bool = False, pool: PoolLimits = PoolLimits()) -> Engine:
    """The engine for ``url``; ``immediate_writes`` (SQLite): every transaction
    takes the write lock when it begins (``BEGIN IMMEDIATE``).

    Why that option: in WAL mode a transaction that reads and then writes fails
    at once (``SQLITE_BUSY_SNAPSHOT``, no waiting) when another writer
    committed after its first read, so concurrent import workers would redo
    nearly every batch. Taking the lock first makes them queue instead. Only
    writers that do little but write should ask for it: a read-only session
    would hold the write lock for nothing.
    """
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **pool.engine_options(url), **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
        if immediate_writes:
            _begin_immediate(engine)
        return engine
    engine = create_engine(url, **pool.engine_options(url), **_JSON)
    _ping_when_idle(engine)
    return engine


def _begin_immediate(engine: Engine) -> None:
    """SQLAlchemy's documented recipe: the driver stops issuing its own BEGIN, we issue ours."""

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


#: A pooled PostgreSQL connection idle at least this long is pinged before use.
IDLE_PING_SECONDS = 10.0
_CHECKED_IN = "paperwire_checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """Ping pooled connections before use, but only those idle for a while.

    Why: ``pool_pre_ping`` pings on *every* checkout, one extra round trip per
    session; a search is five or six of them on PostgreSQL, so the ping was a
    large share. A connection in use a moment ago is alive; one that sat in
    the pool (a restarted server, a dropped idle link) is checked first, and
    a dead one is replaced: raising ``DisconnectionError`` from ``checkout``
    makes the pool discard it and connect anew (SQLAlchemy's documented
    pessimistic-disconnect hook).
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new, or in use a moment ago
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except Exception as error:
            raise exc.DisconnectionError(f"stale pooled connection: {error}") from error


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names when it does not exist yet (else ``None``).

    Opening such a URL would create an empty database, which read-only
    commands must not do: run outside the project, they would leave a stray
    ``./paperwire.db`` behind and report an empty catalogue instead of an error.
    """
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    return None if path.exists() else path


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (all heads: feature areas add their own)."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


#: How long :meth:`Database.truncate_wal_if_large` keeps asking while another checkpoint runs.
WAL_RETRY_SECONDS = 5.0


@dataclass
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]
    #: SQLite: the write-ahead log size past which :meth:`truncate_wal_if_large` acts.
    wal_limit_bytes: int | None = None
    _autocommit: Engine | None = field(default=None, init=False, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessionmaker.begin() as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: on PostgreSQL in autocommit mode.

        Why: a transaction costs a ``BEGIN`` and a ``COMMIT`` round trip on
        PostgreSQL, as much as a search's own queries. Each statement still
        sees committed data; what a search reads needs no snapshot across
        statements (a paper hidden between them is simply left out). Writes
        must use :meth:`session`. SQLite has no such round trips, so there it
        is the ordinary session.
        """
        if self.dialect != "postgresql":
            with self.session() as session:
                yield session
            return
        with self.sessionmaker(bind=self._autocommit_engine()) as session:
            yield session

    @contextmanager
    def reading(self, session: Session | None = None) -> Iterator[Session]:
        """The caller's session when it has one, else a :meth:`read_session` of its own.

        Why: a page makes several reads (the search, the coverage notice, the
        chart, the votes shown); it opens one session and hands it down, while
        the same functions still work on their own from the CLI.
        """
        if session is not None:
            yield session
            return
        with self.read_session() as own:
            yield own

    def _autocommit_engine(self) -> Engine:
        engine = self._autocommit
        if engine is None:  # shares the pool; the option is set per checkout
            engine = self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return engine

    def wal_path(self) -> Path | None:
        """The write-ahead log file of a SQLite database file (``None`` elsewhere)."""
        database = self.engine.url.database if self.dialect == "sqlite" else None
        if not database or database == ":memory:":
            return None
        return Path(f"{database}-wal")

    def truncate_wal_if_large(self) -> bool:
        """Checkpoint a SQLite write-ahead log that passed ``wal_limit_bytes`` and truncate it.

        Why: SQLite's automatic checkpoint is passive: it copies what it can,
        and the log is reused from its start only when a writer begins after
        a *complete* checkpoint with no reader left in it. Import workers that
        take turns at the write lock never leave such a moment, so the log
        grew for the whole import (5-6 GB at 1M papers). ``TRUNCATE`` waits
        (busy timeout) for the other writer's batch, copies every frame and
        empties the file. It answers "busy" at once while another connection
        runs a checkpoint (the other worker's automatic one, a fraction of a
        second), so it is tried again for up to :data:`WAL_RETRY_SECONDS`.
        Call it outside any transaction, between batches. Returns whether the
        log was emptied.
        """
        path = self.wal_path()
        if path is None or self.wal_limit_bytes is None:
            return False
        try:
            if path.stat().st_size <= self.wal_limit_bytes:
                return False
        except FileNotFoundError:
            return False
        deadline = time.monotonic() + WAL_RETRY_SECONDS
        raw = self.engine.raw_connection()
        try:  # the driver's own connection: no ORM transaction, no BEGIN IMMEDIATE
            while True:
                busy = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy or time.monotonic() > deadline:
                    return not busy
                time.sleep(0.02)
        finally:
            raw.close()

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str | None = None, *, migrate_schema: bool = True, immediate_writes: bool = False) -> Database:
    from paperwire.settings import get_settings

    settings = get_settings()
    if url is None:
        url = settings.database_url
    pool = PoolLimits(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout)
    engine = make_engine(url, immediate_writes=immediate_writes, pool=pool)
    if migrate_schema:
        migrate(engine)
        restore_indexes(engine)  # a bulk import killed before it rebuilt them
    return Database(engine=engine, sessionmaker=sessionmaker(engine, expire_on_commit=False),
                    wal_limit_bytes=settings.sqlite_wal_limit_mb * 1024 * 1024)
