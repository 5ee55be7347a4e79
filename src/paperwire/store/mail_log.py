"""The log of interactive mails (verification, notices, confirmations) per
address and per account, which the per-address limits count.

Rows are written in the same transaction as the mail's other rows, so a mail
that could not be sent (rolled back) is not counted; old rows are pruned as
new ones are counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.store.models import Base
from paperwire.store.papers import utcnow

#: How long rows are kept: the longest window a limit counts over.
KEEP = timedelta(days=1)


class MailLogEntry(Base):
    __tablename__ = "mail_log"
    __table_args__ = (
        Index("ix_mail_log_address_created", "address", "created_at"),
        Index("ix_mail_log_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Lower-cased address.
    address: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(Integer)
    #: "verify" (a verification link, or the notice sent instead), "confirm", "change".
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime)


def mails_to(session: Session, address: str, since: datetime) -> list[tuple[str, datetime]]:
    """(kind, when) of the mails that went to ``address`` since ``since``, oldest first."""
    rows = session.execute(select(MailLogEntry.kind, MailLogEntry.created_at).where(
        MailLogEntry.address == address.lower(), MailLogEntry.created_at >= since).order_by(MailLogEntry.created_at))
    return [(kind, when) for kind, when in rows]


def mails_for_user(session: Session, user_id: int, since: datetime) -> int:
    return session.scalar(select(func.count()).where(MailLogEntry.user_id == user_id,
                                                     MailLogEntry.created_at >= since)) or 0


def log_mail(session: Session, address: str, user_id: int | None, kind: str) -> None:
    now = utcnow()
    session.execute(delete(MailLogEntry).where(MailLogEntry.created_at < now - KEEP))
    session.add(MailLogEntry(address=address.lower(), user_id=user_id, kind=kind, created_at=now))
    session.flush()
