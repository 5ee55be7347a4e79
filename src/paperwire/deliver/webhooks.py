"""Posting digests to webhooks: payloads, HMAC signatures, retries, history.

Two payload shapes: ``generic`` (the digest as JSON, documented below) and
``slack`` (Block Kit ``blocks`` plus a ``text`` fallback, accepted by Slack
incoming webhooks and compatible services such as Mattermost). Every request
is signed::

    X-Paperwire-Timestamp: 1723456789
    X-Paperwire-Signature: sha256=HEX(HMAC_SHA256(secret, "<timestamp>." + body))

so a receiver can check both origin and freshness. Requests go through
:func:`paperwire.outbound.guarded_client` (public addresses only, no
redirects), and only the status code is kept, never the response body. Connection errors,
timeouts, 429 and 5xx are retried with exponential backoff; other 4xx are
permanent. Each (webhook, period) is delivered once, claimed like the mail
send log, and the outcome is kept in ``webhook_deliveries``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date

import httpx
from sqlalchemy import and_, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from paperwire.deliver.claims import claim_batch, default_worker_id
from paperwire.deliver.config import delivery_config
from paperwire.deliver.digest import Digest, DigestBuilder, period_for
from paperwire.outbound import OutboundRefused, guarded_client
from paperwire.store.db import Database
from paperwire.store.delivery import SEND_EMPTY, SEND_FAILED, SEND_PENDING, SEND_SENT, Subscription, Webhook, WebhookDelivery
from paperwire.store.papers import utcnow

SIGNATURE_HEADER = "X-Paperwire-Signature"
TIMESTAMP_HEADER = "X-Paperwire-Timestamp"
USER_AGENT = "paperwire-webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver does (used by our tests; handy for users' receivers too)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now or time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


def generic_payload(digest: Digest) -> dict:
    cfg = delivery_config()
    return {"type": "paperwire.digest", "version": 1, "site": cfg.base_url,
            "generated_at": utcnow().isoformat() + "Z", **digest.as_dict()}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(digest: Digest) -> dict:
    """Slack Block Kit message (at most 50 blocks, section text at most 3000 chars)."""
    kind = "Daily" if digest.period.frequency == "daily" else "Weekly"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": f"{kind} papers — {digest.period.label}"[:150]}}]
    for section in digest.sections:
        if not section.items:
            continue
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(section.title)}*"}})
        for item in section.items:
            line = f"<{item.url}|{_slack_escape(item.title)}>\n{_slack_escape(item.authors_line)}"
            if item.upvotes:
                line += f" · ▲ {item.upvotes}"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line[:3000]}})
        blocks.append({"type": "divider"})
    blocks = blocks[:49]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{delivery_config().base_url}|paperwire>"}]})
    return {"text": f"{kind} paperwire digest: {len(digest.items)} papers ({digest.period.label})", "blocks": blocks}


def payload_for(webhook_format: str, digest: Digest) -> dict:
    return slack_payload(digest) if webhook_format == "slack" else generic_payload(digest)


@dataclass
class PostResult:
    ok: bool
    status_code: int | None
    error: str | None
    attempts: int
    permanent: bool = False


def post_signed(url: str, secret: str, payload: dict, *, client: httpx.Client | None = None,
                retries: int | None = None, backoff: float = 1.0, delivery_id: str = "",
                sleep: Callable[[float], None] = time.sleep) -> PostResult:
    """POST ``payload`` as signed JSON, retrying temporary failures with backoff."""
    cfg = delivery_config()
    retries = max(1, cfg.webhook_retries if retries is None else retries)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    own = client is None
    client = client or guarded_client(timeout=cfg.webhook_timeout)
    delay, result = backoff, PostResult(False, None, "not attempted", 0)
    try:
        for attempt in range(1, retries + 1):
            timestamp = int(time.time())
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                       TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body),
                       "X-Paperwire-Event": "digest", "X-Paperwire-Delivery": delivery_id}
            try:
                response = client.post(url, content=body, headers=headers)
            except OutboundRefused as exc:
                return PostResult(False, None, f"refused: {exc}", attempt, permanent=True)
            except httpx.HTTPError as exc:
                # The exception's class only: its text (errno, resolver detail) would make
                # the history a port-scanning oracle.
                result = PostResult(False, None, f"{type(exc).__name__}", attempt)
            else:
                code = response.status_code
                if 200 <= code < 300:
                    return PostResult(True, code, None, attempt)
                retryable = code >= 500 or code in (408, 429)
                # Status only: the body of a response is never read back to the user.
                result = PostResult(False, code, f"HTTP {code}", attempt, permanent=not retryable)
                if not retryable:
                    return result
            if attempt < retries:
                sleep(delay)
                delay *= 2
        return result
    finally:
        if own:
            client.close()


@dataclass
class WebhookReport:
    period: str
    due: int = 0
    delivered: int = 0
    empty: int = 0
    failed_permanent: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"webhooks {self.period}: {self.delivered} delivered, {self.empty} empty, "
                f"{self.failed_permanent} failed permanently, {self.deferred} deferred")


def _ensure_rows(db: Database, period_key: str, frequency: str) -> None:
    missing = select(Webhook.id, literal(period_key), literal(SEND_PENDING), literal(0), literal(utcnow())).where(
        and_(Webhook.active.is_(True), Webhook.frequency == frequency),
        ~exists().where(WebhookDelivery.webhook_id == Webhook.id, WebhookDelivery.period_key == period_key))
    statement = insert(WebhookDelivery).from_select(
        ["webhook_id", "period_key", "status", "attempts", "created_at"], missing)
    for attempt in range(5):
        try:
            with db.session() as session:
                session.execute(statement)
            return
        except (IntegrityError, OperationalError):
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def digest_for_webhook(builder: DigestBuilder, webhook: Webhook, subscription: Subscription | None) -> Digest:
    """Site hooks get global trending; a user's hook gets that user's interests."""
    if webhook.user_id is None or subscription is None:
        return builder.global_digest()
    return builder.build(subscription.topics, subscription.exclusions, user_id=webhook.user_id)


def deliver_webhooks(db: Database, *, day: date, frequency: str = "daily", worker_id: str | None = None,
                     client: httpx.Client | None = None, claim_timeout: int | None = None,
                     sleep: Callable[[float], None] = time.sleep, backoff: float = 1.0) -> WebhookReport:
    """Post the period's digest to every active webhook of that frequency, once."""
    cfg = delivery_config()
    period = period_for(frequency, day)
    report = WebhookReport(period=period.key)
    _ensure_rows(db, period.key, frequency)
    worker = worker_id or default_worker_id()
    stale = cfg.claim_timeout if claim_timeout is None else claim_timeout
    cursor = 0
    with db.sessionmaker() as builder_session:
        builder: DigestBuilder | None = None
        while True:
            tag, ids = claim_batch(db, WebhookDelivery, filters=[WebhookDelivery.period_key == period.key],
                                   worker_id=worker, batch=50, stale_after=stale, after_id=cursor)
            if not ids:
                break
            cursor = ids[-1]
            with db.session() as session:
                rows = session.execute(select(WebhookDelivery.id, Webhook).join(
                    Webhook, Webhook.id == WebhookDelivery.webhook_id).where(WebhookDelivery.id.in_(ids))).all()
                user_ids = {hook.user_id for _, hook in rows if hook.user_id is not None}
                subs = {s.user_id: s for s in session.scalars(select(Subscription).where(Subscription.user_id.in_(user_ids)))}
            builder = builder or DigestBuilder(builder_session, period)
            for row_id, hook in rows:
                report.due += 1
                digest = digest_for_webhook(builder, hook, subs.get(hook.user_id))
                values: dict
                if digest.is_empty:
                    values = {"status": SEND_EMPTY}
                    report.empty += 1
                else:
                    result = post_signed(hook.url, hook.secret, payload_for(hook.format, digest), client=client,
                                         delivery_id=f"{hook.id}:{period.key}", sleep=sleep, backoff=backoff)
                    values = {"attempts": WebhookDelivery.attempts + result.attempts,
                              "response_code": result.status_code, "error": result.error}
                    if result.ok:
                        values.update(status=SEND_SENT, delivered_at=utcnow())
                        report.delivered += 1
                    elif result.permanent:
                        values.update(status=SEND_FAILED)
                        report.failed_permanent += 1
                    else:
                        values.update(claimed_by=None, claimed_at=None)
                        report.deferred += 1
                    if result.error:
                        report.errors.append(f"{hook.url}: {result.error}")
                with db.session() as session:
                    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == row_id,
                                                                  WebhookDelivery.claimed_by == tag)
                                    .values(**values).execution_options(synchronize_session=False))
    return report


