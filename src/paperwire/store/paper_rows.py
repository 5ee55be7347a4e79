"""Reading and inserting paper rows in bulk: what ``upsert_papers`` runs for each batch.

Building statements through SQLAlchemy (an ``IN`` of 10,000 bound values, an
``insert()`` of 10,000 parameter dicts) cost more than SQLite spent on the rows
themselves, so rows travel here as plain tuples straight to the driver, put
through the dialect's *own* bind and result processors, so dates and JSON are
stored and read exactly as the ORM stores and reads them (JSON is serialised
with orjson, which gives the same values in compact form). New rows go in as:

* SQLite: one DB-API ``executemany`` in the caller's transaction;
* PostgreSQL: ``COPY`` into a temporary staging table, then one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING uid, id``.

Either way a row that another writer inserted meanwhile is an
:class:`~sqlalchemy.exc.IntegrityError` (SQLite's unique violation; on
PostgreSQL fewer rows returned than staged), so the importer's retry re-runs
the batch, which then finds that row and merges into it instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter

from sqlalchemy import JSON, Column
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperwire.store import json_columns
from paperwire.store.models import Paper

_PAPERS = Paper.__table__
#: Every column a new row fills (``id`` is assigned by the database).
INSERT_COLUMNS: tuple[Column, ...] = tuple(c for c in _PAPERS.columns if c.name != "id")
_INSERT_NAMES = ", ".join(c.name for c in INSERT_COLUMNS)
_ALL_NAMES = ", ".join(c.name for c in _PAPERS.columns)
#: Values per ``IN (...)`` on SQLite (its limit is 32,766 per statement).
LOOKUP_CHUNK = 5000


def _bind_processor(column: Column, dialect) -> Callable | None:
    if isinstance(column.type, JSON):
        return json_columns.dumps  # SQLite stores the text; PostgreSQL's COPY reads it as json
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def select_rows(connection: Connection, column: str, values: Sequence) -> list[dict]:
    """Every column of the papers whose ``column`` is one of ``values``, typed as the ORM reads them."""
    dialect = connection.dialect
    processors = [(c.name, c.type.dialect_impl(dialect).result_processor(dialect, None)) for c in _PAPERS.columns]
    found: list[dict] = []
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = list(values[start:start + LOOKUP_CHUNK])
        if dialect.name == "postgresql":
            sql, params = f"SELECT {_ALL_NAMES} FROM papers WHERE {column} = ANY(%s)", (chunk,)
        else:
            sql, params = f"SELECT {_ALL_NAMES} FROM papers WHERE {column} IN ({', '.join('?' * len(chunk))})", tuple(chunk)
        for raw in connection.exec_driver_sql(sql, params):
            found.append({name: value if process is None else process(value)
                          for (name, process), value in zip(processors, raw)})
    return found


#: ``session.info`` key set when a session wrote papers below the ORM (raw
#: ``executemany`` / ``COPY``), where no flush or ORM-execute event sees it;
#: watchers of paper writes (``index.lexical_sync``) read it.
PAPERS_WRITTEN = "paperwire_papers_written"


def note_papers_written(session: Session) -> None:
    session.info[PAPERS_WRITTEN] = True


def insert_new_papers(session: Session, rows: Sequence[dict]) -> dict[str, int]:
    """Insert ``rows`` (dicts holding every column of :data:`INSERT_COLUMNS`); returns uid -> id."""
    if not rows:
        return {}
    note_papers_written(session)
    connection = session.connection()
    dialect = connection.dialect
    getter = itemgetter(*(c.name for c in INSERT_COLUMNS))
    processors = [(i, p) for i, p in enumerate(_bind_processor(c, dialect) for c in INSERT_COLUMNS) if p is not None]
    tuples = []
    for row in rows:
        values = list(getter(row))
        for i, process in processors:
            values[i] = process(values[i])
        tuples.append(tuple(values))
    if dialect.name == "postgresql":
        return _copy_insert(connection, tuples)
    return _sqlite_insert(connection, tuples)


_UID_INDEX = next(i for i, c in enumerate(INSERT_COLUMNS) if c.name == "uid")
_LARGEST_ROWID = 2**63 - 1


def _sqlite_insert(connection: Connection, tuples: list[tuple]) -> dict[str, int]:
    """``executemany`` with the ids SQLite itself would pick (``max(id) + 1`` onwards), given explicitly.

    Why: knowing the ids spares reading 10,000 of them back by uid after every
    batch, a B-tree probe per paper inside the write lock (``executemany``
    returns no rows). ``papers.id`` has no AUTOINCREMENT, so this is exactly
    SQLite's own choice; a writer that inserted meanwhile makes the batch fail
    with a unique violation (on ``id`` or ``uid``) and the importer's retry
    re-runs it.
    """
    uids = [t[_UID_INDEX] for t in tuples]
    start = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM papers").scalar_one()
    if start + len(tuples) > _LARGEST_ROWID:  # SQLite then picks random free ids: ask it which
        marks = ", ".join("?" for _ in INSERT_COLUMNS)
        connection.exec_driver_sql(f"INSERT INTO papers ({_INSERT_NAMES}) VALUES ({marks})", tuples)
        return {row["uid"]: row["id"] for row in _ids(connection, uids)}
    marks = ", ".join("?" for _ in range(len(INSERT_COLUMNS) + 1))
    connection.exec_driver_sql(f"INSERT INTO papers (id, {_INSERT_NAMES}) VALUES ({marks})",
                               [(start + n, *values) for n, values in enumerate(tuples, start=1)])
    return {uid: start + n for n, uid in enumerate(uids, start=1)}


def _ids(connection: Connection, uids: list[str]) -> list[dict]:
    found = []
    for start in range(0, len(uids), LOOKUP_CHUNK):
        chunk = uids[start:start + LOOKUP_CHUNK]
        sql = f"SELECT uid, id FROM papers WHERE uid IN ({', '.join('?' * len(chunk))})"
        found.extend({"uid": uid, "id": id_} for uid, id_ in connection.exec_driver_sql(sql, tuple(chunk)))
    return found


def _copy_insert(connection: Connection, tuples: list[tuple]) -> dict[str, int]:
    raw = connection.connection.dbapi_connection  # the psycopg 3 connection of this transaction
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS papers_staging ON COMMIT DELETE ROWS AS "
            f"SELECT {_INSERT_NAMES} FROM papers WITH NO DATA"
        )
        with cursor.copy(f"COPY papers_staging ({_INSERT_NAMES}) FROM STDIN") as copy:
            for values in tuples:
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO papers ({_INSERT_NAMES}) SELECT {_INSERT_NAMES} FROM papers_staging "
            "ON CONFLICT DO NOTHING RETURNING uid, id"
        )
        ids = dict(cursor.fetchall())
    if len(ids) < len(tuples):
        raise IntegrityError(
            "INSERT INTO papers ... ON CONFLICT DO NOTHING", None,
            Exception(f"{len(tuples) - len(ids)} of {len(tuples)} new papers were inserted by another writer meanwhile"),
        )
    return ids
