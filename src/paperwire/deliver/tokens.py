"""Signed tokens for links in mails and secret feed URLs.

Confirmation links expire (a week by default); unsubscribe links never do,
because RFC 8058 one-click unsubscribe must keep working for old mails.
Private feed tokens are random secrets of which only a hash is stored, so a
leaked database does not leak feed URLs and a token can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from paperwire.deliver.config import delivery_config

_CONFIRM_SALT = "paperwire.subscribe.confirm"
_UNSUBSCRIBE_SALT = "paperwire.subscribe.unsubscribe"
_VERIFY_SALT = "paperwire.account.verify"
_CHANGE_SALT = "paperwire.subscription.change"


class InvalidToken(ValueError):
    """A token that was tampered with, expired or made for something else."""


def _secret() -> str:
    return delivery_config().secret_key


def make_confirm_token(subscription_id: int, email: str) -> str:
    return URLSafeTimedSerializer(_secret(), salt=_CONFIRM_SALT).dumps({"s": subscription_id, "e": email.lower()})


def read_confirm_token(token: str, *, max_age_days: int | None = None) -> tuple[int, str]:
    """(subscription id, email) of a confirmation token, or :class:`InvalidToken`."""
    days = delivery_config().confirm_max_age_days if max_age_days is None else max_age_days
    try:
        data = URLSafeTimedSerializer(_secret(), salt=_CONFIRM_SALT).loads(token, max_age=days * 86400)
    except SignatureExpired as exc:
        raise InvalidToken("this confirmation link has expired; subscribe again") from exc
    except BadSignature as exc:
        raise InvalidToken("this confirmation link is not valid") from exc
    return int(data["s"]), str(data["e"])


def _make_timed(salt: str, data: dict) -> str:
    return URLSafeTimedSerializer(_secret(), salt=salt).dumps(data)


def _read_timed(salt: str, token: str, what: str, again: str) -> dict:
    days = delivery_config().confirm_max_age_days
    try:
        data = URLSafeTimedSerializer(_secret(), salt=salt).loads(token, max_age=days * 86400)
    except SignatureExpired as exc:
        raise InvalidToken(f"this {what} link has expired; {again}") from exc
    except BadSignature as exc:
        raise InvalidToken(f"this {what} link is not valid") from exc
    if not isinstance(data, dict):
        raise InvalidToken(f"this {what} link is not valid")
    return data


def make_verify_token(user_id: int, email: str) -> str:
    """The link that proves ``email`` belongs to the account ``user_id``."""
    return _make_timed(_VERIFY_SALT, {"u": user_id, "e": email.lower()})


def read_verify_token(token: str) -> tuple[int, str]:
    data = _read_timed(_VERIFY_SALT, token, "verification", "ask for a new one in your settings")
    return int(data["u"]), str(data["e"])


def make_change_token(change_id: int, email: str) -> str:
    """The link by which an address's owner accepts a change of its subscription."""
    return _make_timed(_CHANGE_SALT, {"c": change_id, "e": email.lower()})


def read_change_token(token: str) -> tuple[int, str]:
    data = _read_timed(_CHANGE_SALT, token, "confirmation", "save your digest settings again")
    return int(data["c"]), str(data["e"])


def make_unsubscribe_token(subscription_id: int) -> str:
    return URLSafeSerializer(_secret(), salt=_UNSUBSCRIBE_SALT).dumps({"s": subscription_id})


def read_unsubscribe_token(token: str) -> int:
    try:
        data = URLSafeSerializer(_secret(), salt=_UNSUBSCRIBE_SALT).loads(token)
    except BadSignature as exc:
        raise InvalidToken("this unsubscribe link is not valid") from exc
    return int(data["s"])


def new_feed_token() -> tuple[str, str]:
    """A fresh private-feed secret and the hash to store for it."""
    token = secrets.token_urlsafe(24)
    return token, hash_feed_token(token)


def hash_feed_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_webhook_secret() -> str:
    return secrets.token_hex(24)
