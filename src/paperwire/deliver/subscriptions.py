"""Storage-level operations on subscriptions, webhooks and private feed tokens.

No HTTP here: the web routes and the CLI call these. Interests and
exclusions are normalised (trimmed, de-duplicated, bounded) on the way in so
that a digest never has to deal with junk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from paperwire.outbound import OutboundPolicy, OutboundRefused, check_syntax
from paperwire.deliver.tokens import hash_feed_token, new_feed_token, new_webhook_secret
from paperwire.store.delivery import (
    FREQUENCIES, WEBHOOK_FORMATS, FeedToken, Subscription, SubscriptionChange, Webhook, WebhookDelivery,
    default_exclusions, default_topics,
)
from paperwire.store.community import User
from paperwire.store.papers import utcnow

EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
MAX_ITEMS = 50
MAX_ITEM_LENGTH = 100


class DeliveryError(ValueError):
    """Invalid input for a subscription or webhook; the message is shown to the user."""


def normalise_email(value: str) -> str:
    email = (value or "").strip()
    if len(email) > 320 or not EMAIL_RE.match(email):
        raise DeliveryError("Please enter a valid email address.")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_list(value: str | list[str] | None) -> list[str]:
    """Comma- or newline-separated text (or a list) → trimmed unique items."""
    items = value if isinstance(value, list) else re.split(r"[,\n]", value or "")
    out: list[str] = []
    for item in items:
        item = " ".join(str(item).split())
        if item and item.lower() not in {o.lower() for o in out}:
            if len(item) > MAX_ITEM_LENGTH:
                raise DeliveryError(f"{item[:30]}…: entries are limited to {MAX_ITEM_LENGTH} characters.")
            out.append(item)
    if len(out) > MAX_ITEMS:
        raise DeliveryError(f"At most {MAX_ITEMS} entries per list.")
    return out


def make_topics(*, trending: bool = True, categories=None, keywords=None, authors=None, for_you: bool = False,
                rising: bool = True) -> dict:
    return {**default_topics(), "trending": bool(trending), "categories": parse_list(categories),
            "keywords": parse_list(keywords), "authors": parse_list(authors), "for_you": bool(for_you),
            "rising": bool(rising)}


def make_exclusions(*, words=None, authors=None, categories=None) -> dict:
    return {**default_exclusions(), "words": parse_list(words), "authors": parse_list(authors),
            "categories": parse_list(categories)}


def _check_frequency(frequency: str) -> str:
    if frequency not in FREQUENCIES:
        raise DeliveryError("Choose a daily or weekly digest.")
    return frequency


def subscribe_email(session: Session, email: str, *, frequency: str = "daily", topics: dict | None = None,
                    user_id: int | None = None) -> tuple[Subscription, bool]:
    """Create an unconfirmed subscription (or re-ask an inactive one); True when a confirmation mail is due.

    An already confirmed, active address is left alone (no mail, no change),
    so the form cannot be used to spam or to alter someone else's settings.
    A paused (once confirmed) subscription keeps its settings: the mail only
    lets its address revive it (:func:`confirm`). Only a never-confirmed,
    anonymous row takes the form's new choices.
    """
    email = normalise_email(email)
    _check_frequency(frequency)
    sub = session.scalar(select(Subscription).where(Subscription.email == email))
    if sub is not None and sub.active:
        return sub, False
    if sub is None:
        sub = Subscription(email=email, created_at=utcnow(), topics=topics or default_topics(),
                           exclusions=default_exclusions(), frequency=frequency, user_id=user_id)
        session.add(sub)
    elif sub.confirmed_at is None and sub.user_id is None:
        sub.unsubscribed_at, sub.frequency = None, frequency
        if topics:
            sub.topics = topics
    session.flush()
    return sub, True


def confirm(session: Session, subscription_id: int, email: str) -> Subscription | None:
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.email.lower() != email.lower():
        return None
    if sub.confirmed_at is None or sub.unsubscribed_at is not None:
        sub.confirmed_at, sub.unsubscribed_at = utcnow(), None
    return sub


def unsubscribe(session: Session, subscription_id: int) -> Subscription | None:
    sub = session.get(Subscription, subscription_id)
    if sub is not None and sub.unsubscribed_at is None:
        sub.unsubscribed_at = utcnow()
    return sub


def user_subscription(session: Session, user_id: int) -> Subscription | None:
    """The account's own subscription: linked to it *and* sent to its verified address.

    A subscription linked to an account whose address is not (or no longer)
    verified is not the account's to see or change.
    """
    return session.scalar(
        select(Subscription).join(User, User.id == Subscription.user_id)
        .where(Subscription.user_id == user_id, User.email_verified_at.is_not(None),
               func.lower(Subscription.email) == func.lower(User.email))
        .order_by(Subscription.id))


def subscription_of_address(session: Session, email: str) -> Subscription | None:
    return session.scalar(select(Subscription).where(func.lower(Subscription.email) == email.lower()))


@dataclass
class SaveOutcome:
    """What saving an account's digest settings did: changed its own
    subscription, or stored a change that waits for the address's confirmation."""

    subscription: Subscription | None = None
    change: SubscriptionChange | None = None


def _apply(sub: Subscription, settings: dict) -> None:
    sub.frequency, sub.topics, sub.exclusions = settings["frequency"], settings["topics"], settings["exclusions"]
    if settings["active"]:
        sub.unsubscribed_at = None
        if sub.confirmed_at is None:
            sub.confirmed_at = utcnow()
    elif sub.unsubscribed_at is None:
        sub.unsubscribed_at = utcnow()


