"""Keep the lexical index in step with paper writes, right after their commit.

Why: the tantivy index is derived state published as generations, and a
search must show a paper submitted, edited or hidden a moment ago without
waiting for the worker's next ``index`` round. :func:`keep_in_step` watches
a :class:`~paperwire.store.db.Database`'s sessions; when one commits a write
to ``papers`` (ORM objects or Core ``insert``/``update``/``delete`` on the
table), it publishes an *incremental* generation (only the papers written
since the last one are indexed: milliseconds at any corpus size) and never
a full build of more than ``SMALL_CATALOGUE`` papers nor a catch-up of more
than that many changed ones — when only those would match the database (a
delete, merge or unhide; a big import just before), it leaves them to the
worker, and readers drop deleted and hidden papers at query time meanwhile. When another process holds the
build lock the worker's next round picks the change up.

Who installs it: the web app (submissions, hides, deletes, merges) and the
test suite's database fixture. Imports do not: they publish once at their
end (``cli._embedding``), not once per batch.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from paperwire.store.db import Database
from paperwire.store.models import Paper
from paperwire.store.paper_rows import PAPERS_WRITTEN, note_papers_written

log = logging.getLogger(__name__)
_FLAG = PAPERS_WRITTEN
_COMMITTED = "paperwire_papers_committed"
_INSTALLED = "paperwire_lexical_sync"


def _wrote_papers(session: Session) -> None:
    note_papers_written(session)


def _on_flush(session: Session, _context) -> None:
    if any(isinstance(o, Paper) for o in (*session.new, *session.dirty, *session.deleted)):
        _wrote_papers(session)


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == Paper.__tablename__:
            _wrote_papers(state.session)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_FLAG, None)
    session.info.pop(_COMMITTED, None)


def _committed(session: Session) -> None:
    """After a COMMIT (or a SAVEPOINT release: SQLAlchemy reports both): publish at the outer end."""
    if session.info.get(_FLAG):
        session.info[_COMMITTED] = True


def keep_in_step(db: Database) -> Database:
    """Publish an incremental lexical generation after every commit that wrote papers (idempotent)."""
    factory = db.sessionmaker
    if getattr(factory, _INSTALLED, False):
        return db

    def after_transaction_end(session: Session, transaction) -> None:
        # Only once the outermost transaction is over: its connection (and on SQLite the
        # write lock) is released by then, so the publisher's own sessions never wait on it.
        if transaction.parent is not None or transaction.nested or not session.info.pop(_COMMITTED, False):
            return
        session.info.pop(_FLAG, None)
        from paperwire.index.publish_lexical import publish_lexical_index

        try:
            report = publish_lexical_index(db, full=False)
        except Exception:  # the write is committed; the worker's next round indexes it
            log.exception("lexical index: incremental update after a write failed")
            return
        if report.needs_full:
            log.info("lexical index: a full build is due (the worker's index job runs it)")

    event.listen(factory, "after_flush", _on_flush)
    event.listen(factory, "do_orm_execute", _on_execute)
    event.listen(factory, "after_commit", _committed)
    event.listen(factory, "after_transaction_end", after_transaction_end)
    event.listen(factory, "after_rollback", _forget)
    setattr(factory, _INSTALLED, True)
    return db
