"""Delivery tables: digest subscriptions, the send log, webhooks, feed tokens.

The send log is what makes digests exactly-once in practice: one row per
(subscription, period) guarded by a UNIQUE constraint, claimed by a worker
with a conditional UPDATE before anything is mailed. User ids are plain
integers (no foreign key) so this area does not depend on the community
migration being applied first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base

FREQUENCIES = ("daily", "weekly")
WEBHOOK_FORMATS = ("generic", "slack")
#: Send-log states. ``pending`` rows may be claimed; the others are final.
SEND_PENDING, SEND_SENT, SEND_FAILED, SEND_EMPTY = "pending", "sent", "failed_permanent", "empty"


def default_topics() -> dict:
    """What a new subscription receives: global trending, nothing followed."""
    return {"trending": True, "categories": [], "keywords": [], "authors": [], "for_you": False}


def default_exclusions() -> dict:
    return {"words": [], "authors": [], "categories": []}


class Subscription(Base):
    """One email address receiving digests (anonymous or tied to an account)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    frequency: Mapped[str] = mapped_column(String(10), default="daily")
    #: {"trending": bool, "categories": [...], "keywords": [...], "authors": [...], "for_you": bool}
    topics: Mapped[dict] = mapped_column(JSON, default=default_topics)
    #: {"words": [...], "authors": [...], "categories": [...]}
    exclusions: Mapped[dict] = mapped_column(JSON, default=default_exclusions)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class SendLog(Base):
    """One digest for one subscription and period: claimed, then sent once."""

    __tablename__ = "digest_send_log"
    __table_args__ = (UniqueConstraint("subscription_id", "period_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    #: "daily:2024-08-12" or "weekly:2024-W33".
    period_key: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(20), default=SEND_PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    paper_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Webhook(Base):
    """A URL that receives digests as JSON; ``user_id`` NULL = site-wide (admin)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(10), default="generic")
    frequency: Mapped[str] = mapped_column(String(10), default="daily")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class WebhookDelivery(Base):
    """History of one digest posted to one webhook (shown in settings)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "period_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(Integer, index=True)
    period_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=SEND_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


class FeedToken(Base):
    """Secret for a private per-user feed; only its SHA-256 is stored."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class SubscriptionChange(Base):
    """Settings an account asked for on a subscription it does not own yet.

    They are applied (and the subscription linked to the account) only when
    the link mailed to the subscription's address is clicked; one row per
    (subscription, account), overwritten by newer saves, so a later click
    applies the newest settings.
    """

    __tablename__ = "subscription_changes"
    __table_args__ = (UniqueConstraint("subscription_id", "user_id", name="uq_subscription_change_owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    #: {"frequency": ..., "topics": {...}, "exclusions": {...}, "active": bool}
    settings: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
