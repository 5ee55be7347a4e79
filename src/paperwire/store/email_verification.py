"""Storage side of account e-mail addresses: asking for one, verifying it.

An address becomes the account's (``users.email`` with ``email_verified_at``)
only when its owner clicks the signed link mailed to it; until then it waits
in ``users.pending_email``, which is not unique, so typing someone else's
address neither blocks them nor tells whether it is registered. Addresses are
compared case-insensitively. Callers pass addresses already normalised.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.store.community import CommunityError, User
from paperwire.store.papers import utcnow


def address_holder(session: Session, address: str, *, other_than: int | None = None) -> User | None:
    """The account whose ``email`` is ``address`` (verified or set before verification existed)."""
    query = select(User).where(func.lower(User.email) == address.lower())
    if other_than is not None:
        query = query.where(User.id != other_than)
    return session.scalar(query)


def address_to_verify(user: User) -> str | None:
    """The address a verification mail for ``user`` goes to, if any."""
    if user.pending_email:
        return user.pending_email
    if user.email and user.email_verified_at is None:
        return user.email
    return None


def ask_for_address(session: Session, user: User, address: str) -> User | None:
    """Record ``address`` as waiting for verification; returns another account holding it, if any.

    The caller mails a verification link when None comes back, and a notice
    to the address (no link) otherwise; the user sees the same either way.
    """
    if user.verified_email and user.verified_email.lower() == address.lower():
        user.pending_email = None
        return None
    user.pending_email = address
    session.flush()
    return address_holder(session, address, other_than=user.id)


def verify_address(session: Session, user_id: int, address: str) -> tuple[User, str | None]:
    """Make ``address`` the account's verified address; returns (user, the previous verified address).

    Raises :class:`CommunityError` when the account no longer asks for this
    address (changed since the mail) or another account holds it verified.
    """
    user = session.get(User, user_id)
    if user is None:
        raise CommunityError("This account no longer exists.")
    if user.verified_email and user.verified_email.lower() == address.lower():
        return user, user.verified_email  # a second click changes nothing
    wanted = address_to_verify(user)
    if wanted is None or wanted.lower() != address.lower():
        raise CommunityError("This link is for an address the account no longer asks for; "
                             "use the newest verification mail, or ask for one in your settings.")
    holder = address_holder(session, address, other_than=user.id)
    if holder is not None:
        if holder.email_verified_at is not None:
            raise CommunityError("This address already belongs to another account.")
        holder.email = None  # an unverified claim loses to the address's proven owner
        session.flush()
    previous = user.verified_email
    user.email, user.email_verified_at, user.pending_email = wanted, utcnow(), None
    session.flush()
    return user, previous
