"""The mail-backed account flows: verify an account's address, tell an
address's owner that someone tried to use it, confirm a subscription or a
change of it by a mail to the address.

Each sends at most one counted mail (``account_mail``) inside the caller's
transaction and returns None when it was sent, or the sentence saying why
nothing was sent (a limit). What the user sees never depends on whether the
address belongs to another account: that owner gets a notice instead of a
link, sent under the same limits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from paperwire.deliver import subscriptions as subs
from paperwire.deliver.account_mail import limit_reason, send_counted
from paperwire.deliver.render import (
    build_address_taken_message, build_change_message, build_confirm_message, build_verify_message,
)
from paperwire.store.community import User
from paperwire.store.delivery import Subscription, SubscriptionChange
from paperwire.store.email_verification import address_holder, address_to_verify, ask_for_address, verify_address


def _mail_verification(session: Session, user: User, address: str, holder: User | None) -> str | None:
    if reason := limit_reason(session, address, user.id, "verify"):
        return reason
    if holder is not None:  # the same kind as a verification: same limits, same answer
        send_counted(session, build_address_taken_message(address, holder.username), address=address,
                     user_id=user.id, kind="verify")
    else:
        send_counted(session, build_verify_message(user.id, user.username, address), address=address,
                     user_id=user.id, kind="verify")
    return None


def request_address(session: Session, user: User, address: str) -> str | None:
    """The account asks for ``address`` (sign-up or settings): mail it a link (or its owner a notice)."""
    holder = ask_for_address(session, user, address)
    if address_to_verify(user) is None:
        return None  # it already is the account's verified address
    return _mail_verification(session, user, address, holder)


def resend_verification(session: Session, user: User) -> str | None:
    address = address_to_verify(user)
    if address is None:
        return "There is no address waiting for verification."
    return _mail_verification(session, user, address, address_holder(session, address, other_than=user.id))


def confirm_address(session: Session, user_id: int, address: str) -> User:
    """The link was clicked: the address becomes the account's, and its digest follows it."""
    user, previous = verify_address(session, user_id, address)
    subs.follow_address_change(session, user.id, previous, user.email)
    return user


def mail_subscribe_confirmation(session: Session, sub: Subscription) -> str | None:
    """The double opt-in mail of an anonymous subscription."""
    if reason := limit_reason(session, sub.email, None, "confirm"):
        return reason
    send_counted(session, build_confirm_message(sub.id, sub.email), address=sub.email, user_id=None, kind="confirm")
    return None


def mail_change_confirmation(session: Session, change: SubscriptionChange, address: str, user: User) -> str | None:
    """Ask the address to accept ``user``'s change of its subscription."""
    if reason := limit_reason(session, address, user.id, "change"):
        return reason
    send_counted(session, build_change_message(change.id, address, user.username), address=address,
                 user_id=user.id, kind="change")
    return None
