"""Delivery settings, read in one place.

Every knob is a field of :class:`~paperwire.settings.Settings` (so a
``PAPERWIRE_*`` environment variable); this module groups the ones delivery
uses into typed values.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperwire.settings import get_settings


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    ssl: bool
    sender: str
    timeout: float


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    smtp: SmtpConfig
    base_url: str
    secret_key: str
    #: Hour (UTC) after which the worker sends the previous day's digests.
    send_hour: int
    #: Seconds the worker sleeps between checks.
    poll_seconds: float
    #: Attempts per mail for temporary SMTP failures (1 = no retry).
    smtp_retries: int
    #: First backoff delay in seconds; doubles after every attempt.
    retry_backoff: float
    #: Seconds after which a claimed but unfinished send-log row is reclaimable.
    claim_timeout: int
    #: Send-log rows claimed per transaction.
    claim_batch: int
    #: Papers per digest.
    digest_size: int
    webhook_retries: int
    webhook_timeout: float
    #: Days a confirmation link stays valid.
    confirm_max_age_days: int


def delivery_config() -> DeliveryConfig:
    """The current delivery configuration (re-read: tests change settings)."""
    s = get_settings()

    return DeliveryConfig(
        smtp=SmtpConfig(
            host=s.smtp_host, port=s.smtp_port, user=s.smtp_user, password=s.smtp_password,
            starttls=s.smtp_starttls, ssl=s.smtp_ssl, sender=s.mail_from,
            timeout=s.smtp_timeout,
        ),
        base_url=s.base_url.rstrip("/"),
        secret_key=s.signing_key(),
        send_hour=s.digest_send_hour,
        poll_seconds=s.worker_poll_seconds,
        smtp_retries=s.smtp_retries,
        retry_backoff=s.smtp_retry_backoff,
        claim_timeout=s.digest_claim_timeout,
        claim_batch=s.digest_claim_batch,
        digest_size=s.digest_size,
        webhook_retries=s.webhook_retries,
        webhook_timeout=s.webhook_timeout,
        confirm_max_age_days=s.confirm_max_age_days,
    )
