"""Interactive mails — address verification, "your address is taken" notices,
subscription confirmations — sent within per-address and per-account limits.

A form that sends mail is a way to flood someone's inbox, so every such mail
is counted in ``mail_log`` (the database, so the limit holds across worker
processes): at most one of each kind per address every few minutes (so a
verification mail does not hold up the confirmation the user asks for next)
and a handful of all kinds a day, per address and per account.
The count row and the mail go in the caller's transaction: when the SMTP
server cannot be reached, :class:`MailError` propagates, the transaction
rolls back and no pending row is left behind.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.message import Message

from sqlalchemy.orm import Session

from paperwire.deliver.config import delivery_config
from paperwire.deliver.mailer import MailError, send_message
from paperwire.settings import get_settings
from paperwire.store.mail_log import log_mail, mails_for_user, mails_to
from paperwire.store.papers import utcnow

#: Shown when the SMTP server does not answer; the caller's rows were rolled back.
MAIL_DOWN = ("We could not send the mail right now: our mail server did not answer. Nothing was saved; "
             "please try again in a few minutes.")

__all__ = ["MAIL_DOWN", "MailError", "limit_reason", "send_counted"]


def _minutes(seconds: float) -> int:
    return max(1, int(seconds // 60) + (1 if seconds % 60 else 0))


def limit_reason(session: Session, address: str, user_id: int | None, kind: str) -> str | None:
    """Why no ``kind`` mail may go to ``address`` now (a sentence for the user), or None."""
    s = get_settings()
    now = utcnow()
    day_ago = now - timedelta(days=1)
    sent = mails_to(session, address, day_ago)
    same_kind = [when for sent_kind, when in sent if sent_kind == kind]
    if same_kind:
        wait = s.mail_min_interval_seconds - (now - same_kind[-1]).total_seconds()
        if wait > 0:
            return (f"We mailed this address a moment ago; you can ask for another mail in {_minutes(wait)} "
                    "minutes. Look in the spam folder too.")
    if len(sent) >= s.mail_daily_per_address:
        return "We already sent this address as many mails as we send in a day; please try again tomorrow."
    if user_id is not None and mails_for_user(session, user_id, day_ago) >= s.mail_daily_per_account:
        return "Your account asked for as many mails as we send in a day; please try again tomorrow."
    return None


def send_counted(session: Session, message: Message, *, address: str, user_id: int | None, kind: str) -> None:
    # kind: "verify" (also the notice sent instead of it), "confirm", "change".
    """Count and send one mail inside the caller's transaction (check :func:`limit_reason` first).

    Raises :class:`MailError` when it could not be sent, so that the caller's
    transaction (and this count) rolls back.
    """
    log_mail(session, address, user_id, kind)
    # One short attempt: a person is waiting, and on SQLite the transaction holds the write lock meanwhile.
    cfg = delivery_config()
    smtp = dataclasses.replace(cfg.smtp, timeout=min(cfg.smtp.timeout, get_settings().mail_interactive_timeout))
    send_message(message, config=smtp, retries=1)