def send_test(db: Database, webhook_id: int, *, day: date | None = None, client: httpx.Client | None = None,
              sleep: Callable[[float], None] = time.sleep) -> PostResult:
    """Post a sample digest (the newest featured day) now and record it in the history."""
    from paperwire.rank.trending import featured_days

    with db.session() as session:
        hook = session.get(Webhook, webhook_id)
        if hook is None:
            raise LookupError(f"no webhook {webhook_id}")
        days = featured_days(session)
        sub = session.scalar(select(Subscription).where(Subscription.user_id == hook.user_id)) if hook.user_id else None
        builder = DigestBuilder(session, period_for("daily", day or (days[-1] if days else utcnow().date())))
        digest = digest_for_webhook(builder, hook, sub)
        if digest.is_empty:
            digest = builder.global_digest()
    key = f"test:{utcnow().isoformat(timespec='microseconds')}"
    result = post_signed(hook.url, hook.secret, payload_for(hook.format, digest), client=client, retries=1,
                         delivery_id=f"{hook.id}:{key}", sleep=sleep)
    with db.session() as session:
        session.add(WebhookDelivery(
            webhook_id=hook.id, period_key=key, status=SEND_SENT if result.ok else SEND_FAILED,
            attempts=result.attempts, response_code=result.status_code, error=result.error,
            created_at=utcnow(), delivered_at=utcnow() if result.ok else None))
    return result