def save_user_subscription(session: Session, user_id: int, email: str | None, *, frequency: str, topics: dict,
                           exclusions: dict, active: bool) -> SaveOutcome:
    """Create or update the account's digest at its verified address ``email``.

    The account's own subscription changes at once, and a new one is active
    at once (the address was verified by a mailed link, no second opt-in).
    A subscription of the address that is not the account's own (anonymous,
    or left by another account) is never changed here: the settings wait in
    a :class:`SubscriptionChange` until the address confirms (see
    :func:`apply_change`).
    """
    _check_frequency(frequency)
    if not email:
        raise DeliveryError("Add and verify your e-mail address first.")
    settings = {"frequency": frequency, "topics": topics, "exclusions": exclusions, "active": bool(active)}
    own = user_subscription(session, user_id)
    if own is None:
        existing = subscription_of_address(session, email)
        if existing is not None:
            change = session.scalar(select(SubscriptionChange).where(
                SubscriptionChange.subscription_id == existing.id, SubscriptionChange.user_id == user_id))
            if change is None:
                change = SubscriptionChange(subscription_id=existing.id, user_id=user_id)
                session.add(change)
            change.settings, change.created_at = settings, utcnow()
            session.flush()
            return SaveOutcome(change=change)
        own = Subscription(email=email, user_id=user_id, created_at=utcnow())
        session.add(own)
    _apply(own, settings)
    session.flush()
    return SaveOutcome(subscription=own)


def pending_change(session: Session, change_id: int, email: str) -> tuple[SubscriptionChange, Subscription] | None:
    change = session.get(SubscriptionChange, change_id)
    sub = session.get(Subscription, change.subscription_id) if change else None
    if change is None or sub is None or sub.email.lower() != email.lower():
        return None
    return change, sub


def apply_change(session: Session, change_id: int, email: str) -> Subscription:
    """The address's owner accepted: apply the settings and link the subscription to the account."""
    found = pending_change(session, change_id, email)
    if found is None:
        raise DeliveryError("This change was already applied or replaced; save your settings again.")
    change, sub = found
    user = session.get(User, change.user_id)
    if user is None or not user.verified_email or user.verified_email.lower() != sub.email.lower():
        raise DeliveryError("The account that asked for this change no longer has this address.")
    _apply(sub, change.settings)
    sub.user_id = user.id
    session.execute(delete(SubscriptionChange).where(SubscriptionChange.subscription_id == sub.id))
    session.flush()
    return sub


def follow_address_change(session: Session, user_id: int, old: str | None, new: str) -> None:
    """After an account verified a new address, its digest moves there (if no other digest goes there)."""
    if not old or old.lower() == new.lower():
        return
    sub = session.scalar(select(Subscription).where(Subscription.user_id == user_id,
                                                    func.lower(Subscription.email) == old.lower()))
    if sub is not None and subscription_of_address(session, new) is None:
        sub.email = new
        session.flush()


# -- private feed tokens ---------------------------------------------------
def issue_feed_token(session: Session, user_id: int) -> str:
    """A new private-feed token; older ones of the user are revoked."""
    revoke_feed_tokens(session, user_id)
    token, digest = new_feed_token()
    session.add(FeedToken(user_id=user_id, token_hash=digest, created_at=utcnow()))
    session.flush()
    return token


def revoke_feed_tokens(session: Session, user_id: int) -> None:
    session.execute(update(FeedToken).where(FeedToken.user_id == user_id, FeedToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def active_feed_token(session: Session, user_id: int) -> FeedToken | None:
    return session.scalar(select(FeedToken).where(FeedToken.user_id == user_id, FeedToken.revoked_at.is_(None)))


def feed_token_user(session: Session, token: str) -> int | None:
    row = session.scalar(select(FeedToken).where(FeedToken.token_hash == hash_feed_token(token),
                                                 FeedToken.revoked_at.is_(None)))
    return row.user_id if row else None


# -- webhooks ----------------------------------------------------------------
def check_webhook_url(url: str) -> str:
    """Refuse non-http(s) URLs and, before any DNS, private or local targets (SSRF)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise DeliveryError("A webhook URL must be an http:// or https:// address.")
    try:
        check_syntax(url, OutboundPolicy.from_settings())
    except OutboundRefused as exc:
        raise DeliveryError(f"This webhook URL is not allowed: {exc}") from None
    return url


def add_webhook(session: Session, user_id: int | None, url: str, *, format: str = "generic",
                frequency: str = "daily") -> Webhook:
    if format not in WEBHOOK_FORMATS:
        raise DeliveryError("Choose the generic or the Slack format.")
    hook = Webhook(user_id=user_id, url=check_webhook_url(url), secret=new_webhook_secret(), format=format,
                   frequency=_check_frequency(frequency), active=True, created_at=utcnow())
    session.add(hook)
    session.flush()
    return hook


def webhooks_of(session: Session, user_id: int | None) -> list[Webhook]:
    owner = Webhook.user_id.is_(None) if user_id is None else Webhook.user_id == user_id
    return list(session.scalars(select(Webhook).where(owner).order_by(Webhook.id)))


def delete_webhook(session: Session, webhook_id: int, user_id: int | None) -> bool:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.user_id != user_id:
        return False
    session.delete(hook)
    return True


def recent_deliveries(session: Session, webhook_ids: list[int], limit: int = 20) -> list[WebhookDelivery]:
    if not webhook_ids:
        return []
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id.in_(webhook_ids))
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))
