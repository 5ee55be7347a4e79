"""Sending mail over SMTP with the failure handling a digest batch needs.

Failures are classified the way SMTP defines them: 4xx replies, refused or
dropped connections and timeouts are *temporary* (retried here with
exponential backoff, and left pending in the send log if they persist); 5xx
replies are *permanent* (recorded, and the batch goes on). A connection that
cannot be (re)established is reported separately so that a batch stops
instead of hammering a server that is down. ``sleep`` is injectable so tests
do not wait.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from email.message import Message

from paperwire.deliver.config import SmtpConfig, delivery_config


class MailError(Exception):
    """A mail that could not be delivered; ``permanent`` says whether to retry later."""

    permanent = False

    def __init__(self, message: str, *, code: int | None = None, connection: bool = False, attempts: int = 1):
        super().__init__(message)
        self.code = code
        #: True when the server could not be reached or dropped the connection.
        self.connection = connection
        self.attempts = attempts


class TemporaryMailError(MailError):
    permanent = False


class PermanentMailError(MailError):
    permanent = True


def _reply_text(raw) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def classify(exc: BaseException) -> MailError:
    """Map an smtplib/socket exception to a temporary or permanent :class:`MailError`."""
    if isinstance(exc, MailError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (None, b""))
        cls = PermanentMailError if code is not None and code >= 500 else TemporaryMailError
        return cls(f"recipient refused: {code} {_reply_text(text)}", code=code)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return PermanentMailError(f"SMTP authentication failed: {exc.smtp_code} {_reply_text(exc.smtp_error)}",
                                  code=exc.smtp_code, connection=True)
    if isinstance(exc, smtplib.SMTPConnectError):
        return TemporaryMailError(f"cannot connect: {exc.smtp_code} {_reply_text(exc.smtp_error)}",
                                  code=exc.smtp_code, connection=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        cls = PermanentMailError if 500 <= code < 600 else TemporaryMailError
        return cls(f"{code} {_reply_text(exc.smtp_error)}", code=code, connection=code == 421)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryMailError(f"server disconnected: {exc}", connection=True)
    if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError, ssl.SSLError, OSError)):
        return TemporaryMailError(f"cannot reach SMTP server: {exc}", connection=True)
    if isinstance(exc, smtplib.SMTPException):
        return TemporaryMailError(str(exc))
    raise exc


class Mailer:
    """One reusable SMTP connection with retries; use as a context manager."""

    def __init__(
        self,
        config: SmtpConfig | None = None,
        *,
        retries: int | None = None,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        cfg = delivery_config()
        self.config = config or cfg.smtp
        self.retries = max(1, retries if retries is not None else cfg.smtp_retries)
        self.backoff = cfg.retry_backoff if backoff is None else backoff
        self.sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        self.sent = 0

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            smtp.ehlo()
            if c.starttls and not c.ssl:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if c.user:
                smtp.login(c.user, c.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()

    def send(self, message: Message) -> int:
        """Deliver one message; returns the attempts it took or raises :class:`MailError`."""
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.send_message(message)
                self.sent += 1
                return attempt
            except Exception as exc:  # noqa: BLE001 - classified below
                error = classify(exc)
                error.attempts = attempt
                if error.connection:
                    self._drop()
                elif self._smtp is not None:
                    try:
                        self._smtp.rset()
                    except (smtplib.SMTPException, OSError):
                        self._drop()
                if error.permanent or attempt == self.retries:
                    raise error from exc
                self.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def send_message(message: Message, **kwargs) -> int:
    """Send a single mail on a fresh connection (confirmation mails)."""
    with Mailer(**kwargs) as mailer:
        return mailer.send(message)
