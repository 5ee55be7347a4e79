"""Turn a digest (or a confirmation) into a multipart text + HTML mail.

Templates live in ``deliver/templates``; the HTML ones are autoescaped and use
inline CSS and tables only, which is what common mail clients render. Every
digest carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click)
with a signed token, and a Message-ID derived from (subscription, period), so
a receiving server can recognise a re-delivered duplicate.
"""

from __future__ import annotations

from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from paperwire.deliver.config import delivery_config
from paperwire.deliver.digest import Digest
from paperwire.deliver.tokens import make_change_token, make_confirm_token, make_unsubscribe_token, make_verify_token

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def render_template(name: str, **context) -> str:
    return _env().get_template(name).render(**context)


def unsubscribe_url(subscription_id: int) -> str:
    return f"{delivery_config().base_url}/unsubscribe/{make_unsubscribe_token(subscription_id)}"


def confirm_url(subscription_id: int, email: str) -> str:
    return f"{delivery_config().base_url}/subscribe/confirm/{make_confirm_token(subscription_id, email)}"


def _domain() -> str:
    return urlsplit(delivery_config().base_url).hostname or "paperwire.local"


def digest_subject(digest: Digest) -> str:
    count = len(digest.items)
    noun = "paper" if count == 1 else "papers"
    kind = "Daily" if digest.period.frequency == "daily" else "Weekly"
    return f"{kind} paperwire digest: {count} {noun} — {digest.period.label}"


def _utf8_qp() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return charset


def _multipart(text: str, html: str) -> MIMEMultipart:
    """text/plain + text/html alternatives, quoted-printable UTF-8.

    Built with the compat32 ``email.mime`` classes: about ten times faster
    than :class:`EmailMessage` header parsing, which matters for 10,000 mails.
    """
    message = MIMEMultipart("alternative")
    message.attach(MIMEText(text, "plain", _utf8_qp()))
    message.attach(MIMEText(html, "html", _utf8_qp()))
    return message


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


#: Stands for the subscriber's own unsubscribe URL in cached bodies (URL-safe,
#: so autoescaping leaves it unchanged).
_UNSUBSCRIBE_MARK = "https://unsubscribe.invalid/PAPERWIRE-UNSUBSCRIBE-TOKEN"


def _content_key(digest: Digest) -> tuple:
    """What the body of a digest depends on, apart from the subscriber."""
    return (digest.period, tuple(
        (section.key, section.title, tuple(
            (i.uid, i.title, tuple(i.authors), tuple(i.categories), i.abstract, i.url, i.arxiv_url,
             i.upvotes, i.comments, i.published, i.reason)
            for i in section.items
        ))
        for section in digest.sections
    ), tuple(digest.rising))


_BODY_CACHE: dict[tuple, tuple[str, str]] = {}
_BODY_CACHE_SIZE = 512


def _digest_bodies(digest: Digest, base_url: str) -> tuple[str, str]:
    """Text and HTML bodies, rendered once per distinct digest content.

    Subscribers with the same interests get the same papers; rendering the
    templates once for all of them (the unsubscribe URL is substituted
    afterwards) removes most of the per-mail cost of a large send.
    """
    key = (base_url, _content_key(digest))
    bodies = _BODY_CACHE.get(key)
    if bodies is None:
        context = {
            "digest": digest, "sections": [s for s in digest.sections if s.items], "period": digest.period,
            "site_url": base_url, "unsubscribe_url": _UNSUBSCRIBE_MARK,
            "settings_url": f"{base_url}/settings", "subject": digest_subject(digest),
            "rising": digest.rising,
        }
        bodies = render_template("digest.txt", **context), render_template("digest.html", **context)
        if len(_BODY_CACHE) >= _BODY_CACHE_SIZE:
            _BODY_CACHE.clear()
        _BODY_CACHE[key] = bodies
    return bodies


def build_digest_message(digest: Digest) -> Message:
    """The mail for one subscriber's digest (needs ``subscription_id`` and ``email``)."""
    if digest.subscription_id is None or not digest.email:
        raise ValueError("a digest mail needs a subscription id and an email address")
    cfg = delivery_config()
    unsubscribe = unsubscribe_url(digest.subscription_id)
    text, html = _digest_bodies(digest, cfg.base_url)
    message = _multipart(text.replace(_UNSUBSCRIBE_MARK, unsubscribe), html.replace(_UNSUBSCRIBE_MARK, unsubscribe))
    message["Subject"] = _header(digest_subject(digest))
    message["From"] = _header(cfg.smtp.sender)
    message["To"] = digest.email
    message["Date"] = formatdate(usegmt=True)
    safe_period = digest.period.key.replace(":", ".")
    message["Message-ID"] = f"<digest.{safe_period}.{digest.subscription_id}@{_domain()}>"
    message["List-Id"] = f"paperwire digest <digest.{_domain()}>"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    return message


def build_confirm_message(subscription_id: int, email: str) -> EmailMessage:
    """The double opt-in mail: nothing is sent to an address before this is clicked."""
    cfg = delivery_config()
    context = {
        "confirm_url": confirm_url(subscription_id, email), "site_url": cfg.base_url, "email": email,
        "max_age_days": cfg.confirm_max_age_days,
    }
    message = EmailMessage()
    message["Subject"] = "Confirm your paperwire digest subscription"
    message["From"] = cfg.smtp.sender
    message["To"] = email
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template("confirm.txt", **context))
    message.add_alternative(render_template("confirm.html", **context), subtype="html")
    return message


def _account_message(subject: str, to: str, template: str, **context) -> EmailMessage:
    """A short text + HTML mail from ``<template>.txt`` and ``account_mail.html``."""
    cfg = delivery_config()
    context = {"site_url": cfg.base_url, "email": to, "max_age_days": cfg.confirm_max_age_days, **context}
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = cfg.smtp.sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"{template}.txt", **context))
    message.add_alternative(render_template("account_mail.html", subject=subject,
                                            text=render_template(f"{template}.txt", **context),
                                            button_url=context.get("button_url"),
                                            button_label=context.get("button_label")), subtype="html")
    return message


def build_verify_message(user_id: int, username: str, email: str) -> EmailMessage:
    """The link that proves the address belongs to the account."""
    url = f"{delivery_config().base_url}/account/verify/{make_verify_token(user_id, email)}"
    return _account_message("Verify your paperwire e-mail address", email, "verify", username=username,
                            button_url=url, button_label="Verify my address")


def build_address_taken_message(email: str, owner_username: str) -> EmailMessage:
    """Sent instead of a verification link when the address already belongs to an account."""
    login = f"{delivery_config().base_url}/login"
    return _account_message("Someone used your address at paperwire", email, "address_taken",
                            owner_username=owner_username, button_url=login, button_label="Log in")


def build_change_message(change_id: int, email: str, username: str) -> EmailMessage:
    """Asks the address's owner to accept an account's change of its subscription."""
    url = f"{delivery_config().base_url}/subscribe/change/{make_change_token(change_id, email)}"
    return _account_message("Confirm the change of your paperwire digest", email, "change", username=username,
                            button_url=url, button_label="Review and confirm")
